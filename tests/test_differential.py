"""Differential tests: for random graphs, the generated container and the runtime one agree.

Hypothesis draws a graph description (up to 12 classes; each with a lifetime, a provider
kind, maybe a name, plain and ``Lazy`` edges, some left unbound to be auto-wired). It is
written as a real package (classes, factories and a Module at module level), installed
into ``InjectQ`` and compiled by injectq-gen; then one script drives both containers
(outside any scope, in a request scope, in two nested action scopes, after close) and
the two runs must give the same sharing pattern, the same creation/finalization events
in the same order, and the same errors. A broken graph (missing dependency, plain cycle,
captive lifetime) must give the same problems from ``container.check()`` and from
``generate()``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from injectq import (
    AsyncResolutionError,
    CircularDependencyError,
    DependencyNotFoundError,
    GraphValidationError,
    InjectQ,
    InjectQError,
    Lazy,
)
from injectq_codegen.build import generate
from injectq_codegen.errors import GraphProblems
from tests.codegen_support import make_project, unique_name

LIFETIMES = ("transient", "action", "request", "singleton")  # shortest-lived first
KINDS = (
    "class", "factory", "async_factory", "generator", "async_generator", "instance", "unbound",
)
STYLES = ("normal", "posonly", "kwonly")
EXTRAS = ("", "", "default", "optional")
# "none": lifetimes made valid; "shuffled": lifetimes as drawn (may be captive)
BREAKS = ("none", "none", "none", "shuffled", "missing", "cycle", "captive")
RESOLVE = ("get", "get", "aget", "aget")
# a deeper run: INJECTQ_DIFF_EXAMPLES=2000 pytest tests/test_differential.py
EXAMPLES = int(os.environ.get("INJECTQ_DIFF_EXAMPLES", "40"))


@dataclass(frozen=True)
class EdgeSpec:
    target: int
    lazy: bool = False


@dataclass(frozen=True)
class NodeSpec:
    lifetime: str
    kind: str
    named: bool
    deps: tuple[EdgeSpec, ...]
    style: str = "normal"
    extra: str = ""  # "", "default" (x: int = 3), "optional" (o: Unbound | None)
    missing: str = ""  # "", "protocol" (m: Unbound), "name" (a named key nothing binds)

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
    """Shorten lifetimes so that nothing outlives what it reaches through plain edges."""
    eff: dict[int, int] = {}
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        cap = min(
            (eff[e.target] for e in node.deps if not e.lazy and e.target > i),
            default=_rank("singleton"),
        )
        if node.lifetime == "transient":
            eff[i] = cap
            continue
        if _rank(node.lifetime) > cap:
            node = replace(node, lifetime=LIFETIMES[cap])
            if node.kind == "instance":
                node = replace(node, kind="class")
            nodes[i] = node
        eff[i] = _rank(node.lifetime)
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
            deps = [EdgeSpec(t, draw(st.integers(0, 4)) == 0) for t in targets]
            if draw(st.integers(0, 5)) == 0:  # a cycle through Lazy is allowed
                deps.append(EdgeSpec(draw(st.integers(0, i)), lazy=True))
        nodes.append(NodeSpec(
            lifetime=lifetime,
            kind=kind,
            named=kind != "unbound" and draw(st.integers(0, 3)) == 0,
            deps=tuple(deps),
            style=draw(st.sampled_from(STYLES)),
            extra="" if kind == "instance" else draw(st.sampled_from(EXTRAS)),
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
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Protocol

from injectq import Lazy, Module, Named

LOG: list[tuple[object, ...]] = []
_SERIAL = itertools.count()


def reset() -> None:
    global _SERIAL
    LOG.clear()
    _SERIAL = itertools.count(100)


def serial() -> int:
    return next(_SERIAL)


class Unbound(Protocol):
    def run(self) -> None: ...
"""


def _annotation(spec: GraphSpec, edge: EdgeSpec) -> str:
    target = spec.nodes[edge.target]
    text = f"C{edge.target}"
    if target.named:
        text = f'Annotated[{text}, Named("n{edge.target}")]'
    return f"Lazy[{text}]" if edge.lazy else text


def _params(spec: GraphSpec, i: int) -> tuple[str, str, str]:
    """(parameter list, the call forwarding them, their names) of node i's constructor
    and factory."""
    node = spec.nodes[i]
    params = [(f"d{k}", _annotation(spec, e)) for k, e in enumerate(node.deps)]
    if node.missing == "protocol":
        params.append(("m", "Unbound"))
    elif node.missing == "name":
        params.append(("m", f'Annotated[C{i}, Named("absent")]'))
    if node.extra == "default":
        params.append(("x", "int = 3"))
    elif node.extra == "optional":
        params.append(("o", "Unbound | None"))
    if not params:
        return "", "", ""
    decl = [f"{name}: {ann}" for name, ann in params]
    names = [name for name, _ in params]
    if node.style == "posonly":
        return ", ".join([*decl, "/"]), ", ".join(names), ", ".join(names)
    if node.style == "kwonly":
        return ", ".join(["*", *decl]), ", ".join(f"{n}={n}" for n in names), ", ".join(names)
    return ", ".join(decl), ", ".join(names), ", ".join(names)


