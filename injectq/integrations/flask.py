"""Flask: one scope per request.

``setup_flask(container, app)`` keeps the container in ``app.extensions["injectq"]`` and
connects two of the app's signals: ``request_started`` opens the container's ``request``
scope (before any ``before_request`` function) and makes the container current
(``@inject`` resolves from it); ``request_tearing_down`` closes it after every
``teardown_request`` function, finalizing its resources newest first, also when the view
raised. A view's exception is thrown into the scope's generator resources at their
``yield``, as in a ``with`` block, also when an error handler turns it into a response
(the app's ``handle_user_exception`` notes it), except an ``HTTPException`` below 500
(``abort(404)``, a redirect): an answer, which the resources see as a normal end; one of
500 or more (``abort(503)``) reaches them. Views ask for dependencies with

- ``@inject_flask`` under the route decorator: the view's parameters that Flask does not
  pass (its URL variables) are resolved by their annotations in the request's scope, so
  ``svc: Service`` is a ``Service`` to a type checker; or
- ``get_flask(Service)`` anywhere a request is under way (hooks, error handlers, templates'
  context processors), typed as ``Service``.

Works with the runtime ``InjectQ`` and a generated container alike. Needs Flask:
``pip install 'injectq[flask]'``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

try:
    from flask import Flask, current_app, has_app_context, has_request_context, request
    from flask.signals import request_started, request_tearing_down
    from werkzeug.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.flask needs Flask: pip install 'injectq[flask]' "
        "(or pip install flask)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._http import is_answer
from injectq.model.markers import ClassKey
from injectq.runtime.inject import inject
from injectq.runtime.interface import set_current
from injectq.runtime.scopes import ScopeState

__all__ = [
    "get_container_flask",
    "get_flask",
    "inject_flask",
    "setup_flask",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXTENSION = "injectq"  # app.extensions[EXTENSION] is the container
# the request's open scope and the token making the container current, in its WSGI environ
# (one per request, nested requests included, unlike g, which tests may share)
ENVIRON_KEY = "injectq.scope"
# the first exception of the request that Flask answered and the scope still ends with
ERROR_KEY = "injectq.error"

_NOT_SERVED = "call setup_flask(container, app) before the app serves requests"


def get_container_flask() -> Any:
    """The container ``setup_flask`` gave the current Flask app."""
    if not has_app_context():
        raise InjectionError(
            "no Flask application context is active: get_container_flask() works while "
            "an app that setup_flask(container, app) was called on handles a request"
        )
    container = current_app.extensions.get(EXTENSION)
    if container is None:
        raise InjectionError(
            f"no InjectQ container serves the Flask app {current_app.name!r}: {_NOT_SERVED}"
        )
    return container


def _request_container(what: str) -> Any:
    """The container serving the request under way, whose scope is open; else say why not."""
    if not has_request_context():
        raise InjectionError(
            f"no Flask request is under way: {what} resolves in the scope of a request "
            "served by an app that setup_flask(container, app) was called on"
        )
    container = get_container_flask()
    if ENVIRON_KEY not in request.environ:
        raise InjectionError(
            f"this request has no InjectQ scope: {what} works in requests the app "
            "dispatches (a bare test_request_context() does not start one; use the app's "
            "test_client())"
        )
    return container


@overload
def get_flask(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def get_flask(service_type: Any, name: str | None = None) -> Any: ...


def get_flask(service_type: Any, name: str | None = None) -> Any:
    """``service_type`` resolved in the current request's scope; ``name=`` picks a named
    binding."""
    return _request_container("get_flask()").get(service_type, name)


def inject_flask(view: F) -> F:
    """Resolve the view's parameters that Flask leaves out (all but its URL variables) by
    their annotations, in the request's scope. Put it under ``@app.route(...)``::

        @app.get("/users/<int:user_id>")
        @inject_flask
        def show(user_id: int, users: UserService) -> str: ...

    Parameters with a default keep it unless a binding is marked (``Inject[T]``,
    ``Annotated[T, Named(...)]``), as with ``@inject``.
    """
    if inspect.iscoroutinefunction(view):
        raise InjectionError(
            f"@inject_flask on async view {view.__qualname__}: Flask runs each async view in "
            "an event loop of its own, where the request's async resources could not be "
            "finalized; make it a sync view"
        )
    injected = inject(view)  # resolves from the current container: the request's

    @functools.wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        _request_container(f"@inject_flask on {view.__qualname__}")
        return injected(*args, **kwargs)

    return cast("F", serve)


def setup_flask(container: Any, app: Flask, *, scope_name: str = "request") -> None:
    """Serve ``app``'s requests from ``container`` (``InjectQ`` or a generated container).

    Each request runs inside its own ``container.scope(scope_name)``, opened when Flask
    starts dispatching it and closed after its teardown functions. Call it once, before
    the app serves requests; an unknown scope name fails here. Flask has no shutdown hook:
    close the container when the server stops (``container.close()``).
    """
    if EXTENSION in app.extensions:
        raise InjectionError(
            f"setup_flask was already called on the Flask app {app.name!r}: call it once"
        )
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    app.extensions[EXTENSION] = container

    def open_scope(sender: Flask, **extra: Any) -> None:
        scope = container.scope(scope_name)
        scope.__enter__()
        request.environ[ENVIRON_KEY] = (scope, set_current(container))

    def close_scope(sender: Flask, exc: BaseException | None = None, **extra: Any) -> None:
        # Flask 3.1 tears a request down again after a stream_with_context body: the
        # scope closed the first time
        opened = cast(
            "tuple[ScopeState, contextvars.Token[Any]] | None",
            request.environ.pop(ENVIRON_KEY, None),
        )
        if opened is None:
            return
        scope, current = opened
        answered = cast("BaseException | None", request.environ.pop(ERROR_KEY, None))
        if exc is None:
            exc = answered
        # torn down in another context than the one it started in: nothing to reset there
        with contextlib.suppress(ValueError):
            current.var.reset(current)
        scope.__exit__(type(exc) if exc is not None else None, exc, None)

    handle_user_exception = app.handle_user_exception

    def record_and_handle(e: Exception) -> Any:
        # Flask answers it (an error handler, an HTTPException's page): the scope still
        # ends with it, unless it is an HTTPException below 500 (an answer)
        if not is_answer(e.code if isinstance(e, HTTPException) else None):
            request.environ.setdefault(ERROR_KEY, e)
        return handle_user_exception(e)

    # Flask has no signal for the exceptions it answers: this app's handler notes them
    app.handle_user_exception = record_and_handle  # type: ignore[method-assign]

    # sender=app: only this app's requests; strong references, the app owns them
    request_started.connect(open_scope, app, weak=False)
    request_tearing_down.connect(close_scope, app, weak=False)
