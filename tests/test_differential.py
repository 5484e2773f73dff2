"""Differential tests: for random graphs, the generated container and the runtime one agree.

Hypothesis draws a graph description (up to 12 classes; each with a lifetime, a provider
kind, maybe a name or a second named binding, plain, defaulted and ``Lazy`` edges, some
left unbound to be auto-wired, some failing their first creation or their finalizer; keys
that are classes, generic aliases, NewTypes or type aliases; sync factories written as
functions, classmethods, staticmethods, bound methods or partials; class and factory names
taken from the generated module's own patterns; a default with no literal). It
is written as a real package (classes, factories and a Module at module level), installed
into ``InjectQ`` and compiled by injectq-gen; then one script drives both containers
(outside any scope, in a request scope, in two nested action scopes, in an override
block, after close, with concurrent tasks; optionally warm()/awarm() first and sync
scopes and close()) and the two runs must give the same sharing pattern, the same
creation/finalization events in the same order, and the same errors. A broken graph
(missing dependency, plain cycle, captive lifetime) must give the same problems from
``container.check()`` as from ``generate()``, and resolving it in InjectQ raises errors
with those codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from injectq import (
    AsyncResolutionError,
    CircularDependencyError,
    DependencyNotFoundError,
    GraphValidationError,
    InjectQ,
    InjectQError,
    Lazy,
    ResourceCleanupError,
)
from injectq_codegen.build import generate
from injectq_codegen.errors import GraphProblems
from tests.codegen_support import make_project, unique_name

LIFETIMES = ("transient", "action", "request", "singleton")  # shortest-lived first
KINDS = (
    "class", "factory", "async_factory", "generator", "async_generator", "instance", "unbound",
)
STYLES = ("normal", "posonly", "kwonly")
# one more parameter: x: int = 3 / xo: object = SENTINEL (a default that has no literal) /
# o: Unbound | None / ic: InjectQ (the container itself)
EXTRAS = ("", "", "default", "objdefault", "optional", "container")
# the key a node is bound and asked for under: its class, a generic alias Box[C], a
# NewType over it, a type alias of it
KEY_SHAPES = ("class", "class", "generic", "newtype", "alias")
# how a sync factory is written: a function, a classmethod, a staticmethod, a method bound
# to an object made in configure(), a functools.partial
FACTORY_SHAPES = ("function", "function", "classmethod", "staticmethod", "bound", "partial")
# what the class (and its factory) is called: C3, or a name of the generated module's own
# patterns (MakeC1 next to C1, _iq_make_c2, provide_c0, ...)
NAME_SHAPES = ("plain", "plain", "Make", "_iq_make_", "provide_", "_iq_v_", "_make_")
# "none": lifetimes made valid; "shuffled": lifetimes as drawn (may be captive)
BREAKS = ("none", "none", "none", "shuffled", "missing", "cycle", "captive")
RESOLVE = ("get", "get", "aget", "aget")
# a deeper run: INJECTQ_DIFF_EXAMPLES=2000 pytest tests/test_differential.py
EXAMPLES = int(os.environ.get("INJECTQ_DIFF_EXAMPLES", "40"))


@dataclass(frozen=True)
class EdgeSpec:
    target: int
    lazy: bool = False
    default: bool = False  # `= None`: injected when the target is bound, else the default


@dataclass(frozen=True)
class NodeSpec:
    lifetime: str
    kind: str
    named: bool
    deps: tuple[EdgeSpec, ...]
    style: str = "normal"
    extra: str = ""  # see EXTRAS
    extra_at: int = 0  # where the extra parameter goes (when the style allows)
    missing: str = ""  # "", "protocol" (m: Unbound), "name" (a named key nothing binds)
    alias: str = ""  # lifetime of a second binding of the same provider, named "a<i>"
    fail_first: bool = False  # its first creation raises (each run)
    fail_close: bool = False  # its finalizer raises (a resource)
    key_shape: str = "class"  # see KEY_SHAPES
    factory_shape: str = "function"  # see FACTORY_SHAPES
    name_shape: str = "plain"  # see NAME_SHAPES
    name_of: int = 0  # the index its pattern name refers to

    @property
    def bound(self) -> bool:
        return self.kind != "unbound"


@dataclass(frozen=True)
class GraphSpec:
    nodes: tuple[NodeSpec, ...]
    breakage: str
    broken: tuple[int, ...] = ()  # the nodes the breakage changed


def _rank(lifetime: str) -> int:
    return LIFETIMES.index(lifetime)


def _clamp(nodes: list[NodeSpec]) -> list[NodeSpec]:
    """Shorten lifetimes so that nothing outlives what it reaches, through plain and Lazy
    edges alike (a Lazy handle keeps what its first call resolved), nor holds a transient
    resource. Lazy edges may point
    back up the graph, so this runs to a fixpoint; lifetimes only shorten, so it ends."""
    eff = dict.fromkeys(range(len(nodes)), _rank("singleton"))
    changed = True
    while changed:
        changed = False
        for i in range(len(nodes) - 1, -1, -1):
            node = nodes[i]
            cap = min((eff[e.target] for e in node.deps), default=_rank("singleton"))
            if node.alias and node.alias != "transient" and _rank(node.alias) > cap:
                node = nodes[i] = replace(node, alias=LIFETIMES[cap])
            if node.lifetime != "transient" and _rank(node.lifetime) > cap:
                node = replace(node, lifetime=LIFETIMES[cap])
                if node.kind == "instance":
                    node = replace(node, kind="class")
                nodes[i] = node
            own = cap if node.lifetime == "transient" else _rank(node.lifetime)
            if node.lifetime == "transient" and node.kind in ("generator", "async_generator"):
                own = 0  # a transient resource is finalized with the innermost scope
                # (or the container): what holds it must be transient too (IQ003)
            if own != eff[i]:
                eff[i] = own
                changed = True
    return nodes


def _without(deps: tuple[EdgeSpec, ...], target: int) -> tuple[EdgeSpec, ...]:
    return tuple(e for e in deps if e.target != target)


def _buildable(node: NodeSpec) -> NodeSpec:
    """The node, able to take parameters (an instance cannot)."""
    return replace(node, kind="class") if node.kind == "instance" else node


@st.composite
def graphs(draw: st.DrawFn) -> GraphSpec:
    breakage = draw(st.sampled_from(BREAKS))
    n = draw(st.integers(3 if breakage == "captive" else 1, 12))
    nodes: list[NodeSpec] = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        if kind == "instance":
            lifetime = "singleton"
        elif kind == "unbound":
            lifetime = "transient"
        else:
            lifetime = draw(st.sampled_from(LIFETIMES))
        deps: list[EdgeSpec] = []
        if kind != "instance":
            later = list(range(i + 1, n))
            targets = draw(st.lists(st.sampled_from(later), unique=True, max_size=3)) if later \
                else []
            deps = [
                EdgeSpec(t, draw(st.integers(0, 4)) == 0, draw(st.integers(0, 5)) == 0)
                for t in targets
            ]
            if draw(st.integers(0, 5)) == 0:  # a cycle through Lazy is allowed
                deps.append(EdgeSpec(draw(st.integers(0, i)), lazy=True))
        nodes.append(NodeSpec(
            lifetime=lifetime,
            kind=kind,
            named=kind != "unbound" and draw(st.integers(0, 3)) == 0,
            deps=tuple(deps),
            style=draw(st.sampled_from(STYLES)),
            extra="" if kind == "instance" else draw(st.sampled_from(EXTRAS)),
            extra_at=draw(st.integers(0, 3)),
            alias="" if kind == "unbound" or draw(st.integers(0, 4)) else (
                "singleton" if kind == "instance" else draw(st.sampled_from(LIFETIMES))
            ),
            fail_first=kind != "instance" and draw(st.integers(0, 7)) == 0,
            fail_close=draw(st.integers(0, 5)) == 0,
            key_shape="class" if kind == "unbound" else draw(st.sampled_from(KEY_SHAPES)),
            factory_shape=draw(st.sampled_from(FACTORY_SHAPES)),
            name_shape=draw(st.sampled_from(NAME_SHAPES)),
            name_of=draw(st.integers(0, n - 1)),
        ))
    if breakage != "shuffled":
        nodes = _clamp(nodes)
    broken: tuple[int, ...] = ()
    if breakage == "missing":
        i = draw(st.integers(0, n - 1))
        broken = (i,)
        nodes[i] = replace(_buildable(nodes[i]), missing=draw(st.sampled_from(["protocol", "name"])))
    elif breakage == "cycle":
        i = draw(st.integers(0, n - 1))
        j = draw(st.integers(i, n - 1))
        broken = (i, j)
        nodes[i] = _buildable(nodes[i])
        nodes[i] = replace(nodes[i], deps=(*_without(nodes[i].deps, j), EdgeSpec(j)))
        nodes[j] = _buildable(nodes[j])
        if i != j:
            nodes[j] = replace(nodes[j], deps=(*_without(nodes[j].deps, i), EdgeSpec(i)))
    elif breakage == "captive":  # singleton -> transient -> scoped
        i = draw(st.integers(0, n - 3))
        j = draw(st.integers(i + 1, n - 2))
        k = draw(st.integers(j + 1, n - 1))
        broken = (i, j, k)
        kind_i = nodes[i].kind if nodes[i].kind not in ("instance", "unbound") else "class"
        nodes[i] = replace(nodes[i], kind=kind_i, lifetime="singleton",
                           deps=(*_without(nodes[i].deps, j), EdgeSpec(j)))
        nodes[j] = replace(_buildable(nodes[j]), lifetime="transient",
                           deps=(*_without(nodes[j].deps, k), EdgeSpec(k)))
        kind_k = nodes[k].kind if nodes[k].kind not in ("instance", "unbound") else "class"
        nodes[k] = replace(nodes[k], kind=kind_k,
                           lifetime=draw(st.sampled_from(["request", "action"])))
    return GraphSpec(tuple(nodes), breakage, broken)


# -- the package written for one graph ---------------------------------------------------

HEADER = """\
from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Generic, NewType, Protocol, TypeVar

