"""Shared app and fixtures of the reliability suites (stress, faults, fork, memory).

One small app (package ``iqrel``, written once per session into a temporary folder)
uses every lifetime and resource kind. Its factories go through ``PROBE``, which counts
calls, logs resources opened and closed, raises on planned calls and can hold a factory
on a gate. ``rel_container`` (parametrized ``runtime`` / ``generated``) hands a test a
factory of fresh containers: ``InjectQ`` with the Module installed, or the ``container``
of the wiring injectq-gen generated from the same Module (generated once per session,
imported under a new name for each fresh container, so every container starts empty).
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from injectq import InjectQ
from injectq_codegen.build import generate
from tests.codegen_support import unique_name

__all__ = [
    "RelApp",
    "assert_each_resource_finalized_once",
    "rel_app",
    "rel_container",
    "scale",
]

PACKAGE = "iqrel"

_SERVICES = '''
from __future__ import annotations

import asyncio
import contextvars
import itertools
import threading
from collections.abc import AsyncIterator, Iterator

from injectq import InjectQ

WAIT = 20  # seconds a gated factory waits at most


class Boom(Exception):
    """What a planned fault raises."""


class Probe:
    """Counts factory calls, logs resources, raises planned faults, holds gated factories."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.serial = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: dict[str, int] = {}
            self.log: list[tuple[str, str, int]] = []  # (open|close, name, serial)
            self.faults: dict[str, set[int]] = {}  # name -> calls (1-based) that raise
            self.close_faults: set[str] = set()  # names whose finalizer raises
            self.gates: dict[str, tuple[threading.Event, threading.Event]] = {}

    def enter(self, name: str) -> int:
        with self.lock:
            n = self.calls[name] = self.calls.get(name, 0) + 1
            fail = n in self.faults.get(name, ())
            gate = self.gates.get(name)
        if gate is not None:  # (entered, release): tell the test, then wait for it
            gate[0].set()
            gate[1].wait(WAIT)
        if fail:
            raise Boom(f"{name} failed on call {n}")
        return n

    async def aenter(self, name: str) -> int:
        """``enter`` for an async factory: a gate is waited for without blocking the loop."""
        with self.lock:
            n = self.calls[name] = self.calls.get(name, 0) + 1
            gate = self.gates.get(name)
        if gate is not None:
            gate[0].set()
            for _ in range(WAIT * 1000):
                if gate[1].is_set():
                    break
                await asyncio.sleep(0.001)
        return n

    def opened(self, name: str) -> int:
        with self.lock:
            serial = next(self.serial)
            self.log.append(("open", name, serial))
        return serial

    def closed(self, name: str, serial: int) -> None:
        with self.lock:
            self.log.append(("close", name, serial))
            fail = name in self.close_faults
        if fail:
            raise Boom(f"finalizer of {name} #{serial} failed")


PROBE = Probe()


class Settings:
    def __init__(self) -> None:
        PROBE.enter("Settings")


class Pool:
    def __init__(self, settings: Settings, serial: int = 0) -> None:
        self.settings = settings
        self.serial = serial  # its open/close events in the probe's log


def open_pool(settings: Settings) -> Iterator[Pool]:
    PROBE.enter("Pool")
    serial = PROBE.opened("Pool")
    yield Pool(settings, serial)
    PROBE.closed("Pool", serial)


class Repo:
    def __init__(self, pool: Pool) -> None:
        PROBE.enter("Repo")
        self.pool = pool


class RequestCtx:
    """Records the request scope it was created in."""

    def __init__(self, container: InjectQ) -> None:
        PROBE.enter("RequestCtx")
        self.scope = container.current_scope("request")


class Session:
    def __init__(self, pool: Pool, ctx: RequestCtx) -> None:
        self.pool = pool
        self.ctx = ctx


def open_session(pool: Pool, ctx: RequestCtx) -> Iterator[Session]:
    PROBE.enter("Session")
    serial = PROBE.opened("Session")
    yield Session(pool, ctx)
    PROBE.closed("Session", serial)


class Tx:
    def __init__(self, session: Session) -> None:
        self.session = session


def open_tx(session: Session) -> Iterator[Tx]:
    PROBE.enter("Tx")
    serial = PROBE.opened("Tx")
    yield Tx(session)
    PROBE.closed("Tx", serial)


