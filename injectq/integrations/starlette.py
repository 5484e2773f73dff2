"""Starlette: one request scope per HTTP request and per WebSocket connection.

``setup_starlette(container, app)`` adds ``InjectQStarletteMiddleware``, a pure ASGI
middleware (so it also covers WebSockets and streamed responses) that, for each
connection, opens the container's ``request`` scope, makes the container current
(``@inject`` resolves from it), runs the app, and closes the scope once the response is
sent (or the WebSocket closed), finalizing its resources newest first. On application
shutdown it closes the container. Starlette calls an endpoint with the request alone;
decorate it with ``@inject_starlette`` and it asks for dependencies with

- ``svc: Injected[Service]`` (typed as ``Service``), or
- ``svc: Service = InjectStarlette(Service)`` / ``Annotated[Service, InjectStarlette(Service)]``.

The handler's exception ends the scope as a ``with`` block would: it is thrown into the
generator resources at their ``yield``, also when the app answers it itself (an exception
handler, an ``HTTPException`` of status 500 or more); an ``HTTPException`` below 500 (a
redirect, a 404) is an answer, which the resources see as a normal end. Works with the
runtime ``InjectQ`` and a generated container alike. Needs Starlette:
``pip install 'injectq[starlette]'``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar, overload

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.starlette needs Starlette: pip install 'injectq[starlette]' "
        "(or pip install starlette)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._asgi import (
    ScopeMiddleware,
    add_scope_middleware,
    record_error,
    serving,
)
from injectq.integrations._http import is_answer
from injectq.integrations._markers import Marker, marker_of
from injectq.model.arguments import check_marker
from injectq.model.markers import ClassKey

__all__ = [
    "InjectQStarletteMiddleware",
    "InjectStarlette",
    "Injected",
    "get_container_starlette",
    "inject_starlette",
    "setup_starlette",
]

T = TypeVar("T")

SETUP_HINT = "call setup_starlette(container, app) before the app starts"


def get_container_starlette() -> Any:
    """The container serving the current request or WebSocket connection."""
    connection = serving()
    if connection is None:
        raise InjectionError(f"no InjectQ container serves this request: {SETUP_HINT}")
    return connection.container


class _Marker(Marker):
    """What ``InjectStarlette(T)`` and ``Injected[T]`` leave on a parameter."""

    __slots__ = ()
    label = "InjectStarlette"


@overload
def InjectStarlette(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def InjectStarlette(service_type: Any, name: str | None = None) -> Any: ...


def InjectStarlette(service_type: Any, name: str | None = None) -> Any:
    """Resolve ``service_type`` from the request's scope into an ``@inject_starlette``
    parameter: ``svc: Service = InjectStarlette(Service)`` or ``svc: Annotated[Service,
    InjectStarlette(Service)]``; ``name=`` picks a named binding, async bindings work too.
    """
    check_marker("InjectStarlette()", service_type, name)  # told where it is written
    return _Marker(service_type, name)


if TYPE_CHECKING:
    # for a type checker, Injected[Service] is Service
    Injected: TypeAlias = Annotated[T, "injectq"]
else:

    class Injected:
        """``svc: Injected[Service]``: ``Annotated[Service, InjectStarlette(Service)]``."""

        __slots__ = ()

        def __class_getitem__(cls, service_type: Any) -> Any:
            check_marker("Injected[...]", service_type)
            return Annotated[service_type, _Marker(service_type, None)]


def inject_starlette(func: Callable[..., Any]) -> Callable[[Any], Awaitable[Any]]:
    """Make ``func`` a Starlette endpoint whose ``Injected[T]`` / ``InjectStarlette(T)``
    parameters are resolved from the request's scope; its one other parameter, if any,
    gets the ``Request`` (or the ``WebSocket``). A sync ``func`` runs in Starlette's
    thread pool, in the request's context (``@inject`` resolves there too)."""
    try:
        signature = inspect.signature(func, eval_str=True)
    except NameError as exc:
        raise InjectionError(
            f"@inject_starlette cannot read the annotations of {func.__qualname__}: {exc}; "
            "define the classes it names at module level (or write the marker as a "
            "default value: svc: Service = InjectStarlette(Service))"
        ) from exc
    wanted: dict[str, _Marker] = {}
    plain: list[str] = []
    for parameter in signature.parameters.values():
        marker = marker_of(parameter, _Marker)
        if marker is not None:
            wanted[parameter.name] = marker
        elif parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        else:
            plain.append(parameter.name)
    if len(plain) > 1 or (plain and signature.parameters[plain[0]].kind is
                          inspect.Parameter.KEYWORD_ONLY):
        raise InjectionError(
            f"@inject_starlette {func.__qualname__}: Starlette passes one argument, the "
            f"request, but {', '.join(plain)} are neither it nor injected; mark the "
            "injected ones Injected[T] or = InjectStarlette(T), and read path and query "
            "parameters from request.path_params / request.query_params"
        )
    takes_connection = bool(plain)
    is_async = inspect.iscoroutinefunction(func)

    @functools.wraps(func)
    async def endpoint(connection: Any) -> Any:
        container = get_container_starlette()
        kwargs = {
            name: await container.aget(marker.key, marker.name)
            for name, marker in wanted.items()
        }
        args = (connection,) if takes_connection else ()
        try:
            if is_async:
                return await func(*args, **kwargs)
            return await run_in_threadpool(func, *args, **kwargs)
        except Exception as exc:
            # Starlette may answer it itself: the scope still ends with it, unless it is
            # an HTTPException below 500 (an answer)
            if not is_answer(exc.status_code if isinstance(exc, HTTPException) else None):
                record_error(exc)
            raise

    return endpoint


class InjectQStarletteMiddleware(ScopeMiddleware):
    """Pure ASGI middleware: a scope per HTTP request / WebSocket connection; on lifespan
    shutdown (when ``close_on_shutdown``) the container is closed before the server is
    told shutdown is complete. ``setup_starlette`` adds it; or pass
    ``Middleware(InjectQStarletteMiddleware, container=container)`` to ``Starlette()``."""


def setup_starlette(
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
    add_scope_middleware(
        container, app, InjectQStarletteMiddleware, scope_name, close_on_shutdown
    )
