"""Scope state: per-scope instance caches and finalizers, kept in a ContextVar.

Each container (runtime or generated) owns one ContextVar whose value maps scope name to
the open ``ScopeState`` (and ``None`` to the innermost one). Opening a scope copies that
mapping, so threads and asyncio tasks never see each other's scopes.
"""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from _thread import RLock as _RLock
from _thread import get_ident as _get_ident
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, NoReturn, TypeVar, cast

from injectq.errors import ResourceCleanupError, ScopeError
from injectq.model.markers import display_key
from injectq.runtime.creation import MISSING, Claim, claim_keyed, create_keyed, reentered
from injectq.runtime.forking import fresh_rlock, owned_here

__all__ = ["Finalizers", "ScopeState", "arun_finalizers", "check_making", "run_finalizers"]

ScopeMap = Mapping[str | None, "ScopeState"]
Making = tuple[Any, Any] | None  # (key, outer chain), innermost first
T = TypeVar("T")
OwnerT = TypeVar("OwnerT")


class Finalizers:
    """Resources to finalize, in creation order: generators and async generators."""

    __slots__ = ("_items", "_lock")

    def __init__(self, lock: Any = None) -> None:
        self._items: list[Any] = []
        # a scope shares its own lock (one lock object fewer per scope opened)
        self._lock = lock if lock is not None else threading.Lock()

    def add(self, item: Any) -> None:
        with self._lock:
            self._items.append(item)

    def take(self) -> list[Any]:
        with self._lock:
            items, self._items = self._items, []
        return items

    def __len__(self) -> int:
        return len(self._items)

    def has_async(self) -> bool:
        return any(inspect.isasyncgen(i) for i in self._items)

    def after_fork_in_child(self, lock: Any = None) -> None:
        """In a forked child: a fresh lock (only ever held for a list operation, never
        forked), or the scope's; and nothing to finalize yet. What the parent created is
        the parent's to finalize (a pool's connections, a transaction): a child closing
        its container or scope finalizes only what it created itself."""
        self._lock = lock if lock is not None else threading.Lock()
        self._items = []


def _finish_sync(gen: Any, exc: BaseException | None = None) -> None:
    """Run a resource generator past its ``yield``; with ``exc`` (the scope body's
    exception) thrown in there, as a ``with`` block does, so ``except``/``else`` branches
    (rollback / commit) see how the block ended. The generator re-raising it is normal."""
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    gen.close()
    raise RuntimeError(f"resource generator {gen.__qualname__} yielded more than once")


async def _finish_async(gen: Any, exc: BaseException | None = None) -> None:
    try:
        if exc is None:
            await gen.__anext__()
        else:
            await gen.athrow(exc)
    except StopAsyncIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    await gen.aclose()
    raise RuntimeError(f"resource generator {gen.__qualname__} yielded more than once")


def _raise_all(errors: list[Exception], owner: str, interrupt: BaseException | None) -> None:
    """Raise what the finalizers raised: an interrupt (KeyboardInterrupt, a cancellation)
    first, as ``contextlib.ExitStack`` does, once every finalizer has run; else every
    failure together."""
    failure = ResourceCleanupError(
        f"{len(errors)} finalizer(s) failed while closing {owner}; all finalizers ran",
        errors,
    ) if errors else None
    if interrupt is not None:
        if failure is not None and interrupt.__context__ is None:
            interrupt.__context__ = failure
        raise interrupt
    if failure is not None:
        raise failure


def run_finalizers(
    items: list[Any], owner: str, keep: Finalizers | None = None,
    exc: BaseException | None = None,
) -> None:
    """Finalize sync resources in reverse creation order, every one of them; raise every
    failure together (an interrupt that stopped one: after the others have run).
    ``exc``: how the scope's block ended, thrown into each generator at its ``yield``.

    An async generator cannot be finished here: it is reported as a ``ScopeError`` after
    the sync ones have run, telling the caller to close asynchronously; with ``keep`` it
    is put back there so that the later async close can still finish it.
    """
    errors: list[Exception] = []
    interrupt: BaseException | None = None
    pending_async: list[Any] = []
    for item in reversed(items):
        if inspect.isasyncgen(item):
            pending_async.append(item)
            continue
        try:
            _finish_sync(item, exc) if inspect.isgenerator(item) else item()
        except Exception as error:
            errors.append(error)
        except BaseException as error:  # re-raised once every finalizer has run
            interrupt = interrupt or error
    if pending_async:
        if keep is not None:
            for item in reversed(pending_async):
                keep.add(item)
        names = ", ".join(g.__qualname__ for g in pending_async)
        errors.append(
            ScopeError(
                f"{owner} holds async resources ({names}) that a sync close cannot finalize: "
                "close it with `async with` / `await aclose()`"
            )
        )
    _raise_all(errors, owner, interrupt)


