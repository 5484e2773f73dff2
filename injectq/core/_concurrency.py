"""InjectQ 0.5.0's concurrency utilities: a lock that threads and asyncio tasks share, a
dictionary and a counter built on it, and the ``thread_safe`` decorator.

Self-contained: nothing here knows about containers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, cast, overload

__all__ = ["AsyncSafeCounter", "HybridLock", "ThreadSafeDict", "thread_safe"]

T = TypeVar("T")
D = TypeVar("D")
P = ParamSpec("P")
R = TypeVar("R")


def _me() -> object:
    """Who holds a lock: the running asyncio task, else the thread."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop runs in this thread
        task = None
    return task if task is not None else threading.current_thread()


def _same_loop_task(owner: object) -> bool:
    """Whether ``owner`` is a task of the event loop running in this thread: blocking this
    thread until it lets go would stop the very loop that has to run it."""
    if not isinstance(owner, asyncio.Task):
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    return owner.get_loop() is loop


class _Waiter:
    """One acquirer waiting its turn: a thread (``event``) or a task (``future``)."""

    __slots__ = ("event", "future", "granted", "loop", "owner")

    def __init__(
        self,
        owner: object,
        event: threading.Event | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.owner = owner
        self.event = event
        self.loop = loop
        self.future = future
        self.granted = False  # the lock was handed to it (under the lock's mutex)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class HybridLock:
    """One lock for threads and asyncio tasks alike: ``with lock:`` in threads (or sync
    code), ``async with lock:`` in coroutines, excluding each other.

    It is reentrant for its holder: the thread that took it with ``with``, or the task
    that took it (with ``async with``, or with ``with`` inside a coroutine) can take it
    again and must release it as often. Waiters are served first come, first served; a
    task waits without blocking its event loop, and a cancelled task gives up its turn.

    ``with lock:`` in a coroutine blocks the event loop while another thread holds the
    lock; when the holder is another task of that same loop, it would never get to run,
    so it raises ``RuntimeError`` instead of hanging: use ``async with`` in coroutines.
    ``sync_lock()`` and ``async_lock()`` are InjectQ 0.5.0's spellings of the two blocks.
    """

    __slots__ = ("_count", "_mutex", "_owner", "_waiters")

    def __init__(self) -> None:
        self._mutex = threading.Lock()  # guards the three fields below, never held long
        self._owner: object | None = None
        self._count = 0
        self._waiters: deque[_Waiter] = deque()

    def locked(self) -> bool:
        """Whether a thread or a task holds the lock."""
        return self._owner is not None

    def _grant_next(self) -> None:
        """The holder let go: hand the lock to the first waiter (under the mutex)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            waiter.granted = True
            self._owner = waiter.owner
            self._count = 1
            if waiter.event is not None:
                waiter.event.set()
                return
            assert waiter.loop is not None and waiter.future is not None
            try:
                waiter.loop.call_soon_threadsafe(_wake, waiter.future)
            except RuntimeError:  # its loop is closed: that task will never run again
                waiter.granted = False
                continue
            return
        self._owner = None
        self._count = 0

    def _take(self, me: object) -> bool:
        """Take the lock now if it is free or ours (under the mutex)."""
        if self._owner is None:
            self._owner = me
            self._count = 1
            return True
        if self._owner is me:
            self._count += 1
            return True
        return False

    def _give_back(self, waiter: _Waiter) -> None:
        """A waiter stops waiting (timeout, cancellation, interrupt): leave the queue, or
        pass on the lock if it was handed over meanwhile (under the mutex)."""
        if waiter.granted:
            self._grant_next()
        elif waiter in self._waiters:
            self._waiters.remove(waiter)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock, waiting for it (at most ``timeout`` seconds when not negative;
        not at all when ``blocking`` is False); True when taken."""
        me = _me()
        with self._mutex:
            if self._take(me):
                return True
            if not blocking:
                return False
            if _same_loop_task(self._owner):
                raise RuntimeError(
                    "HybridLock: a task of this event loop holds the lock, and a blocking "
                    "`with lock:` here would stop the loop it needs to release it; use "
                    "`async with lock:` in coroutines"
                )
            waiter = _Waiter(me, event=threading.Event())
            self._waiters.append(waiter)
        event = waiter.event
        assert event is not None
        try:
            taken = event.wait(None if timeout < 0 else timeout)
        except BaseException:
            with self._mutex:
                self._give_back(waiter)
            raise
        if not taken:
            with self._mutex:
                if waiter.granted:  # handed over as the wait timed out
                    return True
                self._give_back(waiter)
            return False
        return True

    async def aacquire(self) -> bool:
        """Take the lock from a coroutine, waiting without blocking the event loop."""
        me = _me()
        with self._mutex:
            if self._take(me):
                return True
            loop = asyncio.get_running_loop()
            waiter = _Waiter(me, loop=loop, future=loop.create_future())
            self._waiters.append(waiter)
        assert waiter.future is not None
        try:
            await waiter.future
        except BaseException:
            with self._mutex:
                self._give_back(waiter)
            raise
        return True

    def release(self) -> None:
        """Let go once; the lock is free (or the next waiter's) after its holder has
        released it as often as it took it. ``RuntimeError`` when the caller (this thread,
        or this task) does not hold it."""
        me = _me()
        with self._mutex:
            if self._owner is not me:
                raise RuntimeError(
                    "HybridLock.release(): the lock is not held by this "
                    f"{'task' if isinstance(me, asyncio.Task) else 'thread'}"
                )
            self._count -= 1
            if self._count == 0:
                self._grant_next()

    def sync_lock(self) -> HybridLock:
        """The lock itself, for ``with lock.sync_lock():`` (InjectQ 0.5.0)."""
        return self

    def async_lock(self) -> HybridLock:
        """The lock itself, for ``async with lock.async_lock():`` (InjectQ 0.5.0)."""
        return self

    def __enter__(self) -> HybridLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def __aenter__(self) -> HybridLock:
        await self.aacquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "locked" if self._owner is not None else "unlocked"
        return f"<HybridLock {state}, {len(self._waiters)} waiting>"


class _Creation:
    """A ``get_or_create`` under way for one key: who runs the factory, and the future
    the other callers for that key wait on."""

    __slots__ = ("future", "owner")

    def __init__(self, owner: object) -> None:
        self.owner = owner
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()


class ThreadSafeDict(Generic[T]):
    """A dictionary that threads and asyncio tasks share: each sync method has an async
    twin (``aget``, ``aset``, ...) that waits for the lock without blocking the event loop.

    ``get_or_create(key, factory)`` calls ``factory`` once per missing key, however many
    threads and tasks ask at once: the others wait for its result (or, if it raised, one
    of them tries again). The factory runs outside the lock, so other keys stay usable
    meanwhile; a factory that asks for its own key is a ``RuntimeError``, not a hang.
    ``aget_or_create_async`` awaits what the factory returns when it is awaitable.
    """

    __slots__ = ("_creations", "_data", "_lock")

    def __init__(self) -> None:
        self._data: dict[Any, T] = {}
        self._creations: dict[Any, _Creation] = {}
        self._lock = HybridLock()

    # -- reading and writing ---------------------------------------------------------
    @overload
    def get(self, key: Any) -> T | None: ...
    @overload
    def get(self, key: Any, default: D) -> T | D: ...

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, else ``default``."""
        with self._lock:
            return self._data.get(key, default)

    @overload
    async def aget(self, key: Any) -> T | None: ...
    @overload
    async def aget(self, key: Any, default: D) -> T | D: ...

    async def aget(self, key: Any, default: Any = None) -> Any:
        async with self._lock:
            return self._data.get(key, default)

    def set(self, key: Any, value: T) -> None:
        with self._lock:
            self._data[key] = value

    async def aset(self, key: Any, value: T) -> None:
        async with self._lock:
            self._data[key] = value

    def delete(self, key: Any) -> bool:
        """Remove ``key``; True when it was there (whatever its value, None included)."""
        with self._lock:
            return self._data.pop(key, _ABSENT) is not _ABSENT

    async def adelete(self, key: Any) -> bool:
        async with self._lock:
            return self._data.pop(key, _ABSENT) is not _ABSENT

    def contains(self, key: Any) -> bool:
        with self._lock:
            return key in self._data

    async def acontains(self, key: Any) -> bool:
        async with self._lock:
            return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    async def aclear(self) -> None:
        async with self._lock:
            self._data.clear()

    def copy(self) -> dict[Any, T]:
        """A plain ``dict`` of the entries, as they are now."""
        with self._lock:
            return self._data.copy()

    async def acopy(self) -> dict[Any, T]:
        async with self._lock:
            return self._data.copy()

    def items(self) -> list[tuple[Any, T]]:
        """The entries as a list of pairs, as they are now."""
        with self._lock:
            return list(self._data.items())

    def __contains__(self, key: object) -> bool:
        return self.contains(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __repr__(self) -> str:
        return f"<ThreadSafeDict: {len(self)} entries>"

    # -- get or create -----------------------------------------------------------------
    def _claim(self, key: Any, me: object) -> tuple[bool, Any]:
        """Under the lock: ``(True, value)`` when ``key`` has one; else ``(False,
        creation)``: a creation under way elsewhere to wait for, or None (the caller makes
        the value, and a new creation marks it as under way)."""
        if key in self._data:
            return True, self._data[key]
        creation = self._creations.get(key)
        if creation is None:
            self._creations[key] = _Creation(me)
            return False, None
        if creation.owner is me:
            raise RuntimeError(
                f"ThreadSafeDict: the factory of {key!r} asked for {key!r} itself"
            )
        return False, creation

    def _settle(self, key: Any, value: Any, error: BaseException | None) -> None:
        """The creation of ``key`` ended: store its value (unless it failed) and wake the
        callers that wait for it."""
        with self._lock:
            creation = self._creations.pop(key)
            if error is None:
                self._data[key] = value
        if error is None:
            creation.future.set_result(value)
        else:
            creation.future.cancel()  # the waiters try again; the error is the creator's

    def get_or_create(self, key: Any, factory: Callable[[], T]) -> T:
        """The value of ``key``, made by ``factory()`` (once) when there is none."""
        me = _me()
        while True:
            with self._lock:
                found, creation = self._claim(key, me)
            if found:
                return cast("T", creation)
            if creation is None:
                try:
                    value = factory()
                except BaseException as exc:
                    self._settle(key, None, exc)
                    raise
                self._settle(key, value, None)
                return value
            if _same_loop_task(creation.owner):
                raise RuntimeError(
                    f"ThreadSafeDict: {key!r} is being made by another task of this event "
                    "loop; a blocking get_or_create() here would stop it: use "
                    "`await aget_or_create(...)` in coroutines"
                )
            try:
                return cast("T", creation.future.result())
            except concurrent.futures.CancelledError:
                continue  # its factory raised: try again

    async def _acreate(self, key: Any, factory: Callable[[], Any], awaits: bool) -> T:
        me = _me()
        while True:
            async with self._lock:
                found, creation = self._claim(key, me)
            if found:
                return cast("T", creation)
            if creation is None:
                try:
                    value = factory()
                    if awaits and inspect.isawaitable(value):
                        value = await value
                except BaseException as exc:
                    self._settle(key, None, exc)
                    raise
                self._settle(key, value, None)
                return cast("T", value)
            waiting = asyncio.wrap_future(creation.future)
            try:
                # shielded: a waiter that is cancelled leaves the creation running
                return cast("T", await asyncio.shield(waiting))
            except asyncio.CancelledError:
                if creation.future.cancelled():
                    continue  # its factory raised: try again
                raise

    async def aget_or_create(self, key: Any, factory: Callable[[], T]) -> T:
        """``get_or_create`` for coroutines: waits for the lock and for another caller's
        creation without blocking the event loop. The value is what ``factory()``
        returns, as it is (see ``aget_or_create_async`` for an async factory)."""
        return await self._acreate(key, factory, awaits=False)

    async def aget_or_create_async(
        self, key: Any, factory: Callable[[], T | Awaitable[T]]
    ) -> T:
        """``aget_or_create`` that awaits what ``factory()`` returns when it is awaitable
        (an ``async def`` factory); the lock is not held while it is awaited."""
        return await self._acreate(key, factory, awaits=True)


_ABSENT: Any = object()


class AsyncSafeCounter:
    """An integer that threads and asyncio tasks update without losing an update; each
    method has an async twin that waits for the lock without blocking the event loop."""

    __slots__ = ("_lock", "_value")

    def __init__(self, initial_value: int = 0) -> None:
        self._value = initial_value
        self._lock = HybridLock()

    def increment(self, amount: int = 1) -> int:
        """Add ``amount``; the new value."""
        with self._lock:
            self._value += amount
            return self._value

    async def aincrement(self, amount: int = 1) -> int:
        async with self._lock:
            self._value += amount
            return self._value

    def decrement(self, amount: int = 1) -> int:
        """Subtract ``amount``; the new value."""
        with self._lock:
            self._value -= amount
            return self._value

    async def adecrement(self, amount: int = 1) -> int:
        async with self._lock:
            self._value -= amount
            return self._value

    def get(self) -> int:
        with self._lock:
            return self._value

    async def aget(self) -> int:
        async with self._lock:
            return self._value

    def set(self, value: int) -> None:
        with self._lock:
            self._value = value

    async def aset(self, value: int) -> None:
        async with self._lock:
            self._value = value

    def __repr__(self) -> str:
        return f"<AsyncSafeCounter {self._value}>"


@overload
def thread_safe(
    func: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]: ...
@overload
def thread_safe(func: Callable[P, R]) -> Callable[P, R]: ...


def thread_safe(func: Callable[P, Any]) -> Callable[P, Any]:
    """Run ``func`` one call at a time, across threads and asyncio tasks: each decorated
    function has a ``HybridLock`` of its own, held for the whole call (for an ``async
    def``, across its awaits too, taken with ``async with``). Reentrant: a call that
    calls the function again (in the same thread or task) does not wait for itself.

    One lock per function serializes every caller of it; for finer locking, give each
    object a ``HybridLock``. A generator function is refused (``TypeError``): its body
    runs after the call has returned, outside any lock the call could hold.
    """
    target = inspect.unwrap(func)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        raise TypeError(
            f"thread_safe cannot lock {getattr(func, '__qualname__', func)!r}: it is a "
            "generator function, whose body runs after the call returns; take a "
            "HybridLock inside it instead"
        )
    lock = HybridLock()
    if inspect.iscoroutinefunction(target):
        afunc = cast("Callable[P, Awaitable[Any]]", func)

        @functools.wraps(func)
        async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            async with lock:
                return await afunc(*args, **kwargs)

        return async_wrapper

    @functools.wraps(func)
    def sync_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        with lock:
            return func(*args, **kwargs)

    return sync_wrapper