class Audit:
    def __init__(self, repo: Repo) -> None:
        PROBE.enter("Audit")
        self.repo = repo


class Handler:
    def __init__(self, repo: Repo, session: Session, tx: Tx, ctx: RequestCtx,
                 audit: Audit) -> None:
        PROBE.enter("Handler")
        self.repo = repo
        self.session = session
        self.tx = tx
        self.ctx = ctx
        self.audit = audit


class Client:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


async def make_client(settings: Settings) -> Client:
    await asyncio.sleep(0)
    PROBE.enter("Client")
    return Client(settings)


class Conn:
    def __init__(self, client: Client, ctx: RequestCtx) -> None:
        self.client = client
        self.ctx = ctx


async def open_conn(client: Client, ctx: RequestCtx) -> AsyncIterator[Conn]:
    await asyncio.sleep(0)
    PROBE.enter("Conn")
    serial = PROBE.opened("Conn")
    yield Conn(client, ctx)
    await asyncio.sleep(0)
    PROBE.closed("Conn", serial)


class AsyncHandler:
    def __init__(self, conn: Conn, session: Session, ctx: RequestCtx, repo: Repo) -> None:
        PROBE.enter("AsyncHandler")
        self.conn = conn
        self.session = session
        self.ctx = ctx
        self.repo = repo


class Blocker:
    """A singleton whose creation a test can hold open (a gate on "Blocker")."""

    def __init__(self, settings: Settings) -> None:
        PROBE.enter("Blocker")
        self.settings = settings


class AsyncBlocker:
    pass


class Keeper:
    """A singleton holding the pool, whose creation a test can hold open (gate "Keeper")."""

    def __init__(self, pool: Pool) -> None:
        PROBE.enter("Keeper")
        self.pool = pool


class Relay:
    """Its factory resolves Blocker from a helper thread (in a copy of its context) and
    waits for it: a creation that depends on another thread's resolution."""

    def __init__(self, blocker: Blocker) -> None:
        self.blocker = blocker


def make_relay(container: InjectQ, settings: Settings) -> Relay:
    PROBE.enter("Relay")
    got: list[Blocker] = []
    ctx = contextvars.copy_context()
    helper = threading.Thread(target=lambda: got.append(ctx.run(container.get, Blocker)))
    helper.start()
    helper.join(WAIT)
    if not got:
        raise Boom("the helper thread did not resolve Blocker")
    return Relay(got[0])


class AsyncKeeper:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool


async def make_async_keeper(pool: Pool) -> AsyncKeeper:
    await PROBE.aenter("AsyncKeeper")
    return AsyncKeeper(pool)


class Echo:
    """Its factory resolves Echo itself: a cycle no graph check can see."""


def make_echo(container: InjectQ) -> Echo:
    PROBE.enter("Echo")
    return container.get(Echo)


class AsyncEcho:
    pass


async def make_async_echo(container: InjectQ) -> AsyncEcho:
    PROBE.enter("AsyncEcho")
    (echo,) = await asyncio.gather(container.aget(AsyncEcho))  # from a child task
    return echo


class ScopedAsyncEcho:
    pass


async def make_scoped_async_echo(container: InjectQ) -> ScopedAsyncEcho:
    PROBE.enter("ScopedAsyncEcho")
    (echo,) = await asyncio.gather(container.aget(ScopedAsyncEcho))
    return echo


async def make_async_blocker() -> AsyncBlocker:
    await asyncio.sleep(0)
    PROBE.enter("AsyncBlocker")
    return AsyncBlocker()
'''

_MODULES = '''
from injectq import Module

from iqrel.services import (
    AsyncBlocker, AsyncEcho, AsyncHandler, AsyncKeeper, Audit, Blocker, Client, Conn, Echo,
    Handler, Keeper, Pool, Relay, Repo, RequestCtx, ScopedAsyncEcho, Session, Settings, Tx,
    make_async_blocker, make_async_echo, make_async_keeper, make_client, make_echo,
    make_relay, make_scoped_async_echo, open_conn, open_pool, open_session, open_tx,
)


class RelModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings).singleton()
        self.bind_factory(Pool, open_pool).singleton()
        self.bind(Repo, Repo).transient()
        self.bind(RequestCtx, RequestCtx).scoped("request")
        self.bind_factory(Session, open_session).scoped("request")
        self.bind_factory(Tx, open_tx).transient()
        self.bind(Audit, Audit).transient()
        self.bind(Handler, Handler).transient()
        self.bind_factory(Client, make_client).singleton()
        self.bind_factory(Conn, open_conn).scoped("request")
        self.bind(AsyncHandler, AsyncHandler).transient()
        self.bind(Blocker, Blocker).singleton()
        self.bind_factory(AsyncBlocker, make_async_blocker).singleton()
        self.bind_factory(Echo, make_echo).scoped("request")
        self.bind_factory(AsyncEcho, make_async_echo).singleton()
        self.bind_factory(ScopedAsyncEcho, make_scoped_async_echo).scoped("request")
        self.bind(Keeper, Keeper).singleton()
        self.bind_factory(AsyncKeeper, make_async_keeper).singleton()
        self.bind_factory(Relay, make_relay).singleton()
'''


def assert_each_resource_finalized_once(log: list[tuple[str, str, int]]) -> Counter[str]:
    """Every opened resource was closed exactly once, after it was opened; opens per name."""
    opened = {serial: name for event, name, serial in log if event == "open"}
    closes = Counter(serial for event, _, serial in log if event == "close")
    assert len(opened) == sum(1 for event, _, _ in log if event == "open")  # serials unique
    assert set(closes) == set(opened)
    assert set(closes.values()) == {1}
    position = {(event, serial): i for i, (event, _, serial) in enumerate(log)}
    assert all(position[("open", s)] < position[("close", s)] for s in opened)
    return Counter(opened.values())


def scale(default: float) -> float:
    """Fraction of the full load to run: ``INJECTQ_STRESS_SCALE`` (1 = full size),
    else ``default`` (what CI runs)."""
    raw = os.environ.get("INJECTQ_STRESS_SCALE")
    return float(raw) if raw else default


class RelApp:
    """The ``iqrel`` package, imported, and the source of its generated wiring."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        pkg = folder / PACKAGE
        pkg.mkdir()
        (pkg / "__init__.py").write_text("", encoding="utf-8")
        (pkg / "services.py").write_text(textwrap.dedent(_SERVICES), encoding="utf-8")
        (pkg / "modules.py").write_text(textwrap.dedent(_MODULES), encoding="utf-8")
        importlib.invalidate_caches()
        self.services = importlib.import_module(f"{PACKAGE}.services")
        self.modules = importlib.import_module(f"{PACKAGE}.modules")
        self.source, _ = generate([f"{PACKAGE}.modules:RelModule"])
        self.wirings: list[str] = []

    def runtime(self) -> InjectQ:
        container = InjectQ()
        container.install(self.modules.RelModule())
        return container

    def wiring(self) -> ModuleType:
        """A fresh import of the generated wiring: its own singletons, slots and scopes."""
        name = unique_name("iqrel_wiring")
        (self.folder / f"{name}.py").write_text(self.source, encoding="utf-8")
        importlib.invalidate_caches()
        self.wirings.append(name)
        return importlib.import_module(name)

    def generated(self) -> Any:
        return self.wiring().container


@pytest.fixture(scope="session")
def rel_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelApp]:
    """The reliability app, written and its wiring generated once per session."""
    folder = tmp_path_factory.mktemp("iqrel")
    sys.path.insert(0, str(folder))
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    wirings: list[str] = []
    try:
        app = RelApp(folder)
        wirings = app.wirings
        yield app
    finally:
        sys.dont_write_bytecode = before
        sys.path.remove(str(folder))
        for name in [*wirings, f"{PACKAGE}.modules", f"{PACKAGE}.services", PACKAGE]:
            sys.modules.pop(name, None)


@pytest.fixture(params=["runtime", "generated"])
def rel_container(request: pytest.FixtureRequest, rel_app: RelApp) -> Iterator[Callable[[], Any]]:
    """A factory of fresh containers of the app: runtime ``InjectQ`` or generated wiring.
    The probe is reset before the test and after it."""
    rel_app.services.PROBE.reset()
    make = rel_app.runtime if request.param == "runtime" else rel_app.generated
    yield make
    rel_app.services.PROBE.reset()
