"""injectq.integrations.django: a scope per request, opened and closed by InjectQMiddleware,
and a scope per management command invocation (@inject_command).

The real runs serve a small Django project written into ``tmp_path`` with ``python
manage.py runserver`` (WSGI) and with uvicorn (ASGI) in a subprocess, asked over HTTP, and
run its management command as ``python manage.py ...``; the detailed cases run in this
process, through Django's test clients (sync: the WSGI path, async: the ASGI path) and a
werkzeug server in a thread. Both containers serve the same app
(tests/integration_support.py): the runtime one, and the one injectq-gen generates from
the same Module. Its two request-scoped resources log when they open, how their block
ended (the exception they saw) and when they close, so the order of finalization can be
read off.

Django's settings are process-global: the in-process tests configure them once (with
nothing of their own, if another module configured them first), give each test its own
through ``override_settings``, and put the settings back as they were after this module.
"""

# no `from __future__ import annotations`: @inject reads the views' annotations, and these
# views are local functions using the app's classes, taken from a fixture

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import time
import types
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, cast

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import BaseCommand, CommandError, call_command
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.test import AsyncClient, Client, RequestFactory, override_settings
from django.urls import path
from django.views import View

from injectq import InjectionError, InjectQ, Named, ScopeError, inject
from injectq.integrations import django as integration
from injectq.integrations.django import (
    InjectQMiddleware,
    get_container_django,
    get_django,
    inject_command,
    inject_django,
    setup_django,
)
from tests.codegen_support import REPO, make_project, unique_name
from tests.integration_support import (
    CONTAINERS,
    app_fixtures,
    app_source,
    check_import_needs,
    check_script_prints,
    docs_section,
    example_blocks,
    fetch,
    free_port,
    job_scope,
    make_container,
    scope_events,
    write_app,
    wsgi_fixture,
)

app, container = app_fixtures("djangoapp", app_source("django"))
serve = wsgi_fixture()

MIDDLEWARE = "injectq.integrations.django.InjectQMiddleware"


@pytest.fixture(scope="module", autouse=True)
def django_settings() -> Iterator[None]:
    """Django's settings for this module's in-process tests; as they were, after it."""
    before = settings._wrapped
    if not settings.configured:
        settings.configure(SECRET_KEY="tests", LOGGING_CONFIG=None, INSTALLED_APPS=[])
    yield
    settings._wrapped = before


@pytest.fixture(autouse=True)
def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with setup_django not called (it is once per process)."""
    monkeypatch.setattr(integration, "_setup", [])


@contextlib.contextmanager
def project(served: Any, *patterns: Any, middleware: list[str] | None = None,
            **extra: Any) -> Iterator[None]:
    """Settings serving ``patterns`` with InjectQMiddleware and ``served`` as
    INJECTQ_CONTAINER (None: not set)."""
    urls = types.ModuleType(unique_name("djurls"))
    urls.urlpatterns = list(patterns)  # type: ignore[attr-defined]
    values = {"ROOT_URLCONF": urls, "MIDDLEWARE": [MIDDLEWARE] if middleware is None else middleware,
              "ALLOWED_HOSTS": ["testserver", "127.0.0.1"], "DEBUG": False, **extra}
    if served is not None:
        values["INJECTQ_CONTAINER"] = served
    with override_settings(**values):
        yield


def greeter_views(container: Any, app: ModuleType) -> list[Any]:
    """URL patterns of views that take the app's services."""
    Greeter, Audit, Session = app.Greeter, app.Audit, app.Session

    @inject
    def session_number(session: Session) -> int:  # resolved from the request's scope
        return session.number

    @inject_django
    def greet(request: Any, who: str, greeter: Greeter, audit: Audit) -> JsonResponse:
        return JsonResponse({
            "text": greeter.greet(who),
            "one_session": greeter.session is audit.session is get_django(Session),
            "inject_sees_it": session_number() == audit.session.number,
            "current": get_container_django() is container,
        })

    @inject_django
    def pay(request: Any, amount: int, audit: Audit) -> HttpResponse:
        raise ValueError(f"card declined for {amount}")

    @inject_django
    def hold(request: Any, session: Session) -> HttpResponse:
        BARRIER.wait(5)
        return HttpResponse(str(session.number))

    return [path("greet/<str:who>", greet), path("pay/<int:amount>", pay),
            path("hold", hold)]


BARRIER = threading.Barrier(2)


# -- requests, in this process -----------------------------------------------------------


