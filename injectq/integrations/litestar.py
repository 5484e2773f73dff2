"""Litestar: one request scope per HTTP request and per WebSocket connection.

``Litestar(plugins=[InjectQPlugin(container)])`` adds ``InjectQLitestarMiddleware``, a pure
ASGI middleware outermost of the app's own, that runs each HTTP request and each WebSocket
connection of a route inside its own ``container.scope("request")``, the container current
(``@inject`` resolves from it); the scope closes once the response is sent (streamed
bodies included) or the socket closed, finalizing its resources newest first. Litestar
answers a handler's exception itself (a 500, an ``HTTPException``'s status, an exception
handler's response); the plugin's ``after_exception`` hook hands it to the scope, so it
still reaches generator resources at their ``yield``, as in a ``with`` block, unless it
is an ``HTTPException`` below 500 (a redirect, a 404, a validation error): an answer,
which the resources see as a normal end. On
application shutdown the plugin closes the container. Handlers take services through
Litestar's own dependency injection:

- ``dependencies={"users": InjectLitestar(UserService)}`` (on the app, a router, a
  controller or a handler) provides them, resolved in the request's scope;
- ``users: Injected[UserService]`` in the handler (typed as ``UserService``):
  ``NamedDependency[SkipValidation[UserService]]``, a dependency Litestar passes on
  unchecked (so Protocols and ABCs work too).

Works with the runtime ``InjectQ`` and a generated container alike. Needs Litestar:
``pip install 'injectq[litestar]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

try:
    from litestar.di import NamedDependency, Provide
    from litestar.exceptions import HTTPException
    from litestar.middleware import DefineMiddleware
    from litestar.params import SkipValidation
    from litestar.plugins import InitPluginProtocol
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.litestar needs Litestar: pip install 'injectq[litestar]' "
        "(or pip install litestar)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._asgi import record_error, serve_in_scope, serving
from injectq.integrations._http import is_answer
from injectq.model.arguments import check_marker

if TYPE_CHECKING:
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "InjectLitestar",
    "InjectQLitestarMiddleware",
    "InjectQPlugin",
    "Injected",
    "get_container_litestar",
]

T = TypeVar("T")

SETUP_HINT = "add InjectQPlugin(container) to the app's plugins"


def get_container_litestar() -> Any:
    """The container serving the current request or WebSocket connection."""
    connection = serving()
    if connection is None:
        raise InjectionError(f"no InjectQ container serves this request: {SETUP_HINT}")
    return connection.container


def InjectLitestar(service_type: Any, name: str | None = None) -> Provide:
    """A Litestar dependency provider resolving ``service_type`` in the request's scope,
    for ``dependencies={"svc": InjectLitestar(Service)}``; ``name=`` picks a named
    binding. Async bindings are awaited."""
    check_marker("InjectLitestar()", service_type, name)  # told where it is written

    async def resolve() -> Any:
        return await get_container_litestar().aget(service_type, name)

    label = getattr(service_type, "__qualname__", repr(service_type))
    resolve.__name__ = resolve.__qualname__ = f"inject_{label}".replace(".", "_")
    return Provide(resolve)


if TYPE_CHECKING:
    # for a type checker, Injected[Service] is Service
    Injected: TypeAlias = Annotated[T, "injectq"]
else:

    class Injected:
        """``svc: Injected[Service]``: ``NamedDependency[SkipValidation[Service]]``, a
        dependency (provided by ``InjectLitestar``) Litestar passes on unchecked."""

        __slots__ = ()

        def __class_getitem__(cls, service_type: Any) -> Any:
            return NamedDependency[SkipValidation[service_type]]


class InjectQLitestarMiddleware:
    """Pure ASGI middleware: a scope per HTTP request / WebSocket connection of a route.
    ``InjectQPlugin`` adds it, with the hook that hands the scope the handler's
    exception; add the plugin, not this alone."""

    def __init__(self, app: ASGIApp, *, container: Any, scope_name: str = "request") -> None:
        self.app = app
        self.container = container
        self.scope_name = scope_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            await serve_in_scope(
                self.container, self.scope_name, lambda: self.app(scope, receive, send)
            )
        else:
            await self.app(scope, receive, send)


async def _after_exception(exc: Exception, scope: Scope) -> None:
    # Litestar answers every exception itself: the scope still ends with it, unless it is
    # an HTTPException below 500 (an answer)
    if not is_answer(exc.status_code if isinstance(exc, HTTPException) else None):
        record_error(exc)


class InjectQPlugin(InitPluginProtocol):
    """Serves a Litestar app's requests from ``container`` (``InjectQ`` or a generated
    container): ``Litestar(route_handlers=[...], plugins=[InjectQPlugin(container)])``.

    Each HTTP request and WebSocket connection of a route runs inside its own
    ``container.scope(scope_name)``; with ``close_on_shutdown`` the container is closed
    (``aclose()``) when the application shuts down, after the app's own shutdown hooks.
    An unknown scope name fails here.
    """

    __slots__ = ("close_on_shutdown", "container", "scope_name")

    def __init__(
        self, container: Any, *, scope_name: str = "request", close_on_shutdown: bool = True
    ) -> None:
        with container.scope(scope_name):  # an unknown scope name fails here
            pass
        self.container = container
        self.scope_name = scope_name
        self.close_on_shutdown = close_on_shutdown

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        # outermost of the app's middleware: theirs run inside the scope too
        app_config.middleware.insert(0, DefineMiddleware(
            InjectQLitestarMiddleware, container=self.container, scope_name=self.scope_name
        ))
        # Litestar types this list's exception parameter with an unsolved TypeVar
        app_config.after_exception.append(_after_exception)  # pyright: ignore[reportUnknownMemberType]
        if self.close_on_shutdown:
            # shutdown hooks run in order: this one after the app's own
            app_config.on_shutdown.append(self.container.aclose)
        return app_config
