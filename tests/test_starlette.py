"""injectq.integrations.starlette: a scope per HTTP request and per WebSocket connection.

Both containers serve the same app (tests/integration_support.py): the runtime one, and
the one injectq-gen generates from the same Module. Its two request-scoped resources log
when they open, how their block ended (the exception they saw) and when they close, so
the order of finalization can be read off. The detailed cases go through Starlette's
TestClient; ``test_real_server_*`` serve the app with uvicorn on localhost.
"""

# no `from __future__ import annotations`: @inject_starlette reads the endpoints'
# annotations, and these endpoints are local functions using the app's classes

import asyncio
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket
from websockets.sync.client import connect

from injectq import BindingError, InjectionError, InjectQ, ScopeError, inject
from injectq.integrations.starlette import (
    Injected,
    InjectQStarletteMiddleware,
    InjectStarlette,
    get_container_starlette,
    inject_starlette,
    setup_starlette,
)
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    free_port,
    run_docs_example,
    scope_events,
)

app, container = app_fixtures("webapp_s", app_source("web", token=True))


def make_app(container: Any, app: ModuleType) -> Starlette:
    """A Starlette app whose endpoints take the app's services through the markers."""
    Greeter, Audit, Session, Token = app.Greeter, app.Audit, app.Session, app.Token

    @inject
    def session_number(session: Session) -> int:  # resolved from the request's scope
        return session.number

    @inject_starlette
    async def greet(
        request: Request,
        greeter: Injected[Greeter],
        audit: Annotated[Audit, InjectStarlette(Audit)],
        session: Session = InjectStarlette(Session),
    ) -> JSONResponse:
        return JSONResponse({
            "text": greeter.greet(request.path_params["who"]),
            "one_session": greeter.session is audit.session is session,
            "inject_sees_it": session_number() == session.number,
            "current": get_container_starlette() is container,
        })

    @inject_starlette
    def greet_sync(request: Request, greeter: Injected[Greeter]) -> JSONResponse:
        # a sync endpoint: Starlette's thread pool, in the request's context
        return JSONResponse({"text": greeter.greet("sync"),
                             "inject_sees_it": session_number() == greeter.session.number})

    @inject_starlette
    async def pay(request: Request, audit: Injected[Audit]) -> JSONResponse:
        raise ValueError(f"card declined for {request.query_params['amount']}")

    @inject_starlette
    async def missing(audit: Injected[Audit]) -> JSONResponse:
        raise HTTPException(404, "no such order")

    @inject_starlette
    async def unavailable(audit: Injected[Audit]) -> JSONResponse:
        raise HTTPException(503, "down for maintenance")

    @inject_starlette
    async def token(
        token: Injected[Token], server: str = InjectStarlette(str, name="server_name")
    ) -> PlainTextResponse:
        return PlainTextResponse(f"{server}:{token.value}")

    @inject_starlette
    async def stream(session: Injected[Session]) -> StreamingResponse:
        async def chunks() -> AsyncIterator[str]:
            for i in range(3):
                app.EVENTS.append(f"chunk {i} of {session.number}")
                yield f"{i}\n"

        return StreamingResponse(chunks())

    @inject_starlette
    async def chat(websocket: WebSocket, greeter: Injected[Greeter]) -> None:
        await websocket.accept()
        async for who in websocket.iter_text():
            if who == "boom":
                raise RuntimeError("socket handler failed")
            await websocket.send_json({"text": greeter.greet(who),
                                       "same": await container.aget(Session) is greeter.session})

    @inject_starlette
    async def events(request: Request) -> JSONResponse:
        return JSONResponse(app.EVENTS)

    web = Starlette(routes=[
        Route("/greet/{who}", greet), Route("/sync", greet_sync), Route("/pay", pay),
        Route("/missing", missing), Route("/unavailable", unavailable), Route("/token", token),
        Route("/stream", stream), Route("/events", events), WebSocketRoute("/chat", chat),
    ])
    setup_starlette(container, web)
    return web


COMMITTED = ["close audit {n}", "session {n} committed", "close session {n}"]


def committed(n: int) -> list[str]:
    return scope_events(n, [e.format(n=n) for e in COMMITTED])


def test_each_request_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType
) -> None:
    """Every request gets fresh scoped instances, shared by all three marker forms and by
    @inject functions the endpoint calls; after the response they are finalized, newest
    first."""
    with TestClient(make_app(container, app)) as client:
        first = client.get("/greet/Ada").json()
        assert first == {"text": "hello Ada (session 1)", "one_session": True,
                         "inject_sees_it": True, "current": True}
        assert app.EVENTS == committed(1)
        app.EVENTS.clear()
        assert client.get("/greet/Grace").json()["text"] == "hello Grace (session 2)"
        assert app.EVENTS == committed(2)


