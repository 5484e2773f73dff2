"""Concurrency: one singleton under contention (threads, tasks, several event loops), nothing
cached when a factory raises, and no spurious cycle errors when threads share a chain.

Every thread join, barrier and await here is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from injectq import CircularDependencyError, InjectQ, Lazy

TIMEOUT = 10  # seconds; every wait in this file is bounded


class Counter:
    """Thread-safe call counter shared by a test's factories."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.n = 0

    def hit(self) -> int:
        with self._lock:
            self.n += 1
            return self.n


class Heavy:
    pass


class Shared:
    pass


class Left:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared


class Right:
    def __init__(self, shared: Shared) -> None:
        self.shared = shared


class CycleX:
    def __init__(self, y: CycleY) -> None:
        self.y = y


class CycleY:
    def __init__(self, x: CycleX) -> None:
        self.x = x


def race(n: int, fn: Callable[[], Any]) -> list[Any]:
    """Run ``fn`` in ``n`` real threads released together; return results, raise the first error."""
    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def task() -> Any:
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(task) for _ in range(n)]
        return [f.result(timeout=TIMEOUT) for f in futures]


# -- threads racing a singleton ---------------------------------------------------------------


def test_sixteen_threads_create_exactly_one_singleton() -> None:
    """16 threads racing a slow singleton factory all get the one instance it creates once."""
    calls = Counter()

    def factory() -> Heavy:
        calls.hit()
        time.sleep(0.05)  # wide window: every thread arrives while it is being created
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    results = race(16, lambda: c.get(Heavy))
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1
    assert c.get(Heavy) is results[0]


def test_threads_race_a_singleton_class_with_slow_constructor() -> None:
    """A singleton class with a slow ``__init__`` is constructed once under 16 racing threads."""
    calls = Counter()

    class Slow:
        def __init__(self) -> None:
            calls.hit()
            time.sleep(0.05)

    c = InjectQ()
    c.bind(Slow, Slow).singleton()
    results = race(16, lambda: c.get(Slow))
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1


def test_threads_race_a_singleton_behind_transients() -> None:
    """Threads resolving different transients that share a slow singleton get one singleton."""
    calls = Counter()

    def make_shared() -> Shared:
        calls.hit()
        time.sleep(0.05)
        return Shared()

    c = InjectQ()
    c.bind_factory(Shared, make_shared).singleton()
    flip = Counter()
    results = race(16, lambda: c.get(Left if flip.hit() % 2 else Right))
    assert calls.n == 1
    assert len({id(r.shared) for r in results}) == 1


def test_threads_race_singletons_while_first_compilation_happens() -> None:
    """Threads whose first ``get`` of a fresh container compiles concurrently agree on singletons."""
    for _ in range(5):
        c = InjectQ()
        c.bind(Shared, Shared).singleton()
        c.bind(Left, Left).singleton()
        results = race(8, lambda: (c.get(Left), c.get(Shared)))
        assert len({id(b) for b, _ in results}) == 1
        assert all(b.shared is a for b, a in results)


def test_threads_race_a_generator_singleton_finalized_once() -> None:
    """A generator singleton raced by 16 threads is opened once and finalized once."""
    opened = Counter()
    closed = Counter()

    def resource() -> Any:
        opened.hit()
        time.sleep(0.05)
        yield Heavy()
        closed.hit()

    c = InjectQ()
    c.bind_factory(Heavy, resource).singleton()
    results = race(16, lambda: c.get(Heavy))
    assert len({id(r) for r in results}) == 1
    c.close()
    assert (opened.n, closed.n) == (1, 1)


def test_scoped_instance_is_one_when_threads_share_a_scope() -> None:
    """Threads that resolve inside one scope's context (copied) get that scope's one instance."""
    import contextvars

    calls = Counter()

    class PerRequest:
        def __init__(self) -> None:
            calls.hit()
            time.sleep(0.05)

    c = InjectQ()
    c.bind(PerRequest, PerRequest).scoped("request")
    with c.scope():
        ctx = contextvars.copy_context()
        results = race(8, lambda: ctx.copy().run(c.get, PerRequest))
        assert c.get(PerRequest) is results[0]
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1


