"""Import the user's targets (``package.module:Attr``) and roots, with clear errors.

A target names a Module subclass (instantiated with no arguments), a Module instance, or
a list or tuple of those. Each loaded module remembers how the generated file can get the
same object back: by instantiating the class, or by importing the instance.

Whatever the user's code raises while it is imported or configured becomes one line: the
exception's type and message and the user's own ``file:line``, never our frames.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import pkgutil
import sys
import sysconfig
import traceback
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from injectq.model.arguments import ROOT_HELP, hashable, kind_of
from injectq.model.binding import format_site
from injectq_codegen.errors import UsageError

__all__ = ["LoadedModule", "load_roots", "load_targets", "parse_target", "user_failure"]


@dataclass(frozen=True)
class LoadedModule:
    """One Module object and the way back to it from generated code."""

    obj: Any
    import_module: str
    import_name: str  # the attribute imported from import_module
    index: int | None  # position inside a list/tuple target
    instantiate: bool  # the attribute is a class to call with no arguments
    target: str

    @property
    def label(self) -> str:
        suffix = f"[{self.index}]" if self.index is not None else ""
        return f"{self.import_module}:{self.import_name}{suffix}"


def parse_target(text: str) -> tuple[str, str]:
    module, sep, attr = text.partition(":")
    if not sep or not module or not attr or not all(
        part.isidentifier() for part in [*module.split("."), *attr.split(".")]
    ):
        raise UsageError(
            f"invalid target {text!r}: write it as package.module:Attribute "
            "(for example app.modules:AppModule)"
        )
    odd = next((p for p in [*module.split("."), *attr.split(".")]
                if unicodedata.normalize("NFKC", p) != p), None)
    if odd is not None:
        raise UsageError(
            f"invalid target {text!r}: {odd!r} is not in the form Python reads names in "
            f"(NFKC: {unicodedata.normalize('NFKC', odd)!r}), so generated code could not "
            "import it; rename it"
        )
    return module, attr


def _ensure_cwd_on_path() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _import(module_name: str, what: str) -> Any:
    _ensure_cwd_on_path()
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            hint = _did_you_mean(_similar_modules(exc.name))
            raise UsageError(
                f"{what} {module_name!r} cannot be imported: no module named {exc.name!r} "
                f"(looked in the current directory {os.getcwd()} and sys.path){hint}"
            ) from None
        raise UsageError(user_failure(f"importing {module_name!r}", exc)) from None
    except (Exception, SystemExit) as exc:  # anything the user's module raises at import
        raise UsageError(user_failure(f"importing {module_name!r}", exc)) from None


def _did_you_mean(names: list[str]) -> str:
    return f"; did you mean {' or '.join(repr(n) for n in names)}?" if names else ""


def _similar_modules(missing: str) -> list[str]:
    """Modules next to ``missing`` with a close name: ``app.modles`` -> ``app.modules``."""
    parent, _, leaf = missing.rpartition(".")
    try:
        if parent:
            folders = list(getattr(sys.modules.get(parent), "__path__", None) or [])
        else:
            folders = [os.getcwd()]
        found = [m.name for m in pkgutil.iter_modules(folders)]
    except Exception:  # a package with an odd __path__: no suggestion, the error stands
        return []
    close = difflib.get_close_matches(leaf, found, 3)
    return [f"{parent}.{n}" if parent else n for n in close]


def _library_folders() -> tuple[str, ...]:
    """Folders whose frames are not the user's: injectq, injectq-gen, stdlib, site-packages."""
    here = os.path.dirname(os.path.abspath(__file__))
    folders = {here, os.path.join(os.path.dirname(here), "injectq")}
    paths = sysconfig.get_paths()
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(name):
            folders.add(os.path.abspath(paths[name]))
    return tuple(f + os.sep for f in sorted(folders))


