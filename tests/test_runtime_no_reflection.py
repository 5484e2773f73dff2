"""The runtime container reads signatures and type hints once per provider: after a
binding's first resolution, its resolve path (sync and async) reads neither."""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
import typing_extensions

from injectq import InjectQ, Lazy, Module, Named, inject


class Config:
    pass


class Db:
    def __init__(self, config: Config) -> None:
        self.config = config


class Repo:
    def __init__(self, db: Db, named: Annotated[Config, Named("alt")], c: InjectQ) -> None:
        self.db = db
        self.named = named


class Handler:
    def __init__(self, repo: Repo, lazy: Lazy[Db]) -> None:
        self.repo = repo
        self.lazy = lazy


class Session:
    pass


def open_session(db: Db) -> Iterator[Session]:
    yield Session()


class Client:
    pass


async def open_client(config: Config) -> AsyncIterator[Client]:
    yield Client()


class UsesClient:
    def __init__(self, client: Client, session: Session) -> None:
        self.client = client


class Mod(Module):
    def configure(self) -> None:
        self.bind(Config).singleton()
        self.bind(Config, Config, name="alt").singleton()
        self.bind(Db).singleton()
        self.bind(Repo).scoped()
        self.bind(Handler).transient()
        self.bind_factory(Session, open_session).scoped()
        self.bind_factory(Client, open_client).singleton()
        self.bind(UsesClient).transient()


@inject
def handle(handler: Handler, db: Db) -> Db:
    return db


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"signature": 0, "get_type_hints": 0}

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            counts[label] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)

    wrap(inspect, "signature", "signature")
    wrap(typing, "get_type_hints", "get_type_hints")
    wrap(typing_extensions, "get_type_hints", "get_type_hints")
    return counts


def _resolve_everything(c: InjectQ) -> None:
    with c.scope():
        c.get(Handler).lazy()
        c.get(Repo)
        c.get(Db)
        with c.context():
            handle()

        async def run() -> None:
            async with c.scope():
                await c.aget(UsesClient)
                await c.aget(Handler)

        asyncio.run(run())


def test_second_resolution_reads_no_signature(counted: dict[str, int]) -> None:
    """Warm once; resolving everything again calls neither inspect.signature nor
    get_type_hints (sync, async, scoped, Lazy, @inject)."""
    c = InjectQ()
    c.install(Mod())
    _resolve_everything(c)
    assert counted["signature"] + counted["get_type_hints"] > 0  # the first pass introspects
    counted.update(signature=0, get_type_hints=0)
    for _ in range(3):
        _resolve_everything(c)
    assert counted == {"signature": 0, "get_type_hints": 0}
    asyncio.run(c.aclose())