def test_opening_thread_and_other_threads_race_one_scoped_instance() -> None:
    """The thread that opened the scope creates without a lock until another thread uses
    the scope; racing it (its creation under way, the others arriving) still makes one."""
    import contextvars

    for round_ in range(20):
        calls = Counter()
        started = threading.Event()

        class Slow:
            def __init__(self) -> None:
                calls.hit()
                started.set()
                time.sleep(0.002 * (round_ % 3))

        c = InjectQ()
        c.bind(Slow, Slow).scoped("request")
        with c.scope():
            ctx = contextvars.copy_context()
            with ThreadPoolExecutor(8) as pool:
                others = [pool.submit(lambda: ctx.copy().run(c.get, Slow)) for _ in range(8)]
                mine = c.get(Slow)
                results = [f.result(timeout=TIMEOUT) for f in others]
            assert c.get(Slow) is mine
        assert calls.n == 1, round_
        assert all(r is mine for r in results)


# -- many agets racing ------------------------------------------------------------------------


async def test_thousand_agets_create_one_async_singleton() -> None:
    """1,000 concurrent ``aget`` calls on a slow async singleton factory create one instance."""
    calls = Counter()

    async def factory() -> Heavy:
        calls.hit()
        await asyncio.sleep(0.02)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(Heavy) for _ in range(1000))), TIMEOUT)
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1
    assert c.get(Heavy) is results[0]


async def test_thousand_agets_create_one_sync_singleton() -> None:
    """1,000 concurrent ``aget`` calls on a sync singleton factory create one instance."""
    calls = Counter()

    def factory() -> Heavy:
        calls.hit()
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(Heavy) for _ in range(1000))), TIMEOUT)
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1


async def test_thousand_agets_create_one_sync_singleton_over_async_dependency() -> None:
    """1,000 ``aget`` calls on a sync singleton whose dependency is async create one of each."""
    db_calls = Counter()
    repo_calls = Counter()

    async def make_db() -> Shared:
        db_calls.hit()
        await asyncio.sleep(0.02)
        return Shared()

    def make_repo(shared: Shared) -> Left:
        repo_calls.hit()
        return Left(shared)

    c = InjectQ()
    c.bind_factory(Shared, make_db).singleton()
    c.bind_factory(Left, make_repo).singleton()
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(Left) for _ in range(1000))), TIMEOUT)
    assert (db_calls.n, repo_calls.n) == (1, 1)
    assert len({id(r) for r in results}) == 1


async def test_thousand_agets_of_an_async_generator_singleton() -> None:
    """1,000 concurrent ``aget`` calls on an async-generator singleton enter it once."""
    opened = Counter()
    closed = Counter()

    async def resource() -> Any:
        opened.hit()
        await asyncio.sleep(0.02)
        yield Heavy()
        closed.hit()

    c = InjectQ()
    c.bind_factory(Heavy, resource).singleton()
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(Heavy) for _ in range(1000))), TIMEOUT)
    assert len({id(r) for r in results}) == 1
    await c.aclose()
    assert (opened.n, closed.n) == (1, 1)


def test_event_loops_in_several_threads_share_one_async_singleton() -> None:
    """4 threads, each running its own event loop with 250 ``aget`` calls, share one instance."""
    calls = Counter()

    async def factory() -> Heavy:
        calls.hit()
        await asyncio.sleep(0.05)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()

    async def many() -> list[Heavy]:
        return await asyncio.wait_for(asyncio.gather(*(c.aget(Heavy) for _ in range(250))), TIMEOUT)

    batches = race(4, lambda: asyncio.run(many()))
    assert calls.n == 1
    assert len({id(r) for batch in batches for r in batch}) == 1


