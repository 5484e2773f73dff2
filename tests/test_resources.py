"""Resources: generator and async-generator factories, finalized by the scope or container
that owns them, newest first, every finalizer running even when some fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from injectq import InjectQ, InjectQError, ResourceCleanupError, ScopeError


class Conn:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


class Pool(Conn):
    pass


class Session(Conn):
    pass


class Cursor(Conn):
    pass


Log = list[str]


def sync_resource(cls: type[Conn], log: Log, fail: bool = False) -> Callable[[], Iterator[Conn]]:
    def factory() -> Iterator[Conn]:
        obj = cls(cls.__name__)
        log.append(f"open {cls.__name__}")
        yield obj
        obj.closed = True
        log.append(f"close {cls.__name__}")
        if fail:
            raise RuntimeError(f"{cls.__name__} failed to close")

    return factory


def async_resource(
    cls: type[Conn], log: Log, fail: bool = False
) -> Callable[[], AsyncIterator[Conn]]:
    async def factory() -> AsyncIterator[Conn]:
        obj = cls(cls.__name__)
        log.append(f"open {cls.__name__}")
        await asyncio.sleep(0)
        yield obj
        await asyncio.sleep(0)
        obj.closed = True
        log.append(f"close {cls.__name__}")
        if fail:
            raise RuntimeError(f"{cls.__name__} failed to close")

    return factory


# -- the yielded instance ----------------------------------------------------------------


def test_generator_factory_gives_the_yielded_instance() -> None:
    """``get`` of a generator factory returns what it yields; the finalizer has not run."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    pool = c.get(Pool)
    assert isinstance(pool, Pool)
    assert not pool.closed
    assert log == ["open Pool"]
    c.close()


def test_generator_factory_parameters_are_injected() -> None:
    """A generator factory's parameters are injected like any factory's."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()

    def session(pool: Pool) -> Iterator[Session]:
        s = Session("s")
        s.pool = pool  # type: ignore[attr-defined]
        yield s

    c.bind_factory(Session, session).singleton()
    assert c.get(Session).pool is c.get(Pool)  # type: ignore[attr-defined]
    c.close()


async def test_async_generator_factory_gives_the_yielded_instance() -> None:
    """``aget`` of an async-generator factory returns what it yields."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log)).singleton()
    pool = await c.aget(Pool)
    assert isinstance(pool, Pool)
    assert log == ["open Pool"]
    await c.aclose()


def test_generator_that_does_not_yield_raises() -> None:
    """A generator factory that returns without yielding raises an ``InjectQError``."""

    def empty() -> Iterator[Pool]:
        return
        yield  # pragma: no cover

    c = InjectQ()
    c.bind_factory(Pool, empty).singleton()
    with pytest.raises(InjectQError, match="without yielding"):
        c.get(Pool)


# -- container-owned: close / aclose / with / async with ---------------------------------


def test_close_runs_singleton_finalizers() -> None:
    """``close()`` runs the finalizer of every singleton resource."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    pool = c.get(Pool)
    c.close()
    assert pool.closed
    assert log == ["open Pool", "close Pool"]


def test_close_twice_runs_each_finalizer_once() -> None:
    """A second ``close()`` does not run finalizers again."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    c.get(Pool)
    c.close()
    c.close()
    assert log.count("close Pool") == 1


def test_close_without_resources_is_a_no_op() -> None:
    """``close()`` on a container that never created a resource does nothing."""
    c = InjectQ()
    c.close()


def test_uncreated_resource_is_not_finalized() -> None:
    """A resource never resolved is never opened, so ``close()`` does not run it."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    c.close()
    assert log == []


def test_with_container_closes_on_exit() -> None:
    """``with container:`` runs the finalizers when the block exits."""
    log: Log = []
    with InjectQ() as c:
        c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
        c.get(Pool)
        assert log == ["open Pool"]
    assert log == ["open Pool", "close Pool"]


def test_with_container_closes_when_the_block_raises() -> None:
    """``with container:`` still finalizes when its block raises; the error propagates."""
    log: Log = []
    with pytest.raises(ValueError, match="boom"):
        with InjectQ() as c:
            c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
            c.get(Pool)
            raise ValueError("boom")
    assert log == ["open Pool", "close Pool"]


async def test_aclose_runs_async_and_sync_finalizers() -> None:
    """``aclose()`` finalizes async-generator and generator resources alike."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log)).singleton()
    c.bind_factory(Session, sync_resource(Session, log)).singleton()
    pool = await c.aget(Pool)
    session = c.get(Session)
    await c.aclose()
    assert pool.closed and session.closed
    assert log == ["open Pool", "open Session", "close Session", "close Pool"]


