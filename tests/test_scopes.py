"""Scopes: per-scope caches, nesting, custom scopes, and isolation across threads and tasks.

Threads are real ``threading.Thread``s and tasks run on the test's real event loop.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from injectq import InjectQ, InjectQError, ScopeError, ScopeType
from tests.reliability_support import rel_app, rel_container

__all__ = ["rel_app", "rel_container"]  # fixtures: the same app in both containers


class RequestContext:
    pass


class ActionContext:
    def __init__(self, request: RequestContext) -> None:
        self.request = request


class TenantContext:
    pass


class Handler:
    """Transient: built per resolution from scoped parts."""

    def __init__(self, request: RequestContext) -> None:
        self.request = request


@pytest.fixture
def c() -> InjectQ:
    container = InjectQ()
    container.bind(RequestContext, RequestContext).scoped("request")
    container.bind(ActionContext, ActionContext).scoped("action")
    return container


# -- caching per open scope ------------------------------------------------------------


def test_scoped_instance_is_cached_within_one_scope(c: InjectQ) -> None:
    """Inside one open scope, a scoped key resolves to one instance."""
    with c.scope("request"):
        assert c.get(RequestContext) is c.get(RequestContext)


def test_each_scope_gets_its_own_instance(c: InjectQ) -> None:
    """Two scopes opened one after the other get distinct instances."""
    with c.scope("request"):
        first = c.get(RequestContext)
    with c.scope("request"):
        second = c.get(RequestContext)
    assert first is not second


def test_default_scope_name_is_request(c: InjectQ) -> None:
    """``with c.scope():`` opens the ``request`` scope."""
    with c.scope() as state:
        assert state.name == "request"
        ctx = c.get(RequestContext)
        assert c.current_scope("request") is state
        assert c.get(RequestContext) is ctx


def test_scope_type_enum_opens_the_named_scope(c: InjectQ) -> None:
    """``c.scope(ScopeType.REQUEST)`` is the same as ``c.scope("request")``."""
    with c.scope(ScopeType.REQUEST):
        assert c.get(RequestContext) is c.get(RequestContext)


def test_transient_dependents_share_the_scoped_instance(c: InjectQ) -> None:
    """Transients built inside one scope all receive that scope's instance."""
    with c.scope():
        a = c.get(Handler)
        b = c.get(Handler)
        assert a is not b
        assert a.request is b.request is c.get(RequestContext)


def test_scoped_instance_is_released_when_scope_closes(c: InjectQ) -> None:
    """Closing a scope drops its instances: nothing keeps them alive afterwards."""
    with c.scope():
        ref = weakref.ref(c.get(RequestContext))
        assert ref() is not None
    gc.collect()
    assert ref() is None


async def test_scoped_instance_is_released_when_async_scope_closes(c: InjectQ) -> None:
    """Closing an ``async with`` scope drops its instances too."""
    async with c.scope():
        ref = weakref.ref(await c.aget(RequestContext))
    gc.collect()
    assert ref() is None


def test_scope_state_is_cleared_on_exit(c: InjectQ) -> None:
    """Regression (InjectQ 0.5.0): the sync scope's cache is emptied when the block exits."""
    with c.scope() as state:
        c.get(RequestContext)
        assert len(state.cache) == 1
    assert len(state.cache) == 0
    assert c.current_scope("request") is None


def test_scope_is_cleared_even_when_the_block_raises(c: InjectQ) -> None:
    """A scope whose block raises is still closed and cleared; the error propagates."""
    with pytest.raises(ValueError, match="boom"):
        with c.scope() as state:
            c.get(RequestContext)
            raise ValueError("boom")
    assert len(state.cache) == 0
    with pytest.raises(ScopeError):
        c.get(RequestContext)


async def test_async_with_scope(c: InjectQ) -> None:
    """``async with c.scope():`` opens a request scope that ``aget`` and ``get`` both use."""
    async with c.scope() as state:
        assert state.name == "request"
        ctx = await c.aget(RequestContext)
        assert c.get(RequestContext) is ctx
    async with c.scope():
        assert await c.aget(RequestContext) is not ctx


