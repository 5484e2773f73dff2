"""Concurrency stress: real threads and a real event loop on both containers.

16 threads run a mix of singleton, transient and scoped resolutions, opening and closing
request scopes with resources in them; 1,000 asyncio tasks each open their own request
scope and await inside it. Every join and every await is bounded: a deadlock fails the
test instead of hanging it. The default is the full size (16 threads x 10,000
steps, 1,000 tasks); ``INJECTQ_STRESS_SCALE=10`` multiplies it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from injectq import ScopeError
from tests.reliability_support import (
    RelApp,
    assert_each_resource_finalized_once,
    rel_app,
    rel_container,
    scale,
)

__all__ = ["rel_app", "rel_container"]

TIMEOUT = 60  # seconds any join or gather may take before the test fails as a deadlock
THREADS = 16
OPS_PER_THREAD = max(100, int(10_000 * scale(1)))
TASKS = max(100, int(1_000 * scale(1)))


class Worker:
    """One thread's share of the load: what it saw, kept for the checks after the join."""

    def __init__(self, container: Any, app: RelApp, barrier: threading.Barrier) -> None:
        self.c = container
        self.s = app.services
        self.barrier = barrier
        self.singletons: set[int] = set()
        self.pools: set[int] = set()
        self.scopes: list[tuple[Any, Any]] = []  # (scope state, its RequestCtx)
        self.handlers = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.barrier.wait()
            for i in range(OPS_PER_THREAD):
                self.step(i)
            with pytest.raises(ScopeError):  # no scope open here: scoped keys refuse
                self.c.get(self.s.RequestCtx)
        except BaseException as exc:  # reported by the test after the join
            self.error = exc

    def step(self, i: int) -> None:
        c, s = self.c, self.s
        op = i % 4
        if op == 0:
            self.singletons.add(id(c.get(s.Settings)))
        elif op == 1:
            repo = c.get(s.Repo)
            assert repo is not c.get(s.Repo)  # transient
            self.pools.add(id(repo.pool))
        elif op == 2:
            self.pools.add(id(c.get(s.Pool)))
        else:
            with c.scope() as state:
                ctx = c.get(s.RequestCtx)
                assert ctx.scope is state
                assert c.current_scope("request") is state
                handler = c.get(s.Handler)
                assert handler.ctx is ctx
                assert handler.session is c.get(s.Session)
                assert handler.session.ctx is ctx
                assert handler.tx.session is handler.session
                assert c.get(s.RequestCtx) is ctx
                self.handlers += 1
            self.scopes.append((state, ctx))


