"""Import the user's targets (``package.module:Attr``) and roots, with clear errors.

A target names a Module subclass (instantiated with no arguments), a Module instance, or
a list or tuple of those. Each loaded module remembers how the generated file can get the
same object back: by instantiating the class, or by importing the instance.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

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
            raise UsageError(
                f"{what} {module_name!r} cannot be imported: no module named {exc.name!r} "
                f"(looked in the current directory {os.getcwd()} and sys.path)"
            ) from None
        raise UsageError(_import_failure(module_name, exc)) from None
    except Exception as exc:
        raise UsageError(_import_failure(module_name, exc)) from None


def _import_failure(module_name: str, exc: BaseException) -> str:
    return user_failure(f"importing {module_name!r}", exc)


def user_failure(action: str, exc: BaseException) -> str:
    """One line for an exception the user's code raised: what, and the user's line."""
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if "importlib" not in f.filename]
    where = f" at {user[-1].filename}:{user[-1].lineno}" if user else ""
    return f"{action} raised {type(exc).__name__}: {exc}{where}"


def _getattr_path(obj: Any, attr: str, target: str) -> Any:
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(
                f"target {target!r}: module {getattr(obj, '__name__', obj)!r} has no "
                f"attribute {part!r}"
            ) from None
    return obj


def _is_module_class(obj: Any) -> bool:
    from injectq import Module

    return inspect.isclass(obj) and issubclass(obj, Module)


def _is_module_instance(obj: Any) -> bool:
    from injectq import Module

    return isinstance(obj, Module) or (
        not inspect.isclass(obj) and callable(getattr(obj, "configure", None))
    )


def _one(obj: Any, module: str, attr: str, index: int | None, target: str) -> LoadedModule:
    if _is_module_class(obj):
        try:
            instance = obj()
        except TypeError as exc:
            raise UsageError(
                f"target {target!r}: Module class {obj.__qualname__} cannot be created with no "
                f"arguments ({exc}); export an instance instead"
            ) from None
        except Exception as exc:  # any error raised by the user's __init__
            raise UsageError(
                user_failure(f"target {target!r}: creating {obj.__qualname__}()", exc)
            ) from None
        return LoadedModule(instance, module, attr, index, True, target)
    if _is_module_instance(obj):
        return LoadedModule(obj, module, attr, index, False, target)
    raise UsageError(
        f"target {target!r} is an object of type {type(obj).__name__}, not a Module: point "
        "it at a Module "
        "subclass, a Module instance, or a list of those"
    )


def load_targets(targets: list[str]) -> list[LoadedModule]:
    loaded: list[LoadedModule] = []
    for target in targets:
        module_name, attr = parse_target(target)
        module = _import(module_name, "target module")
        obj = _getattr_path(module, attr, target)
        if isinstance(obj, (list, tuple)):
            if not obj:
                raise UsageError(f"target {target!r} is an empty {type(obj).__name__}")
            loaded += [_one(item, module_name, attr, i, target) for i, item in enumerate(obj)]
        else:
            loaded.append(_one(obj, module_name, attr, None, target))
    return loaded


def load_roots(roots: list[str]) -> list[Any]:
    """``--root module:Name``: a class (a key to include) or a function (an entry point)."""
    out = []
    for root in roots:
        module_name, attr = parse_target(root)
        module = _import(module_name, "root module")
        out.append(_getattr_path(module, attr, root))
    return out
