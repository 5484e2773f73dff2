"""injectq.integrations.litestar: a scope per HTTP request and per WebSocket connection.

The app of tests/test_starlette.py (its two request-scoped resources log how their block
ended), served by Litestar from both containers: the runtime one and the one injectq-gen
generates from the same Module. The detailed cases go through Litestar's TestClient;
``test_real_server_*`` serves the app with uvicorn on localhost.
"""

# no `from __future__ import annotations`: Litestar reads the handlers' annotations, and
# these handlers are local functions using the app's classes

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from litestar import Litestar, MediaType, Request, Router, get, websocket
from litestar.connection import WebSocket
from litestar.di import NamedDependency
from litestar.exceptions import (
    ImproperlyConfiguredException,
    NotFoundException,
    ServiceUnavailableException,
)
from litestar.params import FromPath, FromQuery, SkipValidation
from litestar.response import Stream
from litestar.testing import TestClient
from websockets.sync.client import connect

from injectq import BindingError, InjectionError, InjectQ, ScopeError, inject
from injectq.integrations.litestar import (
    Injected,
    InjectLitestar,
    InjectQPlugin,
    get_container_litestar,
)
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    run_docs_example,
    scope_events,
)
from tests.test_starlette import (
    committed,
    http,
    serve,
    wait_for_events,
)

app, container = app_fixtures("webapp_l", app_source("web", token=True))


def make_app(container: Any, app: ModuleType, **options: Any) -> Litestar:
    """A Litestar app whose handlers take the app's services through InjectLitestar."""
    Greeter, Audit, Session, Token = app.Greeter, app.Audit, app.Session, app.Token

    @inject
    def session_number(session: Session) -> int:  # resolved from the request's scope
        return session.number

    @get("/greet/{who:str}")
    async def greet(who: FromPath[str], greeter: Injected[Greeter], audit: Injected[Audit],
                    session: NamedDependency[Session]) -> dict[str, Any]:
        return {
            "text": greeter.greet(who),
            "one_session": greeter.session is audit.session is session,
            "inject_sees_it": session_number() == session.number,
            "current": get_container_litestar() is container,
        }

    @get("/sync", sync_to_thread=True)
    def greet_sync(greeter: Injected[Greeter]) -> dict[str, Any]:
        # a sync handler in Litestar's thread pool, in the request's context
        return {"text": greeter.greet("sync"),
                "inject_sees_it": session_number() == greeter.session.number}

    @get("/pay")
    async def pay(amount: FromQuery[int], audit: Injected[Audit]) -> None:
        raise ValueError(f"card declined for {amount}")

    @get("/missing")
    async def missing(audit: Injected[Audit]) -> None:
        raise NotFoundException("no such order")

    @get("/unavailable")
    async def unavailable(audit: Injected[Audit]) -> None:
        raise ServiceUnavailableException("down for maintenance")

    @get("/token", media_type=MediaType.TEXT)
    async def token(token: Injected[Token], server: Injected[str]) -> str:
        return f"{server}:{token.value}"

    @get("/stream")
    async def stream(session: Injected[Session]) -> Stream:
        async def chunks() -> AsyncIterator[str]:
            for i in range(3):
                app.EVENTS.append(f"chunk {i} of {session.number}")
                yield f"{i}\n"

        return Stream(chunks())

    @websocket("/chat")
    async def chat(socket: WebSocket, greeter: Injected[Greeter]) -> None:
        await socket.accept()
        while True:
            try:
                who = await socket.receive_text()
            except Exception:  # the client went away
                return
            if who == "boom":
                raise RuntimeError("socket handler failed")
            await socket.send_json({"text": greeter.greet(who),
                                    "same": await container.aget(Session) is greeter.session})

    @get("/events")
    async def events() -> list[str]:
        return list(app.EVENTS)

    api = Router("/", route_handlers=[greet, greet_sync, pay, missing, unavailable, token,
                                         stream, chat],
                 dependencies={"greeter": InjectLitestar(Greeter),
                               "audit": InjectLitestar(Audit), "token": InjectLitestar(Token)})
    return Litestar(
        route_handlers=[api, events],
        dependencies={"session": InjectLitestar(Session),
                      "server": InjectLitestar(str, name="server_name")},
        plugins=[InjectQPlugin(container, **options)],
        logging_config=None,  # the failing handlers would log their tracebacks
    )


