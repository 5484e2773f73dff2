"""Binding records: what a key is bound to, with which lifetime, declared where.

A ``Binding`` is plain data shared by both back ends (the runtime container and
injectq-gen). ``BindingBuilder`` is what ``bind()`` returns, so that ``.singleton()``,
``.scoped()`` and ``.transient()`` can follow. Nothing here reads signatures.
"""

from __future__ import annotations

import bisect
import enum
import functools
import inspect
import os
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from injectq.errors import BindingError
from injectq.model.arguments import (
    KEY_HELP,
    SCOPE_HELP,
    check_key,
    check_name,
    scope_text,
    shown,
)
from injectq.model.markers import Key, display_key, make_key

__all__ = [
    "Binding",
    "BindingBuilder",
    "Lifetime",
    "ProviderKind",
    "ScopeType",
    "bind_site",
    "classify_factory",
    "classify_implementation",
    "format_site",
]

class _Unset:
    """The default of ``bind(..., implementation)``: bind a class to itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()

# the injectq package (this file is injectq/model/binding.py): its frames are not the user's
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class Lifetime(enum.StrEnum):
    SINGLETON = "singleton"
    SCOPED = "scoped"
    TRANSIENT = "transient"


class ScopeType(enum.StrEnum):
    """InjectQ 0.5.0's scope names, accepted wherever a lifetime or scope is given."""

    SINGLETON = "singleton"
    TRANSIENT = "transient"
    REQUEST = "request"
    ACTION = "action"


class ProviderKind(enum.StrEnum):
    CLASS = "class"
    FACTORY = "factory"
    ASYNC_FACTORY = "async_factory"
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async_generator"
    INSTANCE = "instance"
    AWAITABLE = "awaitable"

    @property
    def is_async(self) -> bool:
        return self in _ASYNC_KINDS

    @property
    def is_resource(self) -> bool:
        return self in (ProviderKind.GENERATOR, ProviderKind.ASYNC_GENERATOR)

    @property
    def takes_parameters(self) -> bool:
        return self not in (ProviderKind.INSTANCE, ProviderKind.AWAITABLE)


_ASYNC_KINDS = frozenset(
    {ProviderKind.ASYNC_FACTORY, ProviderKind.ASYNC_GENERATOR, ProviderKind.AWAITABLE}
)


def bind_site(skip_package: str = _PACKAGE_DIR) -> str:
    """``file:line`` of the first caller frame outside injectq: where the user wrote bind()."""
    # the caller's frame at once: this frame held in its own locals would be a reference
    # cycle, garbage for the collector at every bind()
    frame = inspect.currentframe()
    frame = frame.f_back if frame is not None else None
    while frame is not None and frame.f_code.co_filename.startswith(skip_package):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = frame.f_code
    return format_site(code.co_filename, _line_of(code, frame.f_lasti))


_line_tables: dict[int, tuple[types.CodeType, list[int], list[int]]] = {}


def _line_of(code: types.CodeType, offset: int) -> int:
    """The source line of the instruction at byte ``offset`` of ``code``.

    ``frame.f_lineno`` scans the line table from the start on every read, so 10,000
    ``bind()`` calls in one ``configure()`` cost O(n^2) (1.5 s); here the line ranges of a
    code object are read once (one pass of ``co_lines``, consecutive ranges of one line
    merged) and searched. Keyed by identity: hashing a code object hashes its bytecode.
    An instruction outside every range is on the first line."""
    entry = _line_tables.get(id(code))
    if entry is None or entry[0] is not code:
        first = code.co_firstlineno
        ends: list[int] = []  # ranges [ends[i - 1], ends[i]) are on lines[i]
        lines: list[int] = []
        last = 0
        for start, end, line in code.co_lines():
            if start > last:  # a gap
                ends.append(start)
                lines.append(first)
            value = first if line is None else line
            if lines and lines[-1] == value:
                ends[-1] = end
            else:
                ends.append(end)
                lines.append(value)
            last = end
        if len(_line_tables) >= 256:
            _line_tables.clear()
        entry = _line_tables[id(code)] = (code, ends, lines)
    _, ends, lines = entry
    i = bisect.bisect_right(ends, offset)
    return lines[i] if i < len(lines) else code.co_firstlineno


def format_site(filename: str, line: int) -> str:
    """``file:line`` with the file relative to the working directory when it is below it."""
    return f"{_display_path(filename, os.getcwd())}:{line}"


@functools.lru_cache(maxsize=1024)
def _display_path(filename: str, cwd: str) -> str:
    # cached: one module binds many keys, and relpath costs ~20 us a call
    try:
        rel = os.path.relpath(filename, cwd)
    except ValueError:  # a different drive on Windows
        return filename
    return filename if rel.startswith("..") else rel


def classify_factory(factory: Callable[..., Any]) -> ProviderKind:
    """The provider kind of a factory callable."""
    if inspect.isclass(factory):
        return ProviderKind.CLASS
    target = inspect.unwrap(factory)
    if inspect.isasyncgenfunction(target):
        return ProviderKind.ASYNC_GENERATOR
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(factory):
        return ProviderKind.ASYNC_FACTORY
    if inspect.isgeneratorfunction(target):
        return ProviderKind.GENERATOR
    if not callable(factory):
        raise BindingError(f"factory {factory!r} is not callable")
    return ProviderKind.FACTORY


