"""InjectQ 0.5.0's protocols: the shapes of providers, factories and resources a user's
code may implement, for annotations and ``isinstance`` checks.

The runtime-checkable ones check only that the methods exist (``isinstance`` never
reads signatures). The containers call none of these methods: bind a provider's
``provide`` as a factory (``bind_factory(Key, provider.provide)``) to use it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from injectq.runtime.container import InjectQ

__all__ = [
    "AnyFactory",
    "AnyProvider",
    "AnyResourceProvider",
    "AsyncFactory",
    "AsyncProvider",
    "AsyncResourceProvider",
    "Configurable",
    "Factory",
    "Injectable",
    "InjectableAsyncFunction",
    "InjectableCallable",
    "InjectableFunction",
    "Provider",
    "Resolvable",
    "ResourceProvider",
    "ScopeAware",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@runtime_checkable
class Injectable(Protocol):
    """A class the container constructs, injecting its ``__init__`` parameters. Every
    class qualifies: the protocol states an intent in annotations."""

    def __init__(self, *args: object, **kwargs: object) -> None: ...


@runtime_checkable
class Provider(Protocol[T_co]):
    """An object that makes a ``T`` from the container: ``provide(container)``."""

    @abstractmethod
    def provide(self, container: InjectQ) -> T_co: ...


@runtime_checkable
class AsyncProvider(Protocol[T_co]):
    """``Provider`` whose ``provide`` is awaited."""

    @abstractmethod
    async def provide(self, container: InjectQ) -> T_co: ...


@runtime_checkable
class Factory(Protocol[T_co]):
    """A callable that makes a ``T`` from the container: ``factory(container)``."""

    @abstractmethod
    def __call__(self, container: InjectQ) -> T_co: ...


@runtime_checkable
class AsyncFactory(Protocol[T_co]):
    """``Factory`` whose call is awaited."""

    @abstractmethod
    async def __call__(self, container: InjectQ) -> T_co: ...


@runtime_checkable
class ResourceProvider(Protocol[T_co]):
    """A callable returning a context manager that yields a ``T`` and closes it on exit."""

    @abstractmethod
    def __call__(self) -> AbstractContextManager[T_co]: ...


@runtime_checkable
class AsyncResourceProvider(Protocol[T_co]):
    """``ResourceProvider`` whose context manager is entered with ``async with``."""

    @abstractmethod
    def __call__(self) -> AbstractAsyncContextManager[T_co]: ...


@runtime_checkable
class Resolvable(Protocol):
    """A class that says how it is built from the container: the class method
    ``__injectq_resolve__(container)``."""

    @classmethod
    @abstractmethod
    def __injectq_resolve__(cls, container: InjectQ) -> object: ...


@runtime_checkable
class Configurable(Protocol):
    """An object configured after it is made: ``configure(**settings)``."""

    @abstractmethod
    def configure(self, **kwargs: object) -> None: ...


@runtime_checkable
class ScopeAware(Protocol):
    """An object told when a scope it lives in opens and closes."""

    @abstractmethod
    def enter_scope(self, scope_name: str) -> None: ...

    @abstractmethod
    def exit_scope(self, scope_name: str) -> None: ...


class InjectableFunction(Protocol[T_co]):
    """A function taking injected arguments, with the keys it asks for by parameter."""

    def __call__(self, *args: object, **kwargs: object) -> T_co: ...

    @property
    def __injectq_dependencies__(self) -> dict[str, type[object]]: ...


class InjectableAsyncFunction(Protocol[T_co]):
    """``InjectableFunction`` whose call is awaited."""

    async def __call__(self, *args: object, **kwargs: object) -> T_co: ...

    @property
    def __injectq_dependencies__(self) -> dict[str, type[object]]: ...


InjectableCallable: TypeAlias = Callable[..., T] | InjectableFunction[T]
AnyProvider: TypeAlias = Provider[T] | AsyncProvider[T]
AnyFactory: TypeAlias = Factory[T] | AsyncFactory[T]
AnyResourceProvider: TypeAlias = ResourceProvider[T] | AsyncResourceProvider[T]