def test_each_request_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType, serve: Any
) -> None:
    """Over real HTTP, every request gets fresh scoped instances, shared by the view's
    injected parameters, get_django() and @inject functions it calls; when the response is
    done, they are finalized, newest first."""
    with project(container, *greeter_views(container, app)):
        base = serve(WSGIHandler())
        status, body = fetch(f"{base}/greet/Ada")
        assert status == 200
        assert json.loads(body) == {"text": "hello Ada (session 1)", "one_session": True,
                                    "inject_sees_it": True, "current": True}
        assert app.EVENTS == scope_events(1, [
            "close audit 1", "session 1 committed", "close session 1"])
        app.EVENTS.clear()
        assert json.loads(fetch(f"{base}/greet/Grace")[1])["text"] == "hello Grace (session 2)"
        assert app.EVENTS == scope_events(2, [
            "close audit 2", "session 2 committed", "close session 2"])


def test_a_view_that_raises_still_closes_its_scope(
    container: Any, app: ModuleType, serve: Any
) -> None:
    """A view's exception, which Django answers with a 500, reaches the scope's resources at
    their yield (as in a with block: the session rolls back), every one is closed, and the
    next request gets a fresh scope."""
    with project(container, *greeter_views(container, app)):
        base = serve(WSGIHandler())
        assert fetch(f"{base}/pay/5", "POST")[0] == 500
        assert app.EVENTS == scope_events(1, [
            "audit 1 saw ValueError", "close audit 1",
            "session 1 rolled back: card declined for 5", "close session 1"])
        app.EVENTS.clear()
        assert json.loads(fetch(f"{base}/greet/Ada")[1])["text"] == "hello Ada (session 2)"


