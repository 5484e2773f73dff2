"""injectq.diagnostics: DependencyValidator, DependencyVisualizer and DependencyProfiler,
as InjectQ 0.5.0 documents them, on our graph and checks, for both containers."""

from __future__ import annotations

import abc
import asyncio
import csv
import inspect
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from injectq import InjectQ, Lazy, inject
from injectq.diagnostics import (
    DependencyProfiler,
    DependencyValidator,
    DependencyVisualizer,
    InvalidBindingError,
    MissingDependencyError,
    ProfilingError,
    TypeMismatchError,
    ValidationError,
    ValidationResult,
    VisualizationError,
    get_global_profiler,
)
from injectq.errors import InjectQError
from injectq.wiring import GeneratedContainer
from tests.codegen_support import build_wiring, make_project

HERE = Path(__file__).name


# -- a small application ----------------------------------------------------------------
class Config:
    pass


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


class Notifier(abc.ABC):
    @abc.abstractmethod
    def send(self) -> None: ...


class Mailer:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier


class Signup:  # auto-wired: its dependency Mailer is a concrete class nothing binds
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer


class A:
    def __init__(self, b: B) -> None:
        self.b = b


class B:
    def __init__(self, a: A) -> None:
        self.a = a


class C:
    def __init__(self, d: D) -> None:
        self.d = d


class D:
    def __init__(self, c: C) -> None:
        self.c = c


class UsesA:
    def __init__(self, a: A) -> None:
        self.a = a


class Parent:
    def __init__(self, child: Lazy[Child]) -> None:
        self.child = child


class Child:
    def __init__(self, parent: Parent) -> None:
        self.parent = parent


class RequestContext:
    pass


class Audit:
    def __init__(self, ctx: RequestContext) -> None:
        self.ctx = ctx


def healthy() -> InjectQ:
    c = InjectQ()
    c.bind(Config, Config)
    c.bind(Database, Database)
    c.bind(Repo, Repo, scope="transient")
    c.bind(Service, Service, scope="transient")
    return c


def _line() -> int:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


# -- DependencyValidator ----------------------------------------------------------------
def test_a_healthy_graph_is_valid() -> None:
    """validate() of a graph without problems: is_valid, no errors, no warnings."""
    result = DependencyValidator(healthy()).validate()
    assert result.is_valid
    assert result.errors == []
    assert not result.has_warnings
    assert str(result) == "Validation passed"


def test_a_missing_binding_is_an_error_with_its_path_and_sites() -> None:
    """A dependency nothing binds is a MissingDependencyError (IQ001) naming who needs
    it, through which parameter, and where each binding was declared."""
    c = healthy()
    line = _line() + 1
    c.bind(Mailer, Mailer)
    result = DependencyValidator(c).validate()
    assert not result.is_valid
    [error] = result.errors
    assert isinstance(error, MissingDependencyError)
    assert isinstance(error, ValidationError) and isinstance(error, InjectQError)
    assert error.code == "IQ001"
    assert [link.label for link in error.path] == ["Mailer", "Notifier"]
    text = str(error)
    site, _, message = text.partition(": ")
    assert site.endswith(f"{HERE}:{line}") and site == error.problem.site
    assert message.startswith("error[IQ001 missing-binding]: Mailer needs Notifier")
    assert "Mailer.__init__(notifier)" in text


def test_a_missing_binding_behind_an_auto_wired_class_is_found() -> None:
    """The check follows auto-wired classes: Signup -> Mailer (auto-wired) -> Notifier
    (abstract, unbound) is reported at Notifier, with the whole chain; Mailer itself is
    not reported, as the container builds it."""
    c = InjectQ()
    c.bind(Signup, Signup)
    [error] = DependencyValidator(c).validate().errors
    assert error.code == "IQ001" and isinstance(error, MissingDependencyError)
    assert [link.label for link in error.path] == ["Signup", "Mailer", "Notifier"]


def make_mailer(notifier: Notifier) -> Mailer:
    return Mailer(notifier)