def graph_source(spec: GraphSpec) -> str:
    out = [HEADER]
    for i, node in enumerate(spec.nodes):
        decl, call, values = _params(spec, i)
        out += [
            "",
            f"class C{i}:",
            f"    def __init__(self{', ' if decl else ''}{decl}) -> None:",
            "        self.serial = serial()",
            f"        self.deps = ({values}{',' if values else ''})",
            f"        LOG.append(('create', 'C{i}', self.serial))",
            "",
        ]
        if node.kind == "factory":
            out += ["", f"def make{i}({decl}) -> C{i}:", f"    return C{i}({call})", ""]
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
                f"    LOG.append(('close', 'C{i}', obj.serial))", "",
            ]
        elif node.kind == "async_generator":
            out += [
                "", f"async def make{i}({decl}) -> AsyncIterator[C{i}]:",
                f"    obj = C{i}({call})",
                "    yield obj",
                "    await asyncio.sleep(0)",
                f"    LOG.append(('close', 'C{i}', obj.serial))", "",
            ]
        elif node.kind == "instance":
            out += ["", f"INSTANCE{i} = C{i}()", ""]
    out += ["", "class GraphModule(Module):", "    def configure(self) -> None:", "        pass"]
    for i, node in enumerate(spec.nodes):
        name = f', name="n{i}"' if node.named else ""
        if node.kind == "unbound":
            continue
        if node.kind == "instance":
            out.append(f"        self.bind_instance(C{i}, INSTANCE{i}{name})")
            continue
        if node.kind == "class":
            how = f"self.bind(C{i}, C{i}{name})"
        else:
            how = f"self.bind_factory(C{i}, make{i}{name})"
        lifetime = {
            "singleton": "singleton()", "transient": "transient()",
            "request": 'scoped("request")', "action": 'scoped("action")',
        }[node.lifetime]
        out.append(f"        {how}.{lifetime}")
    return "\n".join(out) + "\n"


def _keys(spec: GraphSpec, mod: ModuleType) -> list[tuple[str, tuple[Any, ...]]]:
    keys = []
    for i, node in enumerate(spec.nodes):
        cls = getattr(mod, f"C{i}")
        keys.append((f"C{i}", (cls, f"n{i}") if node.named else (cls,)))
    return keys


# -- one script, both containers ----------------------------------------------------------


class Recorder:
    """What a run observed: every resolution's shape, with objects as identity indices."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[Any] = []  # keeps objects alive: ids are never reused
        self.out: list[Any] = []

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
        if not hasattr(obj, "deps"):
            return ("value", repr(obj))
        seen = id(obj) in self.ids
        n = self.index(obj)
        if seen:
            return (type(obj).__name__, n)
        parts = [await self.shape(d, depth + 1) for d in obj.deps]
        return (type(obj).__name__, n, obj.serial, tuple(parts))


async def drive(c: Any, keys: list[tuple[str, tuple[Any, ...]]], log: list[Any]) -> list[Any]:
    rec = Recorder()

    async def resolve_all(phase: str) -> None:
        for label, key in keys:
            for how in RESOLVE:
                try:
                    obj = c.get(*key) if how == "get" else await c.aget(*key)
                except Exception as exc:  # recorded and compared
                    rec.out.append((phase, label, how, "raise", type(exc).__name__))
                    continue
                rec.out.append((phase, label, how, await rec.shape(obj)))
        log.append(("resolved", phase))

    async def close(what: str, closing: Any) -> None:
        try:
            await closing
        except Exception as exc:  # recorded and compared
            rec.out.append(("close", what, "raise", type(exc).__name__))
        log.append(("closed", what))

    await resolve_all("app")
    async with c.scope("request"):
        await resolve_all("request")
        for n in (1, 2):
            async with c.scope("action"):
                await resolve_all(f"action{n}")
            log.append(("closed", f"action{n}"))
        await resolve_all("request again")
    log.append(("closed", "request"))
    await close("container", c.aclose())
    await resolve_all("after close")
    async with c.scope("request"), c.scope("action"):
        await resolve_all("new scopes")
    await close("container again", c.aclose())
    return rec.out


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
        async with runtime.scope("request"), runtime.scope("action"):
            for label, key in keys:
                try:
                    await runtime.aget(*key)
                except InjectQError as exc:
                    raised.append((label, exc))
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
@given(spec=graphs())
def test_generated_and_runtime_containers_agree(codegen_env: Path, spec: GraphSpec) -> None:
    """Same sharing, same creation and finalization order, same errors, same problems."""
    package = unique_name("df")
    wiring_name = unique_name("df_wiring")
    try:
        _run_differential(codegen_env, spec, package, wiring_name)
    finally:
        _forget(package, wiring_name)


def _run_differential(root: Path, spec: GraphSpec, package: str, wiring_name: str) -> None:
    make_project(root, {f"{package}/graph.py": graph_source(spec)})
    mod = importlib.import_module(f"{package}.graph")
    keys = _keys(spec, mod)
    root_names = [f"{package}.graph:C{i}" for i, n in enumerate(spec.nodes) if not n.bound]
    roots = [getattr(mod, name.split(":")[1]) for name in root_names]

    runtime = InjectQ()
    runtime.install(mod.GraphModule())
    runtime_problems = runtime.check(roots)
    try:
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
    expected = asyncio.run(drive(runtime, keys, mod.LOG))
    expected_log = list(mod.LOG)
    mod.reset()
    actual = asyncio.run(drive(wiring.container, keys, mod.LOG))
    actual_log = list(mod.LOG)

    raised = {r[-1] for r in expected if r[-2] == "raise"}
    assert raised <= ALLOWED_RAISES, raised
    assert actual == expected
    assert actual_log == expected_log