def test_concurrent_requests_do_not_share_a_scope(
    container: Any, app: ModuleType, serve: Any
) -> None:
    """Two requests served at once (a thread each) each have their own scoped instances."""
    BARRIER.reset()
    with project(container, *greeter_views(container, app)):
        base = serve(WSGIHandler())
        results: list[tuple[int, str]] = []
        clients = [threading.Thread(target=lambda: results.append(fetch(f"{base}/hold")))
                   for _ in range(2)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(10)
    assert sorted(results) == [(200, "1"), (200, "2")]
    assert sorted(e for e in app.EVENTS if e.startswith("close")) == [
        "close session 1", "close session 2"]


def test_what_django_answers_below_500_is_an_answer(container: Any, app: ModuleType) -> None:
    """Http404, PermissionDenied and BadRequest are answers (404, 403, 400): the resources
    see a normal end (the session commits)."""
    Session = app.Session
    raised = {"missing": Http404("no such page"), "denied": PermissionDenied("no"),
              "bad": BadRequest("malformed")}

    @inject_django
    def answer(request: Any, what: str, session: Session) -> HttpResponse:
        raise raised[what]

    with project(container, path("<str:what>", answer)):
        client = Client()
        assert [client.get(f"/{w}").status_code for w in raised] == [404, 403, 400]
    assert app.EVENTS == [
        event for n in (1, 2, 3)
        for event in (f"open session {n}", f"session {n} committed", f"close session {n}")]


def test_an_exception_another_middleware_answers_rolls_back(
    container: Any, app: ModuleType, codegen_env: Path
) -> None:
    """A view's exception that a middleware below InjectQMiddleware turns into a response
    (its process_exception runs first) still reaches the resources: @inject_django noted
    it. That middleware runs inside the request's scope."""
    make_project(codegen_env, {"djangomw/answers.py": '''\
        from django.http import HttpResponse

        from injectq.integrations.django import get_django


        class Declined:
            def __init__(self, get_response):
                self.get_response = get_response

            def __call__(self, request):
                response = self.get_response(request)
                response["X-Server"] = get_django(str, name="server_name")
                return response

            def process_exception(self, request, exception):
                return HttpResponse("declined", status=402)
        '''})
    Session = app.Session

    @inject_django
    def declined(request: Any, session: Session) -> HttpResponse:
        raise LookupError("card declined")

    with project(container, path("", declined),
                 middleware=[MIDDLEWARE, "djangomw.answers.Declined"]):
        response = Client().get("/")
    assert (response.status_code, response["X-Server"]) == (402, "django")
    assert app.EVENTS == ["open session 1", "session 1 rolled back: card declined",
                          "close session 1"]


def test_a_view_without_the_decorator_is_served_in_the_scope_too(
    container: Any, app: ModuleType
) -> None:
    """A view that only calls get_django() runs in the request's scope as well; its
    exception, which Django answers with a 500, reaches the resources through the
    middleware's process_exception, and its Http404 is an answer."""
    Session = app.Session

    def plain(request: Any, what: str) -> HttpResponse:
        number = get_django(Session).number
        if what == "fail":
            raise RuntimeError(f"plain failure {number}")
        if what == "missing":
            raise Http404("gone")
        return HttpResponse(str(number))

    with project(container, path("<str:what>", plain)):
        client = Client(raise_request_exception=False)
        assert client.get("/ok").text == "1"
        assert client.get("/fail").status_code == 500
        assert client.get("/missing").status_code == 404
    assert app.EVENTS == [
        "open session 1", "session 1 committed", "close session 1",
        "open session 2", "session 2 rolled back: plain failure 2", "close session 2",
        "open session 3", "session 3 committed", "close session 3"]


def test_the_test_client_reraises_after_the_scope_closed(
    container: Any, app: ModuleType
) -> None:
    """Django's test client re-raises a view's exception into the test; the scope has
    closed by then, its resources having seen the exception."""
    with project(container, *greeter_views(container, app)), pytest.raises(
        ValueError, match="card declined for 7"
    ):
        Client().post("/pay/7")
    assert app.EVENTS[-2:] == ["session 1 rolled back: card declined for 7",
                               "close session 1"]


def test_url_arguments_defaults_named_bindings_and_class_based_views(
    container: Any, app: ModuleType
) -> None:
    """@inject_django leaves the request and URL arguments to Django, a default without a
    binding to the view, resolves Annotated[T, Named(...)] and get_django(T, name=) to
    named bindings, and works on a class-based view's method."""
    Session = app.Session

    @inject_django
    def show(request: Any, n: int, server: Annotated[str, Named("server_name")],
             suffix: str = "!") -> HttpResponse:
        return HttpResponse(f"{server} {n}{suffix} {get_django(str, name='server_name')}")

    class SessionView(View):
        @inject_django
        def get(self, request: Any, session: Session) -> HttpResponse:
            return HttpResponse(f"{request.method} {session.number}")

    with project(container, path("n/<int:n>", show), path("cbv", SessionView.as_view())):
        client = Client()
        assert client.get("/n/3").text == "django 3! django"
        assert client.get("/cbv").text == "GET 1"
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_a_streaming_body_keeps_the_scope_open_until_it_ends(
    container: Any, app: ModuleType
) -> None:
    """A StreamingHttpResponse body that uses a scoped service runs in the request's scope,
    which closes when the body ends; one that raises rolls back; one never read closes with
    the response."""
    Session = app.Session

    @inject_django
    def stream(request: Any, session: Session) -> StreamingHttpResponse:
        def body() -> Iterator[str]:
            yield f"session {session.number}, "
            yield f"same: {get_django(Session) is session}"
            if "fail" in request.GET:
                raise RuntimeError("stream broke")

        return StreamingHttpResponse(body())

    with project(container, path("", stream)):
        client = Client()
        response = client.get("/")
        assert app.EVENTS == ["open session 1"]  # open while the body is to be sent
        assert b"".join(response.streaming_content) == b"session 1, same: True"
        assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]
        app.EVENTS.clear()
        response = client.get("/?fail=1")
        with pytest.raises(RuntimeError, match="stream broke"):
            b"".join(response.streaming_content)
        assert app.EVENTS == ["open session 2", "session 2 rolled back: stream broke",
                              "close session 2"]
        app.EVENTS.clear()
        client.get("/").close()
        assert app.EVENTS == ["open session 3", "session 3 committed", "close session 3"]


def test_a_file_response_is_sent_whole_and_closes_the_scope_with_it(
    container: Any, app: ModuleType, tmp_path: Path, serve: Any
) -> None:
    """A FileResponse of a file keeps its file for the WSGI server's wsgi.file_wrapper
    (sendfile), and its scope closes when the server closes the response; over real HTTP
    the client gets the whole file."""
    Session = app.Session
    report = tmp_path / "report.txt"
    report.write_bytes(b"0123456789" * 10_000)

    @inject_django
    def download(request: Any, session: Session) -> FileResponse:
        return FileResponse(report.open("rb"))

    with project(container, path("report", download)):
        wrapped: list[Any] = []

        class FileWrapper:  # what a WSGI server offers in wsgi.file_wrapper
            def __init__(self, filelike: Any, block_size: int) -> None:
                self.filelike = filelike
                wrapped.append(filelike)

            def __iter__(self) -> Iterator[bytes]:
                return iter(lambda: self.filelike.read(8192), b"")

            def close(self) -> None:
                self.filelike.close()

        environ = RequestFactory().get("/report").environ
        environ["wsgi.file_wrapper"] = FileWrapper
        body = WSGIHandler()(environ, lambda status, headers: None)
        assert isinstance(body, FileWrapper) and len(wrapped) == 1  # the file, as it is
        assert b"".join(body) == report.read_bytes()
        assert app.EVENTS == ["open session 1"]  # open until the server closes it
        body.close()
        assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]
        assert wrapped[0].closed
        app.EVENTS.clear()

        base = serve(WSGIHandler())
        status, text = fetch(f"{base}/report")
        assert (status, len(text)) == (200, 100_000)
        for _ in range(50):  # the server closes the response after the client has it
            if len(app.EVENTS) == 3:
                break
            time.sleep(0.05)
        assert app.EVENTS == ["open session 2", "session 2 committed", "close session 2"]