def test_a_sync_endpoint_runs_in_its_requests_scope(container: Any, app: ModuleType) -> None:
    """A sync endpoint (run in Starlette's thread pool) sees its request's scope, @inject
    too."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/sync").json() == {"text": "hello sync (session 1)",
                                              "inject_sees_it": True}
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_an_endpoint_that_raises_rolls_back_and_closes_its_scope(
    container: Any, app: ModuleType
) -> None:
    """An endpoint's exception reaches the scope's resources at their yield (as in a with
    block: the session rolls back), every one is closed, and the client gets a 500; the
    next request gets a fresh scope."""
    with TestClient(make_app(container, app), raise_server_exceptions=False) as client:
        assert client.get("/pay?amount=5").status_code == 500
        assert app.EVENTS == scope_events(1, [
            "audit 1 saw ValueError", "close audit 1",
            "session 1 rolled back: card declined for 5", "close session 1"])
        app.EVENTS.clear()
        assert client.get("/greet/Ada").json()["text"] == "hello Ada (session 2)"


def test_an_http_exception_below_500_is_an_answer(container: Any, app: ModuleType) -> None:
    """An HTTPException Starlette answers with a status below 500 (a 404 here) is an
    answer: the resources see a normal end (the session commits)."""
    with TestClient(make_app(container, app)) as client:
        response = client.get("/missing")
        assert response.status_code == 404 and response.text == "no such order"
    assert app.EVENTS == committed(1)


def test_an_http_exception_of_500_or_more_rolls_back(container: Any, app: ModuleType) -> None:
    """An HTTPException of status 500 or more (a 503 here), though Starlette answers it,
    ends the scope with it: the resources see it at their yield."""
    with TestClient(make_app(container, app)) as client:
        response = client.get("/unavailable")
        assert response.status_code == 503 and response.text == "down for maintenance"
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw HTTPException", "close audit 1",
        "session 1 rolled back: 503: down for maintenance", "close session 1"])


def test_async_and_named_bindings(container: Any, app: ModuleType) -> None:
    """Injected[T] awaits an async binding, and InjectStarlette(T, name=...) picks a named
    one."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/token").text == "web:t0k"