from typing_extensions import TypeAliasType

from injectq import InjectQ, Lazy, Module, Named

T = TypeVar("T")
SENTINEL = object()  # a default with no literal: both containers must pass this object


class Box(Generic[T]):
    # every class of the graph is a Box, so Box[C] keys hold a subclass of their key
    pass

LOG: list[tuple[object, ...]] = []
_SERIAL = itertools.count()
FAIL_FIRST: set[str] = set()  # these fail to create once, after reset()
FAILING: set[str] = set()


def reset() -> None:
    global _SERIAL
    LOG.clear()
    _SERIAL = itertools.count(100)
    FAILING.clear()
    FAILING.update(FAIL_FIRST)


def failing(name: str) -> None:
    if name in FAILING:
        FAILING.discard(name)
        LOG.append(("fail", name))
        raise RuntimeError(f"{name} failed")


def serial() -> int:
    return next(_SERIAL)


class Unbound(Protocol):
    def run(self) -> None: ...


class Replacement:
    # what an override() puts in place of a key

    deps = ()
    serial = -1
"""


def _key_text(spec: GraphSpec, i: int) -> str:
    """The key node i is bound under, as source."""
    shape = spec.nodes[i].key_shape
    return {"class": f"C{i}", "generic": f"Box[C{i}]", "newtype": f"NT{i}",
            "alias": f"AL{i}"}[shape]


def _class_name(spec: GraphSpec, i: int) -> str:
    """The name class i is defined under (C{i} is always an alias of it)."""
    node = spec.nodes[i]
    if node.name_shape == "plain":
        return f"C{i}"
    j = node.name_of
    if node.name_shape == "Make":
        return f"MakeC{j}" if j != i else f"MakeMakeC{j}"
    return f"{node.name_shape}c{j}_{i}" if j == i else f"{node.name_shape}c{j}"


def _annotation(spec: GraphSpec, edge: EdgeSpec) -> str:
    target = spec.nodes[edge.target]
    text = _key_text(spec, edge.target)
    if target.named:
        text = f'Annotated[{text}, Named("n{edge.target}")]'
    return f"Lazy[{text}]" if edge.lazy else text


def _params(spec: GraphSpec, i: int) -> tuple[str, str, str]:
    """(parameter list, the call forwarding them, their names) of node i's constructor
    and factory."""
    node = spec.nodes[i]
    params = [
        (f"d{k}", _annotation(spec, e) + (" | None = None" if e.default else ""))
        for k, e in enumerate(node.deps)
    ]
    if node.missing == "protocol":
        params.append(("m", "Unbound"))
    elif node.missing == "name":
        params.append(("m", f'Annotated[C{i}, Named("absent")]'))
    extra = {
        "default": ("x", "int = 3"), "objdefault": ("xo", "object = SENTINEL"),
        "optional": ("o", "Unbound | None"), "container": ("ic", "InjectQ"),
    }.get(node.extra)
    if extra is not None:
        params.insert(min(node.extra_at, len(params)), extra)
    if node.style != "kwonly":  # defaults last
        params.sort(key=lambda p: "=" in p[1])
    if not params:
        return "", "", ""
    decl = [f"{name}: {ann}" for name, ann in params]
    names = [name for name, _ in params]
    if node.style == "posonly":
        return ", ".join([*decl, "/"]), ", ".join(names), ", ".join(names)
    if node.style == "kwonly":
        return ", ".join(["*", *decl]), ", ".join(f"{n}={n}" for n in names), ", ".join(names)
    return ", ".join(decl), ", ".join(names), ", ".join(names)


def _names(spec: GraphSpec) -> tuple[list[str], list[str]]:
    """Class and factory-function names, unique: C{i} / make{i}, or pattern names."""
    used: set[str] = set()
    classes, factories = [], []
    for i, node in enumerate(spec.nodes):
        cls = _class_name(spec, i)
        if cls in used:
            cls = f"C{i}"
        used.add(cls)
        fn = f"make{i}"
        if node.name_shape not in ("plain", "Make") and f"{node.name_shape}c{i}" not in used:
            fn = f"{node.name_shape}c{i}"  # e.g. _iq_make_c3, bound for C3
        used.add(fn)
        classes.append(cls)
        factories.append(fn)
    return classes, factories


def _factory(i: int, node: NodeSpec, fname: str, decl: str, call: str) -> list[str]:
    """A sync factory of C{i} in its shape; ``make{i}`` names what configure() binds."""
    shape = node.factory_shape
    body = f"        return C{i}({call})"
    if shape == "function":
        return ["", f"def {fname}({decl}) -> C{i}:", f"    return C{i}({call})", "",
                f"make{i} = {fname}", ""]
    if shape == "partial":
        tail = f"{decl}, _tag: str = ''" if decl else "_tag: str = ''"
        return ["", f"def {fname}({tail}) -> C{i}:", f"    assert _tag == 'p{i}'",
                f"    return C{i}({call})", "", ""]
    first = {"classmethod": "cls", "staticmethod": "", "bound": "self"}[shape]
    params = ", ".join(p for p in (first, decl) if p)
    decorator = {"classmethod": ["    @classmethod"], "staticmethod": ["    @staticmethod"]}
    return ["", f"class F{i}:", *decorator.get(shape, []), f"    def make({params}) -> C{i}:",
            body, "", ""]


def _factory_ref(i: int, node: NodeSpec, fname: str) -> str:
    """What configure() passes to bind_factory for a sync factory."""
    return {
        "function": f"make{i}", "classmethod": f"F{i}.make", "staticmethod": f"F{i}.make",
        "bound": f"F{i}().make", "partial": f"functools.partial({fname}, _tag='p{i}')",
    }[node.factory_shape]


def graph_source(spec: GraphSpec) -> str:
    out = [HEADER]
    classes, factories = _names(spec)
    for i, node in enumerate(spec.nodes):
        decl, call, values = _params(spec, i)
        close_fail = f"\n    raise RuntimeError('closing C{i} failed')" if node.fail_close else ""
        out += [
            "",
            f"class {classes[i]}(Box[object]):",
            f"    def __init__(self{', ' if decl else ''}{decl}) -> None:",
            f"        failing('C{i}')",
            "        self.serial = serial()",
            f"        self.deps = ({values}{',' if values else ''})",
            f"        LOG.append(('create', 'C{i}', self.serial))",
            "",
        ]
        if classes[i] != f"C{i}":
            out += ["", f"C{i} = {classes[i]}", ""]
        if node.kind == "factory":
            out += _factory(i, node, factories[i], decl, call)
        elif node.kind == "async_factory":
            out += [
                "", f"async def make{i}({decl}) -> C{i}:",
                "    await asyncio.sleep(0)",
                f"    return C{i}({call})", "",
            ]
        elif node.kind == "generator":
            out += [
                "", f"def make{i}({decl}) -> Iterator[C{i}]:",
                f"    obj = C{i}({call})",
                "    yield obj",
                f"    LOG.append(('close', 'C{i}', obj.serial)){close_fail}", "",
            ]
        elif node.kind == "async_generator":
            out += [
                "", f"async def make{i}({decl}) -> AsyncIterator[C{i}]:",
                f"    obj = C{i}({call})",
                "    yield obj",
                "    await asyncio.sleep(0)",
                f"    LOG.append(('close', 'C{i}', obj.serial)){close_fail}", "",
            ]
        elif node.kind == "instance":
            out += ["", f"INSTANCE{i} = C{i}()", ""]
    for i, node in enumerate(spec.nodes):
        if node.key_shape == "newtype":
            out.append(f'NT{i} = NewType("NT{i}", C{i})')
        elif node.key_shape == "alias":
            out.append(f'AL{i} = TypeAliasType("AL{i}", C{i})')
    fail_first = sorted(f"C{i}" for i, node in enumerate(spec.nodes) if node.fail_first)
    out += [
        "", f"FAIL_FIRST.update({fail_first!r})",
        "", "", "class GraphModule(Module):", "    def configure(self) -> None:", "        pass",
    ]
    for i, node in enumerate(spec.nodes):
        if node.kind == "unbound":
            continue
        out.append(_binding(i, node, f', name="n{i}"' if node.named else "", node.lifetime,
                            spec, factories[i]))
        if node.alias:
            out.append(_binding(i, node, f', name="a{i}"', node.alias, spec, factories[i]))
    return "\n".join(out) + "\n"


def _binding(i: int, node: NodeSpec, name: str, lifetime: str, spec: GraphSpec,
             fname: str) -> str:
    key = _key_text(spec, i)
    if node.kind == "instance":
        return f"        self.bind_instance({key}, INSTANCE{i}{name})"
    if node.kind == "class":
        how = f"self.bind({key}, C{i}{name})"
    elif node.kind == "factory":
        how = f"self.bind_factory({key}, {_factory_ref(i, node, fname)}{name})"
    else:
        how = f"self.bind_factory({key}, make{i}{name})"
    call = {
        "singleton": "singleton()", "transient": "transient()",
        "request": 'scoped("request")', "action": 'scoped("action")',
    }[lifetime]
    return f"        {how}.{call}"


def _keys(spec: GraphSpec, mod: ModuleType) -> list[tuple[str, tuple[Any, ...]]]:
    keys = []
    for i, node in enumerate(spec.nodes):
        cls = getattr(mod, f"C{i}")
        key = {"class": cls, "generic": mod.Box[cls], "newtype": getattr(mod, f"NT{i}", None),
               "alias": getattr(mod, f"AL{i}", None)}[node.key_shape]
        keys.append((f"C{i}", (key, f"n{i}") if node.named else (key,)))
        if node.alias:
            keys.append((f"C{i} a{i}", (key, f"a{i}")))
    return keys


# -- one script, both containers ----------------------------------------------------------


class Recorder:
    """What a run observed: every resolution's shape, with objects as identity indices."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps objects alive: ids are never reused
        self.out: list[Any] = []
        self.serials = True  # False where creation order may differ (concurrent tasks)

    def index(self, obj: Any) -> int:
        n = self.ids.get(id(obj))
        if n is None:
            n = self.ids[id(obj)] = len(self.ids)
            self.keep.append(obj)
        return n

    async def shape(self, obj: Any, depth: int = 0) -> Any:
        if isinstance(obj, Lazy):
            seen = id(obj) in self.ids
            n = self.index(obj)
            if depth != 1 or seen:  # a handle of the resolved object's own deps is called
                return ("lazy", n)
            try:
                try:
                    value = obj()
                except AsyncResolutionError:
                    value = await obj.aget()
            except Exception as exc:  # recorded, compared, checked below
                return ("lazy", n, "raise", type(exc).__name__)
            return ("lazy", n, await self.shape(value, depth + 1))
        if obj is self.container:
            return ("the container",)
        if not hasattr(obj, "deps"):
            return ("value", repr(obj))
        seen = id(obj) in self.ids
        n = self.index(obj)
        if seen:
            return (type(obj).__name__, n)
        parts = [await self.shape(d, depth + 1) for d in obj.deps]
        return (type(obj).__name__, n, obj.serial if self.serials else "?", tuple(parts))


