"""injectq.integrations.flask: a scope per request, opened when Flask dispatches it and
closed at its teardown.

The main cases run the app on a real WSGI server (werkzeug's ``make_server`` in a thread,
on a free port) and ask it over HTTP; the detailed ones use Flask's test client. Both
containers serve the same app (tests/integration_support.py): the runtime one, and the one
injectq-gen generates from the same Module. Its two request-scoped resources log when they
open, how their block ended (the exception they saw) and when they close, so the order of
finalization can be read off.
"""

# no `from __future__ import annotations`: @inject reads the views' annotations, and these
# views are local functions using the app's classes, taken from a fixture

import json
import threading
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest
from flask import Flask, abort, g

from injectq import InjectionError, InjectQ, Named, ScopeError, inject
from injectq.integrations.flask import (
    get_container_flask,
    get_flask,
    inject_flask,
    setup_flask,
)
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    fetch,
    job_scope,
    run_docs_example,
    scope_events,
    wsgi_fixture,
)

app, container = app_fixtures("flaskapp", app_source("flask"))
serve = wsgi_fixture()


def greeter_app(container: Any, app: ModuleType) -> Flask:
    """A Flask app whose views take the app's services."""
    Greeter, Audit, Session = app.Greeter, app.Audit, app.Session
    web = Flask("greeter")
    setup_flask(container, web)

    @inject
    def session_number(session: Session) -> int:  # resolved from the request's scope
        return session.number

    @web.get("/greet/<who>")
    @inject_flask
    def greet(who: str, greeter: Greeter, audit: Audit) -> dict[str, Any]:
        return {
            "text": greeter.greet(who),
            "one_session": greeter.session is audit.session is get_flask(Session),
            "inject_sees_it": session_number() == audit.session.number,
            "current": get_container_flask() is container,
        }

    @web.post("/pay/<int:amount>")
    @inject_flask
    def pay(amount: int, audit: Audit) -> str:
        raise ValueError(f"card declined for {amount}")

    @web.get("/hold")
    @inject_flask
    def hold(session: Session) -> str:
        g.barrier.wait(5)  # set by the test that asks this
        return str(session.number)

    return web


def test_each_request_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType, serve: Any
) -> None:
    """Over real HTTP, every request gets fresh scoped instances, shared by the view's
    injected parameters, get_flask() and @inject functions it calls; when the client has
    the response, they are finalized, newest first."""
    base = serve(greeter_app(container, app))
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
    """A view's unhandled exception reaches the scope's resources at their yield (as in a
    with block: the session rolls back), every one is closed, the client gets a 500, and
    the next request gets a fresh scope."""
    base = serve(greeter_app(container, app))
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
    web = greeter_app(container, app)
    barrier = threading.Barrier(2)
    web.before_request(lambda: setattr(g, "barrier", barrier))
    base = serve(web)
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


def test_an_http_exception_below_500_is_an_answer(container: Any, app: ModuleType) -> None:
    """abort(404) is an answer: the resources see a normal end (the session commits)."""
    Session = app.Session
    web = Flask("answers")
    setup_flask(container, web)

    @web.get("/missing")
    @inject_flask
    def missing(session: Session) -> str:
        abort(404)

    assert web.test_client().get("/missing").status_code == 404
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_a_5xx_and_an_exception_an_error_handler_answers_roll_back(
    container: Any, app: ModuleType
) -> None:
    """abort(503) and an exception an error handler turns into a response, though Flask
    answers them, reach the resources at their yield (the session rolls back)."""
    Session = app.Session
    web = Flask("failures")
    setup_flask(container, web)

    class Declined(Exception):
        pass

    web.register_error_handler(Declined, lambda exc: ("declined", 402))

    @web.get("/unavailable")
    @inject_flask
    def unavailable(session: Session) -> str:
        abort(503, "down for maintenance")

    @web.get("/declined")
    @inject_flask
    def declined(session: Session) -> str:
        raise Declined("card declined")

    client = web.test_client()
    assert client.get("/unavailable").status_code == 503
    assert client.get("/declined").status_code == 402
    assert app.EVENTS == [
        "open session 1",
        "session 1 rolled back: 503 Service Unavailable: down for maintenance",
        "close session 1",
        "open session 2", "session 2 rolled back: card declined", "close session 2"]


