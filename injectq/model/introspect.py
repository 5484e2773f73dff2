"""THE ONLY place that reads signatures and type hints, once per provider.

``describe(provider)`` turns a class or factory into a tuple of ``Param`` records: the
key each parameter asks for and how (plain, ``Lazy``, the container itself, by name).
Annotations that cannot be evaluated are reported with the reason, including names that
exist only under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import contextlib
import enum
import functools
import importlib
import inspect
import keyword
import sys
import types
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeGuard, Union, cast, get_args, get_origin

if typing.TYPE_CHECKING:
    # the type of inspect.Parameter.kind, which inspect names only privately
    from inspect import _ParameterKind as ParameterKind  # pyright: ignore[reportPrivateUsage]

from injectq.model.arguments import hashable, kind_of, shown
from injectq.model.markers import InjectMarker, Key, Lazy, Named, as_plain_str, make_key

__all__ = [
    "Edge", "Param", "ProviderInfo", "annotation_key", "describe", "return_key",
    "type_checking_imports",
]


class Edge(enum.Enum):
    PLAIN = "plain"
    LAZY = "lazy"
    CONTAINER = "container"  # a parameter annotated InjectQ: the resolving container


@dataclass(frozen=True)
class Param:
    """One injectable parameter of a provider."""

    name: str
    kind: ParameterKind
    key: Key | None  # None: no usable annotation (resolved by name, or default)
    edge: Edge = Edge.PLAIN
    optional: bool = False
    has_default: bool = False
    default: Any = None
    error: str | None = None  # why the annotation could not be evaluated
    fix: str = ""  # what to do about the error, when not the import advice of IQ006

    @property
    def positional(self) -> bool:
        return self.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )


@dataclass(frozen=True)
class ProviderInfo:
    """What ``describe`` learned about a provider: its parameters and where it is defined."""

    params: tuple[Param, ...]
    qualname: str  # e.g. "UserService.__init__" for messages
    file: str
    line: int


_cache: weakref.WeakKeyDictionary[Any, ProviderInfo] = weakref.WeakKeyDictionary()


def is_container_type(annotation: Any) -> bool:
    return isinstance(annotation, type) and getattr(annotation, "__injectq_container__", False)


def _callable_target(provider: Any) -> tuple[Callable[..., Any] | None, str]:
    """The function whose parameters are injected, and its name for messages."""
    if inspect.isclass(provider) and _declares_signature(provider):
        return provider, str(provider.__qualname__)  # pydantic models and the like
    if isinstance(provider, functools.partial):
        home = _home(provider)
        label = getattr(home, "__qualname__", type(home).__qualname__)
        return cast("Callable[..., Any]", provider), f"partial({label})"  # a partial of anything
    if inspect.isclass(provider):
        init = provider.__init__
        if init is object.__init__:
            new = provider.__new__
            if new is object.__new__:
                return None, f"{provider.__qualname__}()"
            return new, f"{provider.__qualname__}.__new__"
        return init, f"{provider.__qualname__}.__init__"
    return provider, getattr(provider, "__qualname__", repr(provider))


def _declares_signature(cls: type) -> bool:
    """A class whose own ``__signature__`` says how it is called (pydantic models set one:
    their ``__init__`` takes only ``**data``)."""
    return any("__signature__" in c.__dict__ for c in cls.__mro__[:-1])


Fallback = Callable[[str], dict[str, Any]]  # module name -> extra names for annotations


def describe(provider: Any, fallback: Fallback | None = None) -> ProviderInfo:
    """The injectable parameters of ``provider`` (a class or a callable).

    Names a module imports only under ``TYPE_CHECKING`` are imported for real
    (``type_checking_names``), so string annotations naming them can still be evaluated.
    """
    try:
        info = _cache.get(provider)  # a miss costs no exception (one per provider)
    except TypeError:  # not weak-referenceable
        info = None
    if info is None:
        info = _describe(provider, None)
        if any(p.error for p in info.params):
            info = _describe(provider, fallback or type_checking_names)
        with contextlib.suppress(TypeError):  # not weak-referenceable (some builtins)
            _cache[provider] = info
    return info


def _home(fn: Any) -> Any:
    """The function whose module and annotations a callable's parameters come from: the
    wrapped function of a partial, of a decorator, of a bound method."""
    seen = 0
    while seen < 100:
        seen += 1
        if isinstance(fn, functools.partial):
            fn = fn.func
        elif inspect.ismethod(fn):
            fn = fn.__func__
        elif getattr(fn, "__wrapped__", None) is not None:
            fn = fn.__wrapped__
        else:
            break
    return fn


def _source_position(fn: Any) -> tuple[str, int]:
    target = _home(fn)
    code = getattr(target, "__code__", None)
    if code is not None:
        return code.co_filename, code.co_firstlineno
    return "<unknown>", 0


class _RawParam(typing.NamedTuple):
    """What ``inspect.Parameter`` says of a parameter, read without building one."""

    name: str
    kind: ParameterKind
    default: Any
    annotation: Any


_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
_VAR_POSITIONAL = inspect.Parameter.VAR_POSITIONAL
_VAR_KEYWORD = inspect.Parameter.VAR_KEYWORD
_EMPTY = inspect.Parameter.empty


def _reads_code(fn: Any) -> TypeGuard[types.FunctionType]:
    """A plain function: its parameters and annotations are read from it directly."""
    return (
        type(fn) is types.FunctionType
        and "__wrapped__" not in fn.__dict__
        and "__signature__" not in fn.__dict__
    )


def _plain_class(annotation: Any) -> bool:
    """A class that ``typing.get_type_hints`` and ``_interpret`` take as it is."""
    return isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias)


def _parameters(fn: Any) -> list[_RawParam] | None:
    """The parameters of ``fn``, as ``inspect.signature`` would give them; None when there
    is no signature. A plain function is read from its code object directly (about six
    times faster, which counts at 10,000 bindings); anything else (wrapped, partial,
    ``__signature__``, builtins) goes through ``inspect.signature``."""
    if _reads_code(fn):
        code = fn.__code__
        names = code.co_varnames
        n_pos = code.co_argcount
        n_kw = code.co_kwonlyargcount
        annotations = fn.__annotations__
        defaults = fn.__defaults__ or ()
        kwdefaults = fn.__kwdefaults__ or {}
        first_default = n_pos - len(defaults)
        raw = [
            _RawParam(
                name,
                _POSITIONAL_ONLY if i < code.co_posonlyargcount else _POSITIONAL_OR_KEYWORD,
                defaults[i - first_default] if i >= first_default else _EMPTY,
                annotations.get(name, _EMPTY),
            )
            for i, name in enumerate(names[:n_pos])
        ]
        extra = n_pos + n_kw  # co_varnames: positional, keyword-only, *args, **kwargs
        if code.co_flags & inspect.CO_VARARGS:
            raw.append(_RawParam(names[extra], _VAR_POSITIONAL, _EMPTY, _EMPTY))
            extra += 1
        raw += [
            _RawParam(name, _KEYWORD_ONLY, kwdefaults.get(name, _EMPTY),
                      annotations.get(name, _EMPTY))
            for name in names[n_pos:n_pos + n_kw]
        ]
        if code.co_flags & inspect.CO_VARKEYWORDS:
            raw.append(_RawParam(names[extra], _VAR_KEYWORD, _EMPTY, _EMPTY))
        return raw
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [_RawParam(p.name, p.kind, p.default, p.annotation) for p in sig.parameters.values()]


def _describe(provider: Any, fallback: Fallback | None) -> ProviderInfo:
    fn, qualname = _callable_target(provider)
    if fn is None:
        return ProviderInfo((), qualname, "<unknown>", 0)
    if _reads_code(fn):  # its own code: where it is, its parameters and annotations
        code = fn.__code__
        file, line, home = code.co_filename, code.co_firstlineno, fn
    else:
        (file, line), home = _source_position(fn), _home(fn)
    raw = _parameters(fn)
    if raw is None:
        return ProviderInfo((), qualname, file, line)
    hints, failures = _hints(home, raw, provider, fallback)
    params: list[Param] = []
    is_method = inspect.isclass(provider) and fn is not provider
    for index, p in enumerate(raw):
        if is_method and index == 0:
            continue  # self of __init__, cls of __new__
        if p.kind in (_VAR_POSITIONAL, _VAR_KEYWORD):
            continue  # never injected
        has_default = p.default is not _EMPTY
        default = p.default if has_default else None
        name = as_plain_str(p.name)
        if name is None or not name.isidentifier() or keyword.iskeyword(name):
            params.append(Param(str(p.name), p.kind, None, Edge.PLAIN, False, has_default,
                                default, error=f"its name {str(p.name)!r} is not an identifier"))
            continue
        if isinstance(default, InjectMarker):
            key, edge, optional = _interpret(default.key)
            params.append(_keyed(Param(p.name, p.kind, key, edge, optional, False, None)))
            continue
        if p.name in failures:
            params.append(
                Param(p.name, p.kind, None, Edge.PLAIN, False, has_default, default,
                      error=failures[p.name])
            )
            continue
        annotation = hints.get(p.name, inspect.Parameter.empty)
        if annotation is inspect.Parameter.empty:
            params.append(Param(p.name, p.kind, None, Edge.PLAIN, False, has_default, default))
            continue
        key, edge, optional = _interpret(annotation)
        param = Param(p.name, p.kind, key, edge, optional, has_default, default)
        params.append(param if _plain_class(annotation) else _keyed(param))
    return ProviderInfo(tuple(params), qualname, file, line)


def _keyed(param: Param) -> Param:
    """``param``, or, when the key its annotation names is not hashable (``x: [int]``,
    ``Lazy[[1]]``), a parameter that says so: the graph reports it (IQ006) instead of a
    ``TypeError`` from a dict."""
    if hashable(param.key):
        return param
    return replace(
        param, key=None, edge=Edge.PLAIN, optional=False,
        error=f"its annotation names the key {shown(param.key)}, {kind_of(param.key)}, which is "
        f"not hashable; annotate it with a class, a NewType or Annotated[T, Named(\"...\")]",
        fix=f"fix the annotation, or bind the parameter by name: bind({param.name!r}, ...)",
    )


def _globalns(fn: Any, provider: Any) -> dict[str, Any]:
    module = sys.modules.get(getattr(provider, "__module__", "") or "")
    if module is not None:
        return dict(vars(module))
    return dict(getattr(fn, "__globals__", {}))


def _hints(
    fn: Any, raw: list[_RawParam], provider: Any, fallback: Fallback | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Evaluated annotations by parameter name, and the reason for each one that failed."""
    if _reads_code(fn):
        # what get_type_hints would return for classes (it returns a class as it is), read
        # without its work: the common case, once per provider of a large graph
        plain: dict[str, Any] = {}
        for p in raw:
            ann = p.annotation
            if ann is _EMPTY:
                continue
            if not _plain_class(ann):
                break
            plain[p.name] = ann
        else:
            return plain, {}
    if not inspect.isclass(fn):  # a class's own __signature__: its annotations are there
        try:
            return typing.get_type_hints(fn, include_extras=True), {}
        except Exception:
            pass
    globalns = dict(getattr(fn, "__globals__", None) or {}) or _globalns(fn, provider)
    if inspect.isclass(provider):
        globalns.setdefault(provider.__name__, provider)
    if fallback is not None:
        module_name = str(getattr(fn, "__module__", None) or getattr(provider, "__module__", ""))
        for name, value in fallback(module_name).items():
            globalns.setdefault(name, value)
    hints: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for p in raw:
        name, ann = p.name, p.annotation
        if ann is inspect.Parameter.empty:
            continue
        if not isinstance(ann, str):
            hints[name] = ann
            continue
        try:
            hints[name] = eval(ann, globalns)
        except Exception as exc:
            failures[name] = _explain_failure(ann, exc, fn, provider)
    return hints, failures