@dataclass(frozen=True)
class Script:
    """How the shared script drives a container."""

    sync: bool = False  # `with` scopes and close() (then aclose()) instead of async ones
    warm: bool = False  # warm(), awarm(), warm() first
    override: int | None = None  # override this node inside the scopes


scripts = st.builds(
    Script,
    sync=st.booleans(),
    warm=st.booleans(),
    override=st.one_of(st.none(), st.integers(0, 11)),
)


async def drive(
    c: Any, keys: list[tuple[str, tuple[Any, ...]]], mod: ModuleType, script: Script
) -> list[Any]:
    rec = Recorder(c)
    log = mod.LOG

    def raised(what: str, exc: Exception) -> None:
        rec.out.append((what, "raise", type(exc).__name__))

    async def resolve_all(phase: str) -> None:
        for label, key in keys:
            for how in RESOLVE:
                try:
                    obj = c.get(*key) if how == "get" else await c.aget(*key)
                except Exception as exc:  # recorded and compared
                    raised(f"{phase} {how} {label}", exc)
                    continue
                rec.out.append((phase, label, how, await rec.shape(obj)))
        log.append(("resolved", phase))

    async def scoped(name: str, body: Any) -> None:
        try:
            if script.sync:
                with c.scope(name):
                    await body()
            else:
                async with c.scope(name):
                    await body()
        except Exception as exc:  # recorded and compared
            raised(f"closing {name}", exc)
        log.append(("closed", name))

    async def close(what: str) -> None:
        if script.sync:
            try:
                c.close()
            except Exception as exc:  # recorded and compared
                raised(f"close {what}", exc)
            log.append(("closed sync", what))
        try:
            await c.aclose()
        except Exception as exc:  # recorded and compared
            raised(f"aclose {what}", exc)
        log.append(("closed", what))

    async def warm(what: str) -> None:
        for step in ("warm", "awarm", "warm"):
            try:
                c.warm() if step == "warm" else await c.awarm()
            except Exception as exc:  # recorded and compared
                raised(f"{what} {step}", exc)
            log.append((step, what))

    async def overridden() -> None:
        if script.override is None:
            return
        label, key = keys[script.override % len(keys)]
        with c.override(*key[:1], mod.Replacement(), *key[1:]):
            await resolve_all(f"override {label}")
        await resolve_all(f"after override {label}")

    async def action() -> None:
        await resolve_all("action")
        await overridden()

    async def request() -> None:
        await resolve_all("request")
        await scoped("action", action)
        await scoped("action", lambda: resolve_all("action 2"))
        await resolve_all("request again")

    async def fresh() -> None:
        await scoped("action", lambda: resolve_all("new scopes"))

    async def attempt(key: tuple[Any, ...]) -> Any:
        try:
            return await c.aget(*key)
        except Exception as exc:  # recorded and compared
            return exc

    async def concurrently() -> None:
        """Tasks resolving every key at once: same objects shared, same ones created."""
        log.append(("concurrent",))
        rec.serials = False

        async def body() -> None:
            jobs = [(label, key) for label, key in keys for _ in range(3)]
            values = await asyncio.gather(*(attempt(key) for _, key in jobs))
            for (label, _), value in zip(jobs, values, strict=True):
                if isinstance(value, Exception):
                    raised(f"concurrent {label}", value)
                else:
                    rec.out.append(("concurrent", label, await rec.shape(value)))

        await scoped("request", lambda: scoped("action", body))
        await close("container at last")

    for label, key in keys:
        rec.out.append(("has", label, c.has(*key), key[0] in c if len(key) == 1 else None))
    if script.warm:
        await warm("start")
    await resolve_all("app")
    await scoped("request", request)
    await close("container")
    await resolve_all("after close")
    await scoped("request", fresh)
    await close("container again")
    await concurrently()
    return rec.out


