"""Async resolution: async factories, async generators, awaitable instances, ``aget``/``get``.

Everything runs on the real event loop pytest-asyncio gives each test; nothing is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from injectq import AsyncResolutionError, InjectQ, InjectQError


class Config:
    def __init__(self, url: str = "db://") -> None:
        self.url = url


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    """A sync class whose dependency needs an await."""

    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


async def make_database(config: Config) -> Database:
    await asyncio.sleep(0)
    return Database(config)


# -- async factories -------------------------------------------------------------------


async def test_async_factory_resolves_through_aget() -> None:
    """An async factory is awaited by ``aget`` and its parameters are injected."""
    c = InjectQ()
    c.bind_factory(Database, make_database)
    db = await c.aget(Database)
    assert isinstance(db, Database)
    assert isinstance(db.config, Config)


async def test_async_transient_factory_gives_new_instance_each_time() -> None:
    """A transient async factory runs once per ``aget``."""
    c = InjectQ()
    c.bind_factory(Database, make_database)
    assert await c.aget(Database) is not await c.aget(Database)


async def test_async_singleton_factory_is_created_once() -> None:
    """A singleton async factory runs once; later ``aget`` calls return that instance."""
    calls = []

    async def factory() -> Database:
        calls.append(1)
        return Database(Config())

    c = InjectQ()
    c.bind_factory(Database, factory).singleton()
    first = await c.aget(Database)
    assert await c.aget(Database) is first
    assert calls == [1]


async def test_async_generator_factory_resolves_through_aget() -> None:
    """An async-generator factory gives ``aget`` the instance it yields."""
    c = InjectQ()
    seen: list[Database] = []

    async def resource(config: Config) -> AsyncIterator[Database]:
        db = Database(config)
        seen.append(db)
        yield db

    c.bind_factory(Database, resource).singleton()
    db = await c.aget(Database)
    assert seen == [db]
    await c.aclose()


async def test_async_named_binding_resolves_through_aget() -> None:
    """``aget(K, name=...)`` awaits the named async binding, distinct from the unnamed one."""
    c = InjectQ()

    async def primary() -> Config:
        return Config("primary")

    async def replica() -> Config:
        return Config("replica")

    c.bind_factory(Config, primary).singleton()
    c.bind_factory(Config, replica, name="replica").singleton()
    assert (await c.aget(Config)).url == "primary"
    assert (await c.aget(Config, name="replica")).url == "replica"


async def test_aget_of_a_sync_binding_returns_it() -> None:
    """``aget`` also resolves plain sync bindings, giving the same singleton as ``get``."""
    c = InjectQ()
    c.bind(Config, Config).singleton()
    assert await c.aget(Config) is c.get(Config)


# -- awaitable instances ---------------------------------------------------------------


async def test_awaitable_instance_is_awaited_once_and_becomes_the_singleton() -> None:
    """``bind(K, coroutine)`` awaits the coroutine on the first ``aget``; its result is the singleton."""
    runs = []

    async def connect() -> Database:
        runs.append(1)
        await asyncio.sleep(0)
        return Database(Config("awaited"))

    c = InjectQ()
    c.bind(Database, connect())
    first = await c.aget(Database)
    assert isinstance(first, Database)
    assert first.config.url == "awaited"
    assert await c.aget(Database) is first
    assert c.get(Database) is first
    assert runs == [1]


async def test_awaitable_instance_concurrent_first_agets_share_one_await() -> None:
    """Many concurrent first ``aget`` calls on an awaitable binding all get its one result."""
    runs = []

    async def connect() -> Database:
        runs.append(1)
        await asyncio.sleep(0.01)
        return Database(Config())

    c = InjectQ()
    c.bind(Database, connect())
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(Database) for _ in range(50))), 5)
    assert len({id(r) for r in results}) == 1
    assert runs == [1]


async def test_awaitable_instance_as_dependency_of_sync_class() -> None:
    """A class that depends on an awaitable binding gets the awaited value."""

    async def connect() -> Database:
        return Database(Config())

    c = InjectQ()
    c.bind(Database, connect())
    repo = await c.aget(Repo)
    assert repo.db is await c.aget(Database)


def test_get_of_unawaited_awaitable_instance_raises() -> None:
    """``get`` on an awaitable binding not yet awaited raises ``AsyncResolutionError``."""

    async def connect() -> Database:
        return Database(Config())

    c = InjectQ()
    c.bind(Database, connect())
    with pytest.raises(AsyncResolutionError, match="aget"):
        c.get(Database)
    c.close()  # closes the never-awaited coroutine: no "never awaited" warning


# -- get on async paths ----------------------------------------------------------------


def test_get_of_async_factory_raises_async_resolution_error() -> None:
    """``get`` on an async factory raises ``AsyncResolutionError`` telling to use ``aget``."""
    c = InjectQ()
    c.bind_factory(Database, make_database)
    with pytest.raises(AsyncResolutionError) as info:
        c.get(Database)
    assert isinstance(info.value, InjectQError)
    assert "aget" in str(info.value)
    assert info.value.code == "IQ005"


def test_get_of_async_singleton_raises_and_caches_nothing() -> None:
    """``get`` on an uncreated async singleton raises, and the factory never ran."""
    calls = []

    async def factory() -> Database:
        calls.append(1)
        return Database(Config())

    c = InjectQ()
    c.bind_factory(Database, factory).singleton()
    with pytest.raises(AsyncResolutionError, match="aget"):
        c.get(Database)
    assert calls == []


def test_get_of_async_generator_raises() -> None:
    """``get`` on an async-generator factory raises ``AsyncResolutionError``."""

    async def resource() -> AsyncIterator[Database]:
        yield Database(Config())

    c = InjectQ()
    c.bind_factory(Database, resource).singleton()
    with pytest.raises(AsyncResolutionError, match="aget"):
        c.get(Database)


def test_get_of_sync_class_on_async_path_raises_naming_the_async_step() -> None:
    """``get`` of a sync class that transitively needs an async factory raises, naming it."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    with pytest.raises(AsyncResolutionError) as info:
        c.get(Service)
    text = str(info.value)
    assert "aget" in text
    assert "Database" in text
    assert "Service" in text


