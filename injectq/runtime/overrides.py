"""``override()``: replace keys for one block, in one context. Shared by both containers.

While no block is open, resolution never comes here. Inside a block, a key that reaches
an overridden key (through plain edges) is rebuilt from its ``Record`` (see recipe.py):
once per block for a singleton, once per block and open scope for a scoped binding;
everything else takes its container's own resolve path. Instances are made by the shared
create-once protocol (creation.py), walked by deep.py's explicit stack (no recursion).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import weakref
from collections.abc import Generator
from typing import Any, NoReturn, Protocol

from injectq.errors import DependencyNotFoundError
from injectq.model.markers import Key, Lazy, make_key
from injectq.model.recipe import Record, Source
from injectq.runtime import deep
from injectq.runtime.creation import MISSING, Claim, PendingCreation, aclaim_keyed, claim_keyed
from injectq.runtime.forking import held_here, owned_here
from injectq.runtime.scopes import Finalizers, ScopeMap, run_finalizers

__all__ = ["Frame", "Overrides"]

_INJECTED = (Source.DEP, Source.MISSING)  # edges whose value the engine resolves
_ASYNC_KINDS = frozenset({"async_factory", "async_generator", "awaitable"})


class Host(Protocol):
    """What a container gives the override engine."""

    scopes: contextvars.ContextVar[ScopeMap]

    def node_info(self, key: Key) -> Record | None: ...
    def raw(self, key: Key) -> Any: ...
    async def araw(self, key: Key) -> Any: ...
    def own(self, gen: Any) -> None: ...
    def noscope(self, key: Key) -> NoReturn: ...
    def needs_async(self, key: Key) -> NoReturn: ...
    def reentry(self, key: Key) -> NoReturn: ...
    def overrides_changed(self, active: bool) -> None: ...


class Frame:
    """One open ``override()`` block: the replaced keys and what was built because of them."""

    __slots__ = (
        "__weakref__", "ended", "finalizers", "lock", "locks", "pending", "singletons",
        "taint", "values",
    )

    def __init__(self, values: dict[Key, Any]) -> None:
        self.values = values
        self.singletons: dict[Key, Any] = {}
        self.taint: dict[Key, bool] = {}
        self.finalizers = Finalizers()
        self.lock = threading.Lock()  # held only to find or make a key's lock
        # one lock per instance being created: a factory may resolve other keys of the
        # block from a helper thread while its own creation is under way
        self.locks: dict[Any, Any] = {}
        # id of a cache -> its creations under way
        self.pending: dict[int, dict[Any, PendingCreation]] = {}
        self.ended = False  # its block has closed: resolution goes on as outside it

    def key_lock(self, ckey: Any) -> Any:
        lock = self.locks.get(ckey)
        if lock is None:
            with self.lock:
                lock = self.locks.setdefault(ckey, threading.RLock())
        return lock

    def after_fork_in_child(self) -> None:
        """Fresh locks; creations other threads had under way are abandoned (their
        marks in the block's caches dropped); the parent's resources stay the parent's."""
        self.lock = threading.Lock()
        self.finalizers.after_fork_in_child()
        for ckey, lock in list(self.locks.items()):
            if not held_here(lock):
                self.locks[ckey] = threading.RLock()
                if self.singletons.get(ckey, None) is MISSING:
                    del self.singletons[ckey]
        for table in self.pending.values():
            for ckey, fut in list(table.items()):
                if not fut.done() and not owned_here(fut):
                    del table[ckey]


class Overrides:
    """The override blocks of one container."""

    def __init__(self, host: Host, var: contextvars.ContextVar[Any]) -> None:
        self.host = host
        self.var = var  # the open Frame of this context, or None
        self.count = 0  # blocks open in any context
        self.lock = threading.Lock()
        self.open: weakref.WeakSet[Frame] = weakref.WeakSet()  # for a forked child

    def after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        for frame in list(self.open):
            frame.after_fork_in_child()

    @contextlib.contextmanager
    def block(
        self, service_type: Any, value: Any, name: str | None = None
    ) -> Generator[Any, None, None]:
        key = make_key(service_type, name)
        parent = self._frame()
        values = dict(parent.values) if parent is not None else {}
        values[key] = value
        frame = Frame(values)
        token = self.var.set(frame)
        with self.lock:
            self.count += 1
            self.open.add(frame)
            if self.count == 1:
                self.host.overrides_changed(True)
        try:
            yield value
        finally:
            frame.ended = True
            # ended from another context (a fixture's teardown after an async test's
            # task): this context never saw the frame, so there is nothing to restore
            with contextlib.suppress(ValueError):
                self.var.reset(token)
            with self.lock:
                self.count -= 1
                self.open.discard(frame)
                if not self.count:
                    self.host.overrides_changed(False)
            run_finalizers(frame.finalizers.take(), "override block")

    # -- what a block changes ----------------------------------------------------------
    def tainted(self, frame: Frame, key: Key) -> bool:
        """Does resolving ``key`` reach an overridden key through plain edges? (An
        explicit stack: graphs can be deeper than the call stack.)"""
        memo = frame.taint
        found = memo.get(key)
        if found is not None:
            return found
        values = frame.values
        info = self.host.node_info
        memo[key] = False  # on the stack: a cycle does not taint itself
        stack: list[tuple[Key, int]] = [(key, 0)]
        while stack:
            k, i = stack.pop()
            node = info(k) if k not in values else None
            deps = node.deps if node is not None else ()
            pushed = False
            while i < len(deps):
                edge, target = deps[i]
                i += 1
                if edge in _INJECTED and target not in memo:
                    memo[target] = False
                    stack.append((k, i))
                    stack.append((target, 0))
                    pushed = True
                    break
            if not pushed:
                memo[k] = k in values or any(
                    memo.get(t, False) for e, t in deps if e in _INJECTED
                )
        return memo[key]

    def cache_of(self, frame: Frame, node: Record) -> tuple[dict[Any, Any], Any, Any]:
        if node.lifetime == "singleton":
            return frame.singletons, node.key, frame.finalizers
        if node.lifetime == "scoped":
            state = self.host.scopes.get().get(node.scope)
            if state is None:
                self.host.noscope(node.key)
            return state.cache, (id(frame), node.key), state.finalizers
        return {}, node.key, None

    def adopt(self, owner: Finalizers | None) -> Any:
        # not ``owner or ...``: an empty Finalizers is falsy
        # a transient resource: innermost open scope, as outside
        return self.host.own if owner is None else owner.add

    def outside(self, key: Key) -> Any:
        token = self.var.set(None)  # nothing below reaches an overridden key
        try:
            return self.host.raw(key)
        finally:
            self.var.reset(token)

    async def aoutside(self, key: Key) -> Any:
        token = self.var.set(None)
        try:
            return await self.host.araw(key)
        finally:
            self.var.reset(token)

    # -- resolution inside a block -----------------------------------------------------
    def _frame(self) -> Frame | None:
        frame: Frame | None = self.var.get()
        # a task or thread that outlived its block resolves as if no block were open
        return None if frame is None or frame.ended else frame

    def get(self, key: Key) -> Any:
        frame = self._frame()
        if frame is None:
            return self.outside(key)
        return deep.build(_InBlock(self, frame), key)

    async def aget(self, key: Key) -> Any:
        frame = self._frame()
        if frame is None:
            return await self.aoutside(key)
        return await deep.abuild(_InBlock(self, frame), key)


class _InBlock:
    """deep.py's plan inside one block: overridden values, what reaches none of them
    resolved outside, the rest built from records into the block's caches."""

    __slots__ = ("engine", "frame")

    def __init__(self, engine: Overrides, frame: Frame) -> None:
        self.engine = engine
        self.frame = frame

    def record(self, key: Key) -> Record | None:
        return self.engine.host.node_info(key)

    def claim(self, record: Record) -> tuple[Any, Claim | None]:
        if record.kind in _ASYNC_KINDS:
            self.engine.host.needs_async(record.key)
        if record.lifetime == "transient":
            return MISSING, None
        cache, ckey, _ = self.engine.cache_of(self.frame, record)
        return claim_keyed(self.frame.key_lock(ckey), cache, ckey, record.key)

    async def aclaim(self, record: Record) -> tuple[Any, Claim | None]:
        if record.lifetime == "transient":
            return MISSING, None
        frame = self.frame
        cache, ckey, _ = self.engine.cache_of(frame, record)
        # one creation per block (and scope) even when many tasks ask at once
        return await aclaim_keyed(
            frame.key_lock(ckey), cache, frame.pending.setdefault(id(cache), {}), ckey,
            record.key, None,
        )

    def _peek(self, key: Key) -> Any:
        frame = self.frame
        if key in frame.values:
            return frame.values[key]
        if not self.engine.tainted(frame, key):
            return _OUTSIDE
        node = self.engine.host.node_info(key)
        assert node is not None
        if node.lifetime == "transient":
            return MISSING
        cache, ckey, _ = self.engine.cache_of(frame, node)
        return cache.get(ckey, MISSING)

    def known(self, key: Key) -> Any:
        value = self._peek(key)
        return self.engine.outside(key) if value is _OUTSIDE else value

    async def aknown(self, key: Key) -> Any:
        value = self._peek(key)
        return await self.engine.aoutside(key) if value is _OUTSIDE else value

    def value(self, edge: str, key: Any) -> Any:
        host = self.engine.host
        if edge == Source.CONTAINER:
            return host
        if edge == Source.NONE:
            return None
        if edge == Source.LAZY:
            return Lazy[Any](key, host)
        raise DependencyNotFoundError(str(key))

    def make(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any:
        _, _, owner = self.engine.cache_of(self.frame, record)
        value = deep.construct(record, args, self.engine.adopt(owner), self.engine.host.needs_async)
        if claim is not None:
            claim.done(value)
        return value

    async def amake(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any:
        _, _, owner = self.engine.cache_of(self.frame, record)
        value = await deep.aconstruct(record, args, self.engine.adopt(owner))
        if claim is not None:
            claim.done(value)
        return value


_OUTSIDE: Any = object()  # _peek: resolve it outside the block