def test_a_factorys_missing_dependency_is_an_error() -> None:
    """A factory's parameters are dependencies like a constructor's: an unbound one is
    IQ001 naming the factory's parameter."""
    c = InjectQ()
    c.bind_factory(Mailer, make_mailer)
    [error] = DependencyValidator(c).validate().errors
    assert isinstance(error, MissingDependencyError)
    assert [link.label for link in error.path] == ["Mailer", "Notifier"]
    assert "make_mailer(notifier)" in str(error)


def test_every_cycle_is_an_error_and_a_lazy_edge_breaks_one() -> None:
    """Two separate cycles, and a binding registered after one that depends on it: each
    cycle is one IQ002 error; Parent -> Lazy[Child] -> Parent is no error."""
    c = InjectQ()
    for cls in (A, B, C, D, UsesA, Parent, Child):
        c.bind(cls, cls)
    validator = DependencyValidator(c)
    result = validator.validate()
    assert [e.code for e in result.errors] == ["IQ002", "IQ002"]
    assert [str(e).splitlines()[0].split(": ", 2)[2] for e in result.errors] == [
        "A depends on itself: A -> B -> A",
        "C depends on itself: C -> D -> C",
    ]
    assert validator.find_potential_cycles() == [[A, B], [C, D]]


def test_a_captive_lifetime_is_an_error() -> None:
    """A singleton holding a request-scoped instance is IQ003 (0.5.0 does not check
    lifetimes)."""
    c = InjectQ()
    c.bind(RequestContext, RequestContext, scope="request")
    c.bind(Audit, Audit)
    [error] = DependencyValidator(c).validate().errors
    assert error.code == "IQ003"
    assert "singleton Audit depends on request-scoped RequestContext" in str(error)


def test_the_error_types_follow_the_problem() -> None:
    """A duplicate binding or an unknown scope is an InvalidBindingError, a wrong
    implementation a TypeMismatchError, a cycle a plain ValidationError."""
    c = InjectQ()
    c.bind(Config, Config)
    c.bind(Config, Config)  # IQ004
    c.bind(Notifier, Config)  # IQ010: a Config is no Notifier
    c.bind(RequestContext, RequestContext, scope="session")  # IQ009
    c.bind(A, A)
    c.bind(B, B)  # IQ002
    types = {e.code: type(e) for e in DependencyValidator(c).validate().errors}
    assert types == {
        "IQ004": InvalidBindingError,
        "IQ009": InvalidBindingError,
        "IQ010": TypeMismatchError,
        "IQ002": ValidationError,
    }


def test_the_validator_reports_what_container_check_reports() -> None:
    """Same problems, same order, same text as container.check()."""
    c = InjectQ()
    for cls in (A, B, Mailer):
        c.bind(cls, cls)
    c.bind(RequestContext, RequestContext, scope="request")
    c.bind(Audit, Audit)
    result = DependencyValidator(c).validate()
    assert [str(e) for e in result.errors] == [p.render() for p in c.check()]


def test_roots_make_unused_bindings_warnings() -> None:
    """validate(roots): a binding no root reaches is an IQ008 warning; still valid."""
    result = DependencyValidator(healthy()).validate(roots=[Repo])
    assert result.is_valid and result.has_warnings
    assert [(w.code, w.path) for w in result.warnings if isinstance(w, ValidationError)] == [
        ("IQ008", ()),
    ]
    assert "Service is bound but no root reaches it" in str(result.warnings[0])


def test_the_result_text_numbers_errors_and_indents_their_lines() -> None:
    """str(ValidationResult): a headline, then each error numbered, its further lines
    under its first; warnings after errors."""
    result = ValidationResult(
        errors=[ValidationError("first\nsecond line"), ValueError("plain")],
        warnings=[ValidationError("careful")],
    )
    assert not result.is_valid and result.has_warnings
    assert str(result) == (
        "Validation failed\n\nErrors (2):\n  1. first\n     second line\n  2. plain\n"
        "\nWarnings (1):\n  1. careful"
    )
    assert repr(result) == "ValidationResult(errors=2, warnings=1)"
    assert ValidationError("x").code == "" and ValidationError("x").path == ()