def test_async_resolution_error_is_raised_by_try_get() -> None:
    """``try_get`` does not swallow ``AsyncResolutionError``: the key is bound, just async."""
    c = InjectQ()
    c.bind_factory(Database, make_database)
    with pytest.raises(AsyncResolutionError):
        c.try_get(Database)


async def test_get_inside_running_loop_still_raises() -> None:
    """``get`` of an async binding raises even when called from inside a running event loop."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    with pytest.raises(AsyncResolutionError, match="aget"):
        c.get(Database)
    # and the singleton can still be created afterwards
    assert isinstance(await c.aget(Database), Database)


# -- sync classes over async bindings --------------------------------------------------


async def test_sync_class_depending_on_async_binding_resolves_via_aget() -> None:
    """A sync class whose dependency is an async factory is built by ``aget``."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    c.bind(Repo, Repo).transient()
    repo = await c.aget(Repo)
    assert isinstance(repo, Repo)
    assert repo.db is await c.aget(Database)


async def test_autowired_chain_over_async_binding_resolves_via_aget() -> None:
    """An unbound class two hops above an async binding is auto-wired through ``aget``."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    svc = await c.aget(Service)
    assert svc.repo.db is await c.aget(Database)


async def test_sync_singleton_over_async_binding_is_cached() -> None:
    """A sync singleton created by ``aget`` over an async dependency is created once."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    c.bind(Repo, Repo).singleton()
    first = await c.aget(Repo)
    assert await c.aget(Repo) is first
    assert c.get(Repo) is first


# -- singleton cache shared by get and aget --------------------------------------------


async def test_get_after_aget_returns_the_same_singleton() -> None:
    """Once ``aget`` created an async singleton, ``get`` returns that same instance."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    created = await c.aget(Database)
    assert c.get(Database) is created
    assert c[Database] is created


async def test_regression_aget_does_not_bypass_singleton_cache() -> None:
    """Regression (InjectQ 0.5.0): ``aget`` twice and ``get`` give one singleton instance."""
    calls = []

    class Cache:
        def __init__(self) -> None:
            calls.append(1)

    c = InjectQ()
    c.bind(Cache, Cache).singleton()
    a = await c.aget(Cache)
    b = await c.aget(Cache)
    assert a is b
    assert c.get(Cache) is a
    assert calls == [1]


async def test_regression_get_then_aget_share_singleton() -> None:
    """Regression (InjectQ 0.5.0): a singleton created by ``get`` is what ``aget`` returns."""
    c = InjectQ()
    c.bind(Config, Config).singleton()
    created = c.get(Config)
    assert await c.aget(Config) is created
    assert await c.aget(Config) is created


async def test_regression_aget_singleton_cache_with_async_factory() -> None:
    """Regression (InjectQ 0.5.0): an async singleton factory runs once across aget/aget/get."""
    calls = []

    async def factory() -> Database:
        calls.append(1)
        return Database(Config())

    c = InjectQ()
    c.bind_factory(Database, factory).singleton()
    a = await c.aget(Database)
    b = await c.aget(Database)
    assert a is b is c.get(Database)
    assert calls == [1]


async def test_singleton_shared_between_event_loops_in_threads() -> None:
    """An async singleton created on one loop is the one another thread's loop ``aget``s."""
    import threading

    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    created = await c.aget(Database)
    out: list[Database] = []

    def other() -> None:
        out.append(asyncio.run(c.aget(Database)))

    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert not t.is_alive()
    assert out == [created]