def _explain_failure(annotation: str, exc: Exception, fn: Any, provider: Any) -> str:
    module_name = str(getattr(fn, "__module__", None) or getattr(provider, "__module__", "?"))
    missing = exc.name if isinstance(exc, NameError) else None
    if missing:
        tc = type_checking_imports(module_name)
        if missing in tc:
            return (
                f"annotation {annotation!r} names {missing!r}, which module {module_name} "
                f"imports only under `if TYPE_CHECKING:` ({_spelled(tc[missing])}), and "
                "importing it failed"
            )
        return (
            f"annotation {annotation!r} cannot be evaluated: name {missing!r} is not defined "
            f"in module {module_name} (string annotations, as under "
            "`from __future__ import annotations`, are evaluated in the module's globals; "
            "a class defined inside a function is not visible there)"
        )
    return f"annotation {annotation!r} cannot be evaluated: {type(exc).__name__}: {exc}"


_tc_cache: dict[str, dict[str, tuple[str, str | None, int]]] = {}
_tc_names: dict[str, dict[str, Any]] = {}


def type_checking_imports(module_name: str) -> dict[str, tuple[str, str | None, int]]:
    """Names a module imports only under ``if TYPE_CHECKING:``: name -> (module, attribute
    or None for ``import x``, relative level). Read from the module's source."""
    if module_name in _tc_cache:
        return _tc_cache[module_name]
    found: dict[str, tuple[str, str | None, int]] = {}
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        tree = ast.Module(body=[], type_ignores=[])
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking_test(node.test):
            for stmt in ast.walk(node):
                if isinstance(stmt, ast.ImportFrom):
                    for alias in stmt.names:
                        if alias.name != "*":
                            found[alias.asname or alias.name] = (
                                stmt.module or "", alias.name, stmt.level
                            )
                elif isinstance(stmt, ast.Import):
                    for alias in stmt.names:
                        if alias.asname:
                            found[alias.asname] = (alias.name, None, 0)
                        else:
                            top = alias.name.split(".")[0]
                            found[top] = (top, None, 0)
    _tc_cache[module_name] = found
    return found