def test_without_a_container_validation_says_what_to_do() -> None:
    """No container: validate() fails with an error saying how to give one; the graph
    queries raise it; a non-container is refused at once."""
    validator = DependencyValidator()
    result = validator.validate()
    assert not result.is_valid
    assert "pass one, DependencyValidator(container), or call set_container" in str(
        result.errors[0]
    )
    with pytest.raises(ValidationError, match="no container to validate"):
        validator.get_dependency_graph()
    with pytest.raises(TypeError, match="DependencyValidator needs an injectq container"):
        DependencyValidator({"not": "a container"})
    validator.set_container(healthy())
    assert validator.validate().is_valid


def test_dependency_graph_and_chain() -> None:
    """get_dependency_graph(): each key with the set of keys it depends on (auto-wired
    ones included); get_dependency_chain(key): the key and all it reaches, depth first."""
    c = healthy()
    c.bind(Signup, Signup)
    c.bind(Notifier, Config)
    validator = DependencyValidator(c)
    graph = validator.get_dependency_graph()
    assert graph[Service] == {Repo}
    assert graph[Config] == set()
    assert graph[Signup] == {Mailer}
    assert graph[Mailer] == {Notifier}
    assert validator.get_dependency_chain(Service) == [Service, Repo, Database, Config]


def test_the_validator_sees_the_current_bindings() -> None:
    """A binding added after the validator was made is validated too."""
    c = healthy()
    validator = DependencyValidator(c)
    assert validator.validate().is_valid
    c.bind(Mailer, Mailer)
    assert [e.code for e in validator.validate().errors] == ["IQ001"]


# -- DependencyVisualizer ---------------------------------------------------------------
def _graph_container() -> InjectQ:
    c = healthy()
    c.bind(Parent, Parent)
    c.bind(Child, Child, scope="transient")
    c.bind(Mailer, Mailer)
    return c


def test_dot_shows_bindings_edges_lazy_and_unbound_keys() -> None:
    """to_dot(): a box per binding with its key, lifetime and kind; an edge per injected
    parameter, dashed through Lazy; an unbound key in a red box, and its requester red."""
    dot = DependencyVisualizer(_graph_container()).to_dot()
    lines = dot.splitlines()
    assert lines[0] == "digraph injectq {" and lines[-1] == "}"
    ids = {
        line.split('"')[1].split("\\n")[0]: line.split()[0]
        for line in lines if '[label="' in line and "->" not in line
    }
    assert f'    {ids["Database"]} [label="Database\\nsingleton\\nclass"];' in lines
    assert f'    {ids["Repo"]} -> {ids["Database"]} [label="db"];' in lines
    assert f'    {ids["Parent"]} -> {ids["Child"]} [label="child", style="dashed"];' in lines
    assert f'    {ids["Mailer"]} [label="Mailer\\nsingleton\\nclass", color="red", penwidth=2];' in lines
    assert '    missing0 [label="Notifier (unbound)", color="red"];' in lines
    assert f"    {ids['Mailer']} -> missing0;" in lines


def test_dot_options() -> None:
    """include_scopes / include_types choose the label lines; cluster_by_scope groups the
    boxes in one dashed cluster per lifetime."""
    viz = DependencyVisualizer(healthy())
    assert '[label="Config"];' in viz.to_dot(include_scopes=False, include_types=False)
    assert '[label="Config\\nsingleton"];' in viz.to_dot(include_types=False)
    clustered = viz.to_dot(cluster_by_scope=True)
    assert '        label="singleton";' in clustered
    assert '        label="transient";' in clustered
    assert clustered.count("subgraph cluster") == 2