def test_threads_using_get_and_loops_using_aget_agree() -> None:
    """Threads calling ``get`` and threads running ``aget`` on one sync singleton agree."""
    calls = Counter()

    def factory() -> Heavy:
        calls.hit()
        time.sleep(0.05)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    flip = Counter()

    def either() -> Heavy:
        if flip.hit() % 2:
            return c.get(Heavy)
        return asyncio.run(c.aget(Heavy))

    results = race(8, either)
    assert calls.n == 1
    assert len({id(r) for r in results}) == 1


# -- failures cache nothing -------------------------------------------------------------------


def test_failing_sync_factory_caches_nothing_and_next_call_retries() -> None:
    """A singleton factory that raises leaves no instance; the next ``get`` calls it again."""
    calls = Counter()

    def factory() -> Heavy:
        if calls.hit() == 1:
            raise ConnectionError("first try fails")
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    with pytest.raises(ConnectionError):
        c.get(Heavy)
    first = c.get(Heavy)
    assert c.get(Heavy) is first
    assert calls.n == 2


async def test_failing_async_factory_caches_nothing_and_next_call_retries() -> None:
    """An async singleton factory that raises leaves no instance; the next ``aget`` retries."""
    calls = Counter()

    async def factory() -> Heavy:
        await asyncio.sleep(0)
        if calls.hit() == 1:
            raise ConnectionError("first try fails")
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    with pytest.raises(ConnectionError):
        await c.aget(Heavy)
    first = await c.aget(Heavy)
    assert await c.aget(Heavy) is first
    assert calls.n == 2


async def test_concurrent_waiters_see_the_failure_then_a_retry_succeeds() -> None:
    """Tasks waiting on a failing async creation all get its error; a later ``aget`` retries."""
    calls = Counter()

    async def factory() -> Heavy:
        n = calls.hit()
        await asyncio.sleep(0.02)
        if n == 1:
            raise ConnectionError("first try fails")
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(c.aget(Heavy) for _ in range(100)), return_exceptions=True), TIMEOUT
    )
    assert calls.n == 1
    assert all(isinstance(o, ConnectionError) for o in outcomes)
    again = await c.aget(Heavy)
    assert isinstance(again, Heavy)
    assert calls.n == 2


def test_threads_racing_a_failing_factory_then_retrying() -> None:
    """Threads racing a factory that fails once: the failures cache nothing, one instance wins."""
    calls = Counter()

    def factory() -> Heavy:
        n = calls.hit()
        time.sleep(0.01)
        if n == 1:
            raise ConnectionError("first try fails")
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()

    def attempt() -> Heavy | None:
        try:
            return c.get(Heavy)
        except ConnectionError:
            return None

    results = race(16, attempt)
    got = [r for r in results if r is not None]
    assert results.count(None) == 1
    assert calls.n == 2
    assert len({id(r) for r in got}) == 1
    assert c.get(Heavy) is got[0]


def test_failing_generator_singleton_caches_nothing() -> None:
    """A generator singleton that raises before yielding leaves nothing to cache or finalize."""
    calls = Counter()

    def resource() -> Any:
        if calls.hit() == 1:
            raise ConnectionError("first try fails")
        yield Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, resource).singleton()
    with pytest.raises(ConnectionError):
        c.get(Heavy)
    assert isinstance(c.get(Heavy), Heavy)
    c.close()
    assert calls.n == 2


def test_failing_scoped_factory_caches_nothing() -> None:
    """A scoped factory that raises leaves the scope without an instance; the next call retries."""
    calls = Counter()

    def factory() -> Heavy:
        if calls.hit() == 1:
            raise ConnectionError("first try fails")
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).scoped("request")
    with c.scope():
        with pytest.raises(ConnectionError):
            c.get(Heavy)
        first = c.get(Heavy)
        assert c.get(Heavy) is first
    assert calls.n == 2


# -- no spurious cycles -----------------------------------------------------------------------


class ChainC:
    def __init__(self) -> None:
        time.sleep(0.005)


