"""Building a binding without recursion: for graphs deeper than the call stack.

Resolvers (compiled or generated) call their dependencies' resolvers, a few frames per
level of the graph, so a chain of some hundreds of bindings would exceed Python's
recursion limit. A binding deeper than ``DEPTH`` frames (computed once per binding) is
built here instead: an explicit stack walks its dependencies depth first, and each is
made from its ``Record`` with the values its dependencies already have, in the order
recursion would make them. Singletons and scoped instances are created by the same
create-once protocol, in the same places, as their resolvers would create them, so the
next resolution finds them cached. The override engine walks with the same stack.

A cached binding is claimed (creation.py's claims) before its dependencies are built, and
the claim is held until its instance is made, as a resolver holds its creation while it
calls its dependencies' resolvers: threads and tasks asking for it meanwhile wait for this
one instead of building its transient dependencies a second time, and a binding asked for
while it is being made is a cycle. A failure gives up every claim the stack holds.

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
    Claim,
    Slot,
    aclaim_keyed,
    aclaim_once,
    aenter_resource,
    await_instance,
    claim_once,
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

    def claim(self, record: Record) -> tuple[Any, Claim | None]:
        """Before building ``record``'s dependencies: ``(value, None)`` when it exists
        meanwhile; else ``(MISSING, claim)`` for a cached one (this walk creates it) and
        ``(MISSING, None)`` for a transient. A sync walk refuses here what needs an
        await, before building anything, as resolvers do."""
        ...

    def value(self, edge: str, key: Any) -> Any:
        """An argument that is not another binding's instance (container, None, Lazy)."""

    def make(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any:
        """The instance of ``record`` from its dependencies' values; ``claim`` (its
        ``claim``'s) is completed with it. On a failure the walk gives the claim up."""


class APlan(Plan, Protocol):
    async def aknown(self, key: Any) -> Any: ...
    async def aclaim(self, record: Record) -> tuple[Any, Claim | None]: ...
    async def amake(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any: ...


Frames = list[tuple[Record, list[Any], "Claim | None"]]


def _record(plan: Plan, key: Any) -> Record:
    record = plan.record(key)
    if record is None:
        raise DependencyNotFoundError(str(key))
    return record


def _give_up(frames: Frames, exc: BaseException) -> None:
    """A walk failed: give up the claims of the records it was making, innermost first
    (the frames stay: errorpath reads them as the dependency path)."""
    for _, _, claim in reversed(frames):
        if claim is not None:
            claim.fail(exc)


def build(plan: Plan, key: Any) -> Any:
    """The instance of ``key``, its dependencies made depth first by an explicit stack."""
    value = plan.known(key)
    if value is not MISSING:
        return value
    top = _record(plan, key)
    value, claim = plan.claim(top)
    if value is not MISSING:
        return value
    frames: Frames = [(top, [], claim)]
    try:
        while True:
            record, args, claim = frames[-1]
            deps = record.deps
            while len(args) < len(deps):
                edge, k = deps[len(args)]
                if edge not in _INJECTED:
                    args.append(plan.value(edge, k))
                    continue
                value = plan.known(k)
                if value is MISSING:
                    child = _record(plan, k)
                    value, held = plan.claim(child)
                    if value is MISSING:
                        frames.append((child, [], held))
                        break
                args.append(value)
            else:
                value = plan.make(record, tuple(args), claim)  # its record on the stack: the path
                frames.pop()
                if not frames:
                    return value
                frames[-1][1].append(value)
    except BaseException as exc:
        _give_up(frames, exc)
        raise


async def abuild(plan: APlan, key: Any) -> Any:
    """``build`` for a resolution that may await."""
    value = await plan.aknown(key)
    if value is not MISSING:
        return value
    top = _record(plan, key)
    value, claim = await plan.aclaim(top)
    if value is not MISSING:
        return value
    frames: Frames = [(top, [], claim)]
    try:
        while True:
            record, args, claim = frames[-1]
            deps = record.deps
            while len(args) < len(deps):
                edge, k = deps[len(args)]
                if edge not in _INJECTED:
                    args.append(plan.value(edge, k))
                    continue
                value = await plan.aknown(k)
                if value is MISSING:
                    child = _record(plan, k)
                    value, held = await plan.aclaim(child)
                    if value is MISSING:
                        frames.append((child, [], held))
                        break
                args.append(value)
            else:
                value = await plan.amake(record, tuple(args), claim)
                frames.pop()
                if not frames:
                    return value
                frames[-1][1].append(value)
    except BaseException as exc:
        _give_up(frames, exc)
        raise


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

    def claim(self, record: Record) -> tuple[Any, Claim | None]:
        host = self.host
        if record.is_async:
            host.needs_async(record.key)
        if record.lifetime == "singleton":
            return claim_once(host.deep_slot(record.key), record.key, host.reentry)
        if record.lifetime == "scoped":
            state: ScopeState = self._state(record)
            return state.claim(record.key)
        return MISSING, None

    async def aclaim(self, record: Record) -> tuple[Any, Claim | None]:
        host = self.host
        key = record.key
        if record.lifetime == "singleton":
            return await aclaim_once(host.deep_slot(key), key, host.reentry)
        if record.lifetime == "scoped":
            state = self._state(record)
            return await aclaim_keyed(
                state.lock, state.cache, state.pending, key, key, host.reentry
            )
        return MISSING, None

    def value(self, edge: str, key: Any) -> Any:
        if edge == Source.CONTAINER:
            return self.host
        if edge == Source.LAZY:
            return Lazy[Any](key, self.host)
        return None  # Source.NONE

    def _owner(self, record: Record) -> Any:
        """Who finalizes a cached resource: the container, or the scope it lives in."""
        if record.lifetime == "singleton":
            return self.host.finalizers
        return self._state(record).finalizers

    def make(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any:
        host = self.host
        if record.lifetime == "transient":
            return construct(record, args, host.own, host.needs_async)
        value = construct(record, args, self._owner(record).add, host.needs_async)
        _complete(claim, value)
        if record.lifetime == "singleton":
            host.publish(record.key, value)
        return value

    async def amake(self, record: Record, args: tuple[Any, ...], claim: Claim | None) -> Any:
        host = self.host
        if record.lifetime == "transient":
            return await aconstruct(record, args, host.own)
        value = await aconstruct(record, args, self._owner(record).add)
        _complete(claim, value)
        if record.lifetime == "singleton":
            host.publish(record.key, value)
        return value


def _complete(claim: Claim | None, value: Any) -> None:
    assert claim is not None  # a cached record's make follows its claim
    claim.done(value)
