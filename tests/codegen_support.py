"""Helpers for injectq-gen tests: user packages written into ``tmp_path``, built and imported.

``codegen_env`` (a fixture, re-exported by ``tests/conftest.py``) moves into ``tmp_path``,
puts it on ``sys.path`` and, after the test, forgets every module imported from there, so
tests may reuse package names. ``make_project`` writes the files; ``build_wiring`` runs the
compiler on targets and imports the generated module under a unique name.
"""

from __future__ import annotations

import importlib
import itertools
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

import pytest

from injectq.model.introspect import forget_type_checking_names
from injectq_codegen.build import generate

__all__ = [
    "REPO",
    "SAMPLE_FILES",
    "SAMPLE_TARGET",
    "build_wiring",
    "codegen_env",
    "make_project",
    "run_gen",
    "unique_name",
]

REPO = Path(__file__).resolve().parent.parent
_counter = itertools.count()


_SAMPLE_SERVICES = """\
from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from injectq import InjectQ, Lazy, Named, inject

EVENTS: list[str] = []
CREATED: dict[str, int] = {}


def _count(name: str) -> None:
    CREATED[name] = CREATED.get(name, 0) + 1


class Config:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


class Database:
    def __init__(self, config: Config) -> None:
        _count("Database")
        self.config = config


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


class RequestContext:
    def __init__(self) -> None:
        _count("RequestContext")


class Handler:
    def __init__(self, service: Service, ctx: RequestContext) -> None:
        self.service = service
        self.ctx = ctx


class Cache:
    def __init__(self, config: Config) -> None:
        self.config = config


class UsesCaches:
    def __init__(
        self,
        primary: Annotated[Cache, Named("primary")],
        secondary: Annotated[Cache, Named("secondary")],
    ) -> None:
        self.primary = primary
        self.secondary = secondary


class Session:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.open = True


def open_session(db: Database) -> Iterator[Session]:
    session = Session(db)
    EVENTS.append("session opened")
    yield session
    session.open = False
    EVENTS.append("session closed")


class Connection:
    def __init__(self) -> None:
        self.open = True


async def open_connection() -> AsyncIterator[Connection]:
    conn = Connection()
    EVENTS.append("connection opened")
    yield conn
    conn.open = False
    EVENTS.append("connection closed")


class Pool:
    def __init__(self, name: str) -> None:
        self.name = name


def open_pool() -> Iterator[Pool]:
    EVENTS.append("pool opened")
    yield Pool("pool")
    EVENTS.append("pool closed")


class Metrics:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool


def open_metrics(pool: Pool) -> Iterator[Metrics]:
    EVENTS.append("metrics opened")
    yield Metrics(pool)
    EVENTS.append("metrics closed")


class Client:
    def __init__(self, config: Config) -> None:
        self.config = config


async def make_client(config: Config) -> Client:
    _count("Client")
    return Client(config)


class UsesClient:
    def __init__(self, client: Client) -> None:
        self.client = client


class Token:
    def __init__(self, value: str) -> None:
        self.value = value


async def make_token() -> Token:
    _count("Token")
    return Token("secret")


class Parent:
    def __init__(self, child: Lazy[Child]) -> None:
        self.child = child


class Child:
    def __init__(self, parent: Parent) -> None:
        self.parent = parent


class NeedsContainer:
    def __init__(self, container: InjectQ, db: Database) -> None:
        self.container = container
        self.db = db


class Slow:
    def __init__(self) -> None:
        _count("Slow")
        time.sleep(0.02)


class Greeter:
    def __init__(self, greeting: str) -> None:
        self.greeting = greeting


class NotWired:
    pass


@inject
def handle(db: Database, repo: Repo, greeting: str, extra: int = 3) -> tuple[object, ...]:
    return db, repo, greeting, extra


@inject
def needs_unwired(thing: NotWired) -> None:
    return None


@inject
async def ahandle(user: UsesClient) -> UsesClient:
    return user
"""

_SAMPLE_MODULES = """\
from injectq import Module

from gen.services import (
    Cache,
    Client,
    Config,
    Database,
    Greeter,
    Handler,
    NeedsContainer,
    Parent,
    RequestContext,
    Repo,
    Service,
    Slow,
    Token,
    UsesCaches,
    UsesClient,
    make_client,
    make_token,
    open_connection,
    open_metrics,
    open_pool,
    open_session,
    Connection,
    Metrics,
    Pool,
    Session,
)


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Config, Config("pg://prod"))
        self.bind(Database, Database).singleton()
        self.bind(Repo, Repo).transient()
        self.bind(Service, Service).transient()
        self.bind(RequestContext, RequestContext).scoped("request")
        self.bind(Handler, Handler).transient()
        self.bind(Cache, Cache, name="primary").singleton()
        self.bind(Cache, Cache, name="secondary").singleton()
        self.bind(UsesCaches, UsesCaches).transient()
        self.bind("greeting", "hello")
        self.bind(Greeter, Greeter).transient()
        self.bind_factory(Session, open_session).scoped("request")
        self.bind_factory(Connection, open_connection).scoped("request")
        self.bind_factory(Pool, open_pool).singleton()
        self.bind_factory(Metrics, open_metrics).singleton()
        self.bind_factory(Client, make_client).singleton()
        self.bind(UsesClient, UsesClient).transient()
        self.bind(Token, make_token())
        self.bind(Parent, Parent).singleton()
        self.bind(NeedsContainer, NeedsContainer).transient()
        self.bind(Slow, Slow).singleton()
"""

# a small app using every provider kind and lifetime: package ``gen``
SAMPLE_FILES = {"gen/services.py": _SAMPLE_SERVICES, "gen/modules.py": _SAMPLE_MODULES}
SAMPLE_TARGET = "gen.modules:AppModule"



def unique_name(prefix: str = "iqt") -> str:
    """A module name no other test in this process uses."""
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


def make_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> source, dedented) under ``root``; packages get an
    ``__init__.py`` when none is given."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        folder = path.parent
        while folder != root:
            init = folder / "__init__.py"
            if not init.exists():
                init.write_text("", encoding="utf-8")
            folder = folder.parent
    importlib.invalidate_caches()
    return root


def build_wiring(
    targets: Sequence[str], roots: Sequence[str] = (), *, folder: Path | None = None
) -> ModuleType:
    """Generate the wiring of ``targets``, write it as a fresh top-level module in
    ``folder`` (default: the current directory) and import it."""
    source, _ = generate(list(targets), list(roots))
    name = unique_name("iq_wiring")
    path = (folder or Path.cwd()) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    importlib.invalidate_caches()
    return importlib.import_module(name)


def run_gen(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m injectq_codegen ARGS`` in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "injectq_codegen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


def _forget_modules(root: Path, before: set[str]) -> None:
    prefix = str(root)
    for name in list(sys.modules):
        if name in before:
            continue
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None) or ""
        paths = list(getattr(module, "__path__", None) or [])
        if file.startswith(prefix) or any(str(p).startswith(prefix) for p in paths):
            del sys.modules[name]


@pytest.fixture
def codegen_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tmp_path`` as the current directory and an import root, cleaned up after."""
    before = set(sys.modules)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    try:
        yield tmp_path
    finally:
        _forget_modules(tmp_path, before)
        forget_type_checking_names()