class ChainB:
    def __init__(self, c: ChainC) -> None:
        time.sleep(0.005)
        self.c = c


class ChainA:
    def __init__(self, b: ChainB) -> None:
        self.b = b


def test_regression_threads_resolving_one_transient_chain_never_see_a_cycle() -> None:
    """Regression (InjectQ 0.5.0): 16 threads resolving one slow transient chain raise nothing."""
    c = InjectQ()
    c.bind(ChainA, ChainA).transient()
    c.bind(ChainB, ChainB).transient()
    c.bind(ChainC, ChainC).transient()

    def resolve_many() -> list[ChainA]:
        return [c.get(ChainA) for _ in range(5)]

    batches = race(16, resolve_many)
    every = [a for batch in batches for a in batch]
    assert len({id(a) for a in every}) == 16 * 5
    assert len({id(a.b.c) for a in every}) == 16 * 5


def test_threads_resolving_a_chain_through_factories_never_see_a_cycle() -> None:
    """Factories that resolve from the container inside raise no cycle error under threads."""
    c = InjectQ()

    def make_c() -> ChainC:
        return ChainC()

    def make_b() -> ChainB:
        return ChainB(c.get(ChainC))  # service-locator style: re-enters the container

    def make_a() -> ChainA:
        return ChainA(c.get(ChainB))

    c.bind_factory(ChainC, make_c)
    c.bind_factory(ChainB, make_b)
    c.bind_factory(ChainA, make_a)
    results = race(16, lambda: [c.get(ChainA) for _ in range(3)])
    assert sum(len(r) for r in results) == 48


def test_threads_racing_singleton_created_via_nested_container_calls() -> None:
    """A singleton factory that resolves another singleton inside raises no cycle error."""
    calls = Counter()

    class Inner:
        def __init__(self) -> None:
            calls.hit()
            time.sleep(0.02)

    class Outer:
        def __init__(self, inner: Inner) -> None:
            self.inner = inner

    c = InjectQ()
    c.bind(Inner, Inner).singleton()
    c.bind_factory(Outer, lambda: Outer(c.get(Inner))).singleton()
    results = race(16, lambda: (c.get(Outer), c.get(Inner)))
    assert calls.n == 1
    assert len({id(o) for o, _ in results}) == 1
    assert all(o.inner is i for o, i in results)


async def test_tasks_resolving_one_async_transient_chain_never_see_a_cycle() -> None:
    """Many tasks interleaving on one async transient chain raise no cycle error."""

    async def make_leaf() -> ChainC:
        await asyncio.sleep(0.001)
        return ChainC.__new__(ChainC)  # skip the sleeping __init__

    c = InjectQ()
    c.bind_factory(ChainC, make_leaf)
    results = await asyncio.wait_for(asyncio.gather(*(c.aget(ChainA) for _ in range(100))), TIMEOUT)
    assert len({id(a.b.c) for a in results}) == 100


def test_real_cycle_is_still_reported_under_threads() -> None:
    """A genuine cycle is reported as ``CircularDependencyError`` in every racing thread."""
    c = InjectQ()
    c.bind(CycleX, CycleX).singleton()
    c.bind(CycleY, CycleY).singleton()

    def attempt() -> str:
        try:
            c.get(CycleX)
        except CircularDependencyError:
            return "cycle"
        return "resolved"

    assert race(8, attempt) == ["cycle"] * 8


class LazyLeft:
    def __init__(self, right: Lazy[LazyRight]) -> None:
        self.right = right


class LazyRight:
    def __init__(self, left: LazyLeft) -> None:
        time.sleep(0.01)
        self.left = left


def test_threads_calling_lazy_handles_in_a_lazy_cycle() -> None:
    """Threads racing through a Lazy-broken cycle of singletons get one pair, no error."""
    c = InjectQ()
    c.bind(LazyLeft, LazyLeft).singleton()
    c.bind(LazyRight, LazyRight).singleton()
    results = race(16, lambda: c.get(LazyLeft).right())
    assert len({id(r) for r in results}) == 1
    assert results[0].left is c.get(LazyLeft)


