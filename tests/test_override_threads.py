"""override() blocks with threads, forks and tasks that outlive them, in both containers
(real threads, a real fork, a real event loop)."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest

from tests.reliability_support import (
    RelApp,
    assert_each_resource_finalized_once,
    rel_app,
    rel_container,
)
from tests.test_fork import TIMEOUT, fork_and_check, hold_creation

__all__ = ["rel_app", "rel_container"]


def test_a_factory_resolving_through_a_helper_thread_under_override(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """Relay's factory waits for a helper thread resolving Blocker: inside a block that
    replaces Settings both are rebuilt, the helper's creation is not blocked by Relay's,
    and the block's Blocker is the one both threads see."""
    c = rel_container()
    s = rel_app.services
    fake = s.Settings()
    done: list[Any] = []

    def run() -> None:
        with c.override(s.Settings, fake):
            relay = c.get(s.Relay)
            done.append((relay, c.get(s.Blocker)))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    assert not worker.is_alive(), "deadlock: the helper thread waited for Relay's creation"
    relay, blocker = done[0]
    assert relay.blocker is blocker and blocker.settings is fake
    outside = c.get(s.Relay)  # outside the block: built from the real Settings
    assert outside is not relay and outside.blocker.settings is not fake
    c.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_another_thread_creates_in_an_override_block(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """Another thread holds a creation inside an override block when the process forks:
    the child resolves in that block (the same context) without deadlock, creating the
    instance again, and can open blocks of its own."""
    c = rel_container()
    s = rel_app.services
    fake = s.Settings()
    contexts: list[contextvars.Context] = []
    leave = threading.Event()

    def create_in_block() -> Any:
        with c.override(s.Settings, fake):
            contexts.append(contextvars.copy_context())
            blocker = c.get(s.Blocker)
            leave.wait(TIMEOUT)
            return blocker

    thread, release, got = hold_creation(rel_app, "Blocker", create_in_block)

    def child() -> None:
        s.PROBE.gates.clear()
        blocker = contexts[0].run(c.get, s.Blocker)
        assert blocker.settings is fake
        assert contexts[0].run(c.get, s.Blocker) is blocker
        with c.override(s.Settings, s.Settings()) as other:
            assert c.get(s.Blocker).settings is other
        assert c.get(s.Blocker).settings is not fake

    try:
        fork_and_check(child)
    finally:
        release.set()
        leave.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert got[0].settings is fake
    c.close()


def test_a_task_outliving_its_block_resolves_as_outside(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """A task created inside a block resolves after the block closed, while an unrelated
    block is open in another task: it sees no override, and what it builds belongs to the
    container (finalized by its close), not to the block that has ended."""
    c = rel_container()
    s = rel_app.services
    fake = s.Settings()

    async def main() -> None:
        opened, finish = asyncio.Event(), asyncio.Event()

        async def unrelated() -> None:
            with c.override(s.Client, s.Client(s.Settings())):
                opened.set()
                await finish.wait()

        other = asyncio.create_task(unrelated())
        await opened.wait()
        go = asyncio.Event()

        async def late() -> Any:
            await go.wait()
            return await c.aget(s.Repo)

        with c.override(s.Settings, fake):
            assert c.get(s.Repo).pool.settings is fake
            task = asyncio.create_task(late())
        go.set()
        repo = await task
        assert repo.pool.settings is not fake
        assert repo.pool is c.get(s.Pool)
        finish.set()
        await other

    asyncio.run(main())
    pools = [serial for event, name, serial in s.PROBE.log if event == "open" and name == "Pool"]
    assert len(pools) == 2  # the block's, closed with it; the container's
    c.close()
    assert_each_resource_finalized_once(s.PROBE.log)
