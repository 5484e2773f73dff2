"""injectq.integrations.fastapi: the request-scope middleware and the endpoint dependencies.

The example app (tests/test_webapp.py) covers both containers end to end; these tests pin
the integration's own behaviour on small apps: concurrency, streaming, named and async
bindings, the errors, shutdown, and that FastAPI stays an optional import.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import httpx2
import pytest
from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from injectq import InjectQ, ScopeError, inject
from injectq.integrations.fastapi import (
    InjectAPI,
    Injected,
    InjectFastAPI,
    get_container_fastapi,
    setup_fastapi,
)
from tests.integration_support import (
    CONTAINERS,
    app_source,
    check_import_needs,
    make_container,
    scope_events,
    write_app,
)


class Session:
    numbers = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(Session.numbers)


class Greeting:
    def __init__(self, text: str) -> None:
        self.text = text


def tracked(log: list[str]) -> Any:
    def open_session() -> Iterator[Session]:
        session = Session()
        log.append(f"open {session.number}")
        yield session
        log.append(f"close {session.number}")

    return open_session


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def container(log: list[str]) -> InjectQ:
    c = InjectQ()
    c.bind_factory(Session, tracked(log), scope="request")
    return c


def test_inject_forms_resolve_one_scoped_instance_per_request(
    container: InjectQ, log: list[str]
) -> None:
    """Injected[T], Annotated[T, InjectFastAPI(T)] and the InjectAPI default all get the
    request's one scoped instance; each request gets a new one, finalized after it."""
    app = FastAPI()
    setup_fastapi(container, app)

    @app.get("/")
    async def endpoint(
        a: Injected[Session],
        b: Annotated[Session, InjectFastAPI(Session)],
        c: Session = InjectAPI(Session),
    ) -> list[int]:
        return [a.number, b.number, c.number]

    client = TestClient(app)
    first = client.get("/").json()
    second = client.get("/").json()
    assert len(set(first)) == 1 and len(set(second)) == 1 and first != second
    assert log == [f"open {first[0]}", f"close {first[0]}",
                   f"open {second[0]}", f"close {second[0]}"]


def test_sync_endpoint_and_inject_inside_share_the_scope(
    container: InjectQ, log: list[str]
) -> None:
    """A sync endpoint (run in the threadpool) and an @inject function it calls see the
    request's scope and container."""
    app = FastAPI()
    setup_fastapi(container, app)

    @inject
    def helper(session: Session) -> int:
        return session.number

    @app.get("/")
    def endpoint(session: Injected[Session]) -> list[int]:
        return [session.number, helper(), get_container_fastapi().get(Session).number]

    numbers = TestClient(app).get("/").json()
    assert len(set(numbers)) == 1
    assert log == [f"open {numbers[0]}", f"close {numbers[0]}"]


async def test_concurrent_requests_get_separate_scopes(
    container: InjectQ, log: list[str]
) -> None:
    """Two requests in flight at once each have their own scoped instance."""
    app = FastAPI()
    setup_fastapi(container, app)
    both_inside = asyncio.Barrier(2)

    @app.get("/")
    async def endpoint(session: Injected[Session]) -> int:
        await asyncio.wait_for(both_inside.wait(), 5)  # both requests hold their scope
        assert await container.aget(Session) is session
        return session.number

    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(client.get("/"), client.get("/"))
    numbers = sorted(r.json() for r in responses)
    assert numbers[0] != numbers[1]
    assert sorted(log) == sorted([f"open {n}" for n in numbers] + [f"close {n}" for n in numbers])


def test_streamed_response_keeps_the_scope_until_the_body_is_sent(
    container: InjectQ, log: list[str]
) -> None:
    """The scope of a streaming response closes after its last chunk, not before."""
    app = FastAPI()
    setup_fastapi(container, app)

    @app.get("/stream")
    async def stream(session: Injected[Session]) -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for i in range(3):
                log.append(f"chunk {i} of {session.number}")
                yield f"{i}\n"

        return StreamingResponse(chunks())

    assert TestClient(app).get("/stream").text == "0\n1\n2\n"
    n = log[0].split()[1]
    assert log == [f"open {n}", f"chunk 0 of {n}", f"chunk 1 of {n}", f"chunk 2 of {n}",
                   f"close {n}"]


