"""injectq.integrations.aiohttp: a scope per request, opened and closed by a middleware.

Every case serves the app for real on localhost: a ``web.AppRunner`` with a ``TCPSite`` on
a free port for the main ones, aiohttp's ``TestServer`` (the same, set up for tests) for
the detailed ones, asked with aiohttp's own client. Both containers serve the same app
(tests/integration_support.py): the runtime one, and the one injectq-gen generates from the
same Module. Its request-scoped resources (a sync and an async one) log when they open,
how their block ended (the exception they saw) and when they close, so the order of
finalization can be read off.
"""

# no `from __future__ import annotations`: @inject reads the handlers' annotations, and
# these handlers are local functions using the app's classes, taken from a fixture

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from injectq import InjectionError, InjectQ, Named, ScopeError, inject
from injectq.integrations.aiohttp import (
    CONTAINER_KEY,
    aget_aiohttp,
    get_container_aiohttp,
    inject_aiohttp,
    setup_aiohttp,
)
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    job_scope,
    run_docs_example,
    scope_events,
)

app, container = app_fixtures("aioapp", app_source("aiohttp", async_audit=True), async_close=True)


def greeter_app(container: Any, app: ModuleType) -> web.Application:
    """An aiohttp app whose handlers take the app's services."""
    Greeter, Audit, Session = app.Greeter, app.Audit, app.Session
    routes = web.RouteTableDef()

    @inject
    def session_number(session: Session) -> int:  # resolved from the request's scope
        return session.number

    @routes.get("/greet/{who}")
    @inject_aiohttp
    async def greet(request: web.Request, greeter: Greeter, audit: Audit) -> web.Response:
        return web.json_response({
            "text": greeter.greet(request.match_info["who"]),
            "one_session": greeter.session is audit.session
            is await aget_aiohttp(request, Session),
            "inject_sees_it": session_number() == audit.session.number,
            "current": get_container_aiohttp(request) is container,
        })

    @routes.post("/pay/{amount}")
    @inject_aiohttp
    async def pay(request: web.Request, audit: Audit) -> web.Response:
        raise ValueError(f"card declined for {request.match_info['amount']}")

    @routes.get("/hold")
    @inject_aiohttp
    async def hold(request: web.Request, session: Session) -> web.Response:
        await asyncio.wait_for(request.app[BARRIER].wait(), 5)  # both requests hold a scope
        return web.Response(text=str(session.number))

    web_app = web.Application()
    web_app[BARRIER] = asyncio.Barrier(2)
    web_app.add_routes(routes)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    return web_app


BARRIER = web.AppKey("barrier", asyncio.Barrier)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[web.Application], Awaitable[str]]]:
    """``await serve(app)``: the app on a real AppRunner/TCPSite on a free localhost port,
    its base URL returned; the runners are cleaned up after the test."""
    runners: list[web.AppRunner] = []

    async def start(web_app: web.Application) -> str:
        runner = web.AppRunner(web_app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await asyncio.wait_for(runner.cleanup(), 10)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A real aiohttp client with bounded waits."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def test_each_request_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType, serve: Any, http: aiohttp.ClientSession
) -> None:
    """Over real HTTP, every request gets fresh scoped instances, shared by the handler's
    injected parameters, aget_aiohttp() and @inject functions it calls; by the time the
    client has the response they are finalized (the async one awaited), newest first."""
    base = await serve(greeter_app(container, app))
    async with http.get(f"{base}/greet/Ada") as response:
        assert response.status == 200
        assert await response.json() == {"text": "hello Ada (session 1)", "one_session": True,
                                         "inject_sees_it": True, "current": True}
    assert app.EVENTS == scope_events(1, [
        "close audit 1", "session 1 committed", "close session 1"])
    app.EVENTS.clear()
    async with http.get(f"{base}/greet/Grace") as response:
        assert (await response.json())["text"] == "hello Grace (session 2)"
    assert app.EVENTS == scope_events(2, [
        "close audit 2", "session 2 committed", "close session 2"])


async def test_a_handler_that_raises_still_closes_its_scope(
    container: Any, app: ModuleType, serve: Any, http: aiohttp.ClientSession
) -> None:
    """A handler's exception reaches the scope's resources at their yield (as in an
    async with block: the session rolls back), every one is closed, the client gets a
    500, and the next request gets a fresh scope."""
    base = await serve(greeter_app(container, app))
    async with http.post(f"{base}/pay/5") as response:
        assert response.status == 500
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw ValueError", "close audit 1",
        "session 1 rolled back: card declined for 5", "close session 1"])
    app.EVENTS.clear()
    async with http.get(f"{base}/greet/Ada") as response:
        assert (await response.json())["text"] == "hello Ada (session 2)"


async def test_concurrent_requests_do_not_share_a_scope(
    container: Any, app: ModuleType, serve: Any, http: aiohttp.ClientSession
) -> None:
    """Two requests in flight at once each have their own scoped instances."""
    base = await serve(greeter_app(container, app))

    async def ask() -> str:
        async with http.get(f"{base}/hold") as response:
            return await response.text()

    assert sorted(await asyncio.gather(ask(), ask())) == ["1", "2"]
    assert sorted(e for e in app.EVENTS if e.startswith("close session")) == [
        "close session 1", "close session 2"]


