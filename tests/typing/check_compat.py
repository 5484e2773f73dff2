# pyright: strict
"""Typing checks of InjectQ 0.5.0's compat names, run by ``mypy --strict`` and pyright
strict (tests/test_typing.py); not collected by pytest.

``@resource`` keeps what it decorates; the managed-resource context managers yield the
resource's type (an async factory's result, not its coroutine); user classes satisfy
the protocols they implement; the old import paths have the same types as ``injectq``'s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import assert_type

from injectq import InjectQ, ScopeType
from injectq.core import Scope
from injectq.decorators import (
    async_managed_resource,
    get_resource_manager,
    inject,
    managed_resource,
    resource,
)
from injectq.decorators.inject import Inject
from injectq.decorators.resource import ResourceError, ResourceManager
from injectq.decorators.singleton import singleton
from injectq.utils import (
    AnyProvider,
    AsyncFactory,
    AsyncProvider,
    AsyncResourceProvider,
    BindingDict,
    Factory,
    Provider,
    ResourceProvider,
    ServiceFactory,
    ServiceKey,
    logger,
)


class Conn:
    def close(self) -> None: ...


@resource
def open_conn() -> Iterator[Conn]:
    yield Conn()


@resource("request")
async def open_client(url: str) -> AsyncIterator[Conn]:
    yield Conn()


@resource()
def make_conn() -> Conn:
    return Conn()


assert_type(open_conn, Callable[[], Iterator[Conn]])
assert_type(make_conn(), Conn)
assert_type(open_client("x"), AsyncIterator[Conn])


def use_managed() -> None:
    with managed_resource(Conn, Conn.close) as conn:
        assert_type(conn, Conn)


async def connect() -> Conn:
    return Conn()


async def disconnect(conn: Conn) -> None: ...


async def use_async_managed() -> None:
    async with async_managed_resource(connect, disconnect) as conn:
        assert_type(conn, Conn)
    async with async_managed_resource(Conn) as plain:
        assert_type(plain, Conn)


assert_type(get_resource_manager(), ResourceManager)
assert_type(ResourceError("x"), ResourceError)
assert_type(logger, logging.Logger)
assert_type(Scope.REQUEST, ScopeType)


class ConnProvider:
    def provide(self, container: InjectQ) -> Conn:
        return Conn()


class AsyncConnProvider:
    async def provide(self, container: InjectQ) -> Conn:
        return Conn()


def conn_factory(container: InjectQ) -> Conn:
    return Conn()


async def aconn_factory(container: InjectQ) -> Conn:
    return Conn()


@contextmanager
def conn_resource() -> Generator[Conn, None, None]:
    yield Conn()


@asynccontextmanager
async def aconn_resource() -> AsyncGenerator[Conn, None]:
    yield Conn()


provider: Provider[Conn] = ConnProvider()
aprovider: AsyncProvider[Conn] = AsyncConnProvider()
either: AnyProvider[Conn] = AsyncConnProvider()
factory: Factory[Conn] = conn_factory
afactory: AsyncFactory[Conn] = aconn_factory
res: ResourceProvider[Conn] = conn_resource
ares: AsyncResourceProvider[Conn] = aconn_resource
assert_type(provider.provide(InjectQ()), Conn)

key: ServiceKey = Conn
name_key: ServiceKey = "db_url"
bindings: BindingDict = {Conn: Conn(), "db_url": "sqlite://"}
make: ServiceFactory = Conn


@singleton
class Repo:
    pass


@inject
def handler(repo: Repo) -> Repo:
    return repo


assert_type(handler(Repo()), Repo)
marker: object = Inject  # the old path names the same marker
