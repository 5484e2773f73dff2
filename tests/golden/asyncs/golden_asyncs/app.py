"""What needs an await: an async factory, an async resource, an awaitable instance."""

from __future__ import annotations

from collections.abc import AsyncIterator

from injectq import Module


class Pool:
    pass


class Client:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool


class Session:
    def __init__(self, client: Client) -> None:
        self.client = client


class Handler:
    def __init__(self, session: Session, client: Client) -> None:
        self.session = session
        self.client = client


async def create_pool() -> Pool:
    return Pool()


async def make_client(pool: Pool) -> Client:
    return Client(pool)


async def open_session(client: Client) -> AsyncIterator[Session]:
    yield Session(client)


class AsyncModule(Module):
    def configure(self) -> None:
        self.bind(Pool, create_pool()).singleton()
        self.bind_factory(Client, make_client).singleton()
        self.bind_factory(Session, open_session).scoped("request")
        self.bind(Handler, Handler).transient()