def test_in_testing_mode_the_exception_reaches_the_test_and_the_resources(
    container: Any, app: ModuleType
) -> None:
    """With TESTING on, Flask re-raises a view's exception into the test; the scope has
    closed by then, its resources having seen the exception."""
    web = greeter_app(container, app)
    web.testing = True
    with pytest.raises(ValueError, match="card declined for 7"):
        web.test_client().post("/pay/7")
    assert app.EVENTS[-2:] == ["session 1 rolled back: card declined for 7",
                               "close session 1"]


def test_hooks_run_inside_the_request_scope(container: Any, app: ModuleType) -> None:
    """before_request, after_request and teardown_request functions see the request's
    scope: the scope opens before the first and closes after the last."""
    Session = app.Session
    web = Flask("hooks")
    seen: list[str] = []
    web.before_request(lambda: seen.append(f"before {get_flask(Session).number}"))

    @web.after_request
    def after(response: Any) -> Any:
        seen.append(f"after {get_flask(Session).number}")
        return response

    web.teardown_request(lambda exc: seen.append(f"teardown {get_flask(Session).number}"))
    setup_flask(container, web)  # after the hooks: the scope still encloses them

    @web.get("/")
    @inject_flask
    def index(session: Session) -> str:
        return str(session.number)

    assert web.test_client().get("/").text == "1"
    assert seen == ["before 1", "after 1", "teardown 1"]
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_url_variables_defaults_and_named_bindings(container: Any, app: ModuleType) -> None:
    """@inject_flask leaves the URL variables to Flask, a default without a binding to the
    view, and resolves Annotated[T, Named(...)] and get_flask(T, name=) to named bindings."""
    web = Flask("named")
    setup_flask(container, web)

    @web.get("/<int:n>")
    @inject_flask
    def show(n: int, server: Annotated[str, Named("server_name")], suffix: str = "!") -> str:
        return f"{server} {n}{suffix} {get_flask(str, name='server_name')}"

    assert web.test_client().get("/3").text == "flask 3! flask"


def test_setup_opens_the_scope_it_is_told() -> None:
    """setup_flask(..., scope_name=) opens that scope for each request instead of request."""
    container, Job, log = job_scope()
    web = Flask("jobs")
    setup_flask(container, web, scope_name="job")

    @web.get("/")
    @inject_flask
    def run(job: Job) -> str:
        return str(container.current_scope("job") is not None)

    client = web.test_client()
    assert client.get("/").text == client.get("/").text == "True"
    assert log == ["open job", "close job", "open job", "close job"]


def test_setup_refuses_an_unknown_scope_name_and_a_second_call(container: Any) -> None:
    """An unknown scope name fails at setup, not on the first request; so does a second
    setup_flask on one app."""
    with pytest.raises(ScopeError, match="nightly"):
        setup_flask(container, Flask("s"), scope_name="nightly")
    web = Flask("twice")
    setup_flask(container, web)
    with pytest.raises(InjectionError, match=r"setup_flask was already called on the "
                       r"Flask app 'twice': call it once"):
        setup_flask(container, web)


def test_without_setup_or_outside_a_request_the_errors_say_what_to_do(app: ModuleType) -> None:
    """A view of an app setup_flask never saw, get_flask() outside a request and in a
    request context the app did not dispatch each fail naming the fix."""
    Session = app.Session
    web = Flask("forgotten")
    web.testing = True

    @web.get("/")
    @inject_flask
    def index(session: Session) -> str:
        return "never"

    with pytest.raises(InjectionError, match=r"no InjectQ container serves the Flask app "
                       r"'forgotten': call setup_flask\(container, app\)"):
        web.test_client().get("/")
    with pytest.raises(InjectionError, match=r"no Flask request is under way: get_flask\(\)"):
        get_flask(Session)
    with pytest.raises(InjectionError, match="no Flask application context is active"):
        get_container_flask()
    served = Flask("served")
    setup_flask(InjectQ(), served)
    with served.test_request_context("/"), pytest.raises(
        InjectionError, match="this request has no InjectQ scope"
    ):
        get_flask(Session)


def test_an_async_view_is_refused_where_it_is_decorated() -> None:
    """@inject_flask on an async view fails at once, saying to make it sync."""

    async def view() -> str:
        return ""

    with pytest.raises(InjectionError, match=r"async view .*view: .*make it a sync view"):
        inject_flask(view)


def test_importing_injectq_does_not_import_flask() -> None:
    """Flask loads only with injectq.integrations.flask itself; without Flask that module
    says what to install."""
    check_import_needs("flask", "flask", "flask", also_absent=("werkzeug",))


# -- the docs example ------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Flask section of docs/integrations.md runs as written and prints what it shows."""
    run_docs_example("Flask", tmp_path)
