"""InjectQ 0.5.0's type aliases, and ``Scope``, the base class of its scope objects.

The aliases are for annotating code that handles keys and factories; injectq's own
containers accept any hashable key (a class, a string, a ``NewType``, a generic alias).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

from injectq.model.binding import ScopeType

__all__ = ["BindingDict", "Scope", "ServiceFactory", "ServiceInstance", "ServiceKey"]

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