def test_background_tasks_run_inside_the_request_scope(
    container: InjectQ, log: list[str]
) -> None:
    """A background task runs after the response, still inside the request's scope."""
    app = FastAPI()
    setup_fastapi(container, app)

    @app.get("/")
    async def endpoint(session: Injected[Session], tasks: BackgroundTasks) -> int:
        async def later() -> None:
            current = await container.aget(Session)
            log.append(f"background saw {current.number}")

        tasks.add_task(later)
        return session.number

    n = TestClient(app).get("/").json()
    assert log == [f"open {n}", f"background saw {n}", f"close {n}"]


def test_named_and_async_bindings(container: InjectQ) -> None:
    """InjectFastAPI(T, name=...) picks a named binding; async factories are awaited."""

    async def make_greeting() -> Greeting:
        await asyncio.sleep(0)
        return Greeting("hello")

    container.bind_instance(str, "formal", name="style")
    container.bind_factory(Greeting, make_greeting, scope="request")
    app = FastAPI()
    setup_fastapi(container, app)

    @app.get("/")
    async def endpoint(
        greeting: Injected[Greeting],
        style: Annotated[str, InjectFastAPI(str, name="style")],
    ) -> str:
        return f"{greeting.text} ({style})"

    assert TestClient(app).get("/").json() == "hello (formal)"


def test_override_is_seen_by_requests_served_in_the_same_context(
    container: InjectQ,
) -> None:
    """container.override() reaches requests run in the caller's context (an in-process
    ASGI client), and is gone after the block."""
    app = FastAPI()
    setup_fastapi(container, app)
    fake = Session()

    @app.get("/")
    async def endpoint(session: Injected[Session]) -> int:
        return session.number

    async def ask() -> int:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            return int((await client.get("/")).json())

    async def scenario() -> tuple[int, int]:
        with container.override(Session, fake):
            inside = await ask()
        return inside, await ask()

    inside, after = asyncio.run(scenario())
    assert inside == fake.number and after != fake.number


@pytest.fixture(params=CONTAINERS)
def shop(request: pytest.FixtureRequest, codegen_env: Path) -> Iterator[tuple[ModuleType, Any]]:
    """The shared test application (tests/integration_support.py), whose session logs
    whether it committed or rolled back, and its runtime or generated container."""
    app = write_app(codegen_env, "webapp_f", app_source("web"))
    made = make_container(request.param, app)
    yield app, made
    made.close()


def shop_app(app: ModuleType, container: Any) -> FastAPI:
    """A FastAPI app with endpoints that end with a 404, a 503 and a plain error (the
    audit is the app's class, which an annotation here could not name: a default)."""
    Audit = app.Audit
    web = FastAPI()
    setup_fastapi(container, web)

    @web.get("/missing")
    async def missing(audit: object = InjectAPI(Audit)) -> None:
        raise HTTPException(404, "no such order")

    @web.get("/unavailable")
    async def unavailable(audit: object = InjectAPI(Audit)) -> None:
        raise HTTPException(503, "down for maintenance")

    @web.get("/orders/{number}")
    async def order(number: int, audit: object = InjectAPI(Audit)) -> int:
        return number

    @web.post("/pay")
    def pay(audit: object = InjectAPI(Audit)) -> None:
        raise ValueError("card declined")

    return web


def test_an_http_exception_below_500_is_an_answer(shop: tuple[ModuleType, Any]) -> None:
    """An HTTPException below 500 (a 404) and a request that does not validate (a 422)
    are answers: the resources see a normal end (the session commits)."""
    app, container = shop
    client = TestClient(shop_app(app, container))
    assert client.get("/missing").json() == {"detail": "no such order"}
    assert app.EVENTS == scope_events(1, [
        "close audit 1", "session 1 committed", "close session 1"])
    app.EVENTS.clear()
    assert client.get("/orders/first").status_code == 422
    assert app.EVENTS == scope_events(2, [
        "close audit 2", "session 2 committed", "close session 2"])


