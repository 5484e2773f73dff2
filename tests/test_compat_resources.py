"""InjectQ 0.5.0's resources: ``@resource`` factories bound in a Module are closed by
their owner (the container for a singleton, the scope for a scoped one) in both
containers; the resource manager opens and closes them by hand with the same finalizer
rules; ``managed_resource`` and ``async_managed_resource`` are context managers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from injectq import BindingError, InjectQ, ResourceCleanupError
from injectq.decorators import (
    async_managed_resource,
    get_resource_manager,
    managed_resource,
    resource,
)
from injectq.decorators.resource import (
    AsyncResourceLifecycle,
    ResourceError,
    ResourceManager,
    SyncResourceLifecycle,
)
from tests.codegen_support import build_wiring, make_project

# -- bound in a Module: both containers ----------------------------------------------------

FILES = {
    "resapp/__init__.py": "",
    "resapp/mods.py": """
        from __future__ import annotations

        from collections.abc import AsyncIterator, Iterator

        from injectq import Module, ProviderModule, provider
        from injectq.decorators import resource

        EVENTS: list[str] = []


        class Pool:
            pass


        class Session:
            def __init__(self, pool: Pool) -> None:
                self.pool = pool


        class Cursor:
            def __init__(self, session: Session) -> None:
                self.session = session


        class Client:
            pass


        class Flaky:
            pass


        @resource
        def open_pool() -> Iterator[Pool]:
            EVENTS.append("open pool")
            yield Pool()
            EVENTS.append("close pool")


        @resource(scope="request")
        def open_session(pool: Pool) -> Iterator[Session]:
            EVENTS.append("open session")
            yield Session(pool)
            EVENTS.append("close session")


        @resource("request")
        def open_cursor(session: Session) -> Iterator[Cursor]:
            EVENTS.append("open cursor")
            yield Cursor(session)
            EVENTS.append("close cursor")


        @resource()
        async def open_client() -> AsyncIterator[Client]:
            EVENTS.append("open client")
            yield Client()
            EVENTS.append("close client")


        @resource
        def open_flaky(pool: Pool) -> Iterator[Flaky]:
            EVENTS.append("open flaky")
            yield Flaky()
            EVENTS.append("close flaky")
            raise RuntimeError("flaky failed to close")


        class Mod(Module):
            def configure(self) -> None:
                self.bind_factory(Pool, open_pool).singleton()
                self.bind_factory(Session, open_session).scoped("request")
                self.bind_factory(Cursor, open_cursor).scoped("request")


        class AsyncMod(Module):
            def configure(self) -> None:
                self.bind_factory(Pool, open_pool).singleton()
                self.bind_factory(Client, open_client).singleton()


        class FlakyMod(Module):
            def configure(self) -> None:
                self.bind_factory(Pool, open_pool).singleton()
                self.bind_factory(Flaky, open_flaky).singleton()


        class Providers(ProviderModule):
            @provider(scope="singleton")
            @resource
            def pool(self) -> Iterator[Pool]:
                EVENTS.append("open pool")
                yield Pool()
                EVENTS.append("close pool")

            @provider(scope="request")
            @resource("request")
            def session(self, pool: Pool) -> Iterator[Session]:
                EVENTS.append("open session")
                yield Session(pool)
                EVENTS.append("close session")
    """,
}


def _runtime(module: str) -> Any:
    import resapp.mods as mods

    c = InjectQ()
    c.install(getattr(mods, module)())
    return c


def _generated(module: str) -> Any:
    return build_wiring([f"resapp.mods:{module}"]).container


@pytest.fixture(params=["runtime", "generated"])
def make(request: pytest.FixtureRequest, codegen_env: Path) -> Callable[[str], Any]:
    make_project(codegen_env, FILES)
    return _runtime if request.param == "runtime" else _generated


def _events() -> list[str]:
    import resapp.mods as mods

    return mods.EVENTS


def test_singleton_resource_closes_with_its_container(make: Callable[[str], Any]) -> None:
    """A @resource bound as a singleton opens once and closes when the container closes."""
    import resapp.mods as mods

    c = make("Mod")
    assert c.get(mods.Pool) is c.get(mods.Pool)
    assert _events() == ["open pool"]
    c.close()
    assert _events() == ["open pool", "close pool"]


def test_scoped_resources_close_with_their_scope_newest_first(
    make: Callable[[str], Any],
) -> None:
    """Scoped @resource factories close when their scope does, in reverse creation order;
    the singleton they use outlives the scope and closes with the container."""
    import resapp.mods as mods

    c = make("Mod")
    with c.scope("request"):
        cursor = c.get(mods.Cursor)
        assert cursor.session is c.get(mods.Session)
    assert _events() == [
        "open pool", "open session", "open cursor", "close cursor", "close session",
    ]
    c.close()
    assert _events()[-1] == "close pool"


def test_each_scope_opens_and_closes_its_own_resource(make: Callable[[str], Any]) -> None:
    """Two scopes opened one after the other each get, and close, their own session."""
    import resapp.mods as mods

    c = make("Mod")
    with c.scope("request"):
        first = c.get(mods.Session)
    with c.scope("request"):
        second = c.get(mods.Session)
    assert first is not second
    assert _events().count("close session") == 2
    c.close()


def test_failing_close_does_not_stop_the_others(make: Callable[[str], Any]) -> None:
    """A resource failing to close is raised when the container closes, after every other
    resource closed; the error is a ResourceError, 0.5.0's name for resource failures."""
    import resapp.mods as mods

    c = make("FlakyMod")
    c.get(mods.Flaky)
    with pytest.raises(ResourceCleanupError) as info:
        c.close()
    assert isinstance(info.value, ResourceError)
    assert [str(e) for e in info.value.exceptions] == ["flaky failed to close"]
    assert _events() == ["open pool", "open flaky", "close flaky", "close pool"]