def normalized(log: list[Any]) -> list[Any]:
    """The event log, with the part where tasks run concurrently as a sorted multiset of
    events without serial numbers (each container may interleave the tasks its own way)."""
    at = log.index(("concurrent",))
    return [*log[:at], *sorted(repr(e[:2]) for e in log[at:])]


# -- the test ------------------------------------------------------------------------------


def _forget(*prefixes: str) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in prefixes:
            del sys.modules[name]


def _rendered(problems: Any) -> list[str]:
    return [p.render() for p in problems]


PROBLEM_ERRORS = {"IQ001": DependencyNotFoundError, "IQ002": CircularDependencyError}
ALLOWED_RAISES = {
    "ScopeError", "AsyncResolutionError", "DependencyNotFoundError", "CircularDependencyError",
    "ResourceCleanupError",  # a sync close() of async resources, a failing finalizer
    "RuntimeError",  # a failing creation
}


def _check_broken(
    spec: GraphSpec, runtime: InjectQ, keys: Any, roots: list[Any], problems: Any
) -> None:
    """The runtime's view of a graph injectq-gen refused: same problems, and resolving
    raises errors whose codes are among them."""
    errors = [p for p in problems if p.severity == "error"]
    codes = {p.code for p in errors}
    assert codes
    expected = {"missing": "IQ001", "cycle": "IQ002", "captive": "IQ003"}.get(spec.breakage)
    if expected is not None:
        assert expected in codes, _rendered(errors)
    with pytest.raises(GraphValidationError) as excinfo:
        runtime.validate(roots)
    assert {p.code for p in excinfo.value.problems if p.severity == "error"} <= codes

    async def resolve() -> list[tuple[str, InjectQError]]:
        raised = []
        with contextlib.suppress(ResourceCleanupError):  # a failing finalizer
            async with runtime.scope("request"), runtime.scope("action"):
                for label, key in keys:
                    try:
                        await runtime.aget(*key)
                    except InjectQError as exc:
                        raised.append((label, exc))
        with contextlib.suppress(ResourceCleanupError):
            await runtime.aclose()
        return raised

    raised = asyncio.run(resolve())
    for _, exc in raised:
        code = getattr(exc, "code", None)
        assert code in codes, exc
        assert type(exc) is PROBLEM_ERRORS[code]
    if spec.breakage in ("missing", "cycle"):
        failed = {label for label, _ in raised}
        assert failed & {f"C{i}" for i in spec.broken}, (spec.broken, raised)


