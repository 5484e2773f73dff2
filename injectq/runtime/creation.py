"""The create-once protocol: every singleton, scoped and override-block instance is made here.

Compiled resolvers (runtime), generated modules (injectq-gen) and override blocks keep only
their fast path (read a cached value); on a miss they call one of these functions with a
``make`` callable that builds the instance. So one piece of code decides locking, the
pending Future that lets concurrent tasks share one async creation, re-entry detection,
retry after a failure and what a cancelled creator leaves to its waiters.

* ``create_once`` / ``acreate_once``: a ``Slot`` (one singleton).
* ``create_keyed`` / ``acreate_keyed``: an entry of a dict guarded by a lock (a scope's
  cache, an override block's cache).
* ``claim_once`` / ``claim_keyed`` / ``aclaim_once`` / ``aclaim_keyed``: the same protocol
  in two steps, for a caller that builds the dependencies between them (deep.py's explicit
  stack): a claim is what the creator holds (the lock, the pending Future) until it
  completes it with ``done(value)`` or gives it up with ``fail(exc)``. What another thread
  or task sees meanwhile is what it sees while a resolver creates the instance.

Nothing here reads a signature; this module imports only the standard library and errors.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Iterator
from typing import Any, NoReturn, Protocol, TypeVar

from injectq.errors import InjectQError, ScopeError
from injectq.model.markers import Key, display_key
from injectq.runtime.forking import held_here, owned_here

__all__ = [
    "MISSING",
    "Claim",
    "PendingCreation",
    "Slot",
    "aclaim_keyed",
    "aclaim_once",
    "acreate_keyed",
    "acreate_once",
    "aenter_resource",
    "await_instance",
    "claim_keyed",
    "claim_once",
    "closing",
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
        self.closed = False  # its container was closed meanwhile (see ``closing``)

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


@contextlib.contextmanager
def closing(slots: Iterable[Slot]) -> Generator[None, None, None]:
    """Hold the lock of every slot, for a container's close() to take its finalizers and
    forget its singletons: a sync creation under way completes first (and is finalized
    with the rest), one that starts meanwhile waits and makes a new singleton after the
    close; an async creation under way (it holds no lock while it awaits) is marked, and
    fails with a ScopeError instead of storing what the close may have finalized.

    The locks are taken without waiting while another is held (a creation may hold one
    slot's lock and wait for another's): on a busy one, all are let go, that creation is
    waited for, and the round starts again."""
    slots = list(slots)
    locks = [slot.lock for slot in slots]
    held: list[Any] = []
    while True:
        for lock in locks:
            if lock.acquire(blocking=False):
                held.append(lock)
                continue
            for h in reversed(held):
                h.release()
            held.clear()
            lock.acquire()  # the creation holding it finishes
            lock.release()
            break
        else:
            break
    try:
        for slot in slots:
            if slot.pending is not None:
                slot.pending.closed = True
        yield
    finally:
        for h in reversed(held):
            h.release()


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


# -- claims: creating in two steps ----------------------------------------------------
class Claim(Protocol):
    """A creation under way, held by its creator until it is completed or given up."""

    def done(self, value: Any) -> None: ...
    def fail(self, exc: BaseException) -> None: ...


class _SlotClaim:
    """A singleton being created: its slot's lock held, ``creating`` set."""

    __slots__ = ("slot",)

    def __init__(self, slot: Slot) -> None:
        self.slot = slot

    def done(self, value: Any) -> None:
        slot = self.slot
        slot.value = value
        slot.creating = False
        slot.lock.release()

    def fail(self, exc: BaseException) -> None:
        self.slot.creating = False
        self.slot.lock.release()


def claim_once(slot: Slot, key: Key, reentry: Reentry) -> tuple[Any, _SlotClaim | None]:
    """``(value, None)`` when the singleton exists, else ``(MISSING, claim)``: the slot's
    lock is held (other threads wait) until the claim is done or failed."""
    lock = slot.lock
    lock.acquire()
    value = slot.value
    if value is not MISSING:
        lock.release()
        return value, None
    if slot.creating:
        lock.release()
        reentry(key)
    slot.creating = True
    return MISSING, _SlotClaim(slot)


class _KeyedClaim:
    """An entry being created: its lock held, MISSING in its place."""

    __slots__ = ("cache", "ckey", "lock")

    def __init__(self, lock: Any, cache: dict[Any, Any], ckey: Any) -> None:
        self.lock = lock
        self.cache = cache
        self.ckey = ckey

    def done(self, value: Any) -> None:
        self.cache[self.ckey] = value
        self.lock.release()

    def fail(self, exc: BaseException) -> None:
        if self.cache.get(self.ckey, None) is MISSING:
            del self.cache[self.ckey]
        self.lock.release()