# -- the async (ASGI) path ---------------------------------------------------------------


@pytest.fixture(params=CONTAINERS)
async def async_app(request: pytest.FixtureRequest, codegen_env: Path) -> AsyncIterator[Any]:
    """(app, container) of the app whose audit is an async generator, once per container."""
    made_app = write_app(codegen_env, "djangoasync", app_source("django", async_audit=True))
    made = make_container(request.param, made_app)
    yield made_app, made
    await made.aclose()


async def test_async_views_run_in_the_request_scope(async_app: Any) -> None:
    """Through the async middleware (ASGI), an async view's async resources are opened and
    finalized in the request's scope, newest first; a sync view under it shares its
    scope across Django's worker thread; an async view's exception rolls back, also one
    without the decorator (the middleware's process_exception notes it)."""
    app, made = async_app
    Audit, Session = app.Audit, app.Session

    @inject_django
    async def audited(request: Any, audit: Audit) -> HttpResponse:
        await asyncio.sleep(0)
        return HttpResponse(f"{audit.session.number} {audit.session is get_django(Session)}")

    @inject_django
    def plain(request: Any, session: Session) -> HttpResponse:
        return HttpResponse(str(session.number))

    @inject_django
    async def failing(request: Any, audit: Audit) -> HttpResponse:
        raise ValueError("async failure")

    async def undecorated(request: Any) -> HttpResponse:
        raise LookupError(f"undecorated {(await made.aget(Audit)).session.number}")

    with project(made, path("a", audited), path("s", plain), path("f", failing),
                 path("u", undecorated)):
        client = AsyncClient(raise_request_exception=False)
        assert (await client.get("/a")).text == "1 True"
        assert (await client.get("/s")).text == "2"
        assert (await client.get("/f")).status_code == 500
        assert (await client.get("/u")).status_code == 500  # through process_exception
    assert app.EVENTS == [
        *scope_events(1, ["close audit 1", "session 1 committed", "close session 1"]),
        "open session 2", "session 2 committed", "close session 2",
        *scope_events(3, ["audit 3 saw ValueError", "close audit 3",
                          "session 3 rolled back: async failure", "close session 3"]),
        *scope_events(4, ["audit 4 saw LookupError", "close audit 4",
                          "session 4 rolled back: undecorated 4", "close session 4"])]


async def test_async_streaming_bodies_close_the_scope_on_the_event_loop(
    async_app: Any,
) -> None:
    """Under ASGI a streaming body, async or sync, runs in the request's scope, which the
    async resources are finalized in when the body ends, or when the response is closed
    before it ends."""
    app, made = async_app
    Audit = app.Audit

    @inject_django
    async def astream(request: Any, audit: Audit) -> StreamingHttpResponse:
        async def body() -> AsyncIterator[str]:
            yield f"async {audit.session.number}"

        return StreamingHttpResponse(body())

    @inject_django
    async def sstream(request: Any, audit: Audit) -> StreamingHttpResponse:
        return StreamingHttpResponse(iter([f"sync {get_django(Audit).session.number}"]))

    with project(made, path("a", astream), path("s", sstream)):
        client = AsyncClient()
        for url, text in (("/a", b"async 1"), ("/s", b"sync 2")):
            response = await client.get(url)
            assert b"".join([part async for part in response.streaming_content]) == text
        # closed unread: by Django's ASGI handler (from a worker thread), and on the loop
        await sync_to_async(cast("Any", await client.get("/a")).close)()
        cast("Any", await client.get("/a")).close()
        for _ in range(100):
            if app.EVENTS[-1] == "close session 4":
                break
            await asyncio.sleep(0.01)
    assert app.EVENTS == [
        event for n in (1, 2, 3, 4) for event in scope_events(
            n, [f"close audit {n}", f"session {n} committed", f"close session {n}"])]


