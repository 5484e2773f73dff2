"""Fault injection on both containers: hypothesis picks which factories raise and on which
of their calls, and which finalizers fail.

For a failing creation: the error keeps its type and carries the dependency path from the
requested key to the binding that raised (``exc.injectq_path``, PathLinks of
``injectq.errors``, and a note); nothing half-built is cached (a failed singleton or
scoped instance is created again next time, never twice after it succeeded); resources
created before the failure are finalized once, in reverse creation order, when their
owner closes; once the faults clear, the next resolution succeeds. For failing
finalizers: every finalizer still runs and the failures are raised together as one
``ResourceCleanupError`` (an ExceptionGroup), on sync and async scope exits and on
``close()`` / ``aclose()``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from injectq import ResourceCleanupError
from injectq.errors import InjectQError, PathLink
from tests.reliability_support import (
    RelApp,
    assert_each_resource_finalized_once,
    rel_app,
    rel_container,
)

__all__ = ["rel_app", "rel_container"]

TIMEOUT = 10
SYNC_FACTORIES = ["Settings", "Pool", "Repo", "RequestCtx", "Session", "Tx", "Audit", "Handler"]
ASYNC_FACTORIES = ["Settings", "Pool", "Repo", "RequestCtx", "Session", "Client", "Conn",
                   "AsyncHandler"]
CACHED = {"Settings": "singleton", "Pool": "singleton", "Client": "singleton",
          "RequestCtx": "scoped", "Session": "scoped", "Conn": "scoped"}
SCOPE_RESOURCES = {"Session", "Tx", "Conn"}

fault_plans = st.dictionaries(
    st.sampled_from([*SYNC_FACTORIES, "Client", "Conn", "AsyncHandler"]),
    st.sets(st.integers(1, 3), min_size=1, max_size=3),
    max_size=4,
)
examples = settings(
    max_examples=100, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def edges(c: Any, app: RelApp) -> dict[str, set[str]]:
    """label -> labels of its plain dependencies, read from the container's own graph."""
    s = app.services
    out: dict[str, set[str]] = {}
    for name in SYNC_FACTORIES + ASYNC_FACTORIES:
        info = c.node_info(getattr(s, name))
        out[info.label] = {c.node_info(k).label for edge, k in info.deps if edge == "plain"}
    return out


def failed_factory(exc: BaseException) -> str:
    match = re.fullmatch(r"(\w+) failed on call \d+", str(exc))
    assert match, exc
    return match.group(1)


def check_path(exc: BaseException, root: str, graph: dict[str, set[str]]) -> str:
    """The error names the path root -> ... -> the factory that raised, along real edges;
    returns that factory's name."""
    failed = failed_factory(exc)
    path = exc.injectq_path  # type: ignore[attr-defined]
    assert all(isinstance(link, PathLink) for link in path)
    labels = [link.label for link in path]
    assert labels[0] == root and labels[-1] == failed, labels
    assert all(b in graph[a] for a, b in itertools.pairwise(labels)), labels
    assert any(" -> ".join(link.render() for link in path) in note for note in exc.__notes__)
    return failed


def check_scope_closed_in_reverse(log: list[tuple[str, str, int]]) -> None:
    """Resources a scope owned were closed in the reverse order of their opening."""
    opens = [serial for event, name, serial in log if event == "open" and name in SCOPE_RESOURCES]
    closes = [serial for event, name, serial in log if event == "close" and name in SCOPE_RESOURCES]
    assert closes == opens[::-1]


def check_no_half_built(calls: dict[str, int], failures: Counter[str], built: bool) -> None:
    """A cached binding was created once per failure, plus once when it finally succeeded."""
    for name in CACHED:
        if name in calls:
            assert calls[name] - failures[name] in ((1,) if built else (0, 1)), (name, calls)