async def test_async_scope_alias(c: InjectQ) -> None:
    """``async with c.async_scope():`` behaves like ``c.scope()`` (InjectQ 0.5.0 name)."""
    async with c.async_scope() as state:
        assert state.name == "request"
        assert await c.aget(RequestContext) is await c.aget(RequestContext)
    with pytest.raises(ScopeError):
        await c.aget(RequestContext)


async def test_async_scoped_factory_is_cached_per_scope() -> None:
    """An async factory scoped to ``request`` is awaited once per open scope."""
    calls = []

    async def make() -> RequestContext:
        calls.append(1)
        await asyncio.sleep(0)
        return RequestContext()

    c = InjectQ()
    c.bind_factory(RequestContext, make).scoped("request")
    async with c.scope():
        results = await asyncio.gather(*(c.aget(RequestContext) for _ in range(20)))
        assert len({id(r) for r in results}) == 1
    async with c.scope():
        assert await c.aget(RequestContext) is not results[0]
    assert calls == [1, 1]


def test_a_scope_object_cannot_be_entered_twice(c: InjectQ) -> None:
    """Re-entering an already-open scope object raises ``ScopeError``."""
    scope = c.scope()
    with scope:
        with pytest.raises(ScopeError, match="already open"):
            scope.__enter__()


# -- no open scope ---------------------------------------------------------------------


def test_scoped_without_open_scope_raises_scope_error(c: InjectQ) -> None:
    """Regression (InjectQ 0.5.0): resolving a scoped key outside any scope raises ScopeError."""
    with pytest.raises(ScopeError) as info:
        c.get(RequestContext)
    text = str(info.value)
    assert "'request'" in text
    assert "RequestContext" in text
    assert "scope(" in text
    assert isinstance(info.value, InjectQError)


async def test_aget_scoped_without_open_scope_raises_scope_error(c: InjectQ) -> None:
    """``aget`` of a scoped key outside any scope raises ``ScopeError`` naming the scope."""
    with pytest.raises(ScopeError, match="'request'"):
        await c.aget(RequestContext)


def test_scoped_after_scope_closed_raises_scope_error(c: InjectQ) -> None:
    """Regression (InjectQ 0.5.0): after the block ends, the scoped key is not reachable."""
    with c.scope():
        c.get(RequestContext)
    with pytest.raises(ScopeError, match="'request'"):
        c.get(RequestContext)


def test_transient_depending_on_scoped_without_scope_raises(c: InjectQ) -> None:
    """A transient that needs a scoped key raises ``ScopeError`` outside the scope."""
    with pytest.raises(ScopeError, match="'request'"):
        c.get(Handler)


def test_action_scoped_inside_only_request_raises_naming_action(c: InjectQ) -> None:
    """An action-scoped key inside only a request scope raises ``ScopeError`` naming action."""
    with c.scope("request"):
        with pytest.raises(ScopeError, match="'action'"):
            c.get(ActionContext)


# -- nesting ---------------------------------------------------------------------------


def test_action_nests_inside_request(c: InjectQ) -> None:
    """Inside request > action, action-scoped instances see the enclosing request's ones."""
    with c.scope("request"):
        req = c.get(RequestContext)
        with c.scope("action"):
            act = c.get(ActionContext)
            assert act.request is req
            assert c.get(RequestContext) is req
            assert c.get(ActionContext) is act
        with c.scope("action"):
            act2 = c.get(ActionContext)
            assert act2 is not act
            assert act2.request is req
        assert c.get(RequestContext) is req


def test_inner_scope_close_keeps_outer_scope_open(c: InjectQ) -> None:
    """Closing the action scope leaves the request scope open; action keys then raise."""
    with c.scope("request"):
        with c.scope("action"):
            c.get(ActionContext)
        assert c.current_scope("request") is not None
        assert c.current_scope("action") is None
        with pytest.raises(ScopeError, match="'action'"):
            c.get(ActionContext)