async def test_an_http_exception_is_an_answer_not_a_failure(
    container: Any, app: ModuleType
) -> None:
    """A raised HTTPFound (the redirect after a POST) or HTTPNotFound is how aiohttp
    answers: the client gets it, the resources see a normal end."""
    Session = app.Session
    routes = web.RouteTableDef()

    @routes.post("/orders")
    @inject_aiohttp
    async def create(request: web.Request, session: Session) -> web.Response:
        raise web.HTTPFound(f"/orders/{session.number}")

    @routes.get("/orders/{n}")
    @inject_aiohttp
    async def show(request: web.Request, session: Session) -> web.Response:
        raise web.HTTPNotFound(text="no such order")

    web_app = web.Application()
    web_app.add_routes(routes)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    async with TestClient(TestServer(web_app)) as client:
        created = await client.post("/orders", allow_redirects=False)
        assert (created.status, created.headers["Location"]) == (302, "/orders/1")
        missing = await client.get("/orders/1")
        assert (missing.status, await missing.text()) == (404, "no such order")
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1",
                          "open session 2", "session 2 committed", "close session 2"]


async def test_an_http_exception_of_500_or_more_is_a_failure(
    container: Any, app: ModuleType
) -> None:
    """A raised HTTPServiceUnavailable (a 503) reaches the resources at their yield (the
    session rolls back); the client still gets the 503."""
    Audit = app.Audit
    routes = web.RouteTableDef()

    @routes.get("/orders")
    @inject_aiohttp
    async def orders(request: web.Request, audit: Audit) -> web.Response:
        raise web.HTTPServiceUnavailable(text="down for maintenance")

    web_app = web.Application()
    web_app.add_routes(routes)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    async with TestClient(TestServer(web_app)) as client:
        unavailable = await client.get("/orders")
        assert (unavailable.status, await unavailable.text()) == (503, "down for maintenance")
    assert app.EVENTS == scope_events(1, [
        "audit 1 saw HTTPServiceUnavailable", "close audit 1",
        "session 1 rolled back: Service Unavailable", "close session 1"])


async def test_a_streamed_response_keeps_the_scope_until_it_is_written(
    container: Any, app: ModuleType
) -> None:
    """A handler that streams its body (StreamResponse) holds its scope until the last
    chunk is written."""
    Session = app.Session

    @inject_aiohttp
    async def stream(request: web.Request, session: Session) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for i in range(2):
            app.EVENTS.append(f"chunk {i} of {session.number}")
            await response.write(f"{i}\n".encode())
        await response.write_eof()
        return response

    web_app = web.Application()
    web_app.router.add_get("/stream", stream)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    async with TestClient(TestServer(web_app)) as client:
        assert await (await client.get("/stream")).text() == "0\n1\n"
    assert app.EVENTS == ["open session 1", "chunk 0 of 1", "chunk 1 of 1",
                          "session 1 committed", "close session 1"]


async def test_a_websocket_connection_is_one_scope(container: Any, app: ModuleType) -> None:
    """A WebSocket handler's messages share one scope, closed when the connection ends."""
    Session = app.Session

    @inject_aiohttp
    async def socket(request: web.Request, session: Session) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"{message.data} in session {session.number}")
        return ws

    web_app = web.Application()
    web_app.router.add_get("/ws", socket)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    async with TestClient(TestServer(web_app)) as client:
        async with client.ws_connect("/ws") as ws:
            for text in ("a", "b"):
                await ws.send_str(text)
                assert (await ws.receive(timeout=5)).data == f"{text} in session 1"
            assert app.EVENTS == ["open session 1"]
        for _ in range(100):  # the server ends the handler once it sees the close
            if app.EVENTS[-1:] == ["close session 1"]:
                break
            await asyncio.sleep(0.01)
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


