"""Building a binding without recursion: for graphs deeper than the call stack.

Resolvers (compiled or generated) call their dependencies' resolvers, a few frames per
level of the graph, so a chain of some hundreds of bindings would exceed Python's
recursion limit. A binding deeper than ``DEPTH`` frames (computed once per binding) is
built here instead: an explicit stack walks its dependencies depth first, and each is
made from its ``Record`` with the values its dependencies already have, in the order
recursion would make them. Singletons and scoped instances are created by the same
create-once protocol, in the same places, as their resolvers would create them, so the
next resolution finds them cached. The override engine walks with the same stack.

Error paths: the frames of ``build`` / ``abuild`` hold the stack of records being made
(the local ``frames``), which ``errorpath`` reads as the dependency path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from injectq.errors import DependencyNotFoundError
from injectq.model.graph import DependencyGraph, Resolution
from injectq.model.introspect import Edge
from injectq.model.markers import Lazy
from injectq.model.recipe import Record, Source
from injectq.runtime.creation import (
    MISSING,
    Slot,
    acreate_keyed,
    acreate_once,
    aenter_resource,
    await_instance,
    create_once,
    enter_resource,
)
from injectq.runtime.scopes import ScopeState

__all__ = [
    "DEPTH", "APlan", "Direct", "Plan", "abuild", "aconstruct", "build", "construct",
    "depth_of", "graph_depth",
]

# frames a resolution may spend in resolvers before a binding is built here instead; a
# resolver level costs 1 (a transient) to 4 (a singleton of a generated module) frames
DEPTH = 240
_FRAMES = {"singleton": 4, "scoped": 3, "transient": 1}
_INJECTED = (Source.DEP, Source.MISSING)  # arguments that are another binding's instance
_ASYNC_KINDS = frozenset({"async_factory", "async_generator", "awaitable"})


def depth_of(
    key: Any, deps: Callable[[Any], tuple[tuple[str, Any], ...] | None],
    lifetime: Callable[[Any], str], memo: dict[Any, int],
) -> int:
    """The frames resolving ``key`` takes through its resolvers: its own plus its deepest
    plain dependency's (iteratively; ``memo`` keeps every key's). A cycle counts once."""
    if key in memo:
        return memo[key]
    stack: list[tuple[Any, int]] = [(key, 0)]
    memo[key] = 0  # on the stack: a cycle (the checks report it) adds nothing
    while stack:
        k, i = stack.pop()
        edges = deps(k) or ()
        while i < len(edges):
            edge, target = edges[i]
            i += 1
            if edge == Source.DEP and target not in memo and deps(target) is not None:
                stack.append((k, i))
                memo[target] = 0
                stack.append((target, 0))
                break
        else:
            below = max((memo.get(t, 0) for e, t in edges if e == Source.DEP), default=0)
            memo[k] = below + _FRAMES.get(lifetime(k), 1)
    return memo[key]


def graph_depth(graph: DependencyGraph, key: Any, memo: dict[Any, int]) -> int:
    """``depth_of`` a node of the dependency graph (compilers: the runtime's, injectq-gen)."""

    def deps(k: Any) -> tuple[tuple[str, Any], ...] | None:
        node = graph.node(k)
        if node is None:
            return None
        return tuple(
            (Source.DEP, d.target) for d in node.deps
            if d.resolution is Resolution.BINDING and d.edge is Edge.PLAIN
        )

    def lifetime(k: Any) -> str:
        node = graph.node(k)
        return node.binding.lifetime.value if node is not None else "transient"

    return depth_of(key, deps, lifetime, memo)


class Plan(Protocol):
    """What a walk reads and makes: where instances are cached, and how one is made."""

    def known(self, key: Any) -> Any:
        """The value of ``key`` without building it (cached, overridden...), else MISSING."""

    def record(self, key: Any) -> Record | None: ...

    def enter(self, record: Record) -> None:
        """About to build ``record``'s dependencies (a sync walk: refuse what needs an
        await before building anything, as resolvers do)."""

    def value(self, edge: str, key: Any) -> Any:
        """An argument that is not another binding's instance (container, None, Lazy)."""

    def make(self, record: Record, args: tuple[Any, ...]) -> Any:
        """The instance of ``record`` from its dependencies' values (created once where
        it is cached)."""


class APlan(Plan, Protocol):
    async def aknown(self, key: Any) -> Any: ...
    async def amake(self, record: Record, args: tuple[Any, ...]) -> Any: ...


def _record(plan: Plan, key: Any) -> Record:
    record = plan.record(key)
    if record is None:
        raise DependencyNotFoundError(str(key))
    return record


def build(plan: Plan, key: Any) -> Any:
    """The instance of ``key``, its dependencies made depth first by an explicit stack."""
    value = plan.known(key)
    if value is not MISSING:
        return value
    top = _record(plan, key)
    plan.enter(top)
    frames: list[tuple[Record, list[Any]]] = [(top, [])]
    while True:
        record, args = frames[-1]
        deps = record.deps
        child = None
        while len(args) < len(deps):
            edge, k = deps[len(args)]
            if edge not in _INJECTED:
                args.append(plan.value(edge, k))
                continue
            value = plan.known(k)
            if value is MISSING:
                child = _record(plan, k)
                break
            args.append(value)
        if child is not None:
            frames.append((child, []))
            plan.enter(child)
            continue
        value = plan.make(record, tuple(args))  # its record still on the stack: the path
        frames.pop()
        if not frames:
            return value
        frames[-1][1].append(value)


async def abuild(plan: APlan, key: Any) -> Any:
    """``build`` for a resolution that may await."""
    value = await plan.aknown(key)
    if value is not MISSING:
        return value
    frames: list[tuple[Record, list[Any]]] = [(_record(plan, key), [])]
    while True:
        record, args = frames[-1]
        deps = record.deps
        child = None
        while len(args) < len(deps):
            edge, k = deps[len(args)]
            if edge not in _INJECTED:
                args.append(plan.value(edge, k))
                continue
            value = await plan.aknown(k)
            if value is MISSING:
                child = _record(plan, k)
                break
            args.append(value)
        if child is not None:
            frames.append((child, []))
            continue
        value = await plan.amake(record, tuple(args))
        frames.pop()
        if not frames:
            return value
        frames[-1][1].append(value)


# -- building one instance from its record ------------------------------------------------
def construct(record: Record, args: tuple[Any, ...], own: Callable[[Any], None],
              needs_async: Callable[[Any], Any]) -> Any:
    """Call the provider; a resource's generator is entered and given to ``own``."""
    if record.kind in _ASYNC_KINDS:
        needs_async(record.key)
    value = record.build(args)
    if record.kind == "generator":
        gen, value = value, enter_resource(value, record.key)
        own(gen)
    return value


async def aconstruct(record: Record, args: tuple[Any, ...], own: Callable[[Any], None]) -> Any:
    value = record.build(args)
    kind = record.kind
    if kind == "async_factory":
        value = await value
    elif kind == "awaitable":
        value = await await_instance(value, record.key)
    elif kind == "generator":
        gen, value = value, enter_resource(value, record.key)
        own(gen)
    elif kind == "async_generator":
        gen, value = value, await aenter_resource(value, record.key)
        own(gen)
    return value


# -- the plan of a container's own resolution --------------------------------------------
class Host(Protocol):
    """What a container gives ``Direct`` (both containers have these)."""

    scopes: Any
    finalizers: Any

    def node_info(self, key: Any) -> Record | None: ...
    def deep_slot(self, key: Any) -> Slot: ...
    def publish(self, key: Any, value: Any) -> None: ...
    def own(self, gen: Any) -> None: ...
    def noscope(self, key: Any) -> NoReturn: ...
    def needs_async(self, key: Any) -> NoReturn: ...
    def reentry(self, key: Any) -> NoReturn: ...


class Direct:
    """A container resolving outside any override block: instances cached in its slots
    and open scopes, resources owned as its resolvers own them."""

    __slots__ = ("host",)

    def __init__(self, host: Host) -> None:
        self.host = host

    def record(self, key: Any) -> Record | None:
        return self.host.node_info(key)

    def _state(self, record: Record) -> Any:
        state = self.host.scopes.get().get(record.scope)
        if state is None:
            self.host.noscope(record.key)
        return state

    def known(self, key: Any) -> Any:
        record = self.host.node_info(key)
        if record is None:
            return MISSING
        if record.lifetime == "singleton":
            return self.host.deep_slot(key).value
        if record.lifetime == "scoped":
            return self._state(record).cache.get(key, MISSING)
        return MISSING

    async def aknown(self, key: Any) -> Any:
        return self.known(key)

    def enter(self, record: Record) -> None:
        if record.is_async:
            self.host.needs_async(record.key)

    def value(self, edge: str, key: Any) -> Any:
        if edge == Source.CONTAINER:
            return self.host
        if edge == Source.LAZY:
            return Lazy[Any](key, self.host)
        return None  # Source.NONE

    def make(self, record: Record, args: tuple[Any, ...]) -> Any:
        host = self.host
        key = record.key
        if record.lifetime == "singleton":
            value = create_once(
                host.deep_slot(key),
                lambda: construct(record, args, host.finalizers.add, host.needs_async),
                key, host.reentry,
            )
            host.publish(key, value)
            return value
        if record.lifetime == "scoped":
            state: ScopeState = self._state(record)

            def make(st: ScopeState) -> Any:
                return construct(record, args, st.finalizers.add, host.needs_async)

            return state.create(key, make, state)
        return construct(record, args, host.own, host.needs_async)

    async def amake(self, record: Record, args: tuple[Any, ...]) -> Any:
        host = self.host
        key = record.key
        if record.lifetime == "singleton":
            value = await acreate_once(
                host.deep_slot(key),
                lambda: aconstruct(record, args, host.finalizers.add), key, host.reentry,
            )
            host.publish(key, value)
            return value
        if record.lifetime == "scoped":
            state = self._state(record)
            return await acreate_keyed(
                state.lock, state.cache, state.pending, key,
                lambda st: aconstruct(record, args, st.finalizers.add), state, key,
                host.reentry,
            )
        return await aconstruct(record, args, host.own)