def test_a_streamed_response_keeps_the_scope_until_the_body_is_sent(
    container: Any, app: ModuleType
) -> None:
    """The scope of a streaming response closes after its last chunk, not before."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/stream").text == "0\n1\n2\n"
    assert app.EVENTS == ["open session 1", "chunk 0 of 1", "chunk 1 of 1", "chunk 2 of 1",
                          "session 1 committed", "close session 1"]


def test_a_websocket_connection_has_one_scope_for_its_lifetime(
    container: Any, app: ModuleType
) -> None:
    """All messages of a WebSocket connection share one scope, open until the connection
    ends, then finalized; an HTTP request meanwhile gets its own."""
    with TestClient(make_app(container, app)) as client:
        with client.websocket_connect("/chat") as ws:
            ws.send_text("Ada")
            first = ws.receive_json()
            ws.send_text("Grace")
            second = ws.receive_json()
            assert first == {"text": "hello Ada (session 1)", "same": True}
            assert second == {"text": "hello Grace (session 1)", "same": True}
            assert client.get("/greet/Bob").json()["text"] == "hello Bob (session 2)"
            assert app.EVENTS == ["open session 1", *committed(2)]
        deadline = time.monotonic() + 5  # the server ends the socket's scope after close
        while len(app.EVENTS) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert app.EVENTS == ["open session 1", *committed(2), "session 1 committed",
                          "close session 1"]


def test_a_websocket_handler_that_raises_rolls_back(container: Any, app: ModuleType) -> None:
    """A WebSocket handler's exception ends its connection's scope with it."""
    with TestClient(make_app(container, app)) as client:
        with pytest.raises(RuntimeError, match="socket handler failed"):
            with client.websocket_connect("/chat") as ws:
                ws.send_text("boom")
                ws.receive_json()
    assert app.EVENTS == ["open session 1",
                          "session 1 rolled back: socket handler failed", "close session 1"]


async def test_concurrent_requests_get_separate_scopes(container: Any, app: ModuleType) -> None:
    """Two requests in flight at once each have their own scoped instance."""
    both_inside = asyncio.Barrier(2)

    @inject_starlette
    async def wait(session: Injected[app.Session]) -> JSONResponse:  # type: ignore[name-defined]
        await asyncio.wait_for(both_inside.wait(), 5)  # both requests hold their scope
        assert await container.aget(app.Session) is session
        return JSONResponse(session.number)

    web = Starlette(routes=[Route("/", wait)])
    setup_starlette(container, web)
    transport = httpx2.ASGITransport(app=web)
    async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(client.get("/"), client.get("/"))
    assert sorted(r.json() for r in responses) == [1, 2]
    assert app.EVENTS.count("session 1 committed") == app.EVENTS.count("close session 2") == 1


def test_the_middleware_alone_serves_the_app(container: Any, app: ModuleType) -> None:
    """Middleware(InjectQStarletteMiddleware, container=...) given to Starlette() does what
    setup_starlette does."""

    @inject_starlette
    async def number(session: Injected[app.Session]) -> JSONResponse:  # type: ignore[name-defined]
        return JSONResponse(session.number)

    web = Starlette(routes=[Route("/", number)],
                    middleware=[Middleware(InjectQStarletteMiddleware, container=container)])
    with TestClient(web) as client:
        assert client.get("/").json() == 1
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_without_setup_the_endpoint_says_what_to_do(app: ModuleType) -> None:
    """An @inject_starlette on an app without setup_starlette fails naming the fix."""

    @inject_starlette
    async def number(session: Injected[app.Session]) -> JSONResponse:  # type: ignore[name-defined]
        return JSONResponse(session.number)

    with TestClient(Starlette(routes=[Route("/", number)])) as client:
        with pytest.raises(InjectionError, match=r"call setup_starlette\(container, app\)"):
            client.get("/")


def test_shutdown_closes_the_container_unless_told_not_to() -> None:
    """Lifespan shutdown finalizes the container's singletons; close_on_shutdown=False
    leaves them alone."""
    log: list[str] = []

    def resource() -> Iterator[int]:
        log.append("open")
        yield 1
        log.append("close")

    for close in (True, False):
        c = InjectQ()
        c.bind_factory(int, resource, scope="singleton")
        web = Starlette()
        setup_starlette(c, web, close_on_shutdown=close)
        log.clear()
        with TestClient(web):
            c.get(int)
        assert log == (["open", "close"] if close else ["open"])
        c.close()


def test_setup_refuses_an_unknown_scope_name(container: Any) -> None:
    """An unknown scope name fails at setup, not at the first request."""
    with pytest.raises(ScopeError, match="tenant"):
        setup_starlette(container, Starlette(), scope_name="tenant")


def test_an_endpoint_with_an_argument_starlette_cannot_give_is_refused() -> None:
    """@inject_starlette on a function with two plain parameters says which ones, where it
    is decorated, instead of failing on the first request."""

    async def endpoint(request: Request, order_id: int) -> None: ...

    with pytest.raises(InjectionError, match=r"request, order_id are neither it nor injected"):
        inject_starlette(endpoint)


def test_a_marker_with_an_unhashable_key_fails_where_it_is_written() -> None:
    """InjectStarlette() checks its key when the endpoint is defined, naming that line."""
    with pytest.raises(BindingError, match=r"^InjectStarlette\(\) at tests/test_starlette\.py"
                       r":\d+: the key \['not'\] is a list, which is not hashable"):
        InjectStarlette(["not"])


def test_importing_injectq_does_not_import_starlette() -> None:
    """Starlette loads only with injectq.integrations.starlette itself; without it the
    module says what to install."""
    check_import_needs("starlette", "starlette", "starlette", load="injectq.integrations.setup_starlette",
                       missing="starlette.concurrency")


# -- a real server ---------------------------------------------------------------------

START_TIMEOUT = 20.0


@contextlib.contextmanager
def serve(asgi_app: Any) -> Iterator[str]:
    """``asgi_app`` served by uvicorn on 127.0.0.1 and a free port, from a thread, for the
    block; yields the base URL. Waits at most START_TIMEOUT to start and to stop."""
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=free_port(), log_level="warning",
                            ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.02)
    try:
        yield f"127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
        assert not thread.is_alive(), "uvicorn did not stop"


def http(base: str, path: str) -> tuple[int, Any]:
    """GET http://BASE/PATH: the status and the body (JSON when it parses)."""
    try:
        with urllib.request.urlopen(f"http://{base}{path}", timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


def wait_for_events(base: str, count: int) -> list[str]:
    """The app's events once there are ``count`` of them (at most 5 s): the server ends a
    socket's scope just after the close handshake."""
    deadline = time.monotonic() + 5
    while True:
        _, events = http(base, "/events")
        if len(events) >= count or time.monotonic() > deadline:
            return list(events)
        time.sleep(0.02)


def test_real_server_scopes_requests_and_websockets(container: Any, app: ModuleType) -> None:
    """Over real sockets (uvicorn): each request's scope is finalized after its response,
    a failing endpoint rolls back (500), one answered with a 404 commits, and a
    WebSocket connection keeps one scope until it closes."""
    with serve(make_app(container, app)) as base:
        assert http(base, "/greet/Ada")[1]["text"] == "hello Ada (session 1)"
        assert http(base, "/pay?amount=7") == (500, "Internal Server Error")
        assert http(base, "/missing") == (404, "no such order")
        with connect(f"ws://{base}/chat", open_timeout=10, close_timeout=5) as ws:
            ws.send("Ada")
            assert json.loads(ws.recv(timeout=10)) == {"text": "hello Ada (session 4)",
                                                        "same": True}
        events = wait_for_events(base, 20)
    assert events == [
        *committed(1),
        *scope_events(2, ["audit 2 saw ValueError", "close audit 2",
                          "session 2 rolled back: card declined for 7", "close session 2"]),
        *committed(3),
        "open session 4", "session 4 committed", "close session 4",
    ]


# -- the docs example ------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Starlette section of docs/integrations.md runs as written and prints what it
    shows."""
    run_docs_example("Starlette", tmp_path)
