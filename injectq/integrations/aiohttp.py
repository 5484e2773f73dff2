"""aiohttp: one scope per request, opened and closed by a middleware.

``setup_aiohttp(container, app)`` keeps the container in ``app[CONTAINER_KEY]`` and adds a
middleware that runs each request's handler (and the middlewares after it) inside the
container's ``request`` scope, with the container current (``@inject`` resolves from it).
The scope closes when the handler has returned or raised, finalizing its resources (async
ones awaited) newest first. A handler's exception is thrown into the scope's generator
resources at their ``yield``, as in an ``async with`` block, except an ``HTTPException``
below 500: aiohttp's way of answering (``raise web.HTTPFound(...)`` after a POST,
``web.HTTPNotFound``), which the resources see as a normal end; one of 500 or more
(``web.HTTPServiceUnavailable``) is a failure and reaches them. With ``close_on_shutdown``
the container is closed on the app's cleanup. Handlers ask for dependencies with

- ``@inject_aiohttp`` under the route decorator: ``async def handler(request, svc:
  Service)`` gets every parameter after ``request`` resolved by its annotation (async
  bindings awaited), so ``svc`` is a ``Service`` to a type checker; or
- ``await aget_aiohttp(request, Service)``, typed as ``Service``.

Sub-applications (``app.add_subapp``) are served by the container of the app set up.
Works with the runtime ``InjectQ`` and a generated container alike. Needs aiohttp:
``pip install 'injectq[aiohttp]'``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast, overload

try:
    from aiohttp import web
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.aiohttp needs aiohttp: pip install 'injectq[aiohttp]' "
        "(or pip install aiohttp)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._http import is_answer
from injectq.model.markers import ClassKey
from injectq.runtime.inject import inject
from injectq.runtime.interface import set_current

__all__ = [
    "CONTAINER_KEY",
    "aget_aiohttp",
    "get_container_aiohttp",
    "inject_aiohttp",
    "setup_aiohttp",
]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R", bound=web.StreamResponse)

CONTAINER_KEY: web.AppKey[Any] = web.AppKey("injectq_container")

# the container serving the request whose handler runs in this context; set by the
# middleware for as long as the request's scope is open
_serving: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "injectq_aiohttp_container", default=None
)

_FIX = "call setup_aiohttp(container, app) before the app starts"


def get_container_aiohttp(request: web.Request) -> Any:
    """The container serving ``request``'s application (or the one it is a
    sub-application of)."""
    container = request.config_dict.get(CONTAINER_KEY)
    if container is None:
        raise InjectionError(
            f"no InjectQ container serves the aiohttp app of {request.path!r}: {_FIX}"
        )
    return container


def _serving_container(what: str) -> Any:
    container = _serving.get()
    if container is None:
        raise InjectionError(
            f"{what} runs outside a request scope of InjectQ's aiohttp middleware: {_FIX} "
            "(on the application or one it is a sub-application of)"
        )
    return container


@overload
async def aget_aiohttp(
    request: web.Request, service_type: ClassKey[T], name: str | None = None
) -> T: ...
@overload
async def aget_aiohttp(
    request: web.Request, service_type: Any, name: str | None = None
) -> Any: ...


async def aget_aiohttp(request: web.Request, service_type: Any, name: str | None = None) -> Any:
    """``service_type`` resolved in ``request``'s scope (async bindings awaited); ``name=``
    picks a named binding."""
    get_container_aiohttp(request)  # this app is set up: else say so
    return await _serving_container("aget_aiohttp()").aget(service_type, name)


def inject_aiohttp(
    handler: Callable[Concatenate[web.Request, P], Awaitable[R]],
) -> Callable[[web.Request], Awaitable[R]]:
    """Resolve the handler's parameters after ``request`` by their annotations, in the
    request's scope. Put it under the route decorator::

        @routes.get("/users/{user_id}")
        @inject_aiohttp
        async def show(request: web.Request, users: UserService) -> web.Response: ...

    Parameters with a default keep it unless a binding is marked (``Inject[T]``,
    ``Annotated[T, Named(...)]``), as with ``@inject``. To a type checker the result is
    a handler taking the request alone, as aiohttp's router expects.
    """
    if not inspect.iscoroutinefunction(handler):
        raise InjectionError(
            f"@inject_aiohttp on {handler.__qualname__}: aiohttp handlers are async "
            "functions (async def)"
        )
    injected = inject(handler)  # resolves from the current container: the request's
    what = f"@inject_aiohttp on {handler.__qualname__}"

    @functools.wraps(handler)
    async def serve(*args: Any, **kwargs: Any) -> Any:
        _serving_container(what)
        return await injected(*args, **kwargs)

    return cast("Callable[[web.Request], Awaitable[R]]", serve)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _middleware(container: Any, scope_name: str) -> Any:
    @web.middleware
    async def injectq_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
        serving = _serving.set(container)
        current = set_current(container)
        try:
            async with container.scope(scope_name):
                try:
                    return await handler(request)
                except web.HTTPException as exc:
                    if not is_answer(exc.status):
                        raise  # a 5xx: a failure, which the resources see
                    answer = exc  # a response, raised: the resources see a normal end
            raise answer
        finally:
            current.var.reset(current)
            _serving.reset(serving)

    return injectq_scope


def setup_aiohttp(
    container: Any,
    app: web.Application,
    *,
    scope_name: str = "request",
    close_on_shutdown: bool = True,
) -> None:
    """Serve ``app``'s requests, and those of its sub-applications, from ``container``
    (``InjectQ`` or a generated container).

    Each request runs inside its own ``container.scope(scope_name)``; with
    ``close_on_shutdown`` the container is closed (``aclose()``) on the app's cleanup.
    Call it once, before the app starts; an unknown scope name fails here.
    """
    if app.get(CONTAINER_KEY) is not None:
        raise InjectionError("setup_aiohttp was already called on this app: call it once")
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    app[CONTAINER_KEY] = container
    # outermost: the app's other middlewares run inside the request's scope too
    app.middlewares.insert(0, _middleware(container, scope_name))
    if close_on_shutdown:

        async def close_container(app: web.Application) -> None:
            await container.aclose()

        app.on_cleanup.append(close_container)