def test_innermost_scope_is_tracked(c: InjectQ) -> None:
    """``current_scope()`` is the innermost open scope."""
    assert c.current_scope() is None
    with c.scope("request") as req:
        assert c.current_scope() is req
        with c.scope("action") as act:
            assert c.current_scope() is act
        assert c.current_scope() is req
    assert c.current_scope() is None


def test_same_scope_nested_shadows_the_outer_one(c: InjectQ) -> None:
    """A request scope opened inside another one has its own instances until it closes."""
    with c.scope():
        outer = c.get(RequestContext)
        with c.scope():
            inner = c.get(RequestContext)
            assert inner is not outer
        assert c.get(RequestContext) is outer


# -- custom and unknown scopes ---------------------------------------------------------


def test_custom_scope_declared_with_parent() -> None:
    """A scope declared with ``declare_scope("tenant", parent="request")`` caches per scope."""
    c = InjectQ()
    c.declare_scope("tenant", parent="request")
    c.bind(TenantContext, TenantContext).scoped("tenant")
    with c.scope("request"):
        with c.scope("tenant"):
            t1 = c.get(TenantContext)
            assert c.get(TenantContext) is t1
        with c.scope("tenant"):
            assert c.get(TenantContext) is not t1
        with pytest.raises(ScopeError, match="'tenant'"):
            c.get(TenantContext)


async def test_custom_scope_works_with_async_with() -> None:
    """A declared custom scope opens with ``async with`` too."""
    c = InjectQ()
    c.declare_scope("tenant", parent="request")
    c.bind(TenantContext, TenantContext).scoped("tenant")
    async with c.scope("request"), c.scope("tenant"):
        assert await c.aget(TenantContext) is c.get(TenantContext)


def test_unknown_scope_name_raises_scope_error() -> None:
    """Opening an undeclared scope raises ``ScopeError`` that says how to declare it."""
    c = InjectQ()
    with pytest.raises(ScopeError) as info:
        with c.scope("tenant"):
            pass  # pragma: no cover - never entered
    assert "'tenant'" in str(info.value)
    assert "declare_scope" in str(info.value)


async def test_unknown_scope_name_raises_with_async_with() -> None:
    """``async with`` of an undeclared scope raises ``ScopeError`` too."""
    c = InjectQ()
    with pytest.raises(ScopeError, match="'nope'"):
        async with c.scope("nope"):
            pass  # pragma: no cover - never entered


def test_declaring_scope_with_unknown_parent_raises() -> None:
    """``declare_scope`` with an unknown parent raises ``ScopeError`` listing known scopes."""
    c = InjectQ()
    with pytest.raises(ScopeError, match="'ghost'"):
        c.declare_scope("tenant", parent="ghost")


def test_lifetimes_are_not_openable_scopes() -> None:
    """``c.scope("singleton")`` raises: a lifetime is not a scope."""
    c = InjectQ()
    with pytest.raises(ScopeError, match="singleton"):
        c.scope("singleton")


# -- isolation across threads and tasks ------------------------------------------------


def test_threads_never_see_each_others_scoped_instances(c: InjectQ) -> None:
    """Real threads, each in its own request scope, get distinct instances, stable per thread."""
    n = 8
    barrier = threading.Barrier(n, timeout=5)
    results: dict[int, tuple[int, int]] = {}
    keep: list[RequestContext] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        with c.scope():
            first = c.get(RequestContext)
            barrier.wait()  # every thread holds its scope open at the same time
            second = c.get(RequestContext)
            with lock:
                keep.append(first)
                results[i] = (id(first), id(second))
            barrier.wait()

    with ThreadPoolExecutor(n) as pool:
        for f in [pool.submit(work, i) for i in range(n)]:
            f.result(timeout=5)
    assert all(a == b for a, b in results.values())
    assert len({a for a, _ in results.values()}) == n


