"""Markers users put in annotations: ``Named``, ``Lazy[T]``, ``Inject[T]``; and key helpers.

A key is what a binding is registered under: a type (or any hashable token, such as a
string) plus an optional name. Unnamed keys are stored as the bare token and named ones
as ``(token, name)``, so the hot path of ``get(T)`` is one dict lookup with no tuple built.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Generic, Never, TypeAlias, TypeVar, cast

from injectq.model.arguments import NAME_HELP, check_marker, refuse_here

__all__ = [
    "ClassKey", "Inject", "InjectMarker", "Lazy", "Named", "as_plain_str", "display_key",
    "make_key", "split_key",
]

T = TypeVar("T")

Key = Any  # a type or a hashable token, optionally paired with a name

# The key of a class, a Protocol or an ABC: ``get(ClassKey[T]) -> T`` holds for mypy and
# pyright alike. A bare ``type[T]`` accepts the same classes, but mypy takes only a concrete
# class for it (its type-abstract check), so get(SomeProtocol) would fall to the ``Any``
# overload; mypy does not apply that check to a union, and ``type[Never]`` adds no class.
ClassKey: TypeAlias = type[T] | type[Never]


class Named:
    """Ask for a named binding: ``Annotated[Repo, Named("base")]``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if as_plain_str(name) is None:
            refuse_here("Named()", "name", name, NAME_HELP)
        self.name = name

    def __repr__(self) -> str:
        return f"Named({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Named) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Named", self.name))


class _NamedKey(tuple[Any, str]):
    """``(token, name)``: a distinct tuple subclass so a user's own tuple key never collides."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{display_key(self[0])}[name={self[1]!r}]"


def make_key(token: Any, name: str | None = None) -> Key:
    """The registry key for ``token`` with an optional binding name."""
    return token if name is None else _NamedKey((token, name))


def split_key(key: Key) -> tuple[Any, str | None]:
    """Inverse of ``make_key``."""
    if type(key) is _NamedKey:
        return key[0], key[1]
    return key, None


def as_plain_str(value: object) -> str | None:
    """``value`` as a plain ``str`` (a subclass's methods never run again), or None when it
    is not a string: names reach us from callers no type checker has read."""
    return str.__str__(value) if isinstance(value, str) else None


def display_key(key: Key) -> str:
    """A short readable rendering of a key for messages."""
    token, name = split_key(key)
    if isinstance(token, type):
        text = str(token.__qualname__)
    elif isinstance(token, str):
        text = str.__repr__(token)  # a str subclass's own __repr__ is never called
    elif isinstance(token, int) and not isinstance(token, bool):
        digits = token.bit_length() * 30103 // 100000 + 1
        text = int.__repr__(token) if digits < 60 else f"<int of about {digits} digits>"
    else:
        text = getattr(token, "__qualname__", None) or _safe_repr(token)
    if name is None:
        return text
    plain = as_plain_str(name)
    return f"{text}[name={str.__repr__(plain) if plain is not None else _safe_repr(name)}]"


def _safe_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception:
        text = f"<{type(obj).__qualname__} object>"
    return text if len(text) <= 200 else text[:197] + "..."


class Lazy(Generic[T]):
    """A handle that resolves ``T`` on its first call and returns that object afterwards.

    Annotate a parameter ``Lazy[T]`` to receive one. A cycle is allowed through a ``Lazy``
    edge because nothing is resolved until the handle is called.
    """

    __slots__ = ("_busy", "_key", "_lock", "_resolver", "_value")

    _UNSET: Any = object()

    def __init__(self, key: Key, resolver: Any) -> None:
        self._key = key
        self._resolver = resolver  # object with get(key) / aget(key)
        self._value: Any = Lazy._UNSET
        # reentrant, so a call made while this handle resolves (same thread) is reported
        # as a cycle instead of deadlocking
        self._lock = threading.RLock()
        self._busy = False

    def __call__(self) -> T:
        value = self._value
        if value is Lazy._UNSET:
            with self._lock:
                if self._value is Lazy._UNSET:
                    if self._busy:
                        self._reentered()
                    self._busy = True
                    try:
                        self._value = self._resolver.get(self._key)
                    finally:
                        self._busy = False
                value = self._value
        return cast(T, value)

    async def aget(self) -> T:
        """Resolve through ``aget``, for targets that need an async step."""
        if self._value is Lazy._UNSET:
            value = await self._resolver.aget(self._key)
            with self._lock:
                if self._value is Lazy._UNSET:
                    self._value = value
        return cast(T, self._value)

    def _reentered(self) -> None:
        from injectq.errors import CircularDependencyError
        from injectq.model.checks import reentry_problem

        raise CircularDependencyError(reentry_problem(self._key, lazy=True))

    @property
    def resolved(self) -> bool:
        return self._value is not Lazy._UNSET

    def __repr__(self) -> str:
        state = "resolved" if self.resolved else "unresolved"
        return f"Lazy[{display_key(self._key)}]({state})"


class _InjectMeta(type):
    def __getitem__(cls, item: Any) -> Any:
        check_marker("Inject[...]", item)
        return InjectMarker(item)


class InjectMarker:
    """The default value ``Inject[T]`` (InjectQ 0.5.0 style): marks a parameter for injection."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"Inject[{display_key(self.key)}]"


class Inject(Generic[T], metaclass=_InjectMeta):
    """``def f(svc: Service = Inject[Service])`` or ``svc: Inject[Service]``: inject this."""

    if TYPE_CHECKING:

        def __class_getitem__(cls, item: Any) -> Any: ...