def test_an_http_exception_of_500_or_more_rolls_back(shop: tuple[ModuleType, Any]) -> None:
    """An HTTPException of 500 or more (a 503), though FastAPI answers it, reaches the
    resources at their yield (the session rolls back)."""
    app, container = shop
    response = TestClient(shop_app(app, container)).get("/unavailable")
    assert response.status_code == 503
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw HTTPException", "close audit 1",
        "session 1 rolled back: 503: down for maintenance", "close session 1"])


def test_an_endpoint_that_raises_rolls_back(shop: tuple[ModuleType, Any]) -> None:
    """A (sync) endpoint's error reaches the resources at their yield (the session rolls
    back), and the client gets a 500."""
    app, container = shop
    client = TestClient(shop_app(app, container), raise_server_exceptions=False)
    assert client.post("/pay").status_code == 500
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw ValueError", "close audit 1",
        "session 1 rolled back: card declined", "close session 1"])


def test_without_setup_the_dependency_says_what_to_do(container: InjectQ) -> None:
    """An endpoint using Injected[T] on an app without setup_fastapi fails naming the fix."""
    app = FastAPI()

    @app.get("/")
    async def endpoint(session: Injected[Session]) -> int:
        return session.number

    with pytest.raises(Exception, match=r"call setup_fastapi\(container, app\)"):
        TestClient(app).get("/")


def test_unknown_scope_name_fails_at_setup(container: InjectQ) -> None:
    """setup_fastapi with a scope name the container does not know fails at once."""
    with pytest.raises(ScopeError, match="unknown scope 'tenant'"):
        setup_fastapi(container, FastAPI(), scope_name="tenant")


def test_shutdown_closes_the_container_unless_told_not_to(log: list[str]) -> None:
    """Lifespan shutdown finalizes the container's singletons; close_on_shutdown=False
    leaves them alone."""
    for close in (True, False):
        c = InjectQ()
        c.bind_factory(Session, tracked(log), scope="singleton")
        app = FastAPI()
        setup_fastapi(c, app, close_on_shutdown=close)

        @app.get("/")
        async def endpoint(session: Injected[Session]) -> int:
            return session.number

        log.clear()
        with TestClient(app) as client:
            n = client.get("/").json()
        assert log == ([f"open {n}", f"close {n}"] if close else [f"open {n}"])
        c.close()


def test_failing_finalizer_at_shutdown_reports_lifespan_failure() -> None:
    """A container whose close fails answers the server's lifespan shutdown with
    ``lifespan.shutdown.failed`` carrying the error, instead of ``complete``."""

    def broken() -> Iterator[Session]:
        yield Session()
        raise RuntimeError("disk on fire")

    c = InjectQ()
    c.bind_factory(Session, broken, scope="singleton")
    app = FastAPI()
    setup_fastapi(c, app)
    c.get(Session)  # created: its finalizer will fail at shutdown

    async def serve_lifespan() -> list[dict[str, Any]]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        inbox.put_nowait({"type": "lifespan.startup"})
        inbox.put_nowait({"type": "lifespan.shutdown"})
        sent: list[dict[str, Any]] = []

        async def send(message: Any) -> None:
            sent.append(dict(message))

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await asyncio.wait_for(app(scope, inbox.get, send), 5)
        return sent

    sent = asyncio.run(serve_lifespan())
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "1 finalizer(s) failed while closing container" in sent[1]["message"]


def test_importing_injectq_does_not_import_fastapi() -> None:
    """``import injectq`` and ``injectq.integrations`` load no web framework; without
    FastAPI the integration module says what to install."""
    check_import_needs("fastapi", "fastapi", "fastapi", also_absent=("taskiq", "starlette"))