async def arun_finalizers(
    items: list[Any], owner: str, exc: BaseException | None = None
) -> None:
    """``run_finalizers`` for an async close: async generators are finished too."""
    errors: list[Exception] = []
    interrupt: BaseException | None = None
    for item in reversed(items):
        try:
            if inspect.isasyncgen(item):
                await _finish_async(item, exc)
            elif inspect.isgenerator(item):
                _finish_sync(item, exc)
            else:
                result = item()
                if inspect.isawaitable(result):
                    await result
        except Exception as error:
            errors.append(error)
        except BaseException as error:  # re-raised once every finalizer has run
            interrupt = interrupt or error
    _raise_all(errors, owner, interrupt)


def check_making(key: Any, chain: Any) -> None:
    """A nested creation: is ``key`` one of those it is part of making (``chain``)?"""
    while chain is not None:
        if chain[0] == key:
            reentered(key)
        chain = chain[1]


_LOCK_INIT = threading.Lock()  # makes a scope's lock the first time one is needed


class ScopeState:
    """One scope: its instances and the resources to finalize when it closes, and the
    ``with`` / ``async with`` block that opens and closes it.

    ``container.scope()`` returns a fresh one; entering it puts it in the container's
    ContextVar. Opening a scope is on every request's path, so this is one small object;
    its lock, finalizers and table of async creations under way are made on first use.

    A scoped instance is created by ``create``. The thread that opened the scope creates
    without a lock as long as no other thread has used the scope (the common case: one
    request, one thread or one event loop; sync creation cannot be interleaved by another
    task of that loop). A thread that resolves in a scope another thread opened (it runs
    in a copy of that context) marks the scope shared and waits until the opening thread
    has finished any creation it began without the lock; from then on every creation in
    the scope, the opening thread's too, takes the lock. So an instance is still created
    once: the two flags are written in opposite order by the two sides (``making`` then
    ``shared`` by the opener, ``shared`` then ``making`` by another thread), so at least
    one side sees the other's (the interpreter lock orders them).

    ``making`` is what the opening thread is creating without the lock, innermost first,
    as a chain ``(key, outer)`` ending in None (one small tuple per creation): a key asked
    for again while it is being made is a cycle (``CircularDependencyError``), not an
    endless recursion. Under the lock ``create_keyed`` tells the same.
    """

    __slots__ = (
        "__weakref__", "_finalizers", "_known", "_lock", "_pending", "_token", "_var", "cache",
        "ended", "making", "name", "opener", "shared",
    )

    def __init__(
        self,
        name: str,
        var: contextvars.ContextVar[ScopeMap] | None = None,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.name = name
        self.cache: dict[Any, Any] = {}
        self._lock: Any = None
        self._finalizers: Finalizers | None = None
        self._pending: dict[Any, Any] | None = None
        self._token: contextvars.Token[ScopeMap] | None = None
        self.opener = 0  # the thread that opened it
        self.making: Making = None  # what the opening thread creates without the lock
        self.shared = False  # another thread has used it: every creation locks
        self.ended = False  # its block has closed: nothing more is created in it
        # the container's ContextVar, and a check of the name to run when opened (None:
        # the container already knows the name)
        self._var = var
        self._known = known

    def bind(
        self, var: contextvars.ContextVar[ScopeMap], known: Callable[[str], bool] | None
    ) -> ScopeState:
        self._var = var
        self._known = known
        return self

    @property
    def lock(self) -> Any:
        """The scope's reentrant lock (made on first use)."""
        lock = self._lock
        if lock is None:
            with _LOCK_INIT:
                lock = self._lock
                if lock is None:
                    lock = self._lock = _RLock()
        return lock

    def create(self, key: Any, make: Callable[[OwnerT], T], owner: OwnerT) -> T:
        """``cache[key]``, made by ``make(owner)`` once (see the class docstring)."""
        if self.ended:
            self.refuse(display_key(key))
        if self.opener == _get_ident():
            outer = self.making
            if outer is not None:
                check_making(key, outer)
            self.making = (key, outer)
            try:
                if not self.shared:
                    value = self.cache[key] = make(owner)
                    return value
            finally:
                self.making = outer
        elif not self.shared:
            self.shared = True
            while self.making is not None:  # the opening thread creates without the lock
                time.sleep(0.0001)
        return create_keyed(self.lock, self.cache, key, make, owner)

    def claim(self, key: Any) -> tuple[Any, Claim | None]:
        """``create`` in two steps (see creation.py's claims): ``(value, None)`` when the
        instance exists, else ``(MISSING, claim)``. A claim always takes the lock, also in
        the opening thread: an explicit stack holds thousands of claims at once, and the
        lock's MISSING marks tell a cycle among them at once where ``making`` would be
        walked again for each; what the opening thread creates around it, without the
        lock, is still checked in ``making``."""
        if self.ended:
            self.refuse(display_key(key))
        if self.opener == _get_ident():
            if self.making is not None:
                check_making(key, self.making)
        elif not self.shared:
            self.shared = True
            while self.making is not None:  # the opening thread creates without the lock
                time.sleep(0.0001)
        return claim_keyed(self.lock, self.cache, key)

    def refuse(self, what: str) -> NoReturn:
        """Nothing is created in a scope that has ended (a task or thread it started
        resolving after its block closed): its instances would never be finalized."""
        raise ScopeError(
            f"the {self.name!r} scope has ended: {what} was resolved in it after "
            f"its `with` block closed (by a task or thread that outlived it), and nothing "
            f"created now would be finalized; resolve it inside the block, or open a scope "
            f"of its own in that task: `with container.scope({self.name!r}):`"
        )

    @property
    def finalizers(self) -> Finalizers:
        """The resources to finalize when the scope closes (made on first use)."""
        finalizers = self._finalizers
        if finalizers is None:
            with self.lock:
                finalizers = self._finalizers
                if finalizers is None:
                    finalizers = self._finalizers = Finalizers(self.lock)
        return finalizers

    @property
    def pending(self) -> dict[Any, Any]:
        """key -> Future of an async creation under way in this scope (asked for by every
        async creation: one in a scope that has ended is refused here)."""
        if self.ended:
            self.refuse("an instance that needs an await")
        pending = self._pending
        if pending is None:
            with self.lock:
                pending = self._pending
                if pending is None:
                    pending = self._pending = {}
        return pending

    def clear(self) -> None:
        """Drop every instance (the scope is closing)."""
        self.cache.clear()
        self._pending = None

    def after_fork_in_child(self) -> None:
        """In a forked child (a scope open in the forking thread): fresh locks; creations
        and async creations other threads had under way are abandoned."""
        lock = self._lock
        if lock is not None:
            self._lock = fresh_rlock(lock)
            if self._lock is not lock:  # creations other threads had under way: dropped
                for key in [k for k, v in self.cache.items() if v is MISSING]:
                    del self.cache[key]
        if self._finalizers is not None:
            self._finalizers.after_fork_in_child(self.lock)
        if self.opener != _get_ident():
            self.making = None
        for key, fut in list((self._pending or {}).items()):
            if not fut.done() and not owned_here(fut):
                del self.pending[key]

    def __repr__(self) -> str:
        return f"<scope {self.name!r}: {len(self.cache)} instance(s)>"

    # -- the with block ----------------------------------------------------------------
    def _open(self) -> ScopeState:
        name = self.name
        var = self._var
        if var is None:
            raise ScopeError(f"scope {name!r} was not made by a container: use container.scope()")
        if self._known is not None and not self._known(name):
            raise ScopeError(
                f"unknown scope {name!r}: declare it first with "
                f"container.declare_scope({name!r}, parent='request')"
            )
        if self._token is not None:
            raise ScopeError(f"this scope({name!r}) object is already open; make a new one")
        # the containers only ever put dicts in their ContextVar
        current = cast("dict[str | None, ScopeState]", var.get()).copy()
        current[name] = current[None] = self
        self._token = var.set(current)
        self.opener = _get_ident()
        self.ended = False
        return self

    def _detach(self) -> list[Any] | None:
        """Leave the scope; the resources it has to finalize (None: none)."""
        token = self._token
        if token is None:
            raise ScopeError(f"scope {self.name!r} is not open")
        fin = self._finalizers  # made by the first resource: None for most requests
        items = fin.take() if fin is not None else None
        var = self._var
        assert var is not None
        try:
            var.reset(token)
        except ValueError:  # closed from another context: restore by hand
            current = dict(var.get())
            current.pop(self.name, None)
            var.set(current)
        self._token = None
        self.ended = True
        self.opener = -1  # no thread's: a late creation goes through create(), which refuses
        self.cache.clear()
        self._pending = None
        return items

    __enter__ = _open

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        items = self._detach()
        if items:
            run_finalizers(items, f"scope {self.name!r}", exc=exc)

    async def __aenter__(self) -> ScopeState:
        return self._open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        items = self._detach()
        if items:
            await arun_finalizers(items, f"scope {self.name!r}", exc=exc)