async def test_async_with_container_closes_on_exit() -> None:
    """``async with container:`` awaits every finalizer when the block exits."""
    log: Log = []
    async with InjectQ() as c:
        c.bind_factory(Pool, async_resource(Pool, log)).singleton()
        await c.aget(Pool)
    assert log == ["open Pool", "close Pool"]


async def test_sync_close_with_async_resource_reports_it() -> None:
    """``close()`` cannot finish an async generator: it says to use ``aclose``; sync ones still run."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log)).singleton()
    c.bind_factory(Session, sync_resource(Session, log)).singleton()
    await c.aget(Pool)
    c.get(Session)
    with pytest.raises(ResourceCleanupError) as info:
        c.close()
    assert "close Session" in log
    scope_errors = [e for e in info.value.exceptions if isinstance(e, ScopeError)]
    assert len(scope_errors) == 1
    assert "aclose" in str(scope_errors[0])


async def test_aclose_after_failed_sync_close_finishes_async_resources() -> None:
    """The ``aclose()`` that the sync ``close()`` error asks for still finalizes the async resource."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log)).singleton()
    pool = await c.aget(Pool)
    with pytest.raises(ResourceCleanupError):
        c.close()
    assert not pool.closed
    await c.aclose()
    assert pool.closed
    assert log == ["open Pool", "close Pool"]


# -- order ---------------------------------------------------------------------------------


def test_finalizers_run_in_reverse_creation_order() -> None:
    """Resources are finalized newest first: dependents before what they depend on."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()

    def session(pool: Pool) -> Iterator[Session]:
        log.append("open Session")
        yield Session("s")
        log.append("close Session")

    def cursor(session: Session) -> Iterator[Cursor]:
        log.append("open Cursor")
        yield Cursor("c")
        log.append("close Cursor")

    c.bind_factory(Session, session).singleton()
    c.bind_factory(Cursor, cursor).singleton()
    c.get(Cursor)
    c.close()
    assert log == [
        "open Pool",
        "open Session",
        "open Cursor",
        "close Cursor",
        "close Session",
        "close Pool",
    ]


def test_order_follows_creation_not_binding_order() -> None:
    """The order is by creation time, not by the order the bindings were declared."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    c.bind_factory(Session, sync_resource(Session, log)).singleton()
    c.get(Session)
    c.get(Pool)
    c.close()
    assert log == ["open Session", "open Pool", "close Pool", "close Session"]


async def test_async_finalizers_run_in_reverse_creation_order() -> None:
    """Mixed async and sync resources are finalized newest first by ``aclose``."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log)).singleton()
    c.bind_factory(Session, sync_resource(Session, log)).singleton()
    c.bind_factory(Cursor, async_resource(Cursor, log)).singleton()
    await c.aget(Pool)
    await c.aget(Session)
    await c.aget(Cursor)
    await c.aclose()
    assert log[3:] == ["close Cursor", "close Session", "close Pool"]


# -- failures --------------------------------------------------------------------------------


def test_failing_finalizer_does_not_stop_the_others() -> None:
    """One finalizer raising still lets the others run; the failure is raised grouped."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    c.bind_factory(Session, sync_resource(Session, log, fail=True)).singleton()
    c.bind_factory(Cursor, sync_resource(Cursor, log)).singleton()
    c.get(Pool)
    c.get(Session)
    c.get(Cursor)
    with pytest.raises(ResourceCleanupError) as info:
        c.close()
    assert log[3:] == ["close Cursor", "close Session", "close Pool"]
    assert [str(e) for e in info.value.exceptions] == ["Session failed to close"]


