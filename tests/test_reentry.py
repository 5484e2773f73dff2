"""A factory that resolves the key it is creating is a cycle, reported as
``CircularDependencyError`` naming the key, in both containers: never an endless
recursion (sync), never a task waiting forever on itself (async, from a child task)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import pytest

from injectq import CircularDependencyError
from tests.reliability_support import RelApp, rel_app, rel_container

__all__ = ["rel_app", "rel_container"]


def test_sync_scoped_factory_resolving_its_own_key(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    c = rel_container()
    s = rel_app.services
    with c.scope("request") as scope:
        with pytest.raises(CircularDependencyError, match="Echo") as info:
            c.get(s.Echo)
        assert info.value.problem.code == "IQ002"
        assert "Echo" not in repr(scope.cache)
        # the key is not left "being created": asking again reports the cycle again
        with pytest.raises(CircularDependencyError):
            c.get(s.Echo)
    assert s.PROBE.calls["Echo"] == 2


def test_sync_scoped_reentry_in_a_scope_another_thread_used(
    rel_app: RelApp, rel_container: Callable[[], Any]
) -> None:
    """The locked path (a scope shared by two threads) tells the cycle too."""
    c = rel_container()
    s = rel_app.services

    with c.scope("request"):
        ctx = contextvars.copy_context()
        errors: list[BaseException] = []

        def other() -> None:
            try:
                ctx.run(c.get, s.RequestCtx)  # marks the scope shared
                ctx.run(c.get, s.Echo)
            except BaseException as exc:
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join(30)
        assert not t.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], CircularDependencyError)
        with pytest.raises(CircularDependencyError, match="Echo"):
            c.get(s.Echo)  # the opener, now that the scope is shared


@pytest.mark.parametrize("scoped", [False, True], ids=["singleton", "scoped"])
def test_async_factory_resolving_its_own_key_from_a_child_task(
    rel_app: RelApp, rel_container: Callable[[], Any], scoped: bool
) -> None:
    c = rel_container()
    s = rel_app.services
    key = s.ScopedAsyncEcho if scoped else s.AsyncEcho

    async def main() -> None:
        async with c.scope("request"):
            for _ in range(2):  # nothing is left pending: the second ask fails the same way
                with pytest.raises(CircularDependencyError, match=key.__name__):
                    await asyncio.wait_for(c.aget(key), 10)

    asyncio.run(main())