def test_an_async_view_under_wsgi_is_refused(container: Any, app: ModuleType) -> None:
    """Under the sync middleware (WSGI) an @inject_django async view fails, saying to serve
    it through ASGI; the request's scope still closes."""
    Session = app.Session

    @inject_django
    async def view(request: Any, session: Session) -> HttpResponse:
        return HttpResponse("never")

    with project(container, path("", view)), pytest.raises(
        InjectionError, match=r"served through WSGI.*serve the project through ASGI"
    ):
        Client().get("/")
    assert app.EVENTS == []


# -- setup and its errors ----------------------------------------------------------------


def test_setup_django_serves_the_scope_it_is_told() -> None:
    """setup_django(container, scope_name=) serves every request from that container, in
    that scope instead of request."""
    made, Job, log = job_scope()
    setup_django(made, scope_name="job")

    @inject_django
    def run(request: Any, job: Job) -> HttpResponse:
        return HttpResponse(str(made.current_scope("job") is not None))

    with project(None, path("", run)):
        client = Client()
        assert client.get("/").text == client.get("/").text == "True"
    assert log == ["open job", "close job", "open job", "close job"]
    assert get_container_django() is made


def test_setup_refuses_an_unknown_scope_a_second_call_and_a_setting_too(container: Any) -> None:
    """An unknown scope name and what is no container fail at setup_django, not on the
    first request; so does a second call; the middleware refuses a container or scope
    named both ways."""
    with pytest.raises(ScopeError, match="nightly"):
        setup_django(container, scope_name="nightly")
    setup_django(container)
    with pytest.raises(InjectionError, match=r"setup_django was already called: call it "
                       r"once, at startup"):
        setup_django(container)
    with project(container), pytest.raises(
        InjectionError, match=r"both setup_django\(container\) and "
        r"settings.INJECTQ_CONTAINER name a container: keep one of them"
    ):
        InjectQMiddleware(lambda request: HttpResponse())
    with project(None, INJECTQ_SCOPE="request"), pytest.raises(
        InjectionError, match=r"both setup_django\(container\) and "
        r"settings.INJECTQ_SCOPE name a scope: keep one of them"
    ):
        InjectQMiddleware(lambda request: HttpResponse())
    with pytest.raises(InjectionError, match=r"setup_django: 'app' is not an InjectQ container"):
        setup_django("app")


def test_the_settings_name_the_container_by_its_path(app: ModuleType) -> None:
    """INJECTQ_CONTAINER may be the dotted path to the container; a path that does not
    import, what is no container and an unknown INJECTQ_SCOPE fail when the middleware
    loads, saying what to fix."""
    made = InjectQ()
    made.install(app.AppModule())
    app.container = made

    @inject_django
    def show(request: Any, session: app.Session) -> HttpResponse:  # type: ignore[name-defined]
        return HttpResponse(str(session.number))

    with project("djangoapp.services.container", path("", show)):
        assert Client().get("/").text == "1"
    with project("djangoapp.services.nothing"), pytest.raises(
        InjectionError, match=r"settings.INJECTQ_CONTAINER = 'djangoapp.services.nothing' "
        r"could not be imported .*; name the container as 'package.module.attribute'"
    ):
        InjectQMiddleware(lambda request: HttpResponse())
    with project(made, INJECTQ_SCOPE="nightly"), pytest.raises(ScopeError, match="nightly"):
        InjectQMiddleware(lambda request: HttpResponse())
    with project("djangoapp.services.Settings"), pytest.raises(
        InjectionError, match=r"InjectQMiddleware: settings.INJECTQ_CONTAINER = "
        r"'djangoapp.services.Settings', INJECTQ_SCOPE = 'request': <class "
        r"'djangoapp.services.Settings'> is not an InjectQ container; give an InjectQ\(\) "
        r"or a generated Container\(\)"
    ):
        InjectQMiddleware(lambda request: HttpResponse())
    made.close()