def test_all_finalizer_failures_are_raised_together() -> None:
    """Every failing finalizer's exception is in one ``ResourceCleanupError``."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log, fail=True)).singleton()
    c.bind_factory(Session, sync_resource(Session, log)).singleton()
    c.bind_factory(Cursor, sync_resource(Cursor, log, fail=True)).singleton()
    for key in (Pool, Session, Cursor):
        c.get(key)
    with pytest.raises(ResourceCleanupError) as info:
        c.close()
    err = info.value
    assert isinstance(err, ExceptionGroup)
    assert isinstance(err, InjectQError)
    assert [str(e) for e in err.exceptions] == [
        "Cursor failed to close",
        "Pool failed to close",
    ]
    assert "2 finalizer(s) failed" in str(err)
    assert log.count("close Session") == 1


async def test_async_failures_are_grouped_and_the_rest_still_run() -> None:
    """``aclose()`` runs every async finalizer and groups the failures."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, async_resource(Pool, log, fail=True)).singleton()
    c.bind_factory(Session, async_resource(Session, log)).singleton()
    c.bind_factory(Cursor, sync_resource(Cursor, log, fail=True)).singleton()
    for key in (Pool, Session, Cursor):
        await c.aget(key)
    with pytest.raises(ResourceCleanupError) as info:
        await c.aclose()
    assert log[3:] == ["close Cursor", "close Session", "close Pool"]
    assert sorted(str(e) for e in info.value.exceptions) == [
        "Cursor failed to close",
        "Pool failed to close",
    ]


def test_resource_cleanup_error_can_be_caught_with_except_star() -> None:
    """``except* RuntimeError`` catches the grouped finalizer failures."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log, fail=True)).singleton()
    c.get(Pool)
    caught: list[BaseException] = []
    try:
        c.close()
    except* RuntimeError as group:
        caught.extend(group.exceptions)
    assert [str(e) for e in caught] == ["Pool failed to close"]


def test_generator_yielding_twice_is_reported() -> None:
    """A resource generator that yields a second time is closed and reported as a failure."""
    closed = []

    def twice() -> Iterator[Pool]:
        try:
            yield Pool("a")
            yield Pool("b")
        finally:
            closed.append(True)

    c = InjectQ()
    c.bind_factory(Pool, twice).singleton()
    c.get(Pool)
    with pytest.raises(ResourceCleanupError) as info:
        c.close()
    assert "more than once" in str(info.value.exceptions[0])
    assert closed == [True]


def test_failing_scope_finalizer_raises_when_scope_exits() -> None:
    """A failing finalizer of a scoped resource is raised as ``ResourceCleanupError`` at exit."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, sync_resource(Session, log, fail=True)).scoped("request")
    c.bind_factory(Cursor, sync_resource(Cursor, log)).scoped("request")
    with pytest.raises(ResourceCleanupError):
        with c.scope():
            c.get(Session)
            c.get(Cursor)
    assert log == ["open Session", "open Cursor", "close Cursor", "close Session"]
    with pytest.raises(ScopeError):
        c.get(Session)  # the scope is closed even though cleanup failed


# -- scoped resources ----------------------------------------------------------------------


def test_scoped_resource_finalized_when_scope_closes() -> None:
    """A request-scoped resource is finalized when its scope exits, not at container close."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, sync_resource(Session, log)).scoped("request")
    with c.scope():
        s = c.get(Session)
        assert c.get(Session) is s
        assert log == ["open Session"]
    assert s.closed
    assert log == ["open Session", "close Session"]
    c.close()
    assert log.count("close Session") == 1


def test_each_scope_finalizes_its_own_resources() -> None:
    """Each scope opens and finalizes its own instance of a scoped resource."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, sync_resource(Session, log)).scoped("request")
    with c.scope():
        first = c.get(Session)
    with c.scope():
        second = c.get(Session)
    assert first is not second
    assert first.closed and second.closed
    assert log == ["open Session", "close Session", "open Session", "close Session"]