# -- warm / awarm -----------------------------------------------------------------------


def test_warm_creates_sync_singletons() -> None:
    """``warm()`` creates every sync singleton now, and ``get`` returns them afterwards."""
    calls = []

    class Cache:
        def __init__(self) -> None:
            calls.append(1)

    c = InjectQ()
    c.bind(Cache, Cache).singleton()
    c.bind(Config, Config).transient()
    c.warm()
    assert calls == [1]
    c.get(Cache)
    assert calls == [1]


def test_warm_raises_for_async_singletons() -> None:
    """``warm()`` raises ``AsyncResolutionError`` naming the async singleton and ``awarm``."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    with pytest.raises(AsyncResolutionError) as info:
        c.warm()
    text = str(info.value)
    assert "Database" in text
    assert "awarm" in text


def test_warm_still_creates_sync_singletons_when_an_async_one_blocks() -> None:
    """``warm()`` creates every sync singleton before reporting the async ones."""
    calls = []

    class Cache:
        def __init__(self) -> None:
            calls.append(1)

    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    c.bind(Cache, Cache).singleton()
    with pytest.raises(AsyncResolutionError):
        c.warm()
    assert calls == [1]


async def test_warm_after_awarm_does_not_raise() -> None:
    """Once ``awarm()`` created the async singletons, ``warm()`` has nothing left to await."""
    c = InjectQ()
    c.bind_factory(Database, make_database).singleton()
    await c.awarm()
    c.warm()


async def test_awarm_creates_async_singletons() -> None:
    """``awarm()`` awaits every singleton now; ``get`` then returns them without an await."""
    calls = []

    async def factory() -> Database:
        calls.append(1)
        return Database(Config())

    async def connect() -> Config:
        return Config("awaitable")

    c = InjectQ()
    c.bind_factory(Database, factory).singleton()
    c.bind(Config, connect(), name="cfg")
    c.bind(Repo, Repo).singleton()
    await c.awarm()
    assert calls == [1]
    db = c.get(Database)
    assert c.get(Repo).db is db
    assert c.get(Config, name="cfg").url == "awaitable"
    assert calls == [1]


async def test_awarm_does_not_create_transients_or_scoped() -> None:
    """``awarm()`` only creates singletons: transient and scoped factories do not run."""
    calls = []

    async def factory() -> Database:
        calls.append(1)
        return Database(Config())

    def config() -> Config:
        calls.append(2)
        return Config()

    c = InjectQ()
    c.bind_factory(Database, factory)
    c.bind_factory(Config, config).scoped("request")
    await c.awarm()
    assert calls == []


async def test_async_factory_resolving_its_own_key_raises_instead_of_hanging() -> None:
    """An async singleton factory that ``aget``s its own key raises a cycle error, no hang."""
    from injectq import CircularDependencyError

    c = InjectQ()

    async def factory() -> Database:
        return await c.aget(Database)

    c.bind_factory(Database, factory).singleton()
    with pytest.raises(CircularDependencyError, match="Database"):
        await asyncio.wait_for(c.aget(Database), 5)
    # nothing was cached and the key is not stuck "being created"
    with pytest.raises(CircularDependencyError):
        await asyncio.wait_for(c.aget(Database), 5)


async def test_async_scoped_factory_resolving_its_own_key_raises() -> None:
    """An async scoped factory that ``aget``s its own key raises a cycle error, no hang."""
    from injectq import CircularDependencyError

    c = InjectQ()

    async def factory() -> Database:
        return await c.aget(Database)

    c.bind_factory(Database, factory).scoped("request")
    async with c.scope():
        with pytest.raises(CircularDependencyError):
            await asyncio.wait_for(c.aget(Database), 5)


def test_get_of_async_scoped_binding_inside_scope_raises() -> None:
    """``get`` of an async scoped factory inside its open scope raises ``AsyncResolutionError``."""
    c = InjectQ()
    c.bind_factory(Database, make_database).scoped("request")
    with c.scope():
        with pytest.raises(AsyncResolutionError, match="aget"):
            c.get(Database)


async def test_get_after_aget_of_async_scoped_binding_returns_it() -> None:
    """Inside one scope, ``get`` after ``aget`` returns the scoped instance ``aget`` created."""
    c = InjectQ()
    c.bind_factory(Database, make_database).scoped("request")
    async with c.scope():
        created = await c.aget(Database)
        assert c.get(Database) is created