@examples
@given(plan=fault_plans)
def test_sync_faults_anywhere_cache_nothing_and_clear(
    rel_container: Callable[[], Any], rel_app: RelApp, plan: dict[str, set[int]]
) -> None:
    """Any factory of a scoped Handler may raise on any call: the error has the path,
    nothing half-built is cached, resources created are finalized in reverse, and the
    next resolution after the faults clear succeeds."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.reset()
    s.PROBE.faults = {k: set(v) for k, v in plan.items()}
    graph = edges(c, rel_app)
    failures: Counter[str] = Counter()
    handler = None
    with c.scope() as state:
        for _ in range(10):
            try:
                handler = c.get(s.Handler)
                break
            except s.Boom as exc:
                failures[check_path(exc, "Handler", graph)] += 1
        check_no_half_built(s.PROBE.calls, failures, handler is not None)
        event(f"{sum(failures.values())} failed resolution(s), then "
              f"{'success' if handler is not None else 'still failing'}")
        if handler is not None:
            assert handler.ctx.scope is state
            assert c.get(s.Session) is handler.session
    check_scope_closed_in_reverse(s.PROBE.log)

    s.PROBE.faults.clear()
    with c.scope():
        assert isinstance(c.get(s.Handler), s.Handler)  # the faults cleared: it works
    c.close()
    assert_each_resource_finalized_once(s.PROBE.log)
    assert s.PROBE.calls["Settings"] == 1 + failures["Settings"]


@examples
@given(plan=fault_plans)
def test_async_faults_anywhere_cache_nothing_and_clear(
    rel_container: Callable[[], Any], rel_app: RelApp, plan: dict[str, set[int]]
) -> None:
    """Same with ``aget`` in ``async with`` scopes, async factories and async resources."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.reset()
    s.PROBE.faults = {k: set(v) for k, v in plan.items()}
    graph = edges(c, rel_app)

    async def run() -> None:
        failures: Counter[str] = Counter()
        handler = None
        async with c.scope() as state:
            for _ in range(10):
                try:
                    handler = await c.aget(s.AsyncHandler)
                    break
                except s.Boom as exc:
                    failures[check_path(exc, "AsyncHandler", graph)] += 1
            check_no_half_built(s.PROBE.calls, failures, handler is not None)
            if handler is not None:
                assert handler.ctx.scope is state
                assert await c.aget(s.Conn) is handler.conn
        check_scope_closed_in_reverse(s.PROBE.log)
        s.PROBE.faults.clear()
        async with c.scope():
            assert isinstance(await c.aget(s.AsyncHandler), s.AsyncHandler)
        await c.aclose()
        assert s.PROBE.calls["Client"] == 1 + failures["Client"]

    asyncio.run(asyncio.wait_for(run(), TIMEOUT))
    assert_each_resource_finalized_once(s.PROBE.log)


def test_error_note_names_the_inlined_path(rel_container: Callable[[], Any],
                                           rel_app: RelApp) -> None:
    """A transient failing inside another inlined transient is named with the full path,
    in the attribute and in the note, and keeps its own exception type."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.faults["Repo"] = {2}  # Handler(repo=Repo(...), ..., audit=Audit(Repo(...)))
    with c.scope(), pytest.raises(s.Boom) as excinfo:
        c.get(s.Handler)
    exc = excinfo.value
    assert not isinstance(exc, InjectQError)
    assert [link.render() for link in exc.injectq_path] == [
        "Handler [transient]", "Audit [transient]", "Repo [transient]"]
    note = exc.__notes__[-1]
    assert note.startswith(
        "injectq: raised while resolving Handler [transient] -> Audit [transient] -> "
        "Repo [transient]\n  Repo bound at ")
    lines = Path(rel_app.modules.__file__).read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "bind(Repo," in text)
    assert note.endswith(f"iqrel/modules.py:{line}")
    c.close()


def test_error_path_through_a_singleton_and_a_scoped_resource(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """A singleton failing under a scoped resource: the path runs through both; after the
    failure neither is cached and the retry creates each once."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.faults["Settings"] = {1}
    with c.scope():
        with pytest.raises(s.Boom) as excinfo:
            c.get(s.Session)
        assert [link.render() for link in excinfo.value.injectq_path] == [
            "Session [scoped:request]", "Pool [singleton]", "Settings [singleton]"]
        session = c.get(s.Session)
        assert c.get(s.Session) is session
    assert (s.PROBE.calls["Settings"], s.PROBE.calls["Pool"], s.PROBE.calls["Session"]) == (
        2, 1, 1)
    c.close()
    assert_each_resource_finalized_once(s.PROBE.log)