async def test_named_bindings_defaults_and_the_apps_other_middlewares(
    container: Any, app: ModuleType
) -> None:
    """Annotated[T, Named(...)] and aget_aiohttp(request, T, name=) pick a named binding,
    a default without a binding is kept, and the app's own middlewares (given before
    setup) run inside the request's scope."""
    Session = app.Session

    @web.middleware
    async def tag(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        response.headers["X-Session"] = str((await aget_aiohttp(request, Session)).number)
        return response

    @inject_aiohttp
    async def index(
        request: web.Request, server: Annotated[str, Named("server_name")], suffix: str = "!"
    ) -> web.Response:
        return web.Response(text=f"{server}{suffix} {await aget_aiohttp(request, str, 'server_name')}")

    web_app = web.Application(middlewares=[tag])
    web_app.router.add_get("/", index)
    setup_aiohttp(container, web_app, close_on_shutdown=False)
    async with TestClient(TestServer(web_app)) as client:
        response = await client.get("/")
        assert (await response.text(), response.headers["X-Session"]) == (
            "aiohttp! aiohttp", "1")


async def test_a_sub_application_is_served_by_its_parents_container(
    container: Any, app: ModuleType
) -> None:
    """Requests routed to an app added with add_subapp run in a scope of the container
    set up on the parent."""
    Greeter = app.Greeter

    @inject_aiohttp
    async def hello(request: web.Request, greeter: Greeter) -> web.Response:
        assert get_container_aiohttp(request) is container
        return web.Response(text=greeter.greet("Ada"))

    parent, child = web.Application(), web.Application()
    child.router.add_get("/hello", hello)
    parent.add_subapp("/api", child)
    setup_aiohttp(container, parent, close_on_shutdown=False)
    async with TestClient(TestServer(parent)) as client:
        assert await (await client.get("/api/hello")).text() == "hello Ada (session 1)"
    assert app.EVENTS[-1] == "close session 1"


async def test_cleanup_closes_the_container_unless_told_not_to() -> None:
    """The app's cleanup (server shutdown) finalizes the container's singletons;
    close_on_shutdown=False leaves them alone."""
    for close in (True, False):
        log: list[str] = []

        class Pool:
            pass

        async def open_pool() -> AsyncIterator[Pool]:
            log.append("open pool")
            yield Pool()
            log.append("close pool")

        c = InjectQ()
        c.bind_factory(Pool, open_pool, scope="singleton")

        @inject_aiohttp
        async def index(request: web.Request, pool: Pool) -> web.Response:
            return web.Response(text="ok")

        web_app = web.Application()
        web_app.router.add_get("/", index)
        setup_aiohttp(c, web_app, close_on_shutdown=close)
        async with TestClient(TestServer(web_app)) as client:
            assert await (await client.get("/")).text() == "ok"
        assert log == (["open pool", "close pool"] if close else ["open pool"])
        await c.aclose()


async def test_setup_opens_the_scope_it_is_told() -> None:
    """setup_aiohttp(..., scope_name=) opens that scope per request instead of request."""
    container, Job, log = job_scope(async_open=True)

    @inject_aiohttp
    async def run(request: web.Request, job: Job) -> web.Response:
        return web.Response(text=str(container.current_scope("job") is not None))

    web_app = web.Application()
    web_app.router.add_get("/", run)
    setup_aiohttp(container, web_app, scope_name="job")
    async with TestClient(TestServer(web_app)) as client:
        assert [await (await client.get("/")).text() for _ in range(2)] == ["True", "True"]
    assert log == ["open job", "close job", "open job", "close job"]


def test_setup_refuses_an_unknown_scope_name_and_a_second_call() -> None:
    """An unknown scope name fails at setup, not on the first request; so does a second
    setup_aiohttp on one app."""
    container = InjectQ()
    with pytest.raises(ScopeError, match="nightly"):
        setup_aiohttp(container, web.Application(), scope_name="nightly")
    web_app = web.Application()
    setup_aiohttp(container, web_app)
    assert web_app[CONTAINER_KEY] is container
    with pytest.raises(InjectionError, match="setup_aiohttp was already called on this app"):
        setup_aiohttp(container, web_app)


async def test_without_setup_the_errors_say_what_to_do(app: ModuleType) -> None:
    """On an app setup_aiohttp never saw, @inject_aiohttp and aget_aiohttp fail naming the
    call to add."""
    Session = app.Session
    errors: list[str] = []

    @inject_aiohttp
    async def injected(request: web.Request, session: Session) -> web.Response:
        return web.Response(text="never")

    async def asked(request: web.Request) -> web.Response:
        await aget_aiohttp(request, Session)
        return web.Response(text="never")

    @web.middleware
    async def keep(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)
        except InjectionError as exc:
            errors.append(str(exc))
            raise

    web_app = web.Application(middlewares=[keep])
    web_app.router.add_get("/injected", injected)
    web_app.router.add_get("/asked", asked)
    async with TestClient(TestServer(web_app)) as client:
        assert (await client.get("/injected")).status == 500
        assert (await client.get("/asked")).status == 500
    assert errors == [
        "@inject_aiohttp on test_without_setup_the_errors_say_what_to_do.<locals>.injected "
        "runs outside a request scope of InjectQ's aiohttp middleware: call "
        "setup_aiohttp(container, app) before the app starts (on the application or one "
        "it is a sub-application of)",
        "no InjectQ container serves the aiohttp app of '/asked': call "
        "setup_aiohttp(container, app) before the app starts",
    ]


def test_a_sync_handler_is_refused_where_it_is_decorated() -> None:
    """@inject_aiohttp on a plain function fails at once: aiohttp handlers are async."""

    def handler(request: web.Request) -> web.Response:
        return web.Response()

    with pytest.raises(InjectionError, match=r"aiohttp handlers are async functions"):
        inject_aiohttp(handler)  # type: ignore[arg-type]


def test_importing_injectq_does_not_import_aiohttp() -> None:
    """aiohttp loads only with injectq.integrations.aiohttp itself; without it that module
    says what to install."""
    check_import_needs("aiohttp", "aiohttp", "aiohttp")


# -- the docs example ------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The aiohttp section of docs/integrations.md runs as written and prints what it
    shows."""
    run_docs_example("aiohttp", tmp_path)