async def test_async_resource_closes_with_aclose(make: Callable[[str], Any]) -> None:
    """An async generator @resource is awaited open by aget and closed by aclose, after
    which the sync singleton closes too."""
    import resapp.mods as mods

    c = make("AsyncMod")
    c.get(mods.Pool)
    client = await c.aget(mods.Client)
    assert isinstance(client, mods.Client)
    await c.aclose()
    assert _events() == ["open pool", "open client", "close client", "close pool"]


def test_provider_module_resources_close_with_their_owner(make: Callable[[str], Any]) -> None:
    """@provider methods that are @resource generators are closed by their owner: the
    scope for the request one, the container for the singleton."""
    import resapp.mods as mods

    c = make("Providers")
    with c.scope("request"):
        session = c.get(mods.Session)
        assert session.pool is c.get(mods.Pool)
    assert _events() == ["open pool", "open session", "close session"]
    c.close()
    assert _events()[-1] == "close pool"


# -- @resource ------------------------------------------------------------------------------


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def test_resource_returns_the_function_itself() -> None:
    """@resource, @resource() and @resource("request") give back the function they
    decorate, so calling it directly does what it did."""

    def plain() -> int:
        return 1

    def gen() -> Iterator[int]:
        yield 2

    assert resource(plain) is plain
    assert resource()(gen) is gen
    assert resource("request")(plain) is plain
    assert plain() == 1
    assert list(gen()) == [2]


def test_resource_registers_in_the_global_manager() -> None:
    """A decorated function is known to get_resource_manager() by its module and
    qualified name; opening it there runs it, closing it runs the code after yield."""
    log: list[str] = []

    @resource
    def connection() -> Iterator[str]:
        log.append("open")
        yield "conn"
        log.append("close")

    manager = get_resource_manager()
    name = _name(connection)
    assert isinstance(manager.get_resource(name), SyncResourceLifecycle)
    assert manager.initialize_resource(name) == "conn"
    manager.shutdown_resource(name)
    assert log == ["open", "close"]