def test_each_request_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType
) -> None:
    """Every request gets fresh scoped instances, shared by its dependencies (provided at
    the app and at a router) and by @inject functions the handler calls; after the
    response they are finalized, newest first."""
    with TestClient(make_app(container, app)) as client:
        first = client.get("/greet/Ada").json()
        assert first == {"text": "hello Ada (session 1)", "one_session": True,
                         "inject_sees_it": True, "current": True}
        assert app.EVENTS == committed(1)
        app.EVENTS.clear()
        assert client.get("/greet/Grace").json()["text"] == "hello Grace (session 2)"
        assert app.EVENTS == committed(2)


def test_a_sync_handler_runs_in_its_requests_scope(container: Any, app: ModuleType) -> None:
    """A sync handler (run in a worker thread) sees its request's scope, @inject too."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/sync").json() == {"text": "hello sync (session 1)",
                                              "inject_sees_it": True}
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_a_handler_that_raises_rolls_back_and_closes_its_scope(
    container: Any, app: ModuleType
) -> None:
    """A handler's exception, answered by Litestar with a 500, reaches the scope's
    resources at their yield (the session rolls back), every one is closed; the next
    request gets a fresh scope."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/pay?amount=5").status_code == 500
        assert app.EVENTS == scope_events(1, [
            "audit 1 saw ValueError", "close audit 1",
            "session 1 rolled back: card declined for 5", "close session 1"])
        app.EVENTS.clear()
        assert client.get("/greet/Ada").json()["text"] == "hello Ada (session 2)"


def test_an_http_exception_below_500_is_an_answer(container: Any, app: ModuleType) -> None:
    """A NotFoundException (an HTTPException below 500) is an answer: the resources see a
    normal end (the session commits)."""
    with TestClient(make_app(container, app)) as client:
        response = client.get("/missing")
        assert response.status_code == 404 and response.json()["detail"] == "no such order"
    assert app.EVENTS == committed(1)


def test_an_http_exception_of_500_or_more_rolls_back(container: Any, app: ModuleType) -> None:
    """A ServiceUnavailableException (a 503), though Litestar answers it, ends the scope
    with it: the resources see it at their yield."""
    with TestClient(make_app(container, app)) as client:
        response = client.get("/unavailable")
        assert response.status_code == 503
        assert response.json()["detail"] == "down for maintenance"
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw ServiceUnavailableException", "close audit 1",
        "session 1 rolled back: 503: down for maintenance", "close session 1"])


def test_async_and_named_bindings(container: Any, app: ModuleType) -> None:
    """InjectLitestar awaits an async binding, and name= picks a named one."""
    with TestClient(make_app(container, app)) as client:
        assert client.get("/token").text == "web:t0k"


def test_a_streamed_response_keeps_the_scope_until_the_body_is_sent(
    container: Any, app: ModuleType
) -> None:
    """The scope of a streamed response closes after its last chunk, not before."""
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
            assert ws.receive_json() == {"text": "hello Ada (session 1)", "same": True}
            ws.send_text("Grace")
            assert ws.receive_json() == {"text": "hello Grace (session 1)", "same": True}
            assert client.get("/greet/Bob").json()["text"] == "hello Bob (session 2)"
            assert app.EVENTS == ["open session 1", *committed(2)]
        assert wait_for_events_in(client, 8) == [
            "open session 1", *committed(2), "session 1 committed", "close session 1"]


def test_a_websocket_handler_that_raises_rolls_back(container: Any, app: ModuleType) -> None:
    """A WebSocket handler's exception ends its connection's scope with it."""
    with TestClient(make_app(container, app)) as client:
        with client.websocket_connect("/chat") as ws:
            ws.send_text("boom")
            with pytest.raises(Exception):
                ws.receive_json()
        assert wait_for_events_in(client, 3) == [
            "open session 1", "session 1 rolled back: socket handler failed",
            "close session 1"]


def wait_for_events_in(client: TestClient[Any], count: int) -> list[str]:
    """The app's events once there are ``count`` (at most 5 s), through the client."""
    import time

    deadline = time.monotonic() + 5
    while True:
        events = list(client.get("/events").json())
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.02)


async def test_concurrent_requests_get_separate_scopes(container: Any, app: ModuleType) -> None:
    """Two requests in flight at once each have their own scoped instance."""
    both_inside = asyncio.Barrier(2)
    Session = app.Session

    @get("/")
    async def wait(session: Injected[Session]) -> int:
        await asyncio.wait_for(both_inside.wait(), 5)  # both requests hold their scope
        assert await container.aget(Session) is session
        return int(session.number)

    web = Litestar([wait], dependencies={"session": InjectLitestar(Session)},
                   plugins=[InjectQPlugin(container)])
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = await asyncio.gather(client.get("/"), client.get("/"))
    assert sorted(r.json() for r in responses) == [1, 2]
    assert app.EVENTS.count("session 1 committed") == app.EVENTS.count("close session 2") == 1


