"""close() racing a creation, in both containers (real threads, a real event loop): a
creation under way when the close starts either completes first and is finalized with
the rest, or fails with a ScopeError; what the close finalized is never handed out."""

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
)

__all__ = ["rel_app", "rel_container"]


def _closed(log: list[tuple[str, str, int]], serial: int) -> bool:
    return ("close", "Pool", serial) in log


def test_close_waits_for_a_sync_creation_under_way(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """Keeper (a singleton holding the pool resource) is being created in one thread when
    another closes the container: the close waits for it, then finalizes its pool with
    the rest; the next get makes a new Keeper on a new pool."""
    c = rel_container()
    s = rel_app.services
    entered, release = threading.Event(), threading.Event()
    s.PROBE.gates["Keeper"] = (entered, release)
    got: list[Any] = []
    creator = threading.Thread(target=lambda: got.append(c.get(s.Keeper)))
    creator.start()
    assert entered.wait(10)  # the pool is made, Keeper's constructor is held
    closed = threading.Event()

    def close() -> None:
        c.close()
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    assert not closed.wait(0.2), "close() did not wait for the creation under way"
    release.set()
    creator.join(10)
    closer.join(10)
    assert closed.is_set() and got
    kept = got[0]
    assert _closed(s.PROBE.log, kept.pool.serial)  # finalized with the rest

    again = c.get(s.Keeper)
    assert again is not kept and again.pool is not kept.pool
    assert not _closed(s.PROBE.log, again.pool.serial)
    assert c.get(s.Keeper) is again
    c.close()
    assert _closed(s.PROBE.log, again.pool.serial)
    assert_each_resource_finalized_once(s.PROBE.log)


def test_no_get_returns_a_singleton_whose_pool_a_close_finalized(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """Threads resolve Keeper while another closes the container again and again: no get
    ever returns a Keeper whose pool was finalized before that get began."""
    c = rel_container()
    s = rel_app.services
    log = s.PROBE.log
    stale: list[int] = []
    stop = threading.Event()

    def resolve() -> None:
        while not stop.is_set():
            began = len(log)
            serial = c.get(s.Keeper).pool.serial
            with s.PROBE.lock:
                closes = [i for i, e in enumerate(log) if e == ("close", "Pool", serial)]
            if closes and closes[0] < began:
                stale.append(serial)

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(50):
        c.close()
    stop.set()
    for t in threads:
        t.join(10)
    c.close()
    assert not stale
    assert_each_resource_finalized_once(log)
    assert sum(1 for e in log if e[0] == "open") > 1  # the closes did race the threads


def test_an_async_creation_across_a_close_fails_clearly(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """AsyncKeeper awaits (holding no lock) when the container is closed: it is not handed
    out (its pool was finalized by the close); the error says what happened."""
    c = rel_container()
    s = rel_app.services
    entered, release = threading.Event(), threading.Event()
    s.PROBE.gates["AsyncKeeper"] = (entered, release)

    async def main() -> None:
        task = asyncio.create_task(c.aget(s.AsyncKeeper))
        while not entered.is_set():
            await asyncio.sleep(0.001)
        await c.aclose()
        release.set()
        with pytest.raises(ScopeError, match=r"closed while .*AsyncKeeper.* was being created"):
            await task
        again = await c.aget(s.AsyncKeeper)
        assert not _closed(s.PROBE.log, again.pool.serial)
        assert await c.aget(s.AsyncKeeper) is again
        await c.aclose()
        assert _closed(s.PROBE.log, again.pool.serial)

    asyncio.run(main())
    assert_each_resource_finalized_once(s.PROBE.log)