def test_without_setup_or_outside_a_request_the_errors_say_what_to_do(app: ModuleType) -> None:
    """The middleware without a container, a decorated view without the middleware and
    get_django() outside a request each fail naming the fix."""
    Session = app.Session

    @inject_django
    def index(request: Any, session: Session) -> HttpResponse:
        return HttpResponse("never")

    with project(None, path("", index)), pytest.raises(
        InjectionError, match=r"injectq.integrations.django.InjectQMiddleware: no InjectQ "
        r"container serves Django: call setup_django\(container\) once at startup .* or set "
        r"INJECTQ_CONTAINER = 'package.module.container' in the settings"
    ):
        Client().get("/")
    with project(InjectQ(), path("", index), middleware=[]), pytest.raises(
        InjectionError, match=r"no Django request or management command is under way: "
        r"@inject_django on .*index resolves .*\(add it to settings.MIDDLEWARE\)"
    ):
        Client().get("/")
    with pytest.raises(InjectionError, match=r"no Django request .* under way: get_django\(\)"):
        get_django(Session)


# -- management commands, in this process ------------------------------------------------


@pytest.fixture(params=CONTAINERS)
def cli_app(request: pytest.FixtureRequest, codegen_env: Path) -> Iterator[Any]:
    """(app, container) of the app with a command line's resources, once per container."""
    made_app = write_app(codegen_env, "djangocli", app_source("django", cli=True))
    made = make_container(request.param, made_app)
    yield made_app, made
    made.close()


def test_a_command_runs_each_invocation_in_a_scope_of_its_own(cli_app: Any) -> None:
    """Every invocation of an @inject_command handle gets its own scope, shared by the
    injected parameters, get_django() and a command it calls; what it raises (CommandError,
    SystemExit) is thrown into the resources, and then reaches the caller unchanged."""
    app, made = cli_app
    Greeter, Session = app.Greeter, app.Session

    class Inner(BaseCommand):
        @inject_command
        def handle(self, *args: Any, session: Session, **options: Any) -> str:
            return str(session.number)

    class Greet(BaseCommand):
        def add_arguments(self, parser: Any) -> None:
            parser.add_argument("who")
            parser.add_argument("--exit", type=int)

        @inject_command
        def handle(self, *args: Any, who: str, greeter: Greeter, **options: Any) -> str:
            if who == "bob":
                raise CommandError(f"no user {who!r}")
            if options["exit"] is not None:
                sys.exit(options["exit"])
            same = get_django(Session) is greeter.session
            return f"{greeter.greet(who)} same={same} inner={call_command(Inner())}"

    with project(made):
        out = io.StringIO()
        call_command(Greet(), "ada", stdout=out)
        assert out.getvalue() == "hello ada (session 1) same=True inner=1\n"
        with pytest.raises(CommandError, match="no user 'bob'"):
            call_command(Greet(), "bob")
        with pytest.raises(SystemExit) as exited:
            call_command(Greet(), "eve", "--exit", "3")
        assert exited.value.code == 3
    assert app.EVENTS == [
        "open session 1", "session 1 committed", "close session 1",
        "open session 2", "session 2 rolled back: CommandError(no user 'bob')",
        "close session 2",
        "open session 3", "session 3 interrupted: SystemExit", "close session 3"]


def test_a_command_without_setup_and_an_async_handle_are_refused() -> None:
    """A decorated handle run with no container set up fails naming the fix; an async
    handle is refused where it is decorated."""

    class Lost(BaseCommand):
        @inject_command
        def handle(self, *args: Any, **options: Any) -> None:
            return None

    with project(None), pytest.raises(
        InjectionError, match=r"@inject_command on .*handle: no InjectQ container serves "
        r"Django: call setup_django"
    ):
        call_command(Lost())

    async def handle(self: Any) -> None:
        return None

    with pytest.raises(InjectionError, match=r"async function .*handle: .*make it a sync"):
        inject_command(handle)


def test_importing_injectq_does_not_import_django() -> None:
    """Django loads only with injectq.integrations.django itself; without Django that
    module says what to install."""
    check_import_needs("django", "django", "django")


# -- real runs: a Django project served by runserver and uvicorn, its command run -------

