"""InjectQ 0.5.0's type aliases, protocols and ``Scope``: the runtime-checkable protocols
answer ``isinstance`` by the methods an object has, a provider's ``provide`` binds as a
factory, and ``Scope`` is an abstract base whose constants name the built-in scopes.
(How they type-check: tests/typing/check_compat.py.)
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from typing import Any

import pytest

from injectq import InjectQ, ScopeError, ScopeType
from injectq.utils import (
    AsyncFactory,
    AsyncProvider,
    AsyncResourceProvider,
    BindingDict,
    Configurable,
    Factory,
    Injectable,
    InjectableFunction,
    Provider,
    Resolvable,
    ResourceProvider,
    ScopeAware,
    ServiceFactory,
    ServiceKey,
)
from injectq.utils.types import Scope


class Service:
    def __init__(self, source: str = "default") -> None:
        self.source = source


class ServiceProvider:
    def __init__(self) -> None:
        self.seen: list[InjectQ] = []

    def provide(self, container: InjectQ) -> Service:
        self.seen.append(container)
        return Service("provider")


class AsyncServiceProvider:
    async def provide(self, container: InjectQ) -> Service:
        return Service("async provider")


class Nothing:
    pass


def test_service_key_is_a_class_or_a_string() -> None:
    """``ServiceKey`` is ``type | str``; ``BindingDict`` maps them; ``ServiceFactory`` is
    a callable returning anything."""
    assert typing.get_args(ServiceKey) == (type[Any], str)
    assert typing.get_args(BindingDict) == (ServiceKey, Any)
    assert ServiceFactory == Callable[..., Any]


@pytest.mark.parametrize(
    ("protocol", "matching"),
    [
        (Provider, ServiceProvider()),
        (AsyncProvider, AsyncServiceProvider()),
        (Factory, lambda container: Service()),
        (AsyncFactory, lambda container: Service()),
        (ResourceProvider, lambda: None),
        (AsyncResourceProvider, lambda: None),
    ],
)
def test_protocols_match_objects_with_their_method(protocol: Any, matching: object) -> None:
    """A provider has ``provide``, a factory or resource provider is callable: that is
    what ``isinstance`` checks (it never reads signatures); an object without is none."""
    assert isinstance(matching, protocol)
    assert not isinstance(Nothing(), protocol)


def test_resolvable_configurable_and_scope_aware() -> None:
    """``Resolvable`` needs ``__injectq_resolve__``, ``Configurable`` needs ``configure``,
    ``ScopeAware`` both ``enter_scope`` and ``exit_scope``."""

    class Custom:
        @classmethod
        def __injectq_resolve__(cls, container: InjectQ) -> Custom:
            return cls()

    class Settings:
        def configure(self, **kwargs: object) -> None:
            self.values = kwargs

    class Tracker:
        def enter_scope(self, scope_name: str) -> None: ...

        def exit_scope(self, scope_name: str) -> None: ...

    class HalfTracker:
        def enter_scope(self, scope_name: str) -> None: ...

    assert isinstance(Custom(), Resolvable) and not isinstance(Nothing(), Resolvable)
    assert isinstance(Settings(), Configurable) and not isinstance(Nothing(), Configurable)
    assert isinstance(Tracker(), ScopeAware) and not isinstance(HalfTracker(), ScopeAware)


def test_every_object_is_injectable() -> None:
    """``Injectable`` states an intent: any object satisfies it."""
    assert isinstance(Service(), Injectable) and isinstance(Nothing(), Injectable)


def test_injectable_function_is_for_annotations_only() -> None:
    """``InjectableFunction`` is not runtime-checkable: ``isinstance`` refuses it."""
    with pytest.raises(TypeError):
        isinstance(print, InjectableFunction)


def test_provider_provide_binds_as_a_factory() -> None:
    """Bound as a factory, a provider's ``provide`` receives the resolving container."""
    provider = ServiceProvider()
    c = InjectQ()
    c.bind_factory(Service, provider.provide).singleton()
    assert c.get(Service).source == "provider"
    assert provider.seen == [c]


async def test_async_provider_provide_binds_as_an_async_factory() -> None:
    """An async provider's ``provide`` binds as an async factory, awaited by ``aget``."""
    c = InjectQ()
    c.bind_factory(Service, AsyncServiceProvider().provide)
    assert (await c.aget(Service)).source == "async provider"


def test_context_manager_functions_are_resource_providers() -> None:
    """A ``@contextmanager`` function is a ResourceProvider, an ``@asynccontextmanager``
    one an AsyncResourceProvider."""

    @contextmanager
    def sync_res() -> Iterator[Service]:
        yield Service()

    @asynccontextmanager
    async def async_res() -> AsyncIterator[Service]:
        yield Service()

    assert isinstance(sync_res, ResourceProvider)
    assert isinstance(async_res, AsyncResourceProvider)
    with sync_res() as service:
        assert isinstance(service, Service)
    assert isinstance(sync_res(), AbstractContextManager)


# -- Scope ----------------------------------------------------------------------------------


class MemoScope(Scope):
    def __init__(self) -> None:
        super().__init__("memo")
        self.instances: dict[Any, Any] = {}

    def get(self, key: Any, factory: Callable[[], Any]) -> Any:
        if key not in self.instances:
            self.instances[key] = factory()
        return self.instances[key]

    async def aget(self, key: Any, factory: Callable[[], Any]) -> Any:
        return self.get(key, factory)

    def clear(self) -> None:
        self.instances.clear()


def test_scope_is_abstract() -> None:
    """``Scope`` itself cannot be made: ``get``, ``aget`` and ``clear`` are abstract."""
    with pytest.raises(TypeError, match="abstract"):
        Scope("x")


def test_scope_subclass_has_name_and_hooks() -> None:
    """A subclass gets ``name`` and ``thread_safe``; ``enter`` and ``exit`` are optional
    hooks that do nothing unless overridden."""
    scope = MemoScope()
    assert (scope.name, scope.thread_safe) == ("memo", True)
    scope.enter()
    scope.exit()
    assert scope.get("k", object) is scope.get("k", object)


def test_scope_constants_are_scope_types() -> None:
    """``Scope.REQUEST`` and its siblings are the ``ScopeType`` members."""
    assert [Scope.SINGLETON, Scope.TRANSIENT, Scope.REQUEST, Scope.ACTION] == list(ScopeType)


def test_bind_with_a_scope_constant() -> None:
    """``bind(X, scope=Scope.REQUEST)`` binds X to the request scope."""
    c = InjectQ()
    c.bind(Service, scope=Scope.REQUEST)
    with c.scope("request"):
        first = c.get(Service)
        assert c.get(Service) is first
    with pytest.raises(ScopeError):
        c.get(Service)
    c.bind(Nothing, scope=Scope.TRANSIENT)
    assert c.get(Nothing) is not c.get(Nothing)
