"""InjectQ 0.5.0's type aliases, its type-hint helpers, and ``Scope``, the base class of its
scope objects.

The aliases are for annotating code that handles keys and factories; injectq's own
containers accept any hashable key (a class, a string, a ``NewType``, a generic alias).
The helpers answer with the container's own reading of an annotation: ``normalize_type``
gives the key a parameter annotated so is injected by, ``list[int]`` staying ``list[int]``.
"""

from __future__ import annotations

import inspect
import types
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    ClassVar,
    ForwardRef,
    Generic,
    Literal,
    Protocol,
    TypeAlias,
    Union,
    get_args,
    get_origin,
)

from injectq.model.binding import ScopeType
from injectq.model.introspect import annotation_key
from injectq.model.markers import Key, split_key

__all__ = [
    "BindingDict",
    "Scope",
    "ServiceFactory",
    "ServiceInstance",
    "ServiceKey",
    "format_type_name",
    "get_type_name",
    "is_concrete_type",
    "is_generic_type",
    "normalize_type",
    "resolve_forward_ref",
]

ServiceKey: TypeAlias = type[Any] | str  # what a service is registered under
ServiceFactory: TypeAlias = Callable[..., Any]  # what makes a service instance
ServiceInstance: TypeAlias = Any
BindingDict: TypeAlias = dict[ServiceKey, Any]


class Scope(ABC):
    """The base class of InjectQ 0.5.0's scope objects, for code that subclasses it or
    annotates with it.

    injectq's containers keep their scopes themselves: ``with container.scope("request"):``
    opens one, ``container.declare_scope("task", parent="request")`` declares a custom
    one. A subclass of ``Scope`` is not plugged into a container. The class attributes
    name the built-in scopes, so ``bind(X, scope=Scope.REQUEST)`` means
    ``scope=ScopeType.REQUEST``.
    """

    SINGLETON: ClassVar[ScopeType] = ScopeType.SINGLETON
    TRANSIENT: ClassVar[ScopeType] = ScopeType.TRANSIENT
    REQUEST: ClassVar[ScopeType] = ScopeType.REQUEST
    ACTION: ClassVar[ScopeType] = ScopeType.ACTION

    def __init__(self, name: str, thread_safe: bool = True) -> None:
        self.name = name
        self.thread_safe = thread_safe

    @abstractmethod
    def get(self, key: Any, factory: Callable[[], Any]) -> Any:
        """The instance of ``key`` in this scope, made by ``factory()`` when it has none."""

    @abstractmethod
    async def aget(self, key: Any, factory: Callable[[], Any]) -> Any:
        """``get``, awaiting what ``factory()`` returns when it is awaitable."""

    @abstractmethod
    def clear(self) -> None:
        """Forget every instance of this scope."""

    def enter(self) -> None:  # noqa: B027 - an optional hook: subclasses override what they use
        """A hook for the code that opens the scope."""

    def exit(self) -> None:  # noqa: B027 - an optional hook, as enter()
        """A hook for the code that closes the scope."""


# -- type hints ------------------------------------------------------------------------------


def is_generic_type(type_hint: object) -> bool:
    """Whether ``type_hint`` is a generic class with its type arguments given: ``list[int]``,
    ``dict[str, Service]``, ``Repo[User]``, ``Callable[[int], str]`` (also inside
    ``Annotated``). A bare class (``list``, ``Repo``) is not, nor is a union
    (``Service | None``) or a ``Literal``."""
    origin = get_origin(type_hint)
    if origin is Annotated:
        return is_generic_type(get_args(type_hint)[0])
    return isinstance(origin, type) and origin is not types.UnionType


_NOT_INSTANTIABLE: frozenset[object] = frozenset({Any, Generic, Protocol})


def is_concrete_type(type_hint: object) -> bool:
    """Whether ``type_hint`` is a class that can be instantiated: not abstract (an ABC with
    abstract methods), not a ``Protocol``, not ``Any`` or ``Generic``, and not a generic
    with its arguments given (``list[int]``: its class, ``list``, is)."""
    if not isinstance(type_hint, type) or isinstance(type_hint, types.GenericAlias):
        return False
    if type_hint in _NOT_INSTANTIABLE or inspect.isabstract(type_hint):
        return False
    return not getattr(type_hint, "_is_protocol", False)  # typing's mark of a Protocol class


def get_type_name(type_hint: object) -> str:
    """A short readable name of a type hint, for messages and logs: ``Service``,
    ``Outer.Inner``, ``list[int]``, ``dict[str, Service]``, ``Service | None``,
    ``Callable[[int], str]``; a key bound under a name reads ``Service[name='primary']``, and
a string (a forward reference, a string key) is its own name.
    A class defined inside a function is named without the function's ``<locals>``."""
    return _render(type_hint, 0)


def format_type_name(type_hint: object) -> str:
    """``get_type_name``: a string (a forward reference, or a string key) is returned as
    it is."""
    return _render(type_hint, 0)


