"""Graph checks (``injectq.model.checks``) through ``container.validate()`` / ``check()``.

Every problem is reported at once, each with a stable code (IQ001..IQ009), the dependency
path and bind sites, rendered compiler style. Bind lines are computed from this file's own
frames, never hard-coded.
"""

from __future__ import annotations

import inspect
import os
from typing import Annotated, Any

import pytest

from injectq import (
    AsyncResolutionError,
    CircularDependencyError,
    DependencyNotFoundError,
    GraphValidationError,
    InjectQ,
    Lazy,
    Named,
    Problem,
    ScopeError,
)
from injectq.model.checks import CODES
from tests.fixtures.type_checking_only import PriceService, PriceServiceWithDefault

HERE = os.path.relpath(__file__) if not os.path.relpath(__file__).startswith("..") else __file__


def _line() -> int:
    """The caller's current line number."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


def _def_line(fn: Any) -> int:
    return int(fn.__code__.co_firstlineno)


def _codes(problems: list[Problem]) -> list[str]:
    return sorted(p.code for p in problems)


def _only(problems: list[Problem], code: str) -> Problem:
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, problems
    return found[0]


# -- graph fixtures (module level so string annotations evaluate) -------------------------


class Db:
    pass


class Repo:
    def __init__(self, db: Db) -> None:
        self.db = db


class Port:
    """Never bound in the missing-binding tests."""

    def __init__(self, host: str) -> None:
        self.host = host


class NeedsPort:
    def __init__(self, port: Port) -> None:
        self.port = port


class CycA:
    def __init__(self, b: CycB) -> None:
        self.b = b


class CycB:
    def __init__(self, a: CycA) -> None:
        self.a = a


class SelfLoop:
    def __init__(self, me: SelfLoop) -> None:
        self.me = me


class LazyA:
    def __init__(self, b: Lazy[LazyB]) -> None:
        self.b = b


class LazyB:
    def __init__(self, a: LazyA) -> None:
        self.a = a


class Tri1:
    def __init__(self, x: Tri2) -> None: ...


class Tri2:
    def __init__(self, x: Tri3) -> None: ...


class Tri3:
    def __init__(self, x: Tri1) -> None: ...


class RequestCtx:
    pass


class ActionCtx:
    pass


class Logger:
    def __init__(self, ctx: RequestCtx) -> None:
        self.ctx = ctx


class Formatter:
    def __init__(self, log: Logger) -> None:
        self.log = log


class Audit:
    def __init__(self, log: Logger) -> None:
        self.log = log


class DeepAudit:
    def __init__(self, fmt: Formatter) -> None:
        self.fmt = fmt


class DirectCaptive:
    def __init__(self, ctx: RequestCtx) -> None:
        self.ctx = ctx


class LazyAudit:
    def __init__(self, log: Lazy[Logger]) -> None:
        self.log = log


class RequestNeedsAction:
    def __init__(self, act: ActionCtx) -> None:
        self.act = act


class ActionNeedsRequest:
    def __init__(self, ctx: RequestCtx) -> None:
        self.ctx = ctx


class AsyncClient:
    pass


async def make_client() -> AsyncClient:
    return AsyncClient()


class UsesClient:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client


def sync_handler(svc: UsesClient) -> None:
    """A sync root that (through UsesClient) needs an async binding."""


def sync_direct(client: AsyncClient) -> None:
    """A sync root that needs an async binding directly."""


async def async_handler(svc: UsesClient) -> None:
    """An async root: fine."""


def lazy_handler(client: Lazy[AsyncClient]) -> None:
    """A sync root behind Lazy: fine."""


def repo_handler(repo: Repo) -> None:
    """A root that reaches Repo and Db."""


class Config:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url


class Tagged:
    def __init__(self, primary: Annotated[Db, Named("primary")]) -> None:
        self.primary = primary


# -- every problem at once -------------------------------------------------------------------


def test_validate_clean_graph_returns_no_problems() -> None:
    """validate() on a sound graph raises nothing and returns an empty list."""
    c = InjectQ()
    c.bind(Db)
    c.bind(Repo)
    assert c.validate() == []


def test_validate_reports_every_problem_at_once() -> None:
    """One validate() call lists every problem of the graph, each with its stable code."""
    c = InjectQ()
    c.bind(NeedsPort)  # IQ001 (Port needs host: str)
    c.bind(CycA)
    c.bind(CycB)  # IQ002
    c.bind(RequestCtx, scope="request")
    c.bind(Logger, scope="transient")
    c.bind(Audit)  # IQ003
    c.bind(Db)
    c.bind(Db)  # IQ004
    c.bind_factory(AsyncClient, make_client)  # IQ005 with the sync root
    c.bind(PriceService)  # IQ006
    c.bind(Repo, scope="session")  # IQ009
    with pytest.raises(GraphValidationError) as info:
        c.validate(roots=[sync_handler, Audit, NeedsPort, CycA, PriceService, Repo])
    err = info.value
    assert sorted(set(err.codes)) == [
        "IQ001", "IQ002", "IQ003", "IQ004", "IQ005", "IQ006", "IQ009",
    ]
    for p in err.problems:
        assert p.name == CODES[p.code]
        assert f"{p.severity}[{p.code} {p.name}]" in str(err)
    errors = sum(1 for p in err.problems if p.severity == "error")
    assert str(err).startswith(f"dependency graph has {errors} error(s):\n\n")


def test_check_does_not_raise() -> None:
    """check() returns the same problems as validate() without raising."""
    c = InjectQ()
    c.bind(NeedsPort)
    c.bind(CycA)
    c.bind(CycB)
    assert _codes(c.check()) == ["IQ001", "IQ002"]
    with pytest.raises(GraphValidationError) as info:
        c.validate()
    assert sorted(info.value.codes) == ["IQ001", "IQ002"]


def test_problems_are_deterministic() -> None:
    """Two checks of the same graph give the same problems, in the same order."""

    def build() -> InjectQ:
        c = InjectQ()
        c.bind(NeedsPort)
        c.bind(Tri1)
        c.bind(Tri2)
        c.bind(Tri3)
        c.bind(RequestCtx, scope="request")
        c.bind(Audit)
        return c

    c = build()
    first = [p.render() for p in c.check()]
    assert [p.render() for p in c.check()] == first
    assert [p.code for p in build().check()] == [p.code for p in c.check()]


def test_codes_are_stable() -> None:
    """The code table is the documented one."""
    assert CODES == {
        "IQ001": "missing-binding",
        "IQ002": "cycle",
        "IQ003": "captive-lifetime",
        "IQ004": "duplicate-binding",
        "IQ005": "async-on-sync-path",
        "IQ006": "unresolvable-annotation",
        "IQ007": "not-importable",
        "IQ008": "unused-binding",
        "IQ009": "unknown-scope",
        "IQ010": "wrong-implementation",
    }


def test_problem_as_dict() -> None:
    """A problem converts to plain data (for JSON output) with its chain."""
    c = InjectQ()
    c.bind(NeedsPort)
    p = _only(c.check(), "IQ001")
    data = p.as_dict()
    assert data["code"] == "IQ001"
    assert data["name"] == "missing-binding"
    assert data["severity"] == "error"
    assert [link["key"] for link in data["chain"]] == ["NeedsPort", "Port", "str"]


# -- IQ001 missing binding -------------------------------------------------------------------


def test_iq001_missing_binding_render() -> None:
    """IQ001: the rendered text names the requester, the path, the sites and the fix."""
    c = InjectQ()
    line = _line() + 1
    c.bind(NeedsPort)
    p = _only(c.check(), "IQ001")
    width = len("NeedsPort")
    # the head points at the requester: Port is auto-wired, so its class definition
    port_site = f"{HERE}:{inspect.getsourcelines(Port)[1]}"
    assert p.render() == "\n".join([
        f"{port_site}: error[IQ001 missing-binding]: Port needs str, which is not bound",
        "  chain: NeedsPort [singleton] -> Port [transient] -> str [unbound]",
        f"    {'NeedsPort':<{width}}  bound at {HERE}:{line}",
        f"    {'Port':<{width}}  injected into NeedsPort.__init__(port)   "
        f"{HERE}:{_def_line(NeedsPort.__init__)}",
        f"    {'Port':<{width}}  bound at {port_site}",
        f"    {'str':<{width}}  injected into Port.__init__(host)   "
        f"{HERE}:{_def_line(Port.__init__)}",
        "  help: bind it in a Module (self.bind_instance('host', ...)), give the parameter "
        "'host' a default, or annotate it Optional",
    ])


def test_iq001_missing_class_binding_help() -> None:
    """IQ001 for a non-builtin (named) key suggests self.bind(Key, ...)."""
    c = InjectQ()
    c.bind(Tagged)
    p = _only(c.check(), "IQ001")
    assert p.message == "Tagged needs Db[name='primary'], which is not bound"
    assert "help: bind it in a Module (self.bind(Db[name='primary'], ...))" in p.render()


def test_iq001_satisfied_by_name_key() -> None:
    """A str parameter satisfied by a string key equal to its name is not missing (0.5.0 bug 6)."""
    c = InjectQ()
    c.bind(Config)
    assert _codes(c.check()) == ["IQ001"]
    c.bind_instance("db_url", "sqlite://")
    assert c.validate() == []


def test_iq001_allow_none_binding_is_valid() -> None:
    """An allow_none binding is a valid binding (0.5.0's validate rejected it)."""
    c = InjectQ()
    c.bind("maybe", None, allow_none=True)
    assert c.validate() == []


def test_iq001_unbound_root() -> None:
    """A root key that is not bound (and not auto-wirable) is IQ001."""
    c = InjectQ()
    problems = c.check(roots=["nothing"])
    p = _only(problems, "IQ001")
    assert p.message == "root 'nothing' is not bound"


def test_iq001_get_raises_same_problem() -> None:
    """get() raises DependencyNotFoundError carrying the IQ001 problem and its path."""
    c = InjectQ()
    c.bind(NeedsPort)
    with pytest.raises(DependencyNotFoundError) as info:
        c.get(NeedsPort)
    assert info.value.code == "IQ001"
    assert [link.label for link in info.value.path] == ["NeedsPort", "Port", "str"]
    assert info.value.problem.render() == _only(c.check(), "IQ001").render()


# -- IQ002 cycle -----------------------------------------------------------------------------


def test_iq002_cycle_validate_raises() -> None:
    """validate() on a cyclic graph raises (0.5.0 returned None: bug 6)."""
    c = InjectQ()
    c.bind(CycA)
    c.bind(CycB)
    with pytest.raises(GraphValidationError) as info:
        c.validate()
    assert info.value.codes == ["IQ002"]


def test_iq002_compile_raises_on_cycle() -> None:
    """compile() on a cyclic graph raises too (0.5.0 swallowed it)."""
    c = InjectQ()
    c.bind(CycA)
    c.bind(CycB)
    with pytest.raises(GraphValidationError):
        c.compile()


def test_iq002_one_problem_per_cycle() -> None:
    """A cycle is reported once, not once per member."""
    c = InjectQ()
    c.bind(Tri1)
    c.bind(Tri2)
    c.bind(Tri3)
    c.bind(CycA)
    c.bind(CycB)
    messages = sorted(p.message for p in c.check())
    assert messages == [
        "CycA depends on itself: CycA -> CycB -> CycA",
        "Tri1 depends on itself: Tri1 -> Tri2 -> Tri3 -> Tri1",
    ]


def test_iq002_cycle_render() -> None:
    """IQ002: the rendered text shows the cycle path and where each step is injected."""
    c = InjectQ()
    line_a = _line() + 1
    c.bind(CycA)
    line_b = _line() + 1
    c.bind(CycB)
    p = _only(c.check(), "IQ002")
    assert p.render() == "\n".join([
        f"{HERE}:{line_a}: error[IQ002 cycle]: CycA depends on itself: CycA -> CycB -> CycA",
        "  chain: CycA [singleton] -> CycB [singleton] -> CycA [singleton]",
        f"    CycA  bound at {HERE}:{line_a}",
        f"    CycB  injected into CycA.__init__(b)   {HERE}:{_def_line(CycA.__init__)}",
        f"    CycB  bound at {HERE}:{line_b}",
        "  help: break the cycle: inject one side as Lazy[T], or move the shared part out",
    ])


def test_iq002_self_loop() -> None:
    """A class that needs itself is a cycle of one."""
    c = InjectQ()
    c.bind(SelfLoop)
    p = _only(c.check(), "IQ002")
    assert p.message == "SelfLoop depends on itself: SelfLoop -> SelfLoop"


def test_iq002_autowired_cycle() -> None:
    """A cycle among auto-wired classes reached from a binding is found."""
    c = InjectQ()
    c.bind_factory("cyc", _needs_cyc)
    assert _codes(c.check()) == ["IQ002"]


def _needs_cyc(a: CycA) -> CycA:
    return a


def test_iq002_get_raises_circular_with_path() -> None:
    """get() on a cyclic graph raises CircularDependencyError with the whole path."""
    c = InjectQ()
    c.bind(CycA)
    c.bind(CycB)
    with pytest.raises(CircularDependencyError) as info:
        c.get(CycA)
    err = info.value
    assert err.code == "IQ002"
    assert err.dependency_chain == ["CycA", "CycB", "CycA"]  # type: ignore[attr-defined]
    assert "CycA depends on itself: CycA -> CycB -> CycA" in str(err)
    with pytest.raises(CircularDependencyError) as info2:
        c.get(CycB)
    assert info2.value.dependency_chain == ["CycB", "CycA", "CycB"]  # type: ignore[attr-defined]


def test_iq002_get_autowired_cycle() -> None:
    """get() on unbound auto-wired classes in a cycle raises CircularDependencyError."""
    c = InjectQ()
    with pytest.raises(CircularDependencyError, match="Tri1 -> Tri2 -> Tri3 -> Tri1"):
        c.get(Tri1)


def test_iq002_lazy_edge_breaks_cycle() -> None:
    """A cycle through a Lazy[T] edge is allowed and resolves."""
    c = InjectQ()
    c.bind(LazyA)
    c.bind(LazyB)
    assert c.validate() == []
    a = c.get(LazyA)
    assert a.b().a is a


# -- IQ003 captive lifetime ------------------------------------------------------------------


def test_iq003_through_transient_render() -> None:
    """IQ003: singleton -> transient -> scoped is captive; the text shows the whole chain."""
    c = InjectQ()
    line_req = _line() + 1
    c.bind(RequestCtx, scope="request")
    line_log = _line() + 1
    c.bind(Logger, scope="transient")
    line_audit = _line() + 1
    c.bind(Audit)
    p = _only(c.check(), "IQ003")
    w = len("RequestCtx")
    assert p.render() == "\n".join([
        f"{HERE}:{line_audit}: error[IQ003 captive-lifetime]: singleton Audit depends on "
        "request-scoped RequestCtx",
        "  chain: Audit [singleton] -> Logger [transient] -> RequestCtx [scoped:request]",
        f"    {'Audit':<{w}}  bound at {HERE}:{line_audit}",
        f"    {'Logger':<{w}}  injected into Audit.__init__(log)   "
        f"{HERE}:{_def_line(Audit.__init__)}",
        f"    {'Logger':<{w}}  bound at {HERE}:{line_log}",
        f"    {'RequestCtx':<{w}}  injected into Logger.__init__(ctx)   "
        f"{HERE}:{_def_line(Logger.__init__)}",
        f"    {'RequestCtx':<{w}}  bound at {HERE}:{line_req}",
        "  help: make Audit scoped to 'request', or inject the container (a parameter annotated "
        "InjectQ) and get RequestCtx per use",
    ])


def test_iq003_through_autowired_transients() -> None:
    """Captivity is computed through auto-wired (unbound, transient) classes too."""
    c = InjectQ()
    c.bind(RequestCtx, scope="request")
    c.bind(DeepAudit)  # -> Formatter (auto) -> Logger (auto) -> RequestCtx
    p = _only(c.check(), "IQ003")
    assert [link.label for link in p.chain] == ["DeepAudit", "Formatter", "Logger", "RequestCtx"]


def test_iq003_direct() -> None:
    """A singleton that needs a scoped binding directly is captive."""
    c = InjectQ()
    c.bind(RequestCtx, scope="request")
    c.bind(DirectCaptive)
    p = _only(c.check(), "IQ003")
    assert p.message == "singleton DirectCaptive depends on request-scoped RequestCtx"
    assert p.help == (
        "make DirectCaptive scoped to 'request', or inject the container (a parameter "
        "annotated InjectQ) and get RequestCtx per use"
    )


def test_iq003_through_a_lazy_edge() -> None:
    """A Lazy[T] handle keeps what its first call resolved, so a singleton holding one to a
    request-scoped chain captures the first request's instance: reported like a plain edge."""
    c = InjectQ()
    c.bind(RequestCtx, scope="request")
    c.bind(Logger, scope="transient")
    c.bind(LazyAudit)
    p = _only(c.check(), "IQ003")
    assert [link.label for link in p.chain] == ["LazyAudit", "Logger", "RequestCtx"]
    # what the check prevents: the handle outlives the scope it resolved in
    audit = c.get(LazyAudit)
    with c.scope("request"):
        first = audit.log().ctx
    with c.scope("request"):
        assert audit.log().ctx is first


def test_iq003_transient_and_same_scope_fine() -> None:
    """Transient -> scoped, scoped -> same scope, and scoped -> singleton are all fine."""
    c = InjectQ()
    c.bind(RequestCtx, scope="request")
    c.bind(Logger, scope="transient")
    c.bind(Audit, scope="request")
    c.bind(Db)
    c.bind(Repo, scope="request")
    assert c.validate() == []


def test_iq003_longer_scope_on_shorter_scope() -> None:
    """request-scoped depending on action-scoped is captive; the reverse is fine."""
    c = InjectQ()
    c.bind(ActionCtx, scope="action")
    c.bind(RequestNeedsAction, scope="request")
    p = _only(c.check(), "IQ003")
    assert p.message == "request-scoped RequestNeedsAction depends on action-scoped ActionCtx"
    c2 = InjectQ()
    c2.bind(RequestCtx, scope="request")
    c2.bind(ActionNeedsRequest, scope="action")
    assert c2.validate() == []


def test_iq003_factory_singleton() -> None:
    """A singleton factory whose parameter is scoped is captive."""

    def make(ctx: RequestCtx) -> Db:
        return Db()

    c = InjectQ()
    c.bind(RequestCtx, scope="request")
    c.bind_factory(Db, make).singleton()
    assert _codes(c.check()) == ["IQ003"]


def test_iq003_custom_scope() -> None:
    """Declared custom scopes take part: app-parented 'job' outlives request."""
    c = InjectQ()
    c.declare_scope("job", parent="app")
    c.bind(RequestCtx, scope="request")
    c.bind(DirectCaptive, scope="job")
    p = _only(c.check(), "IQ003")
    assert p.message == "job-scoped DirectCaptive depends on request-scoped RequestCtx"


# -- IQ004 duplicate ---------------------------------------------------------------------------


def test_iq004_duplicate_render() -> None:
    """IQ004: a key bound twice shows both bind sites and how to replace on purpose."""
    c = InjectQ()
    first = _line() + 1
    c.bind(Db)
    second = _line() + 1
    c.bind(Db, scope="transient")
    p = _only(c.check(), "IQ004")
    text = p.render()
    assert text.startswith(f"{HERE}:{second}: error[IQ004 duplicate-binding]: Db is bound twice\n")
    assert f"  first bound at  {HERE}:{first}  [singleton]\n" in text
    assert f"  bound again at  {HERE}:{second}  [transient]\n" in text
    assert "chain:" not in text
    assert text.endswith(
        "  help: remove one binding, or pass override=True to the later bind() to replace the "
        "earlier one on purpose"
    )


def test_iq004_override_true_is_fine() -> None:
    """override=True replaces a binding without a duplicate problem."""
    c = InjectQ()
    c.bind(Db)
    c.bind(Db, override=True)
    c.bind_instance("k", 1)
    c.bind_instance("k", 2, override=True)
    c.bind_factory("f", lambda: 1)
    c.bind_factory("f", lambda: 2, override=True)
    assert c.validate() == []
    assert c.get("f") == 2


def test_iq004_across_modules() -> None:
    """Two modules binding the same key are a duplicate, reported with both sites."""
    from injectq import Module

    class A(Module):
        def configure(self) -> None:
            self.bind(Db)

    class B(Module):
        def configure(self) -> None:
            self.bind(Db)

    c = InjectQ(modules=[A(), B()])
    p = _only(c.check(), "IQ004")
    assert p.site in p.extra[1]
    assert p.extra[0] != p.extra[1]


def test_iq004_named_keys_are_distinct() -> None:
    """Same type under different names is not a duplicate."""
    c = InjectQ()
    c.bind(Db, name="a")
    c.bind(Db, name="b")
    assert c.validate() == []


def test_iq004_cleared_by_delete() -> None:
    """Deleting a duplicated key removes its duplicate problem."""
    c = InjectQ()
    c.bind(Db)
    c.bind(Db)
    del c[Db]
    assert c.validate() == []


# -- IQ005 async on sync path -----------------------------------------------------------------


def test_iq005_sync_root_render() -> None:
    """IQ005: a sync root that needs an async binding (through another) is reported."""
    c = InjectQ()
    line_client = _line() + 1
    c.bind_factory(AsyncClient, make_client)
    line_uses = _line() + 1
    c.bind(UsesClient)
    assert c.validate() == []  # no roots: nothing says the path is sync
    with pytest.raises(GraphValidationError) as info:
        c.validate(roots=[sync_handler])
    p = _only(list(info.value.problems), "IQ005")
    w = len("AsyncClient")
    assert p.render() == "\n".join([
        f"{HERE}:{line_uses}: error[IQ005 async-on-sync-path]: sync function sync_handler "
        "needs UsesClient, which needs an async step",
        "  chain: UsesClient [singleton] -> AsyncClient [transient]",
        f"    {'UsesClient':<{w}}  bound at {HERE}:{line_uses}",
        f"    {'AsyncClient':<{w}}  injected into UsesClient.__init__(client)   "
        f"{HERE}:{_def_line(UsesClient.__init__)}",
        f"    {'AsyncClient':<{w}}  bound at {HERE}:{line_client}",
        "  help: make sync_handler async (it then resolves with aget), or bind AsyncClient "
        "to a sync factory",
    ])


def test_iq005_direct() -> None:
    """A sync root needing an async factory directly is IQ005."""
    c = InjectQ()
    c.bind_factory(AsyncClient, make_client)
    p = _only(c.check(roots=[sync_direct]), "IQ005")
    assert p.message == "sync function sync_direct needs AsyncClient, which needs an async step"


def test_iq005_async_root_and_lazy_fine() -> None:
    """An async root, or a sync root behind Lazy, is not an async-on-sync path."""
    c = InjectQ()
    c.bind_factory(AsyncClient, make_client)
    c.bind(UsesClient)
    assert [p.code for p in c.check(roots=[async_handler, lazy_handler])] == []


def test_iq005_get_raises_async_resolution_error() -> None:
    """get() of something that needs an await raises AsyncResolutionError (IQ005)."""
    c = InjectQ()
    c.bind_factory(AsyncClient, make_client)
    c.bind(UsesClient)
    with pytest.raises(AsyncResolutionError) as info:
        c.get(UsesClient)
    assert info.value.code == "IQ005"
    assert "aget" in str(info.value)


# -- IQ006 unresolvable annotation -------------------------------------------------------------


def test_iq006_type_checking_only_import() -> None:
    """IQ006: a name imported only under TYPE_CHECKING is explained, with the import."""
    c = InjectQ()
    line = _line() + 1
    c.bind(PriceService)
    p = _only(c.check(), "IQ006")
    assert p.render() == "\n".join([
        f"{HERE}:{line}: error[IQ006 unresolvable-annotation]: parameter 'rate' of "
        "PriceService.__init__: annotation 'Fraction' names 'Fraction', which module "
        "tests.fixtures.type_checking_only imports only under `if TYPE_CHECKING:` "
        "(fractions_stubs_only.Fraction), and importing it failed",
        "  chain: PriceService [singleton]",
        f"    PriceService  bound at {HERE}:{line}",
        "  help: import the name at module level (not only under TYPE_CHECKING), or bind the "
        "parameter by name: bind('rate', ...)",
    ])


def test_iq006_get_raises() -> None:
    """get() of a class with an unresolvable annotation raises with the same explanation."""
    c = InjectQ()
    c.bind(PriceService)
    with pytest.raises(DependencyNotFoundError) as info:
        c.get(PriceService)
    assert info.value.code == "IQ006"
    assert "only under `if TYPE_CHECKING:`" in str(info.value)


def test_iq006_with_default_is_fine() -> None:
    """An unresolvable annotation on a parameter with a default is not a problem."""
    c = InjectQ()
    c.bind(PriceServiceWithDefault)
    assert c.validate() == []
    assert c.get(PriceServiceWithDefault).rate is None


def test_iq006_satisfied_by_name() -> None:
    """An unresolvable annotation is satisfied by a string key equal to the parameter name."""
    from fractions import Fraction

    c = InjectQ()
    c.bind(PriceService)
    c.bind_instance("rate", Fraction(1, 3))
    assert c.validate() == []
    assert c.get(PriceService).rate == Fraction(1, 3)


def test_iq006_function_local_class() -> None:
    """IQ006: under `from __future__ import annotations` a function-local class cannot be
    evaluated; the message says why."""

    class LocalDep:
        pass

    class UsesLocal:
        def __init__(self, dep: LocalDep) -> None:
            self.dep = dep

    c = InjectQ()
    c.bind(UsesLocal)
    p = _only(c.check(), "IQ006")
    assert p.message == (
        f"parameter 'dep' of {UsesLocal.__qualname__}.__init__: annotation 'LocalDep' cannot be "
        f"evaluated: name 'LocalDep' is not defined in module {__name__} (string annotations, "
        "as under `from __future__ import annotations`, are evaluated in the module's "
        "globals; a class defined inside a function is not visible there)"
    )
    assert p.help.endswith("bind the parameter by name: bind('dep', ...)")


# -- IQ008 unused binding ----------------------------------------------------------------------


def test_iq008_unused_with_roots() -> None:
    """With roots given, bindings no root reaches are IQ008 warnings; validate() returns them."""
    c = InjectQ()
    c.bind(Db)
    c.bind(Repo)
    line = _line() + 1
    c.bind(RequestCtx, scope="request")
    warnings = c.validate(roots=[repo_handler])
    p = _only(warnings, "IQ008")
    assert p.severity == "warning"
    assert p.render() == "\n".join([
        f"{HERE}:{line}: warning[IQ008 unused-binding]: RequestCtx is bound but no root "
        "reaches it",
        "  help: remove the binding, or add the service that uses it as a root",
    ])


def test_iq008_key_roots() -> None:
    """Key roots count too: what they reach is used."""
    c = InjectQ()
    c.bind(Db)
    c.bind(Repo)
    c.bind(Audit)
    c.bind(Logger)
    c.bind(RequestCtx)
    warnings = c.validate(roots=[Repo])
    assert sorted(p.key for p in warnings) == ["Audit", "Logger", "RequestCtx"]


def test_iq008_not_reported_without_roots() -> None:
    """Without roots nothing is unused (every binding is a root)."""
    c = InjectQ()
    c.bind(Db)
    c.bind(RequestCtx, scope="request")
    assert c.check() == []


def test_iq008_warning_alone_does_not_raise() -> None:
    """Warnings do not make validate() raise; with an error they are listed but not counted."""
    c = InjectQ()
    c.bind(Db)
    c.bind(NeedsPort)
    with pytest.raises(GraphValidationError) as info:
        c.validate(roots=[NeedsPort])
    assert sorted(info.value.codes) == ["IQ001", "IQ008"]
    assert str(info.value).startswith("dependency graph has 1 error(s):")


# -- IQ009 unknown scope -----------------------------------------------------------------------


def test_iq009_unknown_scope_render() -> None:
    """IQ009: a binding scoped to an undeclared scope names the known ones and the fix."""
    c = InjectQ()
    line = _line() + 1
    c.bind(Db, scope="session")
    p = _only(c.check(), "IQ009")
    assert p.render() == "\n".join([
        f"{HERE}:{line}: error[IQ009 unknown-scope]: Db is scoped to 'session', which is not "
        "a declared scope",
        "  help: use one of: request, action; or declare it with "
        "container.declare_scope('session', parent='request')",
    ])


def test_iq009_declared_scope_fine() -> None:
    """Declaring the scope makes the binding valid and resolvable in that scope."""
    c = InjectQ()
    c.bind(Db, scope="session")
    c.declare_scope("session", parent="app")
    assert c.validate() == []
    with c.scope("session"):
        assert c.get(Db) is c.get(Db)


def test_iq009_scoped_builder() -> None:
    """.scoped("tenant") on an undeclared scope is reported the same way."""
    c = InjectQ()
    c.bind(Db).scoped("tenant")
    assert _codes(c.check()) == ["IQ009"]


def test_iq009_opening_unknown_scope() -> None:
    """Opening an undeclared scope is a ScopeError that says how to declare it."""
    c = InjectQ()
    with pytest.raises(ScopeError, match="declare_scope"), c.scope("session"):
        pass


# -- IQ010 wrong implementation ----------------------------------------------------------------


class Mailer:
    pass


class MemoryCache:
    pass


class SmtpMailer(Mailer):
    pass


class Clock:
    def now(self) -> int:
        return 0


class SystemClock(Clock):
    @staticmethod
    def create() -> SystemClock:
        return SystemClock()


def test_iq010_class_that_is_not_a_subclass_of_its_key() -> None:
    """bind(Mailer, MemoryCache) is reported before any get, with where it was bound."""
    c = InjectQ()
    line = _line() + 1
    c.bind(Mailer, MemoryCache)
    c.bind(SmtpMailer)
    p = _only(c.check(), "IQ010")
    assert p.render() == "\n".join([
        f"{HERE}:{line}: error[IQ010 wrong-implementation]: Mailer is bound to the class "
        f"{__name__}.MemoryCache, which is not a {__name__}.Mailer",
        "  chain: Mailer [singleton]",
        f"    Mailer  bound at {HERE}:{line}",
        f"  help: bind a subclass of {__name__}.Mailer, or bind Mailer to the class itself",
    ])


def test_iq010_instance_of_another_class_and_a_function_bound_as_implementation() -> None:
    """An instance of a same-named class elsewhere, and a factory passed to bind() (it
    would be bound as the function object): each says what to do."""
    other = type("Clock", (), {"__module__": "other.module"})
    c = InjectQ()
    c.bind_instance(Clock, other())
    c.bind("clock", SystemClock.create)  # a string key: nothing to check
    c.bind(SystemClock, SystemClock.create)
    problems = [p for p in c.check() if p.code == "IQ010"]
    assert [p.key for p in problems] == ["Clock", "SystemClock"]
    assert f"an instance of other.module.Clock, which is not a {__name__}.Clock" in (
        problems[0].message
    )
    assert "use bind_factory(SystemClock, ...)" in problems[1].help
    with pytest.raises(GraphValidationError):
        c.validate()


def test_iq010_passes_subclasses_aliases_and_protocols() -> None:
    """Subclasses, ABC registrations, generic keys, NewType and Protocol keys are fine."""
    from typing import NewType, Protocol

    class Sender(Protocol):
        def send(self) -> None: ...

    UserId = NewType("UserId", str)
    c = InjectQ()
    c.bind(Mailer, SmtpMailer)
    c.bind(Sender, MemoryCache)  # structural: not checked
    c.bind_instance(UserId, UserId("u"))
    c.bind_instance(list[int], [1])
    c.bind_instance(Clock, None, allow_none=True)
    assert [p for p in c.check() if p.code == "IQ010"] == []