def test_without_the_plugin_the_provider_says_what_to_do(app: ModuleType) -> None:
    """InjectLitestar on an app without InjectQPlugin fails naming the fix."""
    Session = app.Session

    @get("/")
    async def number(session: Injected[Session]) -> int:
        return int(session.number)

    web = Litestar([number], dependencies={"session": InjectLitestar(Session)},
                   logging_config=None)
    web.after_exception.append(errors_to(seen := []))
    with TestClient(web) as client:
        assert client.get("/").status_code == 500
    assert len(seen) == 1 and isinstance(seen[0], InjectionError)
    assert "add InjectQPlugin(container) to the app's plugins" in str(seen[0])


def errors_to(seen: list[Exception]) -> Any:
    async def hook(exc: Exception, scope: Any) -> None:
        seen.append(exc)

    return hook


def test_an_injected_parameter_without_a_provider_fails_at_startup(app: ModuleType) -> None:
    """Injected[T] marks a dependency: a handler whose provider is missing is refused
    when the app is built, not on the first request."""
    Session = app.Session

    @get("/")
    async def number(session: Injected[Session]) -> int:
        return int(session.number)

    with pytest.raises(ImproperlyConfiguredException, match="session"):
        Litestar([number])


def test_injected_is_litestars_named_dependency_unvalidated() -> None:
    """Injected[T] is NamedDependency[SkipValidation[T]]."""
    assert Injected[int] == NamedDependency[SkipValidation[int]]


def test_shutdown_closes_the_container_unless_told_not_to() -> None:
    """Application shutdown finalizes the container's singletons, after the app's own
    shutdown hooks; close_on_shutdown=False leaves them alone."""
    log: list[str] = []

    def resource() -> Iterator[int]:
        log.append("open")
        yield 1
        log.append("close")

    for close in (True, False):
        c = InjectQ()
        c.bind_factory(int, resource, scope="singleton")
        web = Litestar(plugins=[InjectQPlugin(c, close_on_shutdown=close)],
                       on_shutdown=[lambda: log.append(f"app hook saw {c.get(int)}")])
        log.clear()
        with TestClient(web):
            pass
        assert log == (["open", "app hook saw 1", "close"] if close
                       else ["open", "app hook saw 1"])
        c.close()


def test_the_plugin_refuses_an_unknown_scope_name(container: Any) -> None:
    """An unknown scope name fails when the plugin is made, not at the first request."""
    with pytest.raises(ScopeError, match="tenant"):
        InjectQPlugin(container, scope_name="tenant")


def test_a_provider_with_an_unhashable_key_fails_where_it_is_written() -> None:
    """InjectLitestar() checks its key where it is called, naming that line."""
    with pytest.raises(BindingError, match=r"^InjectLitestar\(\) at tests/test_litestar\.py"
                       r":\d+: the key \['not'\] is a list, which is not hashable"):
        InjectLitestar(["not"])


def test_importing_injectq_does_not_import_litestar() -> None:
    """Litestar loads only with injectq.integrations.litestar itself; without it the
    module says what to install."""
    check_import_needs("litestar", "litestar", "litestar", load="injectq.integrations.InjectQPlugin",
                       missing="litestar.di")


def test_real_server_scopes_requests_and_websockets(container: Any, app: ModuleType) -> None:
    """Over real sockets (uvicorn): each request's scope is finalized after its response,
    a failing handler rolls back (500), a 404 answer commits, a WebSocket connection
    keeps one scope until it closes, and the app's shutdown runs when uvicorn stops."""
    closed: list[str] = []
    web = make_app(container, app)
    web.on_shutdown.append(lambda: closed.append("app shut down"))
    with serve(web) as base:
        assert http(base, "/greet/Ada")[1]["text"] == "hello Ada (session 1)"
        assert http(base, "/pay?amount=7")[0] == 500
        assert http(base, "/missing")[0] == 404
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
    assert closed == ["app shut down"]


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Litestar section of docs/integrations.md runs as written and prints what it
    shows."""
    run_docs_example("Litestar", tmp_path)


def test_a_request_parameter_and_injected_ones_mix(container: Any, app: ModuleType) -> None:
    """A handler can take the request next to injected services."""
    Session = app.Session

    @get("/")
    async def number(request: Request[Any, Any, Any], session: Injected[Session]) -> str:
        return f"{request.url.path} {session.number}"

    web = Litestar([number], dependencies={"session": InjectLitestar(Session)},
                   plugins=[InjectQPlugin(container)])
    with TestClient(web) as client:
        assert client.get("/").text == "/ 1"