def test_thread_without_scope_does_not_see_another_threads_scope(c: InjectQ) -> None:
    """A thread that opened no scope raises ``ScopeError`` while another thread's scope is open."""
    errors: list[BaseException] = []
    with c.scope():
        c.get(RequestContext)

        def other() -> None:
            try:
                c.get(RequestContext)
            except BaseException as exc:
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join(5)
        assert not t.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], ScopeError)


async def test_tasks_each_with_own_scope_see_distinct_instances(c: InjectQ) -> None:
    """Many asyncio tasks, each opening its own scope, never share a scoped instance."""
    n = 200
    started = asyncio.Event()
    count = 0

    async def work() -> tuple[RequestContext, RequestContext]:
        nonlocal count
        async with c.scope():
            first = await c.aget(RequestContext)
            count += 1
            if count == n:
                started.set()
            await asyncio.wait_for(started.wait(), 5)  # all scopes open at once
            second = await c.aget(RequestContext)
            return first, second

    pairs = await asyncio.wait_for(asyncio.gather(*(work() for _ in range(n))), 10)
    assert all(a is b for a, b in pairs)
    assert len({id(a) for a, _ in pairs}) == n


async def test_tasks_with_async_scoped_factory_are_isolated() -> None:
    """Tasks, each in its own scope, await their own async scoped instance."""

    async def make() -> RequestContext:
        await asyncio.sleep(0.001)
        return RequestContext()

    c = InjectQ()
    c.bind_factory(RequestContext, make).scoped("request")

    async def work() -> tuple[RequestContext, RequestContext]:
        async with c.scope():
            a, b = await asyncio.gather(c.aget(RequestContext), c.aget(RequestContext))
            return a, b

    pairs = await asyncio.wait_for(asyncio.gather(*(work() for _ in range(100))), 10)
    assert all(a is b for a, b in pairs)
    assert len({id(a) for a, _ in pairs}) == 100


async def test_task_started_inside_a_scope_inherits_it(c: InjectQ) -> None:
    """A task created inside an open scope sees that scope's instances (context copy)."""
    async with c.scope():
        mine = await c.aget(RequestContext)
        theirs = await asyncio.create_task(c.aget(RequestContext))
        assert theirs is mine


async def test_scope_opened_in_a_task_is_invisible_to_its_parent(c: InjectQ) -> None:
    """A scope a child task opens does not leak into the parent task's context."""

    async def child() -> RequestContext:
        async with c.scope():
            return await c.aget(RequestContext)

    await asyncio.create_task(child())
    with pytest.raises(ScopeError):
        await c.aget(RequestContext)


def test_action_scope_alone_does_not_provide_request_keys(c: InjectQ) -> None:
    """Inside only an action scope, an action key needing a request key raises naming request."""
    with c.scope("action"):
        with pytest.raises(ScopeError, match="'request'"):
            c.get(ActionContext)


# -- a scope that has ended -------------------------------------------------------------------


def test_resolving_in_an_ended_scope_raises_and_creates_nothing(
    rel_container: Any, rel_app: Any
) -> None:
    """A thread that runs in a copy of a scope's context after the block closed gets a
    ScopeError naming the scope; no instance and no resource is made (both containers)."""
    import contextvars

    c = rel_container()
    s = rel_app.services
    with c.scope():
        late = contextvars.copy_context()
    with pytest.raises(ScopeError, match=r"the 'request' scope has ended: RequestCtx"):
        late.run(c.get, s.RequestCtx)
    with pytest.raises(ScopeError, match="has ended"):
        late.run(c.get, s.Session)
    assert s.PROBE.calls.get("RequestCtx", 0) == 0
    assert [e for e in s.PROBE.log if e[1] == "Session"] == []
    with c.scope():  # a new scope works as before
        assert c.get(s.RequestCtx) is c.get(s.RequestCtx)
    c.close()


