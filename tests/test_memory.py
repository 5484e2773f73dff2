"""Memory: resolving many transients and opening many scopes does not grow memory, scoped
instances die with their scope, and the container keeps no transient alive; both containers.

Growth is measured with tracemalloc (memory traced after ``gc.collect()``, after a warm-up
that compiles resolvers and fills caches), and must stay under a small constant slack.
The default runs a tenth of the full load; ``INJECTQ_STRESS_SCALE=1`` runs it whole
(1,000,000 transients, 100,000 scopes).
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability_support import RelApp, rel_app, rel_container, scale

__all__ = ["rel_app", "rel_container"]

TRANSIENTS = max(10_000, int(1_000_000 * scale(0.1)))
SCOPES = max(1_000, int(100_000 * scale(0.1)))
SLACK = 64 * 1024  # bytes: a constant, whatever the load (dict resizes, free lists)


@pytest.fixture
def traced() -> Iterator[Callable[[], int]]:
    """Start tracemalloc; give a function measuring traced memory after a full collect."""
    tracemalloc.start()

    def current() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0]

    try:
        yield current
    finally:
        tracemalloc.stop()


def test_million_transients_do_not_grow_memory(
    rel_container: Callable[[], Any], rel_app: RelApp, traced: Callable[[], int]
) -> None:
    """Resolving TRANSIENTS transients (a chain over a singleton) leaves memory where it was."""
    c = rel_container()
    s = rel_app.services
    get, audit, repo = c.get, s.Audit, s.Repo
    for _ in range(1_000):  # warm up: compile, create the singletons
        get(audit)
        get(repo)
    before = traced()
    for _ in range(TRANSIENTS // 2):
        get(audit)  # Audit -> Repo -> Pool (singleton resource)
        get(repo)
    growth = traced() - before
    print(f"\n{TRANSIENTS} transients: traced memory {before} -> {before + growth} bytes")
    assert growth < SLACK, f"{growth} bytes more after {TRANSIENTS} transients"
    assert s.PROBE.calls["Repo"] == 2 * (1_000 + TRANSIENTS // 2)
    c.close()


def test_hundred_thousand_scopes_do_not_grow_memory(
    rel_container: Callable[[], Any], rel_app: RelApp, traced: Callable[[], int]
) -> None:
    """Opening and closing SCOPES request scopes, each with scoped instances and resources,
    leaves memory where it was and finalizes every resource."""
    c = rel_container()
    s = rel_app.services
    probe = s.PROBE

    def requests(n: int) -> None:
        for _ in range(n):
            with c.scope():
                c.get(s.Handler)  # RequestCtx, Session and Tx resources, Repo, Audit
        probe.log.clear()  # the probe's own record grows; the container's must not

    requests(1_000)
    before = traced()
    requests(SCOPES)
    growth = traced() - before
    print(f"\n{SCOPES} scopes: traced memory {before} -> {before + growth} bytes")
    assert growth < SLACK, f"{growth} bytes more after {SCOPES} scopes"
    assert probe.calls["Session"] == probe.calls["Tx"] == 1_000 + SCOPES
    c.close()


async def test_async_scopes_do_not_grow_memory(
    rel_container: Callable[[], Any], rel_app: RelApp, traced: Callable[[], int]
) -> None:
    """Opening and closing SCOPES/10 async request scopes with an async resource in each
    leaves memory where it was."""
    c = rel_container()
    s = rel_app.services

    async def requests(n: int) -> None:
        for _ in range(n):
            async with c.scope():
                await c.aget(s.AsyncHandler)
        s.PROBE.log.clear()

    await requests(500)
    before = traced()
    await asyncio.wait_for(requests(SCOPES // 10), 60)
    growth = traced() - before
    print(f"\n{SCOPES // 10} async scopes: traced memory {before} -> {before + growth} bytes")
    assert growth < SLACK, f"{growth} bytes more after {SCOPES // 10} async scopes"
    assert s.PROBE.calls["Conn"] == 500 + SCOPES // 10
    await c.aclose()


def test_scoped_instances_are_released_when_their_scope_closes(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """Scoped instances, scoped resources and the transient resources a scope owns are
    garbage once the scope has closed."""
    c = rel_container()
    s = rel_app.services
    with c.scope() as state:
        handler = c.get(s.Handler)
        refs = [weakref.ref(o) for o in (handler.ctx, handler.session, handler.tx, handler)]
        state_ref = weakref.ref(state)
        del handler, state
        assert all(r() is not None for r in refs[:2])  # the scope holds them while open
    gc.collect()
    assert [r() for r in refs] == [None, None, None, None]
    assert state_ref() is None
    c.close()


async def test_async_scoped_instances_are_released_when_their_scope_closes(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """An async scoped resource and the instances of an ``async with`` scope are garbage
    after it closes."""
    c = rel_container()
    s = rel_app.services
    async with c.scope():
        handler = await c.aget(s.AsyncHandler)
        refs = [weakref.ref(o) for o in (handler.conn, handler.ctx, handler.session)]
        del handler
    gc.collect()
    assert [r() for r in refs] == [None, None, None]
    await c.aclose()


def test_container_holds_no_reference_to_transients(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """A transient the container created is garbage as soon as the caller drops it (no
    collection needed: nothing in the container refers to it), while singletons stay."""
    c = rel_container()
    s = rel_app.services
    audit = c.get(s.Audit)
    refs = [weakref.ref(audit), weakref.ref(audit.repo)]
    pool = weakref.ref(audit.repo.pool)
    del audit
    assert [r() for r in refs] == [None, None]
    gc.collect()
    assert pool() is c.get(s.Pool)  # the singleton is the container's
    c.close()


def test_evicted_resolver_shapes_leave_no_source_lines_behind(monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    """Past the shape cache's limit the cache is emptied; the source lines registered for
    tracebacks go with the last resolver using them, not with the process."""
    import gc
    import linecache

    from injectq import InjectQ
    from injectq.runtime import compiler

    monkeypatch.setattr(compiler, "_MAX_SHAPES", 8)
    before = {k for k in linecache.cache if k.startswith("<injectq resolvers")}
    class Part:
        pass

    for width in range(1, 40):  # factories of 1..39 injected parameters: a shape each
        params = ", ".join(f"p{i}: Part" for i in range(width))
        ns: dict[str, Any] = {"Part": Part}
        exec(f"def make({params}) -> object:\n    return object()", ns)
        c = InjectQ()
        c.bind(Part, Part).singleton()
        c.bind_factory("thing", ns["make"])
        c.get("thing")
        del c
    gc.collect()
    left = {k for k in linecache.cache if k.startswith("<injectq resolvers")} - before
    assert len(left) <= 8, len(left)