_MAX_DEPTH = 20  # a hint nested deeper is shown as "..."


def _render(hint: object, depth: int) -> str:  # one return per kind of hint
    if depth > _MAX_DEPTH:
        return "..."
    if isinstance(hint, str):
        return str.__str__(hint)  # a forward reference (list["Service"]) or a string key
    if hint is None or hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    if isinstance(hint, ForwardRef):
        return hint.__forward_arg__
    if isinstance(hint, list):  # the parameters of Callable[[int, str], bool]
        items: list[object] = hint  # pyright: ignore[reportUnknownVariableType]
        return "[" + ", ".join(_render(a, depth + 1) for a in items) + "]"
    token, name = split_key(hint)
    if name is not None:
        label = str.__repr__(token) if isinstance(token, str) else _render(token, depth + 1)
        return f"{label}[name={name!r}]"
    origin = get_origin(hint)
    args: tuple[object, ...] = get_args(hint)
    if origin is Annotated:
        extras = ", ".join(_safe_repr(m) for m in args[1:])
        return f"Annotated[{_render(args[0], depth + 1)}, {extras}]"
    if origin is Union or origin is types.UnionType:
        return " | ".join(_render(a, depth + 1) for a in args)
    if origin is Literal:
        return "Literal[" + ", ".join(_safe_repr(a) for a in args) + "]"
    if origin is not None:
        inner = ", ".join(_render(a, depth + 1) for a in args)
        base = _render(origin, depth + 1)
        return f"{base}[{inner}]" if args else base
    if isinstance(hint, type):
        return _class_name(hint)
    name = getattr(hint, "__qualname__", None) or getattr(hint, "__name__", None)
    if isinstance(name, str):  # a TypeVar, a NewType, a function
        return _without_locals(name)
    text = _safe_repr(hint)
    return text.removeprefix("typing.")  # typing.Any reads Any


def _class_name(cls: type) -> str:
    name = getattr(cls, "__qualname__", None)
    if not isinstance(name, str):
        return str(cls.__name__)
    return _without_locals(name)


def _without_locals(qualname: str) -> str:
    return qualname.rpartition("<locals>.")[2]


def _safe_repr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return f"<{type(obj).__qualname__} object>"


def normalize_type(type_hint: object) -> Key:
    """The key a parameter annotated ``type_hint`` is injected by, as injectq's containers
    read it: ``Service | None`` and ``Optional[Service]`` give ``Service``; ``Lazy[Service]``
    and ``Inject[Service]`` give ``Service``; ``Annotated[Service, Named("a")]`` gives the
    key of the binding named ``"a"``; a generic keeps its arguments (``list[int]``, not
    ``list``), and a union of several types stays that union.

    A string (a forward reference not yet evaluated) is returned as it is, and a
    ``ForwardRef`` as its string; resolve one with ``resolve_forward_ref``. A hint that
    names no key (``Any``, ``object``) is returned unchanged, ``None`` as ``type(None)``.
    """
    if isinstance(type_hint, str):
        return type_hint
    if type_hint is None:
        return type(None)
    key = annotation_key(type_hint)
    if isinstance(key, ForwardRef):  # Optional["Service"]
        return key.__forward_arg__
    return type_hint if key is None else key


def resolve_forward_ref(
    type_hint: str | ForwardRef,
    globals_dict: dict[str, Any] | None = None,
    locals_dict: dict[str, Any] | None = None,
) -> Any:
    """Evaluate a forward reference (``"Service"``, ``"list[Service] | None"``) to what it
    names.

    Names are looked up in ``locals_dict``, then ``globals_dict``; without
    ``globals_dict``, in the globals of the module that calls this function. Neither dict
    is changed. Raises ``TypeError`` when the string cannot be evaluated, saying why.
    """
    text = type_hint.__forward_arg__ if isinstance(type_hint, ForwardRef) else type_hint
    if not isinstance(text, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        msg = (
            f"resolve_forward_ref() takes the string of a type, not {_safe_repr(text)}; "
            "a type that is already evaluated needs no resolving"
        )
        raise TypeError(msg)
    if globals_dict is None:
        frame = inspect.currentframe()  # this call; its caller's module gives the names
        caller = frame.f_back if frame is not None else None
        globals_dict = caller.f_globals if caller is not None else {}
        del frame, caller  # frames refer to their locals: break the cycle now
    namespace = dict(globals_dict)  # eval adds __builtins__ to the dict it is given
    try:
        # the string is code already: an annotation, which Python evaluates the same way
        return eval(text, namespace, dict(locals_dict or {}))
    except NameError as exc:
        msg = (
            f"cannot resolve the forward reference {text!r}: name {exc.name!r} is not "
            "defined in the namespace it was evaluated in; pass globals_dict=vars(module) "
            "of the module that defines it, or locals_dict={...} for a local class"
        )
        raise TypeError(msg) from exc
    except Exception as exc:
        msg = f"cannot resolve the forward reference {text!r}: {type(exc).__name__}: {exc}"
        raise TypeError(msg) from exc