async def test_async_scoped_resource_finalized_by_async_with() -> None:
    """An async-generator scoped resource is finalized when ``async with c.scope()`` exits."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, async_resource(Session, log)).scoped("request")
    async with c.scope():
        s = await c.aget(Session)
        assert log == ["open Session"]
    assert s.closed
    assert log == ["open Session", "close Session"]


def test_nested_scopes_finalize_inner_first() -> None:
    """Closing the action scope finalizes its resources; the request's close at its own exit."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, sync_resource(Session, log)).scoped("request")
    c.bind_factory(Cursor, sync_resource(Cursor, log)).scoped("action")
    with c.scope("request"):
        c.get(Session)
        with c.scope("action"):
            c.get(Cursor)
        assert log == ["open Session", "open Cursor", "close Cursor"]
    assert log[-1] == "close Session"


def test_scoped_resources_in_reverse_creation_order() -> None:
    """Resources of one scope are finalized newest first."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).scoped("request")
    c.bind_factory(Session, sync_resource(Session, log)).scoped("request")
    c.bind_factory(Cursor, sync_resource(Cursor, log)).scoped("request")
    with c.scope():
        c.get(Session)
        c.get(Cursor)
        c.get(Pool)
    assert log[3:] == ["close Pool", "close Cursor", "close Session"]


# -- transient resources ---------------------------------------------------------------------


def test_transient_resource_belongs_to_innermost_open_scope() -> None:
    """A transient resource resolved inside scopes is finalized when the innermost one closes."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Cursor, sync_resource(Cursor, log))  # transient
    with c.scope("request"):
        with c.scope("action"):
            a = c.get(Cursor)
            b = c.get(Cursor)
            assert a is not b
        assert a.closed and b.closed
        assert log.count("close Cursor") == 2
        c3 = c.get(Cursor)
        assert not c3.closed
    assert c3.closed
    assert log.count("close Cursor") == 3


def test_transient_resource_without_scope_belongs_to_container() -> None:
    """A transient resource resolved outside any scope is finalized by ``close()``."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Cursor, sync_resource(Cursor, log))
    cursor = c.get(Cursor)
    assert not cursor.closed
    c.close()
    assert cursor.closed


async def test_async_transient_resource_belongs_to_innermost_scope() -> None:
    """An async transient resource resolved inside a scope is finalized when it closes."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Cursor, async_resource(Cursor, log))
    async with c.scope():
        cursor = await c.aget(Cursor)
    assert cursor.closed
    c2 = await c.aget(Cursor)
    assert not c2.closed
    await c.aclose()
    assert c2.closed


def test_transient_resource_inlined_into_a_dependent_is_still_owned() -> None:
    """A transient resource that a transient class depends on is finalized with the scope."""
    log: Log = []

    class UsesCursor:
        def __init__(self, cursor: Cursor) -> None:
            self.cursor = cursor

    c = InjectQ()
    c.bind_factory(Cursor, sync_resource(Cursor, log))
    with c.scope():
        user = c.get(UsesCursor)
    assert user.cursor.closed


def test_singleton_resource_resolved_inside_scope_belongs_to_container() -> None:
    """A singleton resource first resolved inside a scope outlives it: the container owns it."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Pool, sync_resource(Pool, log)).singleton()
    with c.scope():
        pool = c.get(Pool)
    assert not pool.closed
    assert c.get(Pool) is pool
    c.close()
    assert pool.closed


async def test_failing_async_scope_finalizer_raises_when_async_scope_exits() -> None:
    """A failing async finalizer is raised as ``ResourceCleanupError`` by ``async with`` exit."""
    log: Log = []
    c = InjectQ()
    c.bind_factory(Session, async_resource(Session, log, fail=True)).scoped("request")
    c.bind_factory(Cursor, async_resource(Cursor, log)).scoped("request")
    with pytest.raises(ResourceCleanupError) as info:
        async with c.scope():
            await c.aget(Session)
            await c.aget(Cursor)
    assert log == ["open Session", "open Cursor", "close Cursor", "close Session"]
    assert [str(e) for e in info.value.exceptions] == ["Session failed to close"]