_PROJECT = {
    "manage.py": '''\
        import os
        import sys

        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
            from django.core.management import execute_from_command_line

            execute_from_command_line(sys.argv)
        ''',
    "shop/settings.py": '''\
        SECRET_KEY = "not secret"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1"]
        INSTALLED_APPS = ["shop"]
        MIDDLEWARE = ["injectq.integrations.django.InjectQMiddleware"]
        ROOT_URLCONF = "shop.urls"
        INJECTQ_CONTAINER = "shop.containers.container"
        ''',
    "shop/containers.py": '''\
        """The runtime container or the generated one, as SHOP_CONTAINER says; the
        resources' events are written to SHOP_EVENTS when the process ends."""
        import atexit
        import json
        import os

        from shop.services import EVENTS

        if os.environ["SHOP_CONTAINER"] == "generated":
            from shop._wiring import Container

            container = Container()
        else:
            from injectq import InjectQ
            from shop.services import AppModule

            container = InjectQ()
            container.install(AppModule())

        if os.environ.get("SHOP_EVENTS"):
            atexit.register(lambda: open(os.environ["SHOP_EVENTS"], "w").write(json.dumps(EVENTS)))
        ''',
    "shop/views.py": '''\
        import asyncio
        from collections.abc import Iterator

        from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse

        from injectq.integrations.django import get_django, inject_django
        from shop.services import EVENTS, Audit, Greeter, Session


        @inject_django
        def greet(request, who: str, greeter: Greeter, audit: Audit) -> JsonResponse:
            return JsonResponse({"text": greeter.greet(who),
                                 "one_session": greeter.session is audit.session})


        @inject_django
        def pay(request, amount: int, audit: Audit) -> HttpResponse:
            raise ValueError(f"card declined for {amount}")


        @inject_django
        def missing(request, session: Session) -> HttpResponse:
            raise Http404("no such page")


        @inject_django
        def stream(request, session: Session) -> StreamingHttpResponse:
            def body() -> Iterator[str]:
                yield f"session {session.number} "
                yield f"still {get_django(Session).number}"

            return StreamingHttpResponse(body())


        @inject_django
        async def agreet(request, who: str, greeter: Greeter) -> HttpResponse:
            await asyncio.sleep(0)
            return HttpResponse(f"async {greeter.greet(who)}")


        def events(request) -> JsonResponse:
            return JsonResponse(EVENTS, safe=False)
        ''',
    "shop/urls.py": '''\
        from django.urls import path

        from shop import views

        urlpatterns = [
            path("greet/<str:who>", views.greet),
            path("agreet/<str:who>", views.agreet),
            path("pay/<int:amount>", views.pay),
            path("missing", views.missing),
            path("stream", views.stream),
            path("events", views.events),
        ]
        ''',
    "shop/asgi.py": '''\
        import os

        from django.core.asgi import get_asgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
        application = get_asgi_application()
        ''',
    "shop/management/commands/checkout.py": '''\
        from django.core.management import BaseCommand, CommandError

        from injectq.integrations.django import inject_command
        from shop.services import Audit, Greeter


        class Command(BaseCommand):
            help = "Greets a customer, or declines their card."

            def add_arguments(self, parser):
                parser.add_argument("who")
                parser.add_argument("--decline", action="store_true")

            @inject_command
            def handle(self, *args, who: str, greeter: Greeter, audit: Audit, **options) -> None:
                if options["decline"]:
                    raise CommandError(f"card declined for {who}")
                self.stdout.write(greeter.greet(who))
        ''',
}


@pytest.fixture(params=CONTAINERS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The project written into ``tmp_path`` (with its generated wiring for the generated
    container) and the environment to run it in."""
    make_project(tmp_path, {**_PROJECT, "shop/services.py": app_source("django")})
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHOP_CONTAINER": request.param,
           "PYTHONDONTWRITEBYTECODE": "1"}
    if request.param == "generated":
        proc = subprocess.run(
            [sys.executable, "-m", "injectq_codegen", "build", "shop.services:AppModule",
             "-o", "shop/_wiring.py", "-q"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return tmp_path, env


@pytest.fixture
def run_server() -> Iterator[Any]:
    """``run_server(argv, cwd, env, port)``: a server subprocess, its base URL returned
    once it answers (within 30 s); every server is stopped after the test."""
    running: list[subprocess.Popen[bytes]] = []

    def start(argv: list[str], cwd: Path, env: dict[str, str], port: int) -> str:
        log = (cwd / f"server-{port}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        running.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited {proc.returncode}:\n"
                            f"{(cwd / f'server-{port}.log').read_text()}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{base}/events", timeout=2):
                    return base
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within 30 s:\n"
                            f"{(cwd / f'server-{port}.log').read_text()}")
            time.sleep(0.1)

    yield start
    for proc in running:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def events_when(base: str, last: str) -> list[str]:
    """The server's events once ``last`` is the last of them (a streamed response's scope
    closes after the client has its body), within 10 s."""
    deadline = time.monotonic() + 10
    while True:
        got = json.loads(fetch(f"{base}/events")[1])
        if (got and got[-1] == last) or time.monotonic() > deadline:
            return list(got)
        time.sleep(0.05)


def test_runserver_serves_each_request_in_its_own_scope(
    shop: tuple[Path, dict[str, str]], run_server: Any
) -> None:
    """`manage.py runserver`, asked over HTTP: a scope per request, finalized newest first;
    a 500 rolls back, a 404 commits, a streamed body runs in its request's scope."""
    folder, env = shop
    port = free_port()
    base = run_server([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}",
                       "--noreload", "--skip-checks"], folder, env, port)
    status, body = fetch(f"{base}/greet/Ada")
    assert (status, json.loads(body)) == (200, {"text": "hello Ada (session 1)",
                                                "one_session": True})
    assert fetch(f"{base}/pay/5", "POST")[0] == 500
    assert fetch(f"{base}/missing")[0] == 404
    assert fetch(f"{base}/stream") == (200, "session 4 still 4")
    assert events_when(base, "close session 4") == [
        *scope_events(1, ["close audit 1", "session 1 committed", "close session 1"]),
        *scope_events(2, ["audit 2 saw ValueError", "close audit 2",
                          "session 2 rolled back: card declined for 5", "close session 2"]),
        "open session 3", "session 3 committed", "close session 3",
        "open session 4", "session 4 committed", "close session 4"]


