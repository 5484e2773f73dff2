"""Fork safety: a child process made by ``os.fork`` while another thread holds a container
lock (a singleton creation under way) resolves without deadlocking, on both containers.

The child sees the singletons created before the fork (the same objects); a creation that
another thread had under way at the moment of the fork is abandoned in the child (that
thread does not exist there) and done again on the child's first request. Each child is
bounded: it kills itself with SIGALRM after a few seconds, and the parent kills it if it
has not exited in time; a hang fails the test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from tests.reliability_support import (
    RelApp,
    assert_each_resource_finalized_once,
    rel_app,
    rel_container,
)

__all__ = ["rel_app", "rel_container"]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CHILD_LIMIT = 5  # seconds the child may run
TIMEOUT = 10  # seconds the parent waits for anything


def fork_and_check(child: Callable[[], None]) -> None:
    """Run ``child`` in a forked process; fail unless it returns within the limit."""
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process with threads: that is the point here
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.alarm(CHILD_LIMIT)  # a deadlock ends the child by SIGALRM
            child()
            code = 0
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    deadline = time.monotonic() + TIMEOUT
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung (deadlock) and was killed")
    assert status is not None
    if os.WIFSIGNALED(status):
        pytest.fail(f"the forked child was killed by signal {os.WTERMSIG(status)} (deadlock)")
    assert os.WEXITSTATUS(status) == 0, "the forked child failed: see its traceback above"


def hold_creation(app: RelApp, name: str, create: Callable[[], Any]) -> tuple[
        threading.Thread, threading.Event, list[Any]]:
    """Start a thread whose creation of ``name`` waits on a gate; return once it waits."""
    entered, release = threading.Event(), threading.Event()
    app.services.PROBE.gates[name] = (entered, release)
    got: list[Any] = []
    thread = threading.Thread(target=lambda: got.append(create()), daemon=True)
    thread.start()
    assert entered.wait(TIMEOUT), "the creating thread never reached the factory"
    return thread, release, got


def test_child_resolves_a_singleton_whose_creation_another_thread_held(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """Forked while a thread holds a singleton's creation lock: the child creates it anew
    without deadlock and keeps the singletons created before the fork."""
    c = rel_container()
    s = rel_app.services
    settings = c.get(s.Settings)
    thread, release, got = hold_creation(rel_app, "Blocker", lambda: c.get(s.Blocker))

    def child() -> None:
        s.PROBE.gates.clear()  # the child's copy of the gate: let its own creation pass
        blocker = c.get(s.Blocker)
        assert isinstance(blocker, s.Blocker)
        assert c.get(s.Blocker) is blocker
        assert blocker.settings is settings  # created before the fork: kept
        assert c.get(s.Settings) is settings
        assert s.PROBE.calls["Blocker"] == 2  # the parent thread's call, then the child's
        assert s.PROBE.calls["Settings"] == 1
        with c.scope() as state:  # scopes and resources work in the child too
            assert c.get(s.Handler).ctx.scope is state
        c.close()

    try:
        fork_and_check(child)
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    # the parent is unaffected: its thread finished the creation, once
    assert got[0] is c.get(s.Blocker)
    assert s.PROBE.calls["Blocker"] == 1
    c.close()


def test_child_resolves_an_async_singleton_another_loop_was_creating(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """Forked while an event loop in another thread is creating an async singleton: the
    child's own loop creates it instead of waiting for a creator that is not there."""
    c = rel_container()
    s = rel_app.services
    thread, release, got = hold_creation(
        rel_app, "AsyncBlocker", lambda: asyncio.run(c.aget(s.AsyncBlocker)))

    def child() -> None:
        s.PROBE.gates.clear()
        first = asyncio.run(c.aget(s.AsyncBlocker))
        assert asyncio.run(c.aget(s.AsyncBlocker)) is first
        assert s.PROBE.calls["AsyncBlocker"] == 2

    try:
        fork_and_check(child)
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert got[0] is asyncio.run(c.aget(s.AsyncBlocker))
    assert s.PROBE.calls["AsyncBlocker"] == 1