def test_async_resource_registers_an_async_lifecycle() -> None:
    """An async generator or coroutine function is registered as an async resource."""

    @resource()
    async def client() -> AsyncIterator[int]:
        yield 1

    @resource()
    async def token() -> int:
        return 2

    manager = get_resource_manager()
    assert isinstance(manager.get_resource(_name(client)), AsyncResourceLifecycle)
    assert isinstance(manager.get_resource(_name(token)), AsyncResourceLifecycle)


def test_resource_scope_that_is_no_string_is_refused() -> None:
    """A scope that is not a name is a BindingError at the decorator's line."""
    with pytest.raises(BindingError, match=r"@resource\(\).*scope"):
        resource(42)


def test_resource_of_a_non_callable_is_refused() -> None:
    """@resource decorates a function or a class: anything else is a BindingError."""
    with pytest.raises(BindingError, match="decorates a function or a class"):
        resource()(42)


# -- the resource manager -------------------------------------------------------------------


def _manager(**factories: Callable[..., Any]) -> ResourceManager:
    """A manager of its own (the global one is shared by the whole process)."""
    manager = ResourceManager()
    for name, fn in factories.items():
        cls = AsyncResourceLifecycle if name.startswith("a_") else SyncResourceLifecycle
        manager.register_resource(name, cls(fn))
    return manager


def _tracked(log: list[str], name: str, fail: bool = False) -> Callable[[], Iterator[str]]:
    def factory() -> Iterator[str]:
        log.append(f"open {name}")
        yield name
        log.append(f"close {name}")
        if fail:
            raise RuntimeError(f"{name} failed to close")

    return factory


def _atracked(log: list[str], name: str) -> Callable[[], AsyncIterator[str]]:
    async def factory() -> AsyncIterator[str]:
        log.append(f"open {name}")
        yield name
        log.append(f"close {name}")

    return factory


def test_manager_opens_a_resource_once() -> None:
    """initialize_resource returns what the generator yields; asked again, the same object;
    shutdown_resource runs the code after the yield and marks it closed."""
    log: list[str] = []

    def factory() -> Iterator[list[str]]:
        log.append("open")
        yield log
        log.append("close")

    manager = _manager(res=factory)
    first = manager.initialize_resource("res")
    assert manager.initialize_resource("res") is first
    lifecycle = manager.get_resource("res")
    assert lifecycle is not None and lifecycle.initialized and lifecycle.resource is first
    manager.shutdown_resource("res")
    assert log == ["open", "close"]
    assert not lifecycle.initialized


def test_manager_passes_arguments_to_the_function() -> None:
    """Arguments of initialize_resource are the resource function's."""

    def factory(host: str, port: int = 0) -> Iterator[str]:
        yield f"{host}:{port}"

    assert _manager(res=factory).initialize_resource("res", "db", port=5432) == "db:5432"


def test_manager_enters_a_returned_context_manager() -> None:
    """A function returning a context manager: entered on open, exited on close."""
    log: list[str] = []

    @contextmanager
    def connect() -> Iterator[str]:
        log.append("enter")
        yield "conn"
        log.append("exit")

    manager = _manager(res=lambda: connect())
    assert manager.initialize_resource("res") == "conn"
    manager.shutdown_resource("res")
    assert log == ["enter", "exit"]


def test_manager_returns_a_plain_value_with_nothing_to_close() -> None:
    """A function returning a plain value: that value, and closing it is a no-op."""
    value = object()
    manager = _manager(res=lambda: value)
    assert manager.initialize_resource("res") is value
    manager.shutdown_resource("res")
    assert not manager.get_resource("res").initialized


def test_manager_does_not_enter_a_returned_class() -> None:
    """A function returning a context manager class (not an instance) gives the class:
    as ``with`` does, only an instance's type is asked for ``__enter__``."""

    class Connection:
        def __enter__(self) -> Connection:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    assert _manager(res=lambda: Connection).initialize_resource("res") is Connection