def classify_implementation(implementation: Any) -> ProviderKind:
    """``bind(Key, x)``: a class is constructed; anything else is an instance (awaited if
    needed)."""
    if inspect.isclass(implementation):
        return ProviderKind.CLASS
    if inspect.isawaitable(implementation):
        return ProviderKind.AWAITABLE
    return ProviderKind.INSTANCE


@dataclass(eq=False)
class Binding:
    """One key bound to one provider."""

    key: Key
    provider: Any
    kind: ProviderKind
    lifetime: Lifetime = Lifetime.TRANSIENT
    scope: str | None = None  # the scope name, for SCOPED
    site: str = "<unknown>"
    override: bool = False
    autowired: bool = False
    allow_none: bool = False
    # the key whose instance this binding also serves under its class (allow_concrete);
    # such a binding gives way to any other binding of its key
    implied_by: Any = None

    @property
    def label(self) -> str:
        return display_key(self.key)

    @property
    def lifetime_label(self) -> str:
        if self.lifetime is Lifetime.SCOPED:
            return f"scoped:{self.scope}"
        return str(self.lifetime)

    @property
    def provider_name(self) -> str:
        p = self.provider
        if self.kind in (ProviderKind.INSTANCE, ProviderKind.AWAITABLE):
            return f"instance of {type(p).__qualname__}"
        return str(getattr(p, "__qualname__", repr(p)))

    def __repr__(self) -> str:
        return (
            f"Binding({self.label} -> {self.provider_name}, {self.lifetime_label}, "
            f"at {self.site})"
        )


class BindingBuilder:
    """Returned by every ``bind*`` call; sets the lifetime of the binding just made."""

    __slots__ = ("_binding", "_on_change")

    def __init__(self, binding: Binding, on_change: Callable[[], None]) -> None:
        self._binding = binding
        self._on_change = on_change

    @property
    def binding(self) -> Binding:
        return self._binding

    def _set(self, lifetime: Lifetime, scope: str | None) -> BindingBuilder:
        b = self._binding
        if lifetime is not Lifetime.SINGLETON and b.kind in (
            ProviderKind.INSTANCE,
            ProviderKind.AWAITABLE,
        ):
            raise BindingError(
                f"{b.label} is bound to an instance at {b.site}; an instance is one object, "
                f"so it cannot be {lifetime}. Bind a class or a factory instead."
            )
        b.lifetime = lifetime
        b.scope = scope
        self._on_change()
        return self

    def singleton(self) -> BindingBuilder:
        """One instance per container, created on first use (or by ``warm()``)."""
        return self._set(Lifetime.SINGLETON, None)

    def scoped(self, name: str = "request") -> BindingBuilder:
        """One instance per open scope called ``name``."""
        b = self._binding
        plain = scope_text(name, f"bind({b.label}, ...).scoped()", b.site)
        if not plain:
            raise BindingError(
                f"bind({b.label}, ...).scoped() at {b.site}: the scope name is empty; "
                f"{SCOPE_HELP}"
            )
        name = plain
        if name in ("singleton", "app"):
            return self.singleton()
        if name == "transient":
            return self.transient()
        return self._set(Lifetime.SCOPED, name)

    def transient(self) -> BindingBuilder:
        """A new instance for every resolution."""
        return self._set(Lifetime.TRANSIENT, None)

    def named(self, name: str) -> BindingBuilder:
        raise BindingError(
            f"give the name when binding: bind({self._binding.label}, ..., name={shown(name)})"
        )

    def __repr__(self) -> str:
        return f"<BindingBuilder {self._binding!r}>"


def lifetime_from_scope(
    scope: Any, call: str = "bind()", site: str | None = None
) -> tuple[Lifetime, str | None]:
    """Translate a 0.5.0-style ``scope=`` value ("singleton", "request", ScopeType...)."""
    if scope is ScopeType.SINGLETON:  # bind()'s default, once per binding
        return Lifetime.SINGLETON, None
    if isinstance(scope, Lifetime):
        return scope, ("request" if scope is Lifetime.SCOPED else None)
    value = scope_text(scope, call, site).lower()
    if value in ("singleton", "app"):
        return Lifetime.SINGLETON, None
    if value == "transient":
        return Lifetime.TRANSIENT, None
    if value == "scoped":
        return Lifetime.SCOPED, "request"
    if not value:
        at = f" at {site}" if site else ""
        raise BindingError(f"{call}{at}: the scope is empty; {SCOPE_HELP}")
    return Lifetime.SCOPED, value


def key_for(
    service_type: Any, name: str | None, call: str = "bind()", site: str | None = None
) -> Key:
    """The key ``bind()`` registers: the user's key checked, and their name."""
    if service_type is None:
        at = f" at {site}" if site else ""
        raise BindingError(f"{call}{at}: cannot bind None as a key; {KEY_HELP}")
    return make_key(check_key(service_type, call, site), check_name(name, call, site))
