"""FastMCP: one scope per tool call, resource read and prompt render.

``setup_mcp(container, mcp)`` attaches the container to the FastMCP server (as InjectQ
0.5.0 did) and adds ``InjectQMCPMiddleware``, which makes it reachable from the tools of
servers mounted under this one too. Handlers ask for services through FastMCP's own
dependency injection, hidden from the MCP schema:

- ``svc: Service = InjectMCP(Service)`` or ``svc: Annotated[Service, InjectMCP(Service)]``
  (typed as ``Service``); ``name=`` picks a named binding, async bindings are awaited.

The first ``InjectMCP`` parameter of a call opens the container's ``request`` scope; the
call's other ``InjectMCP`` parameters share it, the container is current while the handler
runs (``@inject`` resolves from it, sync handlers in FastMCP's thread pool included), and
the scope closes when the handler has returned or raised, before the result is sent,
finalizing its resources. A handler's exception reaches the scope's generator resources
at their ``yield``, as in a ``with`` block (rollback on error, commit otherwise).

Works with the runtime ``InjectQ`` and a generated container alike. Needs FastMCP:
``pip install 'injectq[fastmcp]'``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

try:
    from fastmcp.dependencies import Depends
    from fastmcp.server.dependencies import get_context
    from fastmcp.server.middleware import Middleware, MiddlewareContext
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.fastmcp needs FastMCP: pip install 'injectq[fastmcp]' "
        "(or pip install fastmcp)"
    ) from exc

from injectq.errors import InjectionError
from injectq.model.arguments import check_marker
from injectq.model.markers import ClassKey
from injectq.runtime.interface import set_current

if TYPE_CHECKING:
    from fastmcp import FastMCP

__all__ = [
    "InjectMCP",
    "InjectQMCPMiddleware",
    "get_container_mcp",
    "setup_mcp",
]

T = TypeVar("T")

# where setup_mcp keeps the container on the server (0.5.0's attribute) and its scope name
SERVER_ATTRIBUTE = "_injectq_container"
SCOPE_ATTRIBUTE = "_injectq_scope_name"

# set by InjectQMCPMiddleware while a message runs through its server, for the servers
# mounted under it; and by the call scope, for the handler and what it calls
_outer: contextvars.ContextVar[tuple[Any, str] | None] = contextvars.ContextVar(
    "injectq_fastmcp_outer", default=None
)
_serving: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "injectq_fastmcp_container", default=None
)


def _server_setup() -> tuple[Any, str]:
    """(container, scope name) serving the FastMCP call under way."""
    try:
        server = get_context().fastmcp
    except RuntimeError as exc:
        raise InjectionError(
            "no FastMCP call is under way: InjectMCP() resolves inside a tool, resource "
            "or prompt of a FastMCP server that setup_mcp(container, mcp) was called on"
        ) from exc
    container = getattr(server, SERVER_ATTRIBUTE, None)
    if container is not None:
        return container, getattr(server, SCOPE_ATTRIBUTE, "request")
    setup = _outer.get()
    if setup is None:
        raise InjectionError(
            f"no InjectQ container serves the FastMCP server {server.name!r}: call "
            "setup_mcp(container, mcp) on it (or on a server it is mounted in) before it "
            "handles requests"
        )
    return setup


def get_container_mcp() -> Any:
    """The container serving the current FastMCP tool call, resource read or prompt."""
    container = _serving.get()
    return container if container is not None else _server_setup()[0]


@contextlib.asynccontextmanager
async def _call_scope() -> AsyncGenerator[Any, None]:
    # a FastMCP dependency of every InjectMCP(): FastMCP resolves it once per call (its
    # cache is per call) and exits it after the handler, with the handler's exception
    container, scope_name = _server_setup()
    token = _serving.set(container)
    current = set_current(container)
    try:
        async with container.scope(scope_name):
            yield container
    finally:
        current.var.reset(current)
        _serving.reset(token)


_CALL_SCOPE: Any = Depends(_call_scope)


def _dependency(service_type: Any, name: str | None) -> Callable[..., Awaitable[Any]]:
    async def resolve(container: Any = _CALL_SCOPE) -> Any:
        return await container.aget(service_type, name)

    label = getattr(service_type, "__qualname__", repr(service_type))
    resolve.__name__ = resolve.__qualname__ = f"inject_{label}".replace(".", "_")
    return resolve


@overload
def InjectMCP(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def InjectMCP(service_type: Any, name: str | None = None) -> Any: ...


def InjectMCP(service_type: Any, name: str | None = None) -> Any:
    """A FastMCP dependency resolving ``service_type`` in the call's scope.

    ``svc: Service = InjectMCP(Service)`` or ``svc: Annotated[Service,
    InjectMCP(Service)]`` in a tool, resource or prompt; ``name=`` picks a named binding.
    FastMCP leaves the parameter out of the schema clients see.
    """
    check_marker("InjectMCP()", service_type, name)  # told where the handler is declared
    return Depends(_dependency(service_type, name))


class InjectQMCPMiddleware(Middleware):
    """Serves a server's calls, and those of the servers mounted under it, from
    ``container``: it attaches the container to the server handling each message (as
    0.5.0's did) and makes it the one a mounted server without a container of its own
    uses. ``setup_mcp`` adds it; add it yourself only instead of calling ``setup_mcp``."""

    def __init__(self, *, container: Any, scope_name: str = "request") -> None:
        super().__init__()
        self.container = container
        self.scope_name = scope_name

    async def on_message(
        self, context: MiddlewareContext[Any], call_next: Callable[..., Awaitable[Any]]
    ) -> Any:
        server = getattr(context.fastmcp_context, "fastmcp", None)
        if server is not None and getattr(server, SERVER_ATTRIBUTE, None) is None:
            _attach(server, self.container, self.scope_name)
        token = _outer.set((self.container, self.scope_name))
        try:
            return await call_next(context)
        finally:
            _outer.reset(token)


def _attach(server: Any, container: Any, scope_name: str) -> None:
    setattr(server, SERVER_ATTRIBUTE, container)
    setattr(server, SCOPE_ATTRIBUTE, scope_name)


def setup_mcp(container: Any, mcp: FastMCP[Any], *, scope_name: str = "request") -> None:
    """Serve ``mcp``'s tools, resources and prompts from ``container`` (``InjectQ`` or a
    generated container), and those of the servers mounted under it.

    Each call whose handler has an ``InjectMCP`` parameter runs inside its own
    ``container.scope(scope_name)``. Call it once, before the server handles requests;
    an unknown scope name fails here. Closing the container when the server stops is the
    application's (``container.close()`` / ``await container.aclose()``).
    """
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    _attach(mcp, container, scope_name)
    mcp.add_middleware(InjectQMCPMiddleware(container=container, scope_name=scope_name))
