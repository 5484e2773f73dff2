"""The Registry: every Binding by key, the declared scopes, and duplicates seen on the way.

Both back ends read the graph from a Registry. It knows nothing about signatures; it only
stores what ``bind()`` recorded and tells its listener (the container) when it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from injectq.errors import BindingError, Problem, ScopeError
from injectq.model.arguments import scope_text
from injectq.model.binding import Binding, bind_site
from injectq.model.markers import Key, as_plain_str, display_key

__all__ = ["APP_SCOPE", "Duplicate", "Registry", "ScopeTree"]

APP_SCOPE = "app"  # the container itself: what singletons live in

_NAME_HELP = 'a scope name must be a string, such as declare_scope("tenant", parent="request")'
_PARENT_HELP = 'the parent must name a known scope, a string such as "request" or "app"'


class AlreadyRegisteredError(BindingError):
    """A key is bound again on a container created with ``allow_override=False``."""

    def __init__(self, dependency_type: object) -> None:
        super().__init__(
            f"{display_key(dependency_type)} is already bound; this container was created with "
            "allow_override=False"
        )
        self.dependency_type = dependency_type


@dataclass(frozen=True)
class Duplicate:
    """A key bound twice without ``override=True`` (reported as IQ004)."""

    first: Binding
    second: Binding

    def problem(self) -> Problem:
        label = self.second.label
        return Problem(
            code="IQ004",
            name="duplicate-binding",
            message=f"{label} is bound twice",
            site=self.second.site,
            key=label,
            extra=(
                f"first bound at  {self.first.site}  [{self.first.lifetime_label}]",
                f"bound again at  {self.second.site}  [{self.second.lifetime_label}]",
            ),
            help=(
                "remove one binding, or pass override=True to the later bind() to replace the "
                "earlier one on purpose"
            ),
        )


class ScopeTree:
    """Scope names and their parents: app > request > action, plus custom ones."""

    def __init__(self) -> None:
        self._parent: dict[str, str | None] = {APP_SCOPE: None, "request": APP_SCOPE}
        self._parent["action"] = "request"

    def declare(self, name: str, parent: str = "request") -> None:
        if as_plain_str(name) is None or as_plain_str(parent) is None:
            name, parent = self._as_names(name, parent)
        plain = as_plain_str(name)
        if not plain:
            raise ScopeError(f"a scope name must be a non-empty string, got {name!r}")
        name = plain
        parent = str.__str__(parent)
        if name in (APP_SCOPE, "singleton", "transient"):
            raise ScopeError(f"{name!r} is reserved and cannot be declared as a scope")
        if parent in ("singleton",):
            parent = APP_SCOPE
        if parent not in self._parent:
            raise ScopeError(
                f"cannot declare scope {name!r}: its parent {parent!r} is not a known scope "
                f"(known: {', '.join(sorted(self._parent))})"
            )
        known = self._parent.get(name)
        if name in self._parent and known != parent:
            raise ScopeError(f"scope {name!r} is already declared with parent {known!r}")
        self._parent[name] = parent

    @staticmethod
    def _as_names(name: object, parent: object) -> tuple[str, str]:
        """``declare_scope()`` arguments that are not strings: an enum member whose value is
        one stands for it; anything else is an error naming the call's line."""
        site = bind_site()
        name = scope_text(name, "declare_scope()", site, "scope name", _NAME_HELP)
        parent = scope_text(parent, f"declare_scope({name!r})", site, "parent", _PARENT_HELP)
        return name, parent

    def __contains__(self, name: object) -> bool:
        return name in self._parent

    def names(self) -> list[str]:
        return list(self._parent)

    def parent(self, name: str) -> str | None:
        return self._parent[name]

    def depth(self, name: str) -> int:
        d = 0
        current = self._parent.get(name)
        while current is not None:
            d += 1
            current = self._parent.get(current)
        return d

    def ancestors(self, name: str) -> list[str]:
        """``name`` and every scope that outlives it, innermost first."""
        out = [name]
        current = self._parent.get(name)
        while current is not None:
            out.append(current)
            current = self._parent.get(current)
        return out

    def outlives_or_equal(self, outer: str, inner: str) -> bool:
        return outer in self.ancestors(inner)

    def copy(self) -> ScopeTree:
        other = ScopeTree()
        other._parent = dict(self._parent)
        return other


class Registry:
    """Bindings by key, in registration order."""

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._bindings: dict[Key, Binding] = {}
        self.duplicates: list[Duplicate] = []
        self.scopes = ScopeTree()
        self._on_change = on_change or (lambda: None)
        self.allow_override = True

    def changed(self) -> None:
        self._on_change()

    def add(self, binding: Binding, *, replace: bool = False) -> None:
        existing = self._bindings.get(binding.key)
        if existing is not None and existing.implied_by is None and binding.implied_by is not None:
            return  # what an instance's class implies never displaces a binding of that class
        if (
            existing is not None and not replace and not binding.override
            and existing.implied_by is None
        ):
            if not self.allow_override:
                raise AlreadyRegisteredError(binding.key)
            self.duplicates.append(Duplicate(existing, binding))
        self._bindings[binding.key] = binding
        self._on_change()

    def remove(self, key: Key) -> Binding:
        binding = self._bindings.pop(key)
        self.duplicates = [
            d for d in self.duplicates if key not in (d.first.key, d.second.key)
        ]
        self._on_change()
        return binding

    def clear(self) -> None:
        self._bindings.clear()
        self.duplicates.clear()
        self._on_change()

    def get(self, key: Key) -> Binding | None:
        return self._bindings.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._bindings

    def __iter__(self) -> Iterator[Binding]:
        return iter(list(self._bindings.values()))

    def __len__(self) -> int:
        return len(self._bindings)

    def keys(self) -> list[Key]:
        return list(self._bindings)