def _user_frame(exc: BaseException) -> str | None:
    """``file:line`` of the last frame of ``exc``'s traceback that the user wrote: not
    injectq-gen's, not importlib's, not a library's; the last real frame when none is."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return format_site(exc.filename, exc.lineno)
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<") and "importlib" not in f.filename
    ]
    library = _library_folders()
    user = [f for f in frames if not os.path.abspath(f.filename).startswith(library)]
    chosen = user or frames
    if not chosen:
        return None
    return format_site(chosen[-1].filename, chosen[-1].lineno or 0)


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(lines) > 1:
        first += f" [+{len(lines) - 1} more line{'s' if len(lines) > 2 else ''}]"
    return first if len(first) <= limit else first[: limit - 3] + "..."


def user_failure(action: str, exc: BaseException) -> str:
    """One line for an exception the user's code raised: its type and message, and the
    user's own ``file:line`` it came from."""
    where = _user_frame(exc)
    at = f" at {where}" if where else ""
    if isinstance(exc, SystemExit):
        return (
            f"{action} called sys.exit({exc.code!r}){at}: code run at import or in "
            "configure() must not exit (guard a script with `if __name__ == \"__main__\":`)"
        )
    message = exc.msg if isinstance(exc, SyntaxError) and exc.msg else str(exc)
    message = _one_line(message)
    return f"{action} raised {type(exc).__name__}{': ' + message if message else ''}{at}"


def _getattr_path(obj: Any, attr: str, target: str) -> Any:
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            public = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, public, 3)
            hint = _did_you_mean(close) if close else _modules_hint(obj)
            raise UsageError(
                f"target {target!r}: module {getattr(obj, '__name__', obj)!r} has no "
                f"attribute {part!r}{hint}"
            ) from None
    return obj


def _modules_hint(namespace: object) -> str:
    """``; Modules there: A, B``: the Module classes ``namespace`` holds, if any."""
    try:
        items = sorted(vars(namespace).items())
    except TypeError:  # an object without __dict__: nothing to list
        return ""
    from injectq import Module

    names = [
        n for n, v in items if not n.startswith("_") and _is_module_class(v) and v is not Module
    ]
    return f"; Modules there: {', '.join(names[:8])}" if names else ""


def _is_module_class(obj: Any) -> bool:
    from injectq import Module

    return inspect.isclass(obj) and issubclass(obj, Module)


def _is_module_instance(obj: Any) -> bool:
    from injectq import Module

    return isinstance(obj, Module) or (
        not inspect.isclass(obj) and callable(getattr(obj, "configure", None))
    )


def _one(obj: Any, module: str, attr: str, index: int | None, target: str) -> LoadedModule:
    from injectq import Module

    if obj is Module:
        raise UsageError(
            f"target {target!r} is the Module base class itself, which binds nothing: point "
            f"it at your subclass{_modules_hint(sys.modules.get(module))}"
        )
    if _is_module_class(obj):
        try:
            instance = obj()
        except TypeError as exc:
            raise UsageError(
                f"target {target!r}: Module class {obj.__qualname__} cannot be created with no "
                f"arguments ({exc}); export an instance instead"
            ) from None
        except (Exception, SystemExit) as exc:  # any error raised by the user's __init__
            raise UsageError(
                user_failure(f"target {target!r}: creating {obj.__qualname__}()", exc)
            ) from None
        return LoadedModule(instance, module, attr, index, True, target)
    if _is_module_instance(obj):
        return LoadedModule(obj, module, attr, index, False, target)
    what = (
        f"the class {obj.__qualname__}" if inspect.isclass(obj)
        else f"an object of type {type(obj).__name__}"
    )
    raise UsageError(
        f"target {target!r} is {what}, not a Module: point "
        "it at a Module subclass, a Module instance, or a list of those"
        f"{_modules_hint(sys.modules.get(module))}"
    )


def load_targets(targets: list[str]) -> list[LoadedModule]:
    loaded: list[LoadedModule] = []
    for target in targets:
        module_name, attr = parse_target(target)
        module = _import(module_name, "target module")
        obj = _getattr_path(module, attr, target)
        if isinstance(obj, (list, tuple)):
            items = cast("Sequence[object]", obj)  # what the user exported: anything
            if not items:
                raise UsageError(f"target {target!r} is an empty {type(items).__name__}")
            loaded += [_one(item, module_name, attr, i, target) for i, item in enumerate(items)]
        else:
            loaded.append(_one(obj, module_name, attr, None, target))
    return loaded


def load_roots(roots: list[str]) -> list[Any]:
    """``--root module:Name``: a class (a key to include) or a function (an entry point)."""
    out: list[Any] = []
    for root in roots:
        module_name, attr = parse_target(root)
        module = _import(module_name, "root module")
        obj = _getattr_path(module, attr, root)
        if not (callable(obj) or hashable(obj)):
            raise UsageError(
                f"root {root!r} is {kind_of(obj)}, which is not hashable: {ROOT_HELP}"
            )
        out.append(obj)
    return out