def test_labels_are_escaped_for_each_format() -> None:
    """A key whose name holds a quote, a line break and HTML is one quoted DOT string and
    an inert mermaid label, and plain text on one line in to_ascii."""

    class Evil:
        pass

    Evil.__qualname__ = 'Ev"il\n<b>x</b>'
    c = InjectQ()
    c.bind(Evil, Evil)
    viz = DependencyVisualizer(c)
    assert '    n0 [label="Ev\\"il\\n<b>x</b>\\nsingleton\\nclass"];' in viz.to_dot().splitlines()
    assert 'n0["Ev#quot;il<br/>#lt;b#gt;x#lt;/b#gt;<br/>singleton"]' in viz.to_mermaid()
    assert 'Ev"il\\n<b>x</b> (class, singleton)' in viz.to_ascii().splitlines()


def test_json_is_data_with_nodes_edges_and_metadata() -> None:
    """to_json(): a dict (JSON-serializable) of nodes, edges between node ids, unbound
    keys, problems and counts."""
    data = DependencyVisualizer(_graph_container()).to_json()
    json.dumps(data)
    nodes = {n["id"]: n for n in data["nodes"]}
    by_key = {n["key"]: n for n in data["nodes"]}
    assert by_key["Repo"]["lifetime"] == "transient" and by_key["Repo"]["kind"] == "class"
    assert by_key["Mailer"]["problem"] and not by_key["Repo"]["problem"]
    edges = {(nodes[e["from"]]["key"], nodes[e["to"]]["key"], e["lazy"]) for e in data["edges"]}
    assert ("Repo", "Database", False) in edges and ("Parent", "Child", True) in edges
    assert data["missing"] == [{"from": by_key["Mailer"]["id"], "key": "Notifier"}]
    assert [p["code"] for p in data["problems"]] == ["IQ001"]
    assert data["metadata"] == {
        "total_services": 7, "total_dependencies": 5, "service_types": ["class"],
        "scopes": ["singleton", "transient"],
    }


def test_ascii_lists_each_binding_with_its_dependencies() -> None:
    """to_ascii(): each binding (by name) with its kind, lifetime and dependencies, in
    plain ASCII; errors listed at the end; long lines wrapped at max_width."""
    text = DependencyVisualizer(_graph_container()).to_ascii()
    assert text.isascii()
    assert "Repo (class, transient)\n-----------------------\nDependencies:\n  -> db: Database" in text
    assert "Config (class, singleton)\n-------------------------\nNo dependencies" in text
    assert "  -> child: Lazy Child" in text
    assert "Mailer (class, singleton)  [error]" in text
    assert "  -> notifier: Notifier (unbound)" in text
    assert "Problems (1):\n  IQ001 missing-binding: Mailer needs Notifier, which is not bound" in text
    narrow = DependencyVisualizer(_graph_container()).to_ascii(max_width=40)
    assert all(len(line) <= 40 for line in narrow.splitlines())
    assert "  IQ001 missing-binding: Mailer needs\n    Notifier, which is not bound" in narrow


def test_save_graph_writes_each_format_as_utf8(tmp_path: Path) -> None:
    """save_graph(file, format): dot, json, ascii or mermaid, written as UTF-8; an unknown
    format is a VisualizationError naming the formats."""

    class Cafe:
        pass

    Cafe.__qualname__ = "Café"
    c = InjectQ()
    c.bind(Cafe, Cafe)
    viz = DependencyVisualizer(c)
    for fmt in ("dot", "json", "ascii", "mermaid"):
        path = tmp_path / f"graph.{fmt}"
        viz.save_graph(path, format=fmt)
        assert "Café" in path.read_text(encoding="utf-8")
    assert json.loads((tmp_path / "graph.json").read_text(encoding="utf-8"))["nodes"][0][
        "key"
    ] == "Café"
    assert viz.visualize() == viz.to_dot()
    assert viz.visualize("ascii") == viz.to_ascii()
    with pytest.raises(VisualizationError, match="use one of dot, mermaid, json, ascii"):
        viz.save_graph(tmp_path / "g.png", format="png")
    with pytest.raises(VisualizationError, match="no options"):
        viz.visualize("json", include_types=False)