def test_child_compiles_while_another_thread_held_the_compile_lock(rel_app: RelApp) -> None:
    """Forked while a thread of the parent holds the runtime container's compile lock (its
    first ``get`` is compiling): the child compiles and resolves on its own."""
    c = rel_app.runtime()
    s = rel_app.services
    s.PROBE.reset()
    thread, release, _ = hold_creation(rel_app, "Blocker", lambda: c.get(s.Blocker))
    # hold the compile lock too, from another thread: a first resolution of a new key
    held, done = threading.Event(), threading.Event()

    def hold_compile_lock() -> None:
        with c._compile_lock:
            held.set()
            done.wait(TIMEOUT)

    locker = threading.Thread(target=hold_compile_lock, daemon=True)
    locker.start()
    assert held.wait(TIMEOUT)

    def child() -> None:
        s.PROBE.gates.clear()
        c.declare_scope("batch", parent="request")  # recompiles: takes the compile lock
        assert isinstance(c.get(s.Blocker), s.Blocker)
        with c.scope() as state:
            assert c.get(s.RequestCtx).scope is state

    try:
        fork_and_check(child)
    finally:
        release.set()
        done.set()
        thread.join(TIMEOUT)
        locker.join(TIMEOUT)
    assert not thread.is_alive() and not locker.is_alive()
    s.PROBE.reset()


def test_child_resolves_in_a_scope_whose_lock_another_thread_held(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """Forked inside an open request scope while another thread, sharing that scope's
    context, holds the scope's lock creating a scoped instance: the child's resolutions
    in that scope go through, and create the instance again."""
    import contextvars

    c = rel_container()
    s = rel_app.services
    with c.scope() as state:
        ctx = contextvars.copy_context()
        thread, release, got = hold_creation(
            rel_app, "RequestCtx", lambda: ctx.run(c.get, s.RequestCtx))

        def child() -> None:
            s.PROBE.gates.clear()
            request_ctx = c.get(s.RequestCtx)
            assert request_ctx.scope is state
            assert c.get(s.Handler).ctx is request_ctx
            assert s.PROBE.calls["RequestCtx"] == 2

        try:
            fork_and_check(child)
        finally:
            release.set()
            thread.join(TIMEOUT)
        assert not thread.is_alive()
        assert got[0].scope is state
    c.close()


def test_child_finalizes_only_what_it_created(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """The parent's pool (a singleton resource) and its request's session (a scoped one)
    are the parent's: a child that closes the scope and the container finalizes only the
    resources it created itself, and the parent still finalizes its own, once."""
    c = rel_container()
    s = rel_app.services
    pool = c.get(s.Pool)
    with c.scope():
        session = c.get(s.Session)
        parents = {serial for event, _, serial in s.PROBE.log if event == "open"}
        assert len(parents) == 2

        def child() -> None:
            # the child leaves the parent's block by hand (it never returns into it)
            state = c.current_scope("request")
            assert state is not None and c.get(s.Session) is session
            tx = c.get(s.Tx)  # a transient resource of the child, in that scope
            assert tx.session is session
            state.__exit__(None, None, None)
            assert c.get(s.Pool) is pool  # the parent's singleton is used, not closed
            c.close()
            closed = {serial for event, _, serial in s.PROBE.log if event == "close"}
            opened = {serial for event, _, serial in s.PROBE.log if event == "open"}
            assert not closed & parents, "the child finalized the parent's resources"
            assert closed == opened - parents and len(closed) == 1  # its Tx, once
            fresh = c.get(s.Pool)  # after the child's close, its own new pool
            assert fresh is not pool
            c.close()
            assert ("close", "Pool", fresh.serial) in s.PROBE.log

        fork_and_check(child)
        assert c.get(s.Session) is session
    c.close()
    assert ("close", "Pool", pool.serial) in s.PROBE.log
    assert_each_resource_finalized_once(s.PROBE.log)