async def test_manager_opens_and_closes_async_resources() -> None:
    """Async generators, and async functions returning an async context manager, are
    opened by initialize_async_resource and closed by shutdown_async_resource."""
    log: list[str] = []

    @asynccontextmanager
    async def session() -> AsyncIterator[str]:
        log.append("enter session")
        yield "session"
        log.append("exit session")

    async def make_session() -> Any:
        return session()

    manager = _manager(a_client=_atracked(log, "client"), a_session=make_session)
    assert await manager.initialize_async_resource("a_client") == "client"
    assert await manager.initialize_async_resource("a_session") == "session"
    await manager.shutdown_async_resource("a_session")
    await manager.shutdown_async_resource("a_client")
    assert log == ["open client", "enter session", "exit session", "close client"]


async def test_initialize_async_resource_also_opens_sync_ones() -> None:
    """initialize_async_resource opens a sync resource too."""
    log: list[str] = []
    manager = _manager(res=_tracked(log, "pool"))
    assert await manager.initialize_async_resource("res") == "pool"
    await manager.shutdown_async_resource("res")
    assert log == ["open pool", "close pool"]


def test_sync_calls_on_an_async_resource_say_what_to_await() -> None:
    """Opening or closing an async resource synchronously is a ResourceError naming the
    async call to use."""
    manager = _manager(a_client=_atracked([], "client"))
    with pytest.raises(ResourceError, match=r"await get_resource_manager\(\)\.initialize_async"):
        manager.initialize_resource("a_client")
    lifecycle = manager.get_resource("a_client")
    assert lifecycle is not None
    with pytest.raises(ResourceError, match="shutdown_async"):
        lifecycle.shutdown()


def test_unknown_resource_name_is_a_resource_error() -> None:
    """A name no resource is registered under is a ResourceError saying what names are."""
    with pytest.raises(ResourceError) as info:
        _manager().initialize_resource("nope")
    assert str(info.value) == (
        "no resource is registered as 'nope': a resource's name is the module and qualified "
        "name of the function decorated with @resource(), e.g. 'app.db.open_connection'"
    )


def test_failing_open_is_a_resource_error_chained_to_the_cause() -> None:
    """A resource function that raises gives a ResourceError naming the resource, its
    cause chained; the resource stays closed."""

    def factory() -> Iterator[int]:
        raise ConnectionError("db down")
        yield 1  # pragma: no cover

    manager = _manager(res=factory)
    with pytest.raises(ResourceError, match="failed to open: ConnectionError") as info:
        manager.initialize_resource("res")
    assert isinstance(info.value.__cause__, ConnectionError)
    assert not manager.get_resource("res").initialized


def test_generator_that_does_not_yield_is_a_resource_error() -> None:
    """A generator returning before its yield is reported as such."""

    def factory() -> Iterator[int]:
        return
        yield 1  # pragma: no cover

    with pytest.raises(ResourceError, match="returned without yielding"):
        _manager(res=factory).initialize_resource("res")


def test_resource_of_a_closed_lifecycle_is_a_resource_error() -> None:
    """Reading .resource before it is open tells how to open it."""
    lifecycle = SyncResourceLifecycle(_tracked([], "pool"))
    with pytest.raises(ResourceError, match="is not open: open it first"):
        _ = lifecycle.resource


def test_shutdown_all_closes_newest_first_and_every_one() -> None:
    """shutdown_all closes the open sync resources in reverse opening order; one failing
    to close does not stop the others, and the failures are raised together."""
    log: list[str] = []
    manager = _manager(
        pool=_tracked(log, "pool"), flaky=_tracked(log, "flaky", fail=True),
        cache=_tracked(log, "cache"), unused=_tracked(log, "unused"),
    )
    for name in ("cache", "pool", "flaky"):
        manager.initialize_resource(name)
    with pytest.raises(ResourceCleanupError) as info:
        manager.shutdown_all()
    assert [str(e) for e in info.value.exceptions] == ["flaky failed to close"]
    assert log == ["open cache", "open pool", "open flaky",
                   "close flaky", "close pool", "close cache"]
    assert not any(manager.get_resource(n).initialized for n in ("pool", "flaky", "cache"))
    manager.shutdown_all()  # nothing is open any more