def test_statistics() -> None:
    """get_statistics(): counts of bindings and dependencies, by kind and lifetime, and
    the keys with most dependencies and most dependents."""
    c = healthy()
    c.bind(Audit, Audit, scope="transient")
    stats = DependencyVisualizer(c).get_statistics()
    assert stats["total_services"] == 6  # RequestContext is auto-wired
    assert stats["total_dependencies"] == 4
    assert stats["average_dependencies"] == pytest.approx(4 / 6)
    assert stats["max_dependencies"] == 1
    assert stats["services_by_type"] == {"class": 6}
    assert stats["services_by_scope"] == {"singleton": 2, "transient": 4}
    assert (Database, 1) in stats["most_dependencies"]
    assert stats["most_depended_upon"][0][1] == 1
    assert stats["missing_dependencies"] == 0 and stats["errors"] == 0


def test_cycles_and_paths() -> None:
    """find_cycles(): each failing cycle from its first member back to it; a Lazy cycle
    is none. get_dependency_path(): a shortest chain, or None."""
    c = _graph_container()
    c.bind(A, A)
    c.bind(B, B)
    viz = DependencyVisualizer(c)
    assert viz.find_cycles() == [[A, B, A]]
    assert viz.get_dependency_path(Service, Config) == [Service, Repo, Database, Config]
    assert viz.get_dependency_path(Config, Service) is None
    assert viz.get_dependency_path(Parent, Parent) == [Parent]
    assert viz.get_dependency_path(Child, Child) == [Child]
    assert viz.get_dependency_path(Parent, Child) == [Parent, Child]


def test_without_a_container_the_visualizer_says_what_to_do() -> None:
    """No container: every view raises VisualizationError saying how to give one."""
    viz = DependencyVisualizer()
    for call in (viz.to_dot, viz.to_json, viz.to_ascii, viz.get_statistics, viz.find_cycles):
        with pytest.raises(VisualizationError, match="set_container"):
            call()
    with pytest.raises(TypeError, match="DependencyVisualizer needs an injectq container"):
        viz.set_container({"not": "a container"})
    viz.set_container(healthy())
    assert "Config" in viz.to_ascii()


# -- the generated container ------------------------------------------------------------
_SERVICES = """\
from __future__ import annotations

from injectq import Lazy


class Config:
    pass


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Parent:
    def __init__(self, child: Lazy[Child]) -> None:
        self.child = child


class Child:
    def __init__(self, parent: Parent) -> None:
        self.parent = parent


class RequestContext:
    pass


class Handler:
    def __init__(self, repo: Repo, ctx: RequestContext) -> None:
        self.repo = repo
        self.ctx = ctx
"""

_MODULES = """\
from injectq import Module

from diag.services import Child, Config, Database, Handler, Parent, Repo, RequestContext


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Config, Config)
        self.bind(Database, Database).singleton()
        self.bind(Repo, Repo).transient()
        self.bind(Parent, Parent).singleton()
        self.bind(Child, Child).transient()
        self.bind(RequestContext, RequestContext).scoped("request")
        self.bind(Handler, Handler).scoped("request")
"""


@pytest.fixture
def both(codegen_env: Path) -> tuple[InjectQ, GeneratedContainer, ModuleType]:
    """(runtime container, generated container, services module) of one Module."""
    make_project(codegen_env, {"diag/services.py": _SERVICES, "diag/modules.py": _MODULES})
    wiring = build_wiring(["diag.modules:AppModule"])
    import diag.modules
    import diag.services

    return InjectQ([diag.modules.AppModule()]), wiring.Container(), diag.services


def _shape(viz: DependencyVisualizer) -> tuple[set[tuple[str, str, str]], set[tuple[str, ...]]]:
    data = viz.to_json()
    key = {n["id"]: n["key"] for n in data["nodes"]}
    nodes = {(n["key"], n["lifetime"], n["kind"]) for n in data["nodes"]}
    edges = {(key[e["from"]], key[e["to"]], e["param"], str(e["lazy"])) for e in data["edges"]}
    return nodes, edges