# -- cancellation during an async creation -----------------------------------------------------


async def test_cancelling_one_waiter_leaves_the_creation_and_other_waiters_alone() -> None:
    """A waiter that is cancelled (or times out) does not cancel the shared creation."""
    calls = Counter()
    release = asyncio.Event()

    async def factory() -> Heavy:
        calls.hit()
        await asyncio.wait_for(release.wait(), TIMEOUT)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    creator = asyncio.create_task(c.aget(Heavy))
    await asyncio.sleep(0)  # the creator is now inside the factory
    waiters = [asyncio.create_task(c.aget(Heavy)) for _ in range(10)]
    await asyncio.sleep(0)
    waiters[0].cancel()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(c.aget(Heavy), 0.01)  # another waiter gives up
    release.set()
    created = await asyncio.wait_for(creator, TIMEOUT)
    rest = await asyncio.wait_for(asyncio.gather(*waiters[1:]), TIMEOUT)
    assert waiters[0].cancelled()
    assert all(r is created for r in rest)
    assert c.get(Heavy) is created
    assert calls.n == 1


async def test_cancelled_creator_lets_a_waiter_create_the_singleton() -> None:
    """When the task creating a singleton is cancelled, its waiters retry instead of failing."""
    calls = Counter()

    async def factory() -> Heavy:
        calls.hit()
        await asyncio.sleep(0.05)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).singleton()
    creator = asyncio.create_task(c.aget(Heavy))
    await asyncio.sleep(0.01)
    waiters = [asyncio.create_task(c.aget(Heavy)) for _ in range(20)]
    await asyncio.sleep(0.01)
    creator.cancel()
    results = await asyncio.wait_for(asyncio.gather(*waiters), TIMEOUT)
    assert creator.cancelled()
    assert len({id(r) for r in results}) == 1
    assert calls.n == 2  # the cancelled attempt, then one retry
    assert c.get(Heavy) is results[0]


async def test_cancelled_creator_of_a_scoped_instance_lets_a_waiter_create_it() -> None:
    """The same retry holds for an async scoped instance whose creating task is cancelled."""
    calls = Counter()

    async def factory() -> Heavy:
        calls.hit()
        await asyncio.sleep(0.05)
        return Heavy()

    c = InjectQ()
    c.bind_factory(Heavy, factory).scoped("request")
    async with c.scope():
        creator = asyncio.create_task(c.aget(Heavy))
        await asyncio.sleep(0.01)
        waiters = [asyncio.create_task(c.aget(Heavy)) for _ in range(5)]
        await asyncio.sleep(0.01)
        creator.cancel()
        results = await asyncio.wait_for(asyncio.gather(*waiters), TIMEOUT)
        assert creator.cancelled()
        assert len({id(r) for r in results}) == 1
        assert await c.aget(Heavy) is results[0]
    assert calls.n == 2


async def test_cancelled_waiters_of_a_failed_creation_log_nothing(caplog: pytest.LogCaptureFixture
                                                                  ) -> None:
    """Tasks waiting on another task's creation and cancelled before it fails: the failure
    is the creator's to raise; asyncio logs no "exception was never retrieved" for them."""
    import gc

    started = asyncio.Event()
    release = asyncio.Event()

    class Flaky:
        pass

    async def make() -> Flaky:
        started.set()
        await release.wait()
        raise RuntimeError("creation failed")

    c = InjectQ()
    c.bind_factory(Flaky, make).singleton()
    creator = asyncio.create_task(c.aget(Flaky))
    await started.wait()
    waiters = [asyncio.create_task(c.aget(Flaky)) for _ in range(20)]
    await asyncio.sleep(0.01)
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    release.set()
    with pytest.raises(RuntimeError, match="creation failed"):
        await creator
    await asyncio.sleep(0.01)
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