@settings(
    max_examples=EXAMPLES, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=graphs(), script=scripts)
# disagreements found by this test, kept as fixed examples
@example(  # a sync close() left async resources to the aclose() it asks for, in InjectQ only
    spec=GraphSpec((NodeSpec("transient", "async_generator", False, ()),), "none"),
    script=Script(sync=True),
)
@example(  # warm() after awarm() still reported the created async singletons as pending
    spec=GraphSpec((NodeSpec("singleton", "async_factory", False, ()),), "none"),
    script=Script(warm=True),
)
@example(  # a resource rebuilt in an override block went to the container, not the block
    spec=GraphSpec((
        NodeSpec("singleton", "async_generator", False, (EdgeSpec(1),)),
        NodeSpec("transient", "class", False, ()),
    ), "none"),
    script=Script(override=1),
)
@example(  # ... and a transient one to the container, not the innermost scope
    spec=GraphSpec((
        NodeSpec("transient", "generator", False, (EdgeSpec(1),)),
        NodeSpec("transient", "class", False, ()),
    ), "none"),
    script=Script(override=1),
)
@example(  # InjectQ's override path dropped a default before a positional-only argument
    spec=GraphSpec((
        NodeSpec("transient", "class", False, (EdgeSpec(1, default=True),), style="posonly",
                 extra="default"),
        NodeSpec("transient", "class", True, ()),
    ), "none"),
    script=Script(override=1),
)
def test_generated_and_runtime_containers_agree(
    codegen_env: Path, spec: GraphSpec, script: Script
) -> None:
    """Same sharing, same creation and finalization order, same errors, same problems."""
    package = unique_name("df")
    wiring_name = unique_name("df_wiring")
    try:
        _run_differential(codegen_env, spec, script, package, wiring_name)
    finally:
        _forget(package, wiring_name)