def test_resources_created_before_a_failure_close_in_reverse_order(
    rel_container: Callable[[], Any], rel_app: RelApp
) -> None:
    """Handler fails after Pool, Session and Tx were opened for it: the scope closes Tx then
    Session, the container closes Pool; each once."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.faults["Handler"] = {1}
    with c.scope(), pytest.raises(s.Boom):
        c.get(s.Handler)
    assert [(e, n) for e, n, _ in s.PROBE.log] == [
        ("open", "Pool"), ("open", "Session"), ("open", "Tx"),
        ("close", "Tx"), ("close", "Session")]
    c.close()
    assert s.PROBE.log[-1][:2] == ("close", "Pool")
    assert_each_resource_finalized_once(s.PROBE.log)


# -- failing finalizers -----------------------------------------------------------------


def check_group(exc: ResourceCleanupError, log: list[Any], failing: set[str]) -> None:
    assert isinstance(exc, ExceptionGroup)
    closed = [f"finalizer of {name} #{serial} failed" for event, name, serial in log
              if event == "close" and name in failing]
    assert sorted(str(e) for e in exc.exceptions) == sorted(closed)


@examples
@given(failing=st.sets(st.sampled_from(["Pool", "Session", "Tx", "Conn"])),
       handlers=st.integers(1, 3))
def test_failing_finalizers_all_run_and_raise_together(
    rel_container: Callable[[], Any], rel_app: RelApp, failing: set[str], handlers: int
) -> None:
    """Whichever finalizers fail, sync scope exit and close() run every one and raise the
    failures together in one ResourceCleanupError."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.reset()
    s.PROBE.close_faults = set(failing)
    scope_failing = failing & {"Session", "Tx"}
    try:
        with c.scope():
            for _ in range(handlers):  # one Session, ``handlers`` Tx
                c.get(s.Handler)
    except ResourceCleanupError as exc:
        assert scope_failing
        check_group(exc, s.PROBE.log, scope_failing)
    else:
        assert not scope_failing
    try:
        c.close()
    except ResourceCleanupError as exc:
        assert "Pool" in failing
        check_group(exc, s.PROBE.log, {"Pool"})
    else:
        assert "Pool" not in failing
    opened = assert_each_resource_finalized_once(s.PROBE.log)
    assert opened == {"Pool": 1, "Session": 1, "Tx": handlers}


@examples
@given(failing=st.sets(st.sampled_from(["Pool", "Session", "Tx", "Conn"])),
       handlers=st.integers(1, 3))
def test_failing_async_finalizers_all_run_and_raise_together(
    rel_container: Callable[[], Any], rel_app: RelApp, failing: set[str], handlers: int
) -> None:
    """Whichever finalizers fail, ``async with`` scope exit and aclose() run every one
    (async and sync resources) and raise the failures together."""
    c = rel_container()
    s = rel_app.services
    s.PROBE.reset()
    s.PROBE.close_faults = set(failing)
    scope_failing = failing & SCOPE_RESOURCES

    async def run() -> None:
        try:
            async with c.scope():
                await c.aget(s.AsyncHandler)  # Conn, Session
                for _ in range(handlers):
                    c.get(s.Handler)  # Tx
        except ResourceCleanupError as exc:
            assert scope_failing
            check_group(exc, s.PROBE.log, scope_failing)
        else:
            assert not scope_failing
        try:
            await c.aclose()
        except ResourceCleanupError as exc:
            assert "Pool" in failing
            check_group(exc, s.PROBE.log, {"Pool"})
        else:
            assert "Pool" not in failing

    asyncio.run(asyncio.wait_for(run(), TIMEOUT))
    opened = assert_each_resource_finalized_once(s.PROBE.log)
    assert opened == {"Pool": 1, "Session": 1, "Tx": handlers, "Conn": 1}


FROZEN_APP = """\
from __future__ import annotations

from dataclasses import dataclass

from injectq import Module


@dataclass(frozen=True)
class PaymentDeclined(Exception):
    code: str


class Gateway:
    def __init__(self) -> None:
        raise PaymentDeclined("card-expired")


class Checkout:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway


class FrozenModule(Module):
    def configure(self) -> None:
        self.bind(Gateway, Gateway).transient()
        self.bind(Checkout, Checkout).transient()
"""


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_an_exception_that_refuses_attributes_keeps_its_type(codegen_env: Any, which: str
                                                             ) -> None:
    """A factory's frozen-dataclass exception reaches the caller as itself (attaching the
    path is skipped where the exception refuses it), in both containers."""
    from injectq import InjectQ
    from tests.codegen_support import build_wiring, make_project

    make_project(codegen_env, {"frozenapp/__init__.py": "", "frozenapp/app.py": FROZEN_APP})
    import frozenapp.app as app

    if which == "runtime":
        c: Any = InjectQ()
        c.install(app.FrozenModule())
    else:
        c = build_wiring(["frozenapp.app:FrozenModule"]).Container()
    with pytest.raises(app.PaymentDeclined) as info:
        c.get(app.Checkout)
    assert info.value.code == "card-expired"