async def test_shutdown_all_leaves_async_ones_to_shutdown_all_async() -> None:
    """shutdown_all closes sync resources only; shutdown_all_async closes the rest, sync
    and async together, newest first."""
    log: list[str] = []
    manager = _manager(pool=_tracked(log, "pool"), a_client=_atracked(log, "client"),
                       cache=_tracked(log, "cache"))
    manager.initialize_resource("pool")
    await manager.initialize_async_resource("a_client")
    manager.shutdown_all()
    assert log[-1] == "close pool"
    manager.initialize_resource("cache")
    await manager.shutdown_all_async()
    assert log == ["open pool", "open client", "close pool", "open cache",
                   "close cache", "close client"]


def test_manager_logs_to_the_injectq_logger(caplog: pytest.LogCaptureFixture) -> None:
    """Opening and closing a resource are debug records of the ``injectq`` logger."""
    manager = _manager(res=_tracked([], "pool"))
    with caplog.at_level(logging.DEBUG, logger="injectq"):
        manager.initialize_resource("res")
        manager.shutdown_resource("res")
    messages = [r.getMessage() for r in caplog.records if r.name == "injectq"]
    assert any("opened" in m for m in messages) and any("closed" in m for m in messages)


# -- managed_resource / async_managed_resource ------------------------------------------------


def test_managed_resource_cleans_up_on_exit_and_on_error() -> None:
    """managed_resource calls the factory on entry and the cleanup with the resource on
    exit, also when the block raises."""
    closed: list[list[int]] = []
    with managed_resource(lambda: [1], closed.append) as value:
        assert value == [1]
    assert closed == [[1]]
    with pytest.raises(KeyError), managed_resource(lambda: [2], closed.append):
        raise KeyError("boom")
    assert closed == [[1], [2]]


def test_managed_resource_without_cleanup() -> None:
    """Without a cleanup, managed_resource only makes the resource."""
    with managed_resource(lambda: "x") as value:
        assert value == "x"


async def test_async_managed_resource_awaits_async_factory_and_cleanup() -> None:
    """async_managed_resource awaits an async factory and an async cleanup."""
    log: list[str] = []

    async def connect() -> str:
        log.append("connect")
        return "conn"

    async def disconnect(conn: str) -> None:
        log.append(f"disconnect {conn}")

    async with async_managed_resource(connect, disconnect) as conn:
        assert conn == "conn"
    assert log == ["connect", "disconnect conn"]


async def test_async_managed_resource_takes_sync_functions_too() -> None:
    """Sync factory and cleanup work as well, and the cleanup runs when the block raises."""
    closed: list[str] = []
    with pytest.raises(ValueError, match="inside"):
        async with async_managed_resource(lambda: "conn", closed.append) as conn:
            assert conn == "conn"
            raise ValueError("inside")
    assert closed == ["conn"]


def test_bind_factory_takes_the_scope_a_resource_was_declared_with() -> None:
    """``@resource("request")`` (or the default singleton) bound with a plain
    ``bind_factory`` lives as declared; a scope given to the binding wins."""

    from injectq import InjectQ, resource

    class Conn:
        pass

    class Pool:
        pass

    class Temp:
        pass

    @resource("request")
    def open_conn() -> Iterator[Conn]:
        yield Conn()

    @resource
    def open_pool() -> Iterator[Pool]:
        yield Pool()

    @resource("request")
    def open_temp() -> Iterator[Temp]:
        yield Temp()

    c = InjectQ()
    c.bind_factory(Conn, open_conn)
    c.bind_factory(Pool, open_pool)
    c.bind_factory(Temp, open_temp, scope="transient")
    with c.scope("request"):
        conn = c.get(Conn)
        assert c.get(Conn) is conn
        assert c.get(Temp) is not c.get(Temp)
    with c.scope("request"):
        assert c.get(Conn) is not conn
    assert c.get(Pool) is c.get(Pool)
    c.close()