def claim_keyed(
    lock: Any, cache: dict[Any, Any], ckey: Any, key: Key = None
) -> tuple[Any, _KeyedClaim | None]:
    """``claim_once`` for ``cache[ckey]`` under ``lock`` (as ``create_keyed`` makes it)."""
    lock.acquire()
    value = cache.get(ckey, MISSING)
    if value is not MISSING:
        lock.release()
        return value, None
    if ckey in cache:
        lock.release()
        reentered(ckey if key is None else key)
    cache[ckey] = MISSING
    return MISSING, _KeyedClaim(lock, cache, ckey)


# -- sync creation --------------------------------------------------------------------------
def create_once(slot: Slot, make: Callable[[], Any], key: Key, reentry: Reentry) -> Any:
    """The singleton of ``slot``: made by ``make`` once, under the slot's lock. A factory
    that asks for its own key while it runs is a cycle; one that raises leaves nothing."""
    value, claim = claim_once(slot, key, reentry)
    if claim is None:
        return value
    try:
        value = make()
    except BaseException as exc:
        claim.fail(exc)
        raise
    claim.done(value)
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


class _AsyncClaim:
    """An async creation under way: its Future pending in its place, and in ``_MAKING`` of
    the creating task (and of the tasks it starts)."""

    __slots__ = ("fut", "key", "place", "token")

    def __init__(self, place: _Place, fut: PendingCreation, key: Key) -> None:
        self.place = place
        self.fut = fut
        self.key = key
        self.token = _MAKING.set((*_MAKING.get(), fut))

    def done(self, value: Any) -> None:
        _MAKING.reset(self.token)
        place = self.place
        fut = self.fut
        with place.lock:
            closed = fut.closed
            if not closed:
                place.store(value)
            place.release()
        if closed:  # what it made may be finalized already: never handed out
            exc = ScopeError(
                f"the container was closed while {display_key(self.key)} was being created: "
                "its resources may be finalized already, so it is not handed out; resolve it "
                "again (a new one is created), or finish resolving before close()"
            )
            fut.set_exception(exc)
            raise exc
        fut.set_result(value)

    def fail(self, exc: BaseException) -> None:
        if self.fut.done():  # completed by done(), which raised
            return
        _MAKING.reset(self.token)
        with self.place.lock:
            self.place.release()
        self.fut.set_exception(_abandon(exc))


async def _aclaim(
    place: _Place, key: Key, reentry: Reentry | None
) -> tuple[Any, _AsyncClaim | None]:
    """``(value, None)`` once the instance exists (made by another task meanwhile: waited
    for), else ``(MISSING, claim)``: this task creates it. A creator that was cancelled
    leaves the creation to a waiter."""
    while True:
        with place.lock:
            value = place.peek()
            if value is not MISSING:
                return value, None
            fut = place.pending()
            if fut is None:
                fut = PendingCreation()
                place.claim(fut)
                return MISSING, _AsyncClaim(place, fut, key)
        if fut.waits_on_itself():  # it would wait for itself
            (reentry or reentered)(key)
        value = await _wait(fut)
        if value is not MISSING:
            return value, None


async def _acreate(
    place: _Place, make: Callable[[], Awaitable[Any]], key: Key, reentry: Reentry | None
) -> Any:
    """One creation however many tasks ask at once; a cancelled creator lets a waiter
    create it instead; a failure is every waiter's and leaves nothing cached."""
    value, claim = await _aclaim(place, key, reentry)
    if claim is None:
        return value
    try:
        value = await make()
    except BaseException as exc:
        claim.fail(exc)
        raise
    claim.done(value)
    return value


async def aclaim_once(slot: Slot, key: Key, reentry: Reentry) -> tuple[Any, Claim | None]:
    """``claim_once`` for a singleton made with an await."""
    return await _aclaim(_SlotPlace(slot), key, reentry)


async def aclaim_keyed(
    lock: Any, cache: dict[Any, Any], table: dict[Any, Any], ckey: Any, key: Key,
    reentry: Reentry | None,
) -> tuple[Any, Claim | None]:
    """``claim_keyed`` for an entry made with an await; ``table`` holds the pending
    creations of ``cache``."""
    return await _aclaim(_KeyedPlace(lock, cache, table, ckey), key, reentry)


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
