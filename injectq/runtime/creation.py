"""The create-once protocol: every singleton, scoped and override-block instance is made here.

Compiled resolvers (runtime), generated modules (injectq-gen) and override blocks keep only
their fast path (read a cached value); on a miss they call one of these functions with a
``make`` callable that builds the instance. So one piece of code decides locking, the
pending Future that lets concurrent tasks share one async creation, re-entry detection,
retry after a failure and what a cancelled creator leaves to its waiters.

* ``create_once`` / ``acreate_once``: a ``Slot`` (one singleton).
* ``create_keyed`` / ``acreate_keyed``: an entry of a dict guarded by a lock (a scope's
  cache, an override block's cache).

Nothing here reads a signature; this module imports only the standard library and errors.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, NoReturn, TypeVar

from injectq.errors import InjectQError
from injectq.model.markers import Key, display_key
from injectq.runtime.forking import held_here, owned_here

__all__ = [
    "MISSING",
    "PendingCreation",
    "Slot",
    "acreate_keyed",
    "acreate_once",
    "aenter_resource",
    "await_instance",
    "create_keyed",
    "create_once",
    "enter_resource",
]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

Reentry = Callable[[Key], NoReturn]
# the async creations under way in this context: a child task the creating task started
# (asyncio.gather) inherits them, so one asking for the instance it is part of making is
# a cycle, not a wait for itself
_MAKING: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
    "injectq_async_creations", default=()
)
T = TypeVar("T")
OwnerT = TypeVar("OwnerT")


class _Abandoned(Exception):
    """The task creating an instance was cancelled (or interrupted) before it finished."""


def _abandon(exc: BaseException) -> BaseException:
    """What a failed async creation leaves in its Future for the tasks waiting on it.

    An ordinary exception is theirs too; a cancellation is the creator's own business, so
    its waiters are told to retry the creation instead of being cancelled with it.
    """
    return exc if isinstance(exc, Exception) else _Abandoned()


def _current_task() -> Any:
    try:
        asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
        return asyncio.current_task() if asyncio is not None else None
    except RuntimeError:  # no running loop
        return None


def reentered(key: Key) -> NoReturn:
    """A construction asked for what it is constructing (IQ002)."""
    from injectq.errors import CircularDependencyError
    from injectq.model.checks import reentry_problem

    raise CircularDependencyError(reentry_problem(key))


class PendingCreation(concurrent.futures.Future[Any]):
    """An async creation under way, and the task doing it."""

    def __init__(self) -> None:
        super().__init__()
        self.owner = _current_task()

    def waits_on_itself(self) -> bool:
        """Is the asker part of making it: the creating task, or a task it started?"""
        return self in _MAKING.get()


async def _wait(fut: concurrent.futures.Future[Any]) -> Any:
    """Wait for another task's creation. Shielded: cancelling one waiter must not cancel
    the shared Future (the creator and every other waiter would fail with it). MISSING
    when the creator was abandoned: the waiter then creates the instance itself."""
    import asyncio  # only ever awaited inside a running loop: asyncio is loaded already

    wrapped = asyncio.wrap_future(fut)
    # a waiter cancelled meanwhile never reads the outcome: read it here, so a failed
    # creation is not logged once per cancelled waiter ("exception was never retrieved")
    wrapped.add_done_callback(_retrieve)
    try:
        return await asyncio.shield(wrapped)
    except _Abandoned:
        return MISSING


def _retrieve(fut: Any) -> None:
    if not fut.cancelled():
        fut.exception()


class Slot:
    """Where one singleton lives: the value, a lock for creating it, an async creation."""

    __slots__ = ("creating", "lock", "pending", "value")

    def __init__(self) -> None:
        self.value: Any = MISSING
        self.lock = threading.RLock()
        self.pending: PendingCreation | None = None
        self.creating = False

    def after_fork_in_child(self) -> None:
        """In a forked child: a creation another thread had under way is abandoned (that
        thread is gone), so the next request creates the instance again."""
        if held_here(self.lock):
            return  # the forking thread itself is creating it: it goes on
        self.lock = threading.RLock()
        self.creating = False
        if self.pending is not None and not self.pending.done() and not owned_here(self.pending):
            self.pending = None


# -- resources and awaitable instances ----------------------------------------------------
def enter_resource(gen: Iterator[T], key: Key) -> T:
    """The instance a generator factory yields."""
    try:
        return next(gen)
    except StopIteration:
        raise InjectQError(
            f"resource factory for {display_key(key)} returned without yielding an instance"
        ) from None


async def aenter_resource(gen: AsyncIterator[T], key: Key) -> T:
    try:
        return await gen.__anext__()
    except StopAsyncIteration:
        raise InjectQError(
            f"resource factory for {display_key(key)} returned without yielding an instance"
        ) from None


async def await_instance(awaitable: Awaitable[T], key: Key) -> T:
    """Await an awaitable bound as an instance (its first and only await)."""
    try:
        return await awaitable
    except RuntimeError as exc:
        if "already awaited" not in str(exc):
            raise
        raise InjectQError(
            f"the awaitable bound to {display_key(key)} was already awaited: its first await "
            "failed (see that error) and a coroutine cannot be awaited twice; bind an async "
            "factory with bind_factory() so that a retry can create a new one"
        ) from exc


# -- sync creation --------------------------------------------------------------------------
def create_once(slot: Slot, make: Callable[[], Any], key: Key, reentry: Reentry) -> Any:
    """The singleton of ``slot``: made by ``make`` once, under the slot's lock. A factory
    that asks for its own key while it runs is a cycle; one that raises leaves nothing."""
    with slot.lock:
        value = slot.value
        if value is not MISSING:
            return value
        if slot.creating:
            reentry(key)
        slot.creating = True
        try:
            value = make()
        finally:
            slot.creating = False
        slot.value = value
        return value


def create_keyed(
    lock: Any, cache: dict[Any, Any], ckey: Any, make: Callable[[OwnerT], T], owner: OwnerT,
    key: Key = None,
) -> T:
    """``cache[ckey]``, made by ``make(owner)`` once, under ``lock`` (reentrant). While it
    is made, ``cache[ckey]`` is MISSING: read without the lock that is "not there yet", and
    under the lock only the creating thread can see it, asking again (a cycle).
    (acquire/release: on every request's path, and about half the cost of ``with``.)"""
    lock.acquire()
    try:
        value: T = cache.get(ckey, MISSING)
        if value is MISSING:
            if ckey in cache:
                reentered(ckey if key is None else key)
            cache[ckey] = MISSING
            try:
                value = make(owner)
            except BaseException:
                if cache.get(ckey) is MISSING:
                    del cache[ckey]
                raise
            cache[ckey] = value
        return value
    finally:
        lock.release()


# -- async creation -------------------------------------------------------------------------
class _Place:
    """Where an async creation keeps its result and its pending Future."""

    __slots__ = ()
    lock: Any

    def peek(self) -> Any: ...
    def pending(self) -> PendingCreation | None: ...
    def claim(self, fut: PendingCreation) -> None: ...
    def release(self) -> None: ...
    def store(self, value: Any) -> None: ...


class _SlotPlace(_Place):
    __slots__ = ("lock", "slot")

    def __init__(self, slot: Slot) -> None:
        self.slot = slot
        self.lock = slot.lock

    def peek(self) -> Any:
        return self.slot.value

    def pending(self) -> PendingCreation | None:
        return self.slot.pending

    def claim(self, fut: PendingCreation) -> None:
        self.slot.pending = fut

    def release(self) -> None:
        self.slot.pending = None

    def store(self, value: Any) -> None:
        self.slot.value = value


class _KeyedPlace(_Place):
    __slots__ = ("cache", "ckey", "lock", "table")

    def __init__(self, lock: Any, cache: dict[Any, Any], table: dict[Any, Any], ckey: Any):
        self.lock = lock
        self.cache = cache
        self.table = table
        self.ckey = ckey

    def peek(self) -> Any:
        return self.cache.get(self.ckey, MISSING)

    def pending(self) -> PendingCreation | None:
        return self.table.get(self.ckey)

    def claim(self, fut: PendingCreation) -> None:
        self.table[self.ckey] = fut

    def release(self) -> None:
        self.table.pop(self.ckey, None)

    def store(self, value: Any) -> None:
        self.cache[self.ckey] = value


async def _acreate(
    place: _Place, make: Callable[[], Awaitable[Any]], key: Key, reentry: Reentry | None
) -> Any:
    """One creation however many tasks ask at once; a cancelled creator lets a waiter
    create it instead; a failure is every waiter's and leaves nothing cached."""
    while True:
        with place.lock:
            value = place.peek()
            if value is not MISSING:
                return value
            fut = place.pending()
            mine = fut is None
            if fut is None:
                fut = PendingCreation()
                place.claim(fut)
        if not mine:
            if fut.waits_on_itself():  # it would wait for itself
                (reentry or reentered)(key)
            value = await _wait(fut)
            if value is not MISSING:
                return value
            continue  # its creator was cancelled: create it here
        token = _MAKING.set((*_MAKING.get(), fut))
        try:
            value = await make()
        except BaseException as exc:
            _MAKING.reset(token)
            with place.lock:
                place.release()
            fut.set_exception(_abandon(exc))
            raise
        _MAKING.reset(token)
        with place.lock:
            place.store(value)
            place.release()
        fut.set_result(value)
        return value


async def acreate_once(
    slot: Slot, make: Callable[[], Awaitable[Any]], key: Key, reentry: Reentry
) -> Any:
    """``create_once`` for a singleton that needs an await."""
    return await _acreate(_SlotPlace(slot), make, key, reentry)


async def acreate_keyed(
    lock: Any,
    cache: dict[Any, Any],
    table: dict[Any, Any],
    ckey: Any,
    make: Callable[[OwnerT], Awaitable[T]],
    owner: OwnerT,
    key: Key,
    reentry: Reentry | None,
) -> T:
    """``create_keyed`` for an instance that needs an await; ``table`` holds the pending
    creations of ``cache``."""

    def run() -> Awaitable[Any]:
        return make(owner)

    value: T = await _acreate(_KeyedPlace(lock, cache, table, ckey), run, key, reentry)
    return value