def test_a_generated_container_shows_the_same_graph(
    both: tuple[InjectQ, GeneratedContainer, ModuleType],
) -> None:
    """The visualizer of a generated container shows the bindings, lifetimes, kinds and
    edges the runtime container's shows for the same Module."""
    runtime, generated, s = both
    assert _shape(DependencyVisualizer(generated)) == _shape(DependencyVisualizer(runtime))
    assert DependencyVisualizer(generated).get_dependency_path(s.Handler, s.Config) == [
        s.Handler, s.Repo, s.Database, s.Config,
    ]
    assert DependencyVisualizer(generated).find_cycles() == []
    assert "-> child: Lazy Child" in DependencyVisualizer(generated).to_ascii()


def test_a_generated_container_validates(
    both: tuple[InjectQ, GeneratedContainer, ModuleType],
) -> None:
    """A generated container is valid (its graph was checked when it was generated) and
    has the runtime container's dependency graph."""
    runtime, generated, _ = both
    result = DependencyValidator(generated).validate()
    assert result.is_valid and not result.has_warnings
    assert DependencyValidator(runtime).validate().is_valid
    assert DependencyValidator(generated).get_dependency_graph() == DependencyValidator(
        runtime
    ).get_dependency_graph()


def test_a_generated_container_is_profiled(
    both: tuple[InjectQ, GeneratedContainer, ModuleType],
) -> None:
    """Lookups of a generated container are recorded like the runtime one's: an aget of
    a sync key once, scoped instances hit inside their scope."""
    _, generated, s = both
    with DependencyProfiler() as profiler:
        generated.get(s.Repo)
        generated.get(s.Database)
        asyncio.run(generated.aget(s.Database))
        with generated.scope("request"):
            generated.get(s.Handler)
            generated.get(s.Handler)
    counts = {k: a.total_resolutions for k, a in profiler.get_aggregated_metrics().items()}
    assert counts == {s.Repo: 1, s.Database: 2, s.Handler: 2}
    hits = [(m.service_type, m.cache_hit) for m in profiler.get_metrics()]
    assert hits == [
        (s.Repo, False), (s.Database, True), (s.Database, True),
        (s.Handler, False), (s.Handler, True),
    ]


def test_both_containers_visualize_themselves_and_give_their_dependency_graph(
    both: tuple[InjectQ, GeneratedContainer, ModuleType],
) -> None:
    """container.visualize_dependencies() (0.5.0's) is a visualizer of that container;
    get_dependency_graph() and compile() exist on the generated container too."""
    runtime, generated, s = both
    for c in (runtime, generated):
        viz = c.visualize_dependencies()
        assert isinstance(viz, DependencyVisualizer)
        assert _shape(viz) == _shape(DependencyVisualizer(runtime))
        c.compile()
    assert generated.get_dependency_graph() == runtime.get_dependency_graph()
    assert generated.get_dependency_graph()[s.Repo] == [s.Database]


# -- DependencyProfiler -----------------------------------------------------------------
@pytest.fixture
def container() -> Iterator[InjectQ]:
    c = healthy()
    with c.context():
        yield c


def test_the_profiler_counts_each_key_and_its_cache_hits(container: InjectQ) -> None:
    """Inside `with DependencyProfiler()`: each get is a resolution of its key; a
    singleton's later gets are cache hits, a transient's never are; the report names
    the keys and their counts."""
    with DependencyProfiler() as profiler:
        for _ in range(3):
            container.get(Service)
            assert container[Database] is container.get(Database)
    aggregated = profiler.get_aggregated_metrics()
    assert {k: a.total_resolutions for k, a in aggregated.items()} == {Service: 3, Database: 6}
    assert aggregated[Database].cache_hits == 6  # Service made it first
    assert aggregated[Service].cache_hit_rate == 0.0
    assert profiler.get_cache_performance() == {"hit_rate": 6 / 9, "hits": 6, "misses": 3}
    report = profiler.report()
    assert report.startswith("=== InjectQ Dependency Profiling Report ===")
    assert "  Total resolutions: 9" in report
    assert "  1. Database - 6 times" in report and "  2. Service - 3 times" in report
    assert "Detailed Service Metrics:" not in report
    detailed = profiler.report(detailed=True)
    assert "  Service:\n    Resolutions: 3\n" in detailed


