"""FastAPI: one request scope per HTTP request and per WebSocket connection.

``setup_fastapi(container, app)`` adds a pure ASGI middleware (so it also covers
WebSockets and streamed responses) that, for each connection, opens the container's
``request`` scope, makes the container current (``@inject`` resolves from it), runs the
app, and closes the scope once the response is sent (or the WebSocket closed), finalizing
its resources, also when the endpoint raised. On application shutdown it closes the
container. The endpoint's exception ends the scope as a ``with`` block would: it is thrown
into the generator resources at their ``yield``, also when the app answers it itself (an
exception handler, an ``HTTPException`` of status 500 or more; the endpoint's InjectQ
dependencies see it and hand it to the scope); an ``HTTPException`` below 500 (a redirect,
a 404) and a request that does not validate (a 422) are answers, which the resources see
as a normal end. Endpoints ask for dependencies with

- ``svc: Injected[Service]`` (typed as ``Service``), or
- ``svc: Annotated[Service, InjectFastAPI(Service)]`` / ``svc: Service = InjectFastAPI(Service)``
  (InjectQ 0.5.0 style; ``InjectAPI`` is the same function).

Works with the runtime ``InjectQ`` and a generated container alike. Needs FastAPI:
``pip install 'injectq[fastapi]'``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar, overload

try:
    from fastapi import Depends
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.fastapi needs FastAPI: pip install 'injectq[fastapi]' "
        "(or pip install fastapi)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._asgi import (
    ScopeMiddleware,
    add_scope_middleware,
    record_error,
    serving,
)
from injectq.integrations._http import is_answer
from injectq.model.arguments import check_marker
from injectq.model.markers import ClassKey

__all__ = [
    "InjectAPI",
    "InjectFastAPI",
    "InjectQRequestMiddleware",
    "Injected",
    "get_container_fastapi",
    "setup_fastapi",
]

T = TypeVar("T")


def get_container_fastapi() -> Any:
    """The container serving the current request or WebSocket connection."""
    connection = serving()
    if connection is None:
        raise InjectionError(
            "no InjectQ container serves this request: call "
            "setup_fastapi(container, app) before the app starts"
        )
    return connection.container


def _status(exc: Exception) -> int | None:
    """The HTTP status FastAPI answers ``exc`` with, if it is an HTTP exception."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422  # the request's parameters did not validate
    return None


def _dependency(
    service_type: Any, name: str | None, call: str = "InjectFastAPI()"
) -> Callable[[], AsyncIterator[Any]]:
    check_marker(call, service_type, name)  # told where the endpoint is declared

    async def resolve() -> AsyncIterator[Any]:
        try:
            yield await get_container_fastapi().aget(service_type, name)
        except Exception as exc:
            # FastAPI may answer it itself: the scope still ends with it, unless it is an
            # HTTPException below 500 or a validation error (an answer)
            if not is_answer(_status(exc)):
                record_error(exc)
            raise

    label = getattr(service_type, "__qualname__", repr(service_type))
    resolve.__name__ = resolve.__qualname__ = f"inject_{label}".replace(".", "_")
    return resolve


@overload
def InjectFastAPI(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def InjectFastAPI(service_type: Any, name: str | None = None) -> Any: ...


def InjectFastAPI(service_type: Any, name: str | None = None) -> Any:
    """A FastAPI dependency resolving ``service_type`` from the request's scope.

    ``svc: Annotated[Service, InjectFastAPI(Service)]`` or ``svc: Service =
    InjectFastAPI(Service)``; ``name=`` picks a named binding. Async bindings work too.
    """
    return Depends(_dependency(service_type, name))


InjectAPI = InjectFastAPI  # the InjectQ 0.5.0 alias

if TYPE_CHECKING:
    # for a type checker, Injected[Service] is Service
    Injected: TypeAlias = Annotated[T, "injectq"]
else:

    class Injected:
        """``svc: Injected[Service]``: ``Annotated[Service, InjectFastAPI(Service)]``."""

        __slots__ = ()

        def __class_getitem__(cls, service_type: Any) -> Any:
            return Annotated[
                service_type, Depends(_dependency(service_type, None, "Injected[...]"))
            ]


class InjectQRequestMiddleware(ScopeMiddleware):
    """Pure ASGI middleware: a scope per HTTP request / WebSocket connection; on lifespan
    shutdown (when ``close_on_shutdown``) the container is closed before the server is
    told shutdown is complete."""


def setup_fastapi(
    container: Any,
    app: Any,
    *,
    scope_name: str = "request",
    close_on_shutdown: bool = True,
) -> None:
    """Serve ``app``'s requests from ``container`` (``InjectQ`` or a generated container).

    Each HTTP request and each WebSocket connection runs inside its own
    ``container.scope(scope_name)``; with ``close_on_shutdown`` the container is closed
    (``aclose()``) when the application shuts down. Call it before the app starts.
    """
    add_scope_middleware(container, app, InjectQRequestMiddleware, scope_name, close_on_shutdown)