def test_uvicorn_serves_async_views_through_the_async_middleware(
    shop: tuple[Path, dict[str, str]], run_server: Any
) -> None:
    """The project's asgi.py under uvicorn: async and sync views and a streamed body, each
    in a scope of its own."""
    folder, env = shop
    port = free_port()
    base = run_server([sys.executable, "-m", "uvicorn", "shop.asgi:application", "--host",
                       "127.0.0.1", "--port", str(port), "--lifespan", "off",
                       "--no-access-log"], folder, env, port)
    assert fetch(f"{base}/agreet/Ada") == (200, "async hello Ada (session 1)")
    assert json.loads(fetch(f"{base}/greet/Bob")[1])["text"] == "hello Bob (session 2)"
    assert fetch(f"{base}/stream") == (200, "session 3 still 3")
    assert events_when(base, "close session 3") == [
        "open session 1", "session 1 committed", "close session 1",
        *scope_events(2, ["close audit 2", "session 2 committed", "close session 2"]),
        "open session 3", "session 3 committed", "close session 3"]


def test_manage_py_runs_a_command_in_a_scope_of_its_own(
    shop: tuple[Path, dict[str, str]]
) -> None:
    """`manage.py checkout`: its handle runs in a scope that commits; one raising
    CommandError exits 1 with Django's message, its resources rolled back and closed."""
    folder, env = shop

    def manage(*args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
        events = folder / "events.json"
        proc = subprocess.run([sys.executable, "manage.py", *args], cwd=folder,
                              env={**env, "SHOP_EVENTS": str(events)}, capture_output=True,
                              text=True, timeout=60, check=False)
        return proc, json.loads(events.read_text())

    done, events = manage("checkout", "ada")
    assert (done.returncode, done.stdout) == (0, "hello ada (session 1)\n"), done.stderr
    assert events == scope_events(1, ["close audit 1", "session 1 committed",
                                      "close session 1"])
    failed, events = manage("checkout", "bob", "--decline")
    assert failed.returncode == 1
    assert failed.stderr == "CommandError: card declined for bob\n"
    assert events == scope_events(1, [
        "audit 1 saw CommandError", "close audit 1",
        "session 1 rolled back: card declined for bob", "close session 1"])


# -- the docs example --------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Django section of docs/integrations.md runs as written: its files make a
    project whose command prints what the console block shows, and whose views, asked
    with the test client, print what the output block shows."""
    section = docs_section("Django")
    files = [b for b in section if b.mark == "file"]
    consoles = [b for b in section if b.lang == "console"]
    assert len(files) == 5 and len(consoles) == 1
    code, shown = example_blocks(section)
    make_project(tmp_path, {b.arg: b.body for b in files if b.arg})
    # this environment's python first on PATH; unbuffered, the order a terminal shows
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    transcript = []
    for line in consoles[0].body.splitlines():
        if line.startswith("$ "):
            transcript.append(line)
            proc = subprocess.run(["bash", "-c", line.removeprefix("$ ")], cwd=tmp_path,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=60, check=False)
            assert proc.returncode == (1 if "bob" in line else 0), proc.stdout
            transcript.extend(proc.stdout.splitlines())
    assert transcript == consoles[0].body.splitlines()
    check_script_prints(code, shown, tmp_path, name="try_views.py", env=env)
