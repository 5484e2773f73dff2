"""Fork safety: after ``os.fork`` the child process has only the thread that forked.

A lock another thread held at that moment stays held forever in the child, so the first
resolution needing it would deadlock. Containers register here (weakly); in the child,
each gets fresh locks, and a creation another thread had under way is abandoned (its
slot is emptied so that the child creates the instance again). What the forking thread
itself holds is kept: it goes on in the child. The child keeps the instances created
before the fork but has nothing to finalize: the parent's resources (a pool's
connections) are the parent's to close; the child finalizes what it creates.
Imports only the standard library.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["fresh_rlock", "held_here", "on_fork_in_child", "owned_here", "track"]

_owners: weakref.WeakSet[Any] = weakref.WeakSet()
_hooks: list[Callable[[], None]] = []


def track(owner: Any) -> None:
    """Call ``owner._after_fork_in_child()`` in every child forked from now on."""
    _owners.add(owner)


def on_fork_in_child(hook: Callable[[], None]) -> None:
    """Run ``hook`` in every forked child (for module-level locks)."""
    _hooks.append(hook)


def held_here(lock: Any) -> bool:
    """Does this (the forking) thread hold the RLock ``lock``?"""
    return bool(lock._is_owned())


def fresh_rlock(lock: Any) -> Any:
    """``lock`` if this (the forking) thread holds it, else a new RLock."""
    return lock if held_here(lock) else threading.RLock()


def owned_here(pending: Any) -> bool:
    """Is an async creation (a PendingCreation) run by a task of this thread's loop?"""
    owner = getattr(pending, "owner", None)
    asyncio = sys.modules.get("asyncio")
    if owner is None or asyncio is None:
        return False
    return owner.get_loop() is asyncio._get_running_loop()


def _after_fork_in_child() -> None:
    for hook in _hooks:
        hook()
    for owner in list(_owners):
        owner._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
