"""``override()``: replace keys for one block, in one context. Shared by both containers.

While no block is open, resolution never comes here. Inside a block, a key that reaches
an overridden key (through plain edges) is rebuilt from its ``Record`` (see recipe.py):
once per block for a singleton, once per block and open scope for a scoped binding;
everything else takes its container's own resolve path. Instances are made by the shared
create-once protocol (creation.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Generator
from typing import Any, NoReturn, Protocol

from injectq.errors import DependencyNotFoundError
from injectq.model.markers import Key, Lazy, make_key
from injectq.model.recipe import Record, Source
from injectq.runtime.creation import (
    PendingCreation,
    acreate_keyed,
    aenter_resource,
    create_keyed,
    enter_resource,
)
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

    __slots__ = ("finalizers", "lock", "pending", "singletons", "taint", "values")

    def __init__(self, values: dict[Key, Any]) -> None:
        self.values = values
        self.singletons: dict[Key, Any] = {}
        self.taint: dict[Key, bool] = {}
        self.finalizers = Finalizers()
        self.lock = threading.RLock()
        # id of a cache -> its creations under way
        self.pending: dict[int, dict[Any, PendingCreation]] = {}


class Overrides:
    """The override blocks of one container."""

    def __init__(self, host: Host, var: contextvars.ContextVar[Any]) -> None:
        self.host = host
        self.var = var  # the open Frame of this context, or None
        self.count = 0  # blocks open in any context
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def block(
        self, service_type: Any, value: Any, name: str | None = None
    ) -> Generator[Any, None, None]:
        key = make_key(service_type, name)
        parent = self.var.get()
        values = dict(parent.values) if parent is not None else {}
        values[key] = value
        frame = Frame(values)
        token = self.var.set(frame)
        with self.lock:
            self.count += 1
            if self.count == 1:
                self.host.overrides_changed(True)
        try:
            yield value
        finally:
            # ended from another context (a fixture's teardown after an async test's
            # task): this context never saw the frame, so there is nothing to restore
            with contextlib.suppress(ValueError):
                self.var.reset(token)
            with self.lock:
                self.count -= 1
                if not self.count:
                    self.host.overrides_changed(False)
            run_finalizers(frame.finalizers.take(), "override block")

    # -- what a block changes ----------------------------------------------------------
    def tainted(self, frame: Frame, key: Key) -> bool:
        """Does resolving ``key`` reach an overridden key through plain edges?"""
        memo = frame.taint
        if key in memo:
            return memo[key]
        memo[key] = False  # a cycle does not taint itself
        node = self.host.node_info(key)
        result = key in frame.values or (
            node is not None
            and any(e in _INJECTED and self.tainted(frame, k) for e, k in node.deps)
        )
        memo[key] = result
        return result

    def _cache(self, frame: Frame, node: Record) -> tuple[dict[Any, Any], Any, Any]:
        if node.lifetime == "singleton":
            return frame.singletons, node.key, frame.finalizers
        if node.lifetime == "scoped":
            state = self.host.scopes.get().get(node.scope)
            if state is None:
                self.host.noscope(node.key)
            return state.cache, (id(frame), node.key), state.finalizers
        return {}, node.key, None

    def _adopt(self, owner: Finalizers | None, gen: Any) -> None:
        # not ``owner or ...``: an empty Finalizers is falsy
        if owner is None:
            self.host.own(gen)  # a transient resource: innermost open scope, as outside
        else:
            owner.add(gen)

    def _value(self, edge: str, key: Any) -> Any:
        if edge == Source.CONTAINER:
            return self.host
        if edge == Source.NONE:
            return None
        if edge == Source.LAZY:
            return Lazy[Any](key, self.host)
        raise DependencyNotFoundError(str(key))

    def _outside(self, key: Key) -> Any:
        token = self.var.set(None)  # nothing below reaches an overridden key
        try:
            return self.host.raw(key)
        finally:
            self.var.reset(token)

    async def _aoutside(self, key: Key) -> Any:
        token = self.var.set(None)
        try:
            return await self.host.araw(key)
        finally:
            self.var.reset(token)

    # -- resolution inside a block -----------------------------------------------------
    def get(self, key: Key) -> Any:
        frame = self.var.get()
        if frame is not None and key in frame.values:
            return frame.values[key]
        if frame is None or not self.tainted(frame, key):
            return self._outside(key)
        node = self.host.node_info(key)
        assert node is not None
        cache, ckey, owner = self._cache(frame, node)

        def make(owner: Finalizers | None) -> Any:
            if node.kind in _ASYNC_KINDS:
                self.host.needs_async(key)
            args = tuple(
                self.get(k) if e in _INJECTED else self._value(e, k) for e, k in node.deps
            )
            value = node.build(args)
            if node.kind == "generator":
                gen, value = value, enter_resource(value, key)
                self._adopt(owner, gen)
            return value

        if node.lifetime == "transient":
            return make(owner)
        return create_keyed(frame.lock, cache, ckey, make, owner, key)

    async def aget(self, key: Key) -> Any:
        frame = self.var.get()
        if frame is not None and key in frame.values:
            return frame.values[key]
        if frame is None or not self.tainted(frame, key):
            return await self._aoutside(key)
        node = self.host.node_info(key)
        assert node is not None
        cache, ckey, owner = self._cache(frame, node)
        if node.lifetime == "transient":
            return await self._abuild(node, owner)
        # one creation per block (and scope) even when many tasks ask at once
        return await acreate_keyed(
            frame.lock, cache, frame.pending.setdefault(id(cache), {}), ckey,
            lambda owner: self._abuild(node, owner), owner, key, None,
        )

    async def _abuild(self, node: Record, owner: Finalizers | None) -> Any:
        args: list[Any] = []
        for e, k in node.deps:
            args.append(await self.aget(k) if e in _INJECTED else self._value(e, k))
        value = node.build(tuple(args))
        if node.kind in ("async_factory", "awaitable"):
            value = await value
        elif node.kind == "generator":
            gen, value = value, enter_resource(value, node.key)
            self._adopt(owner, gen)
        elif node.kind == "async_generator":
            gen, value = value, await aenter_resource(value, node.key)
            self._adopt(owner, gen)
        return value