def test_sixteen_threads_mixed_resolutions_and_scopes(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """16 threads x mixed resolutions: one instance per singleton, scoped instances only in
    their own scope, every resource finalized once, and no thread hangs."""
    c = rel_container()
    s = rel_app.services
    barrier = threading.Barrier(THREADS, timeout=TIMEOUT)
    workers = [Worker(c, rel_app, barrier) for _ in range(THREADS)]
    threads = [threading.Thread(target=w.run, daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck: deadlock"
    errors = [w.error for w in workers if w.error is not None]
    if errors:
        raise errors[0]

    # one instance per singleton, created once
    assert len(set().union(*(w.singletons for w in workers))) == 1
    assert len(set().union(*(w.pools for w in workers))) == 1
    assert s.PROBE.calls["Settings"] == 1
    assert s.PROBE.calls["Pool"] == 1

    # each scope had its own RequestCtx and Session, created in it and nowhere else
    pairs = [pair for w in workers for pair in w.scopes]
    scopes_opened = THREADS * (OPS_PER_THREAD // 4)
    assert len(pairs) == scopes_opened
    assert len({id(state) for state, _ in pairs}) == scopes_opened
    assert len({id(ctx) for _, ctx in pairs}) == scopes_opened
    assert all(ctx.scope is state for state, ctx in pairs)
    assert s.PROBE.calls["RequestCtx"] == scopes_opened
    assert s.PROBE.calls["Session"] == scopes_opened
    assert sum(w.handlers for w in workers) == scopes_opened

    c.close()
    opened = assert_each_resource_finalized_once(s.PROBE.log)
    assert opened == {"Pool": 1, "Session": scopes_opened, "Tx": scopes_opened}


async def test_thousand_tasks_each_with_own_request_scope(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """1,000 concurrent tasks, each in its own ``async with`` request scope with awaits
    inside: one singleton, per-scope instances never shared, every resource finalized once."""
    c = rel_container()
    s = rel_app.services
    start = asyncio.Event()

    async def request(n: int) -> tuple[Any, Any, Any]:
        await start.wait()
        async with c.scope() as state:
            handler = await c.aget(s.AsyncHandler)
            await asyncio.sleep(0)  # let the other tasks run inside their scopes
            ctx = await c.aget(s.RequestCtx)
            assert handler.ctx is ctx
            assert ctx.scope is state
            assert c.current_scope("request") is state
            assert handler.conn.ctx is ctx
            assert await c.aget(s.Conn) is handler.conn
            await asyncio.sleep(0)
            assert c.get(s.Session) is handler.session
            assert handler.session.ctx is ctx
            client = await c.aget(s.Client)
        with pytest.raises(ScopeError):
            await c.aget(s.RequestCtx)
        return state, ctx, client

    tasks = [asyncio.ensure_future(request(n)) for n in range(TASKS)]
    await asyncio.sleep(0)
    start.set()
    results = await asyncio.wait_for(asyncio.gather(*tasks), TIMEOUT)

    assert len({id(client) for _, _, client in results}) == 1
    assert s.PROBE.calls["Client"] == 1
    assert s.PROBE.calls["Settings"] == 1
    assert len({id(state) for state, _, _ in results}) == TASKS
    assert len({id(ctx) for _, ctx, _ in results}) == TASKS
    assert all(ctx.scope is state for state, ctx, _ in results)
    assert s.PROBE.calls["RequestCtx"] == TASKS
    assert s.PROBE.calls["Conn"] == TASKS

    await asyncio.wait_for(c.aclose(), TIMEOUT)
    opened = assert_each_resource_finalized_once(s.PROBE.log)
    assert opened == {"Pool": 1, "Session": TASKS, "Conn": TASKS}


def test_threads_each_running_an_event_loop_share_singletons(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """4 threads, each running its own event loop with 100 scoped tasks, agree on the async
    singleton and finalize every scope's resources once."""
    c = rel_container()
    s = rel_app.services
    loops, per_loop = 4, 100
    barrier = threading.Barrier(loops, timeout=TIMEOUT)
    clients: list[set[int]] = [set() for _ in range(loops)]
    errors: list[BaseException] = []

    async def one(k: int) -> None:
        async with c.scope() as state:
            handler = await c.aget(s.AsyncHandler)
            await asyncio.sleep(0)
            assert handler.ctx.scope is state
            clients[k].add(id(handler.conn.client))

    async def main(k: int) -> None:
        await asyncio.wait_for(asyncio.gather(*(one(k) for _ in range(per_loop))), TIMEOUT)

    def run(k: int) -> None:
        try:
            barrier.wait()
            asyncio.run(main(k))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(loops)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a loop thread is stuck: deadlock"
    if errors:
        raise errors[0]
    assert len(set().union(*clients)) == 1
    assert s.PROBE.calls["Client"] == 1
    assert s.PROBE.calls["RequestCtx"] == loops * per_loop
    c.close()
    opened = assert_each_resource_finalized_once(s.PROBE.log)
    assert opened == {"Pool": 1, "Session": loops * per_loop, "Conn": loops * per_loop}


def test_opening_thread_and_other_threads_race_one_scoped_instance(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """The thread that opened a scope creates without a lock until another thread uses the
    scope; eight threads arriving while its creation is under way still share one."""
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    s = rel_app.services
    for round_ in range(10):
        c = rel_container()
        s.PROBE.reset()
        with c.scope() as state:
            ctx = contextvars.copy_context()
            with ThreadPoolExecutor(8) as pool:
                others = [pool.submit(lambda: ctx.copy().run(c.get, s.RequestCtx))
                          for _ in range(8)]
                mine = c.get(s.RequestCtx)
                results = [f.result(timeout=20) for f in others]
            assert mine.scope is state and c.get(s.RequestCtx) is mine
        assert s.PROBE.calls["RequestCtx"] == 1, round_
        assert all(r is mine for r in results)