async def test_a_task_that_outlives_its_scope_cannot_create_in_it(
    rel_container: Any, rel_app: Any
) -> None:
    """A task started inside ``async with container.scope()`` that resolves after the block
    ended: ScopeError, nothing created (sync and async bindings, both containers)."""
    import asyncio

    c = rel_container()
    s = rel_app.services
    go = asyncio.Event()

    async def later(key: object) -> object:
        await go.wait()
        return await c.aget(key)

    async with c.scope():
        tasks = [asyncio.create_task(later(k)) for k in (s.RequestCtx, s.Conn)]
        await asyncio.sleep(0)
    go.set()
    for task in tasks:
        with pytest.raises(ScopeError, match="'request' scope has ended"):
            await task
    assert s.PROBE.calls.get("RequestCtx", 0) == 0
    assert [e for e in s.PROBE.log if e[1] == "Conn"] == []
    await c.aclose()


# -- how the block ended reaches its resources --------------------------------------------------

TX_APP = """\
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from injectq import Module

EVENTS: list[str] = []


class Tx:
    pass


class ATx:
    pass


def open_tx() -> Iterator[Tx]:
    try:
        yield Tx()
    except ValueError:
        EVENTS.append("rollback")
        raise
    else:
        EVENTS.append("commit")


async def open_atx() -> AsyncIterator[ATx]:
    try:
        yield ATx()
    except ValueError:
        EVENTS.append("arollback")
        raise
    else:
        EVENTS.append("acommit")


class First:
    pass


def open_first() -> Iterator[First]:
    yield First()
    EVENTS.append("first finalized")


class Interrupting:
    pass


def open_interrupting() -> Iterator[Interrupting]:
    yield Interrupting()
    raise KeyboardInterrupt


class TxModule(Module):
    def configure(self) -> None:
        self.bind_factory(Tx, open_tx).scoped("request")
        self.bind_factory(ATx, open_atx).scoped("request")
        self.bind_factory(First, open_first).scoped("request")
        self.bind_factory(Interrupting, open_interrupting).scoped("request")
"""


@pytest.fixture(params=["runtime", "generated"])
def tx(request: pytest.FixtureRequest, codegen_env: Any) -> Any:
    """(container, app module) of TX_APP in the runtime or the generated container."""
    from tests.codegen_support import build_wiring, make_project

    make_project(codegen_env, {"txapp/__init__.py": "", "txapp/app.py": TX_APP})
    import txapp.app as app

    app.EVENTS.clear()
    if request.param == "runtime":
        c = InjectQ()
        c.install(app.TxModule())
        return c, app
    return build_wiring(["txapp.app:TxModule"]).Container(), app


def test_the_block_exception_reaches_generator_resources(tx: Any) -> None:
    """``try: yield tx / except: rollback / else: commit``: a block that raised rolls back,
    a block that ended normally commits (as contextlib and FastAPI do)."""
    c, app = tx
    with pytest.raises(ValueError, match="bad request"), c.scope():
        c.get(app.Tx)
        raise ValueError("bad request")
    with c.scope():
        c.get(app.Tx)
    assert app.EVENTS == ["rollback", "commit"]


async def test_the_block_exception_reaches_async_generator_resources(tx: Any) -> None:
    c, app = tx
    with pytest.raises(ValueError, match="bad request"):
        async with c.scope():
            await c.aget(app.ATx)
            await c.aget(app.Tx)
            raise ValueError("bad request")
    async with c.scope():
        await c.aget(app.ATx)
    assert app.EVENTS == ["rollback", "arollback", "acommit"]


def test_every_finalizer_runs_before_an_interrupt_propagates(tx: Any) -> None:
    """A finalizer raising KeyboardInterrupt does not leave the older resources open: all
    run, then the interrupt is raised (like contextlib.ExitStack)."""
    c, app = tx
    with pytest.raises(KeyboardInterrupt), c.scope():
        c.get(app.First)
        c.get(app.Tx)
        c.get(app.Interrupting)
    assert app.EVENTS == ["commit", "first finalized"]
