"""A generated module resolves without reading a signature or a type hint.

A fresh interpreter wraps ``inspect.signature``, ``typing.get_type_hints`` and
``typing_extensions.get_type_hints`` with counters before anything else is imported, then
imports the generated module and resolves every key it knows, sync and async.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from injectq_codegen.build import generate
from tests.codegen_support import make_project

SERVICES = """\
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Optional

from injectq import InjectQ, Lazy, Named


class Config:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


class Database:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    def __init__(self, db: Database, *, retries: int = 3) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo, fallback: Annotated[Repo, Named("fallback")]) -> None:
        self.repo = repo


class RequestContext:
    pass


class Handler:
    def __init__(self, service: Service, ctx: RequestContext, lazy: Lazy[Database],
                 container: InjectQ, missing: Optional[Unbound] = None) -> None:
        self.service = service


class Unbound:
    pass


class Session:
    pass


def open_session(db: Database) -> Iterator[Session]:
    yield Session()


class Connection:
    pass


async def open_connection(config: Config) -> AsyncIterator[Connection]:
    yield Connection()


class Client:
    pass


async def make_client(config: Config) -> Client:
    return Client()


class UsesClient:
    def __init__(self, client: Client, session: Session) -> None:
        self.client = client


class Token:
    pass


async def make_token() -> Token:
    return Token()


def make_greeting(name: str) -> str:
    return f"hello {name}"
"""

MODULES = """\
from injectq import Module

from nr.services import (
    Client, Config, Connection, Database, Handler, Repo, RequestContext, Service, Session,
    Token, UsesClient, make_client, make_greeting, make_token, open_connection, open_session,
)


class DataModule(Module):
    def configure(self) -> None:
        self.bind(Database, Database).singleton()
        self.bind(Repo, Repo, name="fallback").singleton()


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Config, Config("pg://prod"))
        self.install(DataModule())
        self.bind(Repo, Repo).transient()
        self.bind(Service, Service).scoped("request")
        self.bind(RequestContext, RequestContext).scoped("request")
        self.bind(Handler, Handler).transient()
        self.bind_factory(Session, open_session).scoped("request")
        self.bind_factory(Connection, open_connection).scoped("request")
        self.bind_factory(Client, make_client).singleton()
        self.bind(UsesClient, UsesClient).transient()
        self.bind(Token, make_token())
        self.bind("name", "world")
        self.bind_factory("greeting", make_greeting)


class BinderModule(Module):
    def configure(self, binder):
        binder.bind_instance("limit", 10, name="max")
"""

SCRIPT = """\
import inspect
import json
import sys
import typing

import typing_extensions

COUNTS = {}


def instrument(module, name, label):
    original = getattr(module, name)

    def counted(*args, **kwargs):
        COUNTS[label] = COUNTS.get(label, 0) + 1
        return original(*args, **kwargs)

    setattr(module, name, counted)
    COUNTS[label] = 0


instrument(inspect, "signature", "inspect.signature")
instrument(typing, "get_type_hints", "typing.get_type_hints")
instrument(typing_extensions, "get_type_hints", "typing_extensions.get_type_hints")

import asyncio

from injectq import AsyncResolutionError

import nr_wiring

container = nr_wiring.container
keys = container.keys()
after_import = dict(COUNTS)
resolved = {"sync": 0, "async": 0, "needs_async": 0}


def resolve_all():
    for key in keys:
        try:
            container.get(key)
            resolved["sync"] += 1
        except AsyncResolutionError:
            resolved["needs_async"] += 1


async def aresolve_all():
    for key in keys:
        await container.aget(key)
        resolved["async"] += 1


with container.scope("request"):
    resolve_all()


async def main():
    async with container.scope("request"):
        await aresolve_all()
        resolve_all()  # everything async is cached now, or transient over cached parts
    await container.aclose()
    await container.awarm()
    await container.aclose()


asyncio.run(main())
print(json.dumps({
    "counts": COUNTS,
    "after_import": after_import,
    "resolved": resolved,
    "keys": len(keys),
    "codegen_loaded": sorted(m for m in sys.modules if m.startswith("injectq_codegen")),
    "libcst_loaded": "libcst" in sys.modules,
    "jinja2_loaded": "jinja2" in sys.modules,
}))
"""


def test_generated_module_reads_no_signature_and_no_type_hint(codegen_env: Path) -> None:
    """Importing a generated module and resolving every key, sync and async, calls
    inspect.signature and get_type_hints zero times and never loads injectq_codegen."""
    make_project(codegen_env, {
        "nr/services.py": SERVICES,
        "nr/modules.py": MODULES,
        "run.py": SCRIPT,
    })
    source, plan = generate(["nr.modules:AppModule", "nr.modules:BinderModule"])
    (codegen_env / "nr_wiring.py").write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "run.py"], cwd=codegen_env, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["counts"] == {
        "inspect.signature": 0,
        "typing.get_type_hints": 0,
        "typing_extensions.get_type_hints": 0,
    }, report
    assert report["codegen_loaded"] == []
    assert not report["libcst_loaded"]
    assert not report["jinja2_loaded"]
    assert report["keys"] == len(plan.nodes) >= 15
    assert report["resolved"]["async"] == report["keys"]
    # first sync pass: Token, Client, Connection, UsesClient need aget; second pass, with
    # those created: only the transient UsesClient still does
    assert report["resolved"]["needs_async"] == 4 + 1
    assert report["resolved"]["sync"] == 2 * report["keys"] - 5
