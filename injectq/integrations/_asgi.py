"""What the Starlette and Litestar integrations share: one container scope per ASGI
connection, ended with the handler's exception. Imports no framework.

``serve_in_scope`` runs one HTTP request or WebSocket connection inside
``container.scope(scope_name)``, with the container current (``@inject`` resolves from it)
and reachable through ``serving()``. A framework answers most exceptions itself (a 500, a
404 from ``HTTPException``, a handler registered for the class) before they get back out
to a middleware; the integration reports the failures among them (not the answers below
500, ``_http.is_answer``) with ``record_error``, so the scope still ends as a ``with``
block around the handler would: the exception is thrown into each generator resource at
its ``yield`` (the rollback branch runs), newest first.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from injectq.runtime.interface import set_current

__all__ = [
    "ASGIApp",
    "Connection",
    "Message",
    "Receive",
    "ScopeMiddleware",
    "Send",
    "add_scope_middleware",
    "closing_send",
    "record_error",
    "serve_in_scope",
    "serving",
]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]


class Connection:
    """The container serving one connection, and the first exception its handler raised
    that the framework answered itself."""

    __slots__ = ("container", "error")

    def __init__(self, container: Any) -> None:
        self.container = container
        self.error: BaseException | None = None


_connection: contextvars.ContextVar[Connection | None] = contextvars.ContextVar(
    "injectq_asgi_connection", default=None
)


def serving() -> Connection | None:
    """The connection being served in this context, if any."""
    return _connection.get()


def record_error(exc: BaseException) -> None:
    """Note that the handler of the current connection raised ``exc``, though the
    framework turned it into a response: the scope ends with it."""
    connection = _connection.get()
    if connection is not None and connection.error is None:
        connection.error = exc


async def serve_in_scope(
    container: Any, scope_name: str, run: Callable[[], Awaitable[None]]
) -> None:
    """``await run()`` inside a fresh ``container.scope(scope_name)``, the container
    current; the scope ends with what ``run`` raised, else with the recorded error."""
    connection = Connection(container)
    token = _connection.set(connection)
    current = set_current(container)
    try:
        scope = container.scope(scope_name)
        await scope.__aenter__()
        try:
            await run()
        except BaseException as exc:
            await scope.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        error = connection.error
        if error is None:
            await scope.__aexit__(None, None, None)
        else:
            await scope.__aexit__(type(error), error, error.__traceback__)
    finally:
        current.var.reset(current)
        _connection.reset(token)


def closing_send(container: Any, send: Send) -> Send:
    """``send`` for a lifespan: the container is closed before the server is told shutdown
    is complete; a failing finalizer makes it ``lifespan.shutdown.failed``."""

    async def send_closing(message: Message) -> None:
        if message["type"] == "lifespan.shutdown.complete":
            try:
                await container.aclose()
            except Exception as exc:
                await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
                return
        await send(message)

    return send_closing


class ScopeMiddleware:
    """Pure ASGI middleware: a scope per HTTP request / WebSocket connection; on lifespan
    shutdown (when ``close_on_shutdown``) the container is closed before the server is
    told shutdown is complete."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        container: Any,
        scope_name: str = "request",
        close_on_shutdown: bool = True,
    ) -> None:
        self.app = app
        self.container = container
        self.scope_name = scope_name
        self.close_on_shutdown = close_on_shutdown

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind in ("http", "websocket"):
            await serve_in_scope(
                self.container, self.scope_name, lambda: self.app(scope, receive, send)
            )
        elif kind == "lifespan" and self.close_on_shutdown:
            await self.app(scope, receive, closing_send(self.container, send))
        else:
            await self.app(scope, receive, send)


def add_scope_middleware(
    container: Any, app: Any, middleware: type[ScopeMiddleware], scope_name: str,
    close_on_shutdown: bool,
) -> None:
    """``app.add_middleware(middleware, ...)`` (Starlette's, FastAPI's), after checking the
    scope name: an unknown one fails here, not on the first request."""
    with container.scope(scope_name):
        pass
    app.add_middleware(
        middleware, container=container, scope_name=scope_name,
        close_on_shutdown=close_on_shutdown,
    )