def test_nothing_is_recorded_outside_a_session(container: InjectQ) -> None:
    """Before start() and after stop() nothing is recorded; start() clears the last
    session; an empty report says how to record."""
    profiler = DependencyProfiler()
    container.get(Service)
    assert "No profiling data available: nothing was resolved" in profiler.report()
    profiler.start()
    assert profiler.is_active()
    container.get(Service)
    profiler.stop()
    container.get(Service)
    assert len(profiler.get_metrics()) == 1
    profiler.start()
    assert profiler.get_metrics() == []
    profiler.stop()


def test_the_containers_own_methods_are_back_after_the_session() -> None:
    """While no profiler is active, get, aget and resolver are the containers' own
    functions (profiling costs nothing then)."""
    own = {(cls, n): cls.__dict__[n] for cls in (InjectQ, GeneratedContainer)
           for n in ("get", "aget", "resolver")}
    with DependencyProfiler():
        assert InjectQ.__dict__["get"] is not own[InjectQ, "get"]
    assert {(cls, n): cls.__dict__[n] for cls, n in own} == own


def test_injected_calls_are_recorded_also_when_planned_before(container: InjectQ) -> None:
    """@inject functions resolve through the profiled lookups during a session, also one
    called (and planned) before it started; after the session they are not recorded."""

    @inject
    def handle(service: Service, db: Database) -> tuple[Service, Database]:
        return service, db

    handle()
    with DependencyProfiler() as profiler:
        handle()
        handle()
    handle()
    counts = {k: a.total_resolutions for k, a in profiler.get_aggregated_metrics().items()}
    assert counts == {Service: 2, Database: 2}


def test_async_lookups_are_recorded_once(container: InjectQ) -> None:
    """aget is one resolution of its key, timed across its awaits."""

    async def slow() -> Config:
        await asyncio.sleep(0.01)
        return Config()

    container.bind_factory("slow", slow)

    async def main() -> None:
        await container.aget(Database)
        await container.aget("slow")

    with DependencyProfiler() as profiler:
        asyncio.run(main())
    metrics = profiler.get_metrics()
    assert [m.service_type for m in metrics] == [Database, "slow"]
    assert metrics[1].resolution_time >= 0.01