@contextlib.contextmanager
def _all_deep() -> Any:
    """Every binding built by deep.py's explicit stack instead of its resolvers (as a
    graph deeper than the call stack is): in the runtime compiler and in injectq-gen."""
    from injectq.runtime import deep

    depth = deep.DEPTH
    deep.DEPTH = -1
    try:
        yield
    finally:
        deep.DEPTH = depth


@settings(
    max_examples=max(EXAMPLES // 2, 1), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=graphs(), script=scripts)
def test_the_explicit_stack_builds_as_resolvers_do(
    codegen_env: Path, spec: GraphSpec, script: Script
) -> None:
    """A graph built by the explicit stack (every binding, in both containers) shares,
    creates, finalizes and fails as the resolvers do: the same runs as the test above,
    with the resolvers' container as the reference."""
    package = unique_name("dd")
    wiring_name = unique_name("dd_wiring")
    try:
        _run_differential(codegen_env, spec, script, package, wiring_name, deep=True)
    finally:
        _forget(package, wiring_name)


def _run_differential(
    root: Path, spec: GraphSpec, script: Script, package: str, wiring_name: str,
    *, deep: bool = False,
) -> None:
    make_project(root, {f"{package}/graph.py": graph_source(spec)})
    mod = importlib.import_module(f"{package}.graph")
    keys = _keys(spec, mod)
    root_names = [f"{package}.graph:C{i}" for i, n in enumerate(spec.nodes) if not n.bound]
    roots = [getattr(mod, name.split(":")[1]) for name in root_names]

    runtime = InjectQ()
    runtime.install(mod.GraphModule())
    runtime_problems = runtime.check(roots)
    try:
        with _all_deep() if deep else contextlib.nullcontext():
            source, plan = generate([f"{package}.graph:GraphModule"], root_names)
    except GraphProblems as exc:
        event(f"refused: {spec.breakage}")
        assert spec.breakage != "none", _rendered(exc.problems)
        assert _rendered(exc.problems) == _rendered(runtime_problems)
        _check_broken(spec, runtime, keys, roots, exc.problems)
        return
    event(f"built: {spec.breakage}")
    assert spec.breakage in ("none", "shuffled")
    assert _rendered(plan.warnings) == _rendered(runtime_problems)
    runtime.validate(roots)

    (root / f"{wiring_name}.py").write_text(source, encoding="utf-8")
    importlib.invalidate_caches()
    wiring = importlib.import_module(wiring_name)

    mod.reset()
    expected = asyncio.run(drive(runtime, keys, mod, script))
    expected_log = normalized(mod.LOG)
    mod.reset()
    actual = asyncio.run(drive(wiring.container, keys, mod, script))
    actual_log = normalized(mod.LOG)
    if deep:  # and the runtime container, compiled with every binding deep
        assert "deep(" in source or not any(n.bound for n in spec.nodes)
        stacked = InjectQ()
        stacked.install(mod.GraphModule())
        mod.reset()
        with _all_deep():
            stacked_run = asyncio.run(drive(stacked, keys, mod, script))
        assert stacked_run == expected
        assert normalized(mod.LOG) == expected_log

    raised = {r[-1] for r in expected if r[-2] == "raise"}
    assert raised <= ALLOWED_RAISES, [r for r in expected if r[-2] == "raise"]
    assert actual == expected
    assert actual_log == expected_log