def _spelled(entry: tuple[str, str | None, int]) -> str:
    module, attr, level = entry
    base = "." * level + module
    return f"{base}.{attr}" if attr else base


def type_checking_names(module_name: str) -> dict[str, Any]:
    """What ``module_name`` imports under ``TYPE_CHECKING``, imported for real: both
    containers evaluate annotations with these names, so they agree on every parameter."""
    if module_name in _tc_names:
        return _tc_names[module_name]
    out: dict[str, Any] = {}
    package = module_name.rpartition(".")[0]
    for name, (module, attr, level) in type_checking_imports(module_name).items():
        target = "." * level + module
        try:
            imported = importlib.import_module(target, package or None)
            if attr and not hasattr(imported, attr):  # `from pkg import submodule`
                importlib.import_module(f"{imported.__name__}.{attr}")
            out[name] = getattr(imported, attr) if attr else imported
        except Exception:
            continue
    _tc_names[module_name] = out
    return out


def forget_type_checking_names() -> None:
    """Drop what was read and imported (tests that rewrite modules call this)."""
    _tc_cache.clear()
    _tc_names.clear()


def _is_type_checking_test(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _interpret(annotation: Any) -> tuple[Key | None, Edge, bool]:
    """(key, edge, optional) for one evaluated annotation."""
    if (
        _plain_class(annotation)
        and annotation is not Any  # Any and object mean "no key"
        and annotation is not object
        and annotation is not typing.Generic  # get_origin(Generic) is Generic itself
    ):
        # a class has no origin, so of the cases below only the last ones: the common case
        return annotation, Edge.CONTAINER if is_container_type(annotation) else Edge.PLAIN, False
    name: str | None = None
    if isinstance(annotation, InjectMarker):
        annotation = annotation.key
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        for m in meta:
            if isinstance(m, Named):
                name = m.name
            elif isinstance(m, str) and m.startswith("name="):
                name = m[5:]
        key, edge, optional = _interpret(base)
        if name is not None and key is not None:
            key = make_key(key, name)
        return key, edge, optional
    if origin is Lazy:
        (inner,) = get_args(annotation) or (None,)
        key, _, optional = _interpret(inner)
        return key, Edge.LAZY, optional
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            key, edge, _ = _interpret(args[0])
            return key, edge, True
        return annotation, Edge.PLAIN, False
    if is_container_type(annotation):
        return annotation, Edge.CONTAINER, False
    if annotation is Any or annotation is object:
        return None, Edge.PLAIN, False
    return annotation, Edge.PLAIN, False


def annotation_key(annotation: Any) -> Key | None:
    """The key a parameter annotated ``annotation`` (already evaluated) asks for; None for
    none (``Any``, ``object``). ``Optional[T]`` and ``Lazy[T]`` ask for ``T``."""
    key, _, _ = _interpret(annotation)
    return key


def return_key(fn: Callable[..., Any]) -> Key | None:
    """The key a factory provides, from its return annotation (``@provider``)."""
    target = inspect.unwrap(fn)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:
        return None
    ret = hints.get("return")
    if ret is None or ret is type(None):
        return None
    origin = get_origin(ret)
    # a generator factory provides what it yields
    if origin is not None and getattr(origin, "__name__", "") in (
        "Generator", "Iterator", "AsyncGenerator", "AsyncIterator", "Iterable", "AsyncIterable"
    ):
        args = get_args(ret)
        ret = args[0] if args else None
    if ret is None:
        return None
    key, _, _ = _interpret(ret)
    return key