def test_lookups_from_threads_are_all_recorded(container: InjectQ) -> None:
    """Resolutions from several threads at once are each recorded."""
    with DependencyProfiler() as profiler:
        threads = [
            threading.Thread(target=lambda: [container.get(Repo) for _ in range(50)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert profiler.get_aggregated_metrics()[Repo].total_resolutions == 200


def test_a_failed_lookup_is_recorded_and_still_raises(container: InjectQ) -> None:
    """A get that raises is recorded as failed; the caller gets the container's error."""
    with DependencyProfiler() as profiler, pytest.raises(InjectQError, match="Notifier"):
        container.get(Notifier)
    [m] = profiler.get_metrics()
    assert m.service_type is Notifier and m.failed
    assert profiler.get_stats()["failures"] == 1
    assert "  Failed resolutions: 1" in profiler.report()


def test_stack_tracing_records_nested_lookups(container: InjectQ) -> None:
    """With enable_stack_tracing, a lookup a factory makes while another is resolving has
    stack_depth 1; its enclosing lookup's time includes it. dependency_count is the
    number of dependencies the binding injects."""

    def make_report(c: InjectQ) -> str:
        time.sleep(0.005)
        return type(c.get(Repo)).__name__

    container.bind_factory("report", make_report, scope="transient")
    with DependencyProfiler(enable_stack_tracing=True) as profiler:
        container.get("report")
    inner, outer = profiler.get_metrics()
    assert (inner.service_type, inner.stack_depth, inner.dependency_count) == (Repo, 1, 1)
    assert (outer.service_type, outer.stack_depth) == ("report", 0)
    assert outer.resolution_time >= inner.resolution_time + 0.005
    with DependencyProfiler() as flat:
        container.get("report")
    assert [m.stack_depth for m in flat.get_metrics()] == [0, 0]


def test_two_profilers_record_independently(container: InjectQ) -> None:
    """Two active profilers both record; stopping one leaves the other recording."""
    with DependencyProfiler() as outer:
        container.get(Config)
        with DependencyProfiler() as inner:
            container.get(Repo)
        container.get(Database)
    assert [m.service_type for m in outer.get_metrics()] == [Config, Repo, Database]
    assert [m.service_type for m in inner.get_metrics()] == [Repo]


def test_manual_timing_nests(container: InjectQ) -> None:
    """profile_resolution blocks time themselves, nested or not: the outer one's time
    includes the inner one's; an end without a begin records nothing."""
    profiler = DependencyProfiler(enable_stack_tracing=True)
    with profiler:
        with profiler.profile_resolution("outer"):
            time.sleep(0.005)
            with profiler.profile_resolution("inner", cache_hit=True):
                time.sleep(0.005)
        profiler.end_resolution("never begun")
    inner, outer = profiler.get_metrics()
    assert (inner.service_type, inner.cache_hit, inner.stack_depth) == ("inner", True, 1)
    assert (outer.service_type, outer.stack_depth) == ("outer", 0)
    assert outer.resolution_time >= inner.resolution_time + 0.005


def test_profile_method_keeps_the_function_and_awaits_coroutines() -> None:
    """@profiler.profile_method records each call under module.qualname, keeps the
    function's name, and times an async function until it has finished."""
    profiler = DependencyProfiler()

    @profiler.profile_method
    def compute(x: int) -> int:
        return x * 2

    @profiler.profile_method
    async def fetch() -> str:
        await asyncio.sleep(0.01)
        return "done"

    with profiler:
        assert compute(2) == 4
        assert asyncio.run(fetch()) == "done"
    assert compute.__name__ == "compute"
    names = [m.service_type for m in profiler.get_metrics()]
    assert names == [f"{__name__}.{compute.__qualname__}", f"{__name__}.{fetch.__qualname__}"]
    assert profiler.get_metrics()[1].resolution_time >= 0.01


def test_statistics_and_exports(container: InjectQ, tmp_path: Path) -> None:
    """get_timing_statistics, get_stats, get_slowest_resolutions; export_json and
    export_csv write UTF-8 with keys as labels."""
    with DependencyProfiler() as profiler:
        container.get(Service)
        container.get(Config)
    timing = profiler.get_timing_statistics()
    assert set(timing) == {"total_time", "average_time", "median_time", "min_time",
                           "max_time", "std_dev"}
    stats = profiler.get_stats()
    assert stats["total_resolutions"] == 2 and stats["cache"]["misses"] == 1
    assert set(stats["services"]) == {Service, Config}
    assert len(profiler.get_slowest_resolutions(1)) == 1
    assert [a.service_type for a in profiler.get_most_resolved()] == [Service, Config]
    profiler.export_json(tmp_path / "p.json")
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert set(data["aggregated_metrics"]) == {"Service", "Config"}
    assert [m["service_type"] for m in data["detailed_metrics"]] == ["Service", "Config"]
    profiler.export_csv(tmp_path / "p.csv")
    with (tmp_path / "p.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["service_type", "resolution_time", "cache_hit"]
    assert [r[0] for r in rows[1:]] == ["Service", "Config"]
    assert DependencyProfiler().get_timing_statistics() == {}


def test_the_global_profiler() -> None:
    """get_global_profiler() is one profiler for the process; ProfilingError is an
    InjectQError."""
    assert get_global_profiler() is get_global_profiler()
    assert not get_global_profiler().is_active()
    assert issubclass(ProfilingError, InjectQError)


def test_documented_quick_reference_calls(container: InjectQ) -> None:
    """The quick reference's calls: validator.validate(), profiler.get_stats(),
    visualizer.visualize()."""
    issues = DependencyValidator(container).validate()
    assert issues.is_valid
    profiler = DependencyProfiler()
    with profiler:
        container.get(Service)
    assert profiler.get_stats()["total_resolutions"] == 1
    graph: Any = DependencyVisualizer(container).visualize()
    assert graph.startswith("digraph injectq {")
