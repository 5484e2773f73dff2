"""Django: one scope per request and per management command.

The container comes from ``setup_django(container)`` (called once at startup: in
``settings.py`` or an ``AppConfig.ready()``) or from the setting ``INJECTQ_CONTAINER``
(the container, or the dotted path to it); ``INJECTQ_SCOPE`` names the scope, default
``"request"``.

``InjectQMiddleware`` (in ``MIDDLEWARE``, sync and async capable) runs each request
inside its own ``container.scope(scope_name)`` with the container current (``@inject``
resolves from it) and closes it when the response is done, finalizing its resources
newest first, also when the view raised. A streaming response's scope stays open while
its body streams and closes when the body ends or the response is closed; a
``FileResponse`` of a file, served by a WSGI server, is sent as it is (with the server's
``wsgi.file_wrapper``, sendfile where there is one), and its scope closes when the
response is closed. Django turns
a view's exception into a response before it gets back to a middleware: the middleware's
``process_exception`` (and ``@inject_django``) note it, so it is still thrown into the
scope's generator resources at their ``yield``, as in a ``with`` block, except what Django
answers below 500 (``Http404``, ``PermissionDenied``, ``BadRequest``,
``SuspiciousOperation``): an answer, which the resources see as a normal end. Views ask
for dependencies with

- ``@inject_django`` under the URL-routed view (a function view, or a method of a
  class-based view): the parameters Django does not pass (the request, the URL's
  arguments) are resolved by their annotations in the request's scope, so ``svc:
  Service`` is a ``Service`` to a type checker; or
- ``get_django(Service)`` anywhere a request or a command is under way, typed as
  ``Service``.

``@inject_command`` on a management command's ``handle`` gives each invocation a scope of
its own, closed when ``handle`` returns or raises (the exception is thrown into the
resources and then reaches Django unchanged).

Works with the runtime ``InjectQ`` and a generated container alike. Needs Django:
``pip install 'injectq[django]'``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast, overload

try:
    from asgiref.sync import (
        async_to_sync,
        iscoroutinefunction,
        markcoroutinefunction,
        sync_to_async,
    )
    from django.conf import settings  # type: ignore[import-untyped]
    from django.core.exceptions import (  # type: ignore[import-untyped]
        BadRequest,
        PermissionDenied,
        SuspiciousOperation,
    )
    from django.core.signals import setting_changed  # type: ignore[import-untyped]
    from django.http import Http404  # type: ignore[import-untyped]
    from django.http.multipartparser import (  # type: ignore[import-untyped]
        MultiPartParserError,
    )
    from django.utils.module_loading import import_string  # type: ignore[import-untyped]
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.django needs Django: pip install 'injectq[django]' "
        "(or pip install django)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._http import is_answer
from injectq.model.markers import ClassKey
from injectq.runtime.inject import inject
from injectq.runtime.interface import set_current

__all__ = [
    "InjectQMiddleware",
    "get_container_django",
    "get_django",
    "inject_command",
    "inject_django",
    "setup_django",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# the settings a project may configure the integration with instead of setup_django
CONTAINER_SETTING = "INJECTQ_CONTAINER"
SCOPE_SETTING = "INJECTQ_SCOPE"
# on the request: the _Unit its scope belongs to (process_exception is given the request)
REQUEST_ATTRIBUTE = "_injectq_unit"
MIDDLEWARE_PATH = "injectq.integrations.django.InjectQMiddleware"

_HOW = (
    f"call setup_django(container) once at startup (in settings.py or an AppConfig.ready()), "
    f"or set {CONTAINER_SETTING} = 'package.module.container' in the settings"
)

# the (container, scope name) that setup_django was given, once called
_setup: list[tuple[Any, str]] = []
_lock = threading.Lock()
# INJECTQ_CONTAINER/INJECTQ_SCOPE values -> (container, scope name), checked once each
_from_settings: dict[tuple[Any, Any], tuple[Any, str]] = {}


def _forget_settings(*, setting: str, **extra: Any) -> None:
    # override_settings (tests) changed a setting: read it again
    if setting in (CONTAINER_SETTING, SCOPE_SETTING):
        _from_settings.clear()


cast("Any", setting_changed).connect(
    _forget_settings, weak=False, dispatch_uid="injectq_settings"
)


def _check_scope(container: Any, scope_name: Any, where: str) -> str:
    """``scope_name``, once ``container`` is a container that knows that scope."""
    if not all(callable(getattr(container, name, None)) for name in ("scope", "get")):
        raise InjectionError(
            f"{where}: {container!r} is not an InjectQ container; give an InjectQ() or a "
            "generated Container()"
        )
    if not isinstance(scope_name, str):
        raise InjectionError(f"{where}: the scope name must be a str, got {scope_name!r}")
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    return scope_name


def _configured(what: str) -> tuple[Any, str]:
    """(container, scope name) the project is set up with; else say how to set it up."""
    setup = _setup[0] if _setup else None
    if not settings.configured:
        if setup is not None:
            return setup
        raise InjectionError(
            f"{what}: Django's settings are not configured (set DJANGO_SETTINGS_MODULE or "
            f"call settings.configure()), and no InjectQ container serves Django: {_HOW}"
        )
    value = getattr(settings, CONTAINER_SETTING, None)
    if setup is not None:
        for setting, names in ((CONTAINER_SETTING, "a container"), (SCOPE_SETTING, "a scope")):
            if hasattr(settings, setting):
                raise InjectionError(
                    f"{what}: both setup_django(container) and settings.{setting} name "
                    f"{names}: keep one of them"
                )
        return setup
    if value is None:
        raise InjectionError(f"{what}: no InjectQ container serves Django: {_HOW}")
    scope_name = getattr(settings, SCOPE_SETTING, "request")
    key = (value if isinstance(value, str) else id(value), scope_name)
    found = _from_settings.get(key)
    if found is None:
        container = value
        if isinstance(value, str):
            try:
                container = import_string(value)
            except ImportError as exc:
                raise InjectionError(
                    f"{what}: settings.{CONTAINER_SETTING} = {value!r} could not be "
                    f"imported ({exc}); name the container as 'package.module.attribute'"
                ) from exc
        where = (
            f"{what}: settings.{CONTAINER_SETTING} = {value!r}, "
            f"{SCOPE_SETTING} = {scope_name!r}"
        )
        found = (container, _check_scope(container, scope_name, where))
        _from_settings[key] = found
    return found


class _Unit:
    """One unit of work: a request or a command invocation, in its open scope, with the
    container current; and the first failure of its handler that Django answered."""

    __slots__ = ("closed", "container", "error", "is_async", "scope", "tokens")

    def __init__(self, container: Any, scope: Any, is_async: bool) -> None:
        self.container = container
        self.scope = scope
        self.is_async = is_async
        self.error: BaseException | None = None
        self.closed = False
        self.tokens: tuple[contextvars.Token[Any], contextvars.Token[Any]] | None = None

    def enter(self) -> None:
        self.tokens = (set_current(self.container), _unit.set(self))

    def record(self, exc: BaseException) -> None:
        """Note the handler's exception, which Django answers: the scope ends with it,
        unless Django answers it below 500."""
        if self.error is None and not is_answer(_status(exc)):
            self.error = exc

    def _leave(self, exc: BaseException | None) -> BaseException | None:
        self.closed = True
        if self.tokens is not None:
            for token in self.tokens:
                # closed in another context than the one it opened in: nothing to reset
                with contextlib.suppress(ValueError):
                    token.var.reset(token)
        return exc if exc is not None else self.error

    def close(self, exc: BaseException | None = None) -> None:
        if self.closed:
            return
        end = self._leave(exc)
        self.scope.__exit__(type(end) if end is not None else None, end, None)

    async def aclose(self, exc: BaseException | None = None) -> None:
        if self.closed:
            return
        end = self._leave(exc)
        await self.scope.__aexit__(type(end) if end is not None else None, end, None)


# the unit of work under way in this context
_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar(
    "injectq_django_unit", default=None
)


def _status(exc: BaseException) -> int | None:
    """The status Django answers ``exc`` with itself, when below 500 (else None)."""
    if isinstance(exc, Http404):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, MultiPartParserError | BadRequest | SuspiciousOperation):
        return 400
    return None


class _SyncBody:
    """A streaming response's body that closes the request's scope when it ends (with
    what it raised) or when the response is closed (the server is done with it)."""

    def __init__(self, parts: Iterator[Any], unit: _Unit) -> None:
        self.parts = parts
        self.unit = unit

    def __iter__(self) -> _SyncBody:
        return self

    def __next__(self) -> Any:
        try:
            return next(self.parts)
        except StopIteration:
            self.unit.close()
            raise
        except BaseException as exc:
            self.unit.close(exc)
            raise

    def close(self) -> None:
        self.unit.close()


_END = object()


def _next_or_end(parts: Iterator[Any]) -> Any:
    return next(parts, _END)


class _AsyncBody:
    """``_SyncBody`` for a response served asynchronously; a sync body's parts are made
    in a worker thread, one at a time, so the scope closes on the event loop."""

    def __init__(self, parts: Any, unit: _Unit) -> None:
        self.parts = parts
        self.unit = unit
        self.next_sync = (
            None if hasattr(parts, "__anext__")
            else sync_to_async(_next_or_end, thread_sensitive=True)
        )

    def __aiter__(self) -> _AsyncBody:
        return self

    async def _next(self) -> Any:
        if self.next_sync is not None:
            return await self.next_sync(self.parts)
        try:
            return await self.parts.__anext__()
        except StopAsyncIteration:
            return _END

    async def __anext__(self) -> Any:
        try:
            part = await self._next()
        except BaseException as exc:
            await self.unit.aclose(exc)
            raise
        if part is _END:
            await self.unit.aclose()
            raise StopAsyncIteration
        return part

    def close(self) -> None:
        # the response closed before its body ended
        if self.unit.closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a worker thread (Django's ASGI handler): on the event loop
            async_to_sync(self.unit.aclose)()
            return
        task = loop.create_task(self.unit.aclose())  # on the loop (the async test client)
        _closing.add(task)
        task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task[None]] = set()  # the tasks close() started, until they are done


def _close_scope_with(response: Any, unit: _Unit) -> None:
    """Close ``unit``'s scope when ``response`` is closed (after what it closes itself)."""
    close_response = response.close

    def close() -> None:
        try:
            close_response()
        finally:
            unit.close()

    response.close = close


class InjectQMiddleware:
    """Run each request in a scope of its own (see the module docstring). Put it near the
    top of ``settings.MIDDLEWARE``: the scope encloses the middleware below it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.container, self.scope_name = _configured(MIDDLEWARE_PATH)
        # asgiref's, deprecated for Python 3.14's inspect, which before 3.12 does not see
        # markcoroutinefunction: Django marks an async get_response with it
        self.is_async = iscoroutinefunction(get_response)  # pyright: ignore[reportDeprecated]
        if self.is_async:
            markcoroutinefunction(self)

    def _open(self, request: Any, is_async: bool) -> _Unit:
        unit = _Unit(self.container, self.container.scope(self.scope_name), is_async)
        unit.scope.__enter__()
        unit.enter()
        setattr(request, REQUEST_ATTRIBUTE, unit)
        return unit

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        unit = self._open(request, False)
        try:
            response = self.get_response(request)
        except BaseException as exc:
            unit.close(exc)
            raise
        if getattr(response, "file_to_stream", None) is not None:
            # a FileResponse of a file: left whole, so that a WSGI server sends it with
            # its wsgi.file_wrapper (sendfile); the scope closes when the server closes
            # the response, which Django sees to also then
            _close_scope_with(response, unit)
        elif getattr(response, "streaming", False):
            if response.is_async:
                response.streaming_content = _AsyncBody(response.streaming_content, unit)
            else:
                response.streaming_content = _SyncBody(iter(response.streaming_content), unit)
        else:
            unit.close()
        return response

    async def __acall__(self, request: Any) -> Any:
        unit = self._open(request, True)
        try:
            response = await self.get_response(request)
        except BaseException as exc:
            await unit.aclose(exc)
            raise
        if getattr(response, "streaming", False):
            response.streaming_content = _AsyncBody(response.streaming_content, unit)
        else:
            await unit.aclose()
        return response

    def process_exception(self, request: Any, exception: BaseException) -> None:
        """Django is turning the view's exception into a response: the scope ends with it."""
        unit = cast("_Unit | None", getattr(request, REQUEST_ATTRIBUTE, None))
        if unit is not None:
            unit.record(exception)


def _under_way(what: str) -> _Unit:
    unit = _unit.get()
    if unit is None:
        raise InjectionError(
            f"no Django request or management command is under way: {what} resolves in "
            f"the scope of a request served through {MIDDLEWARE_PATH} (add it to "
            "settings.MIDDLEWARE) or of a command whose handle() is decorated with "
            "@inject_command"
        )
    return unit


def get_container_django() -> Any:
    """The container serving the request or command under way, else the one the project
    is set up with."""
    unit = _unit.get()
    if unit is not None:
        return unit.container
    return _configured("get_container_django()")[0]


@overload
def get_django(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def get_django(service_type: Any, name: str | None = None) -> Any: ...


def get_django(service_type: Any, name: str | None = None) -> Any:
    """``service_type`` resolved in the scope of the request or command under way;
    ``name=`` picks a named binding."""
    return _under_way("get_django()").container.get(service_type, name)


def inject_django(view: F) -> F:
    """Resolve the view's parameters that Django leaves out (all but the request and the
    URL's arguments) by their annotations, in the request's scope::

        @inject_django
        def show(request: HttpRequest, user_id: int, users: UserService) -> HttpResponse: ...

    Also on a class-based view's methods (``get``, ``post``). Parameters with a default
    keep it unless a binding is marked (``Inject[T]``, ``Annotated[T, Named(...)]``), as
    with ``@inject``. An async view needs the project served through ASGI.
    """
    injected = inject(view)  # resolves from the current container: the request's
    where = f"@inject_django on {view.__qualname__}"

    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def aserve(*args: Any, **kwargs: Any) -> Any:
            unit = _under_way(where)
            if not unit.is_async:
                raise InjectionError(
                    f"{where}: this request is served through WSGI, where Django runs an "
                    "async view in an event loop of its own for the call and the request's "
                    "async resources could not be finalized; serve the project through ASGI "
                    "(asgi.py, with uvicorn or daphne) or make it a sync view"
                )
            try:
                return await injected(*args, **kwargs)
            except Exception as exc:
                unit.record(exc)
                raise

        return cast("F", aserve)

    @functools.wraps(view)
    def serve(*args: Any, **kwargs: Any) -> Any:
        unit = _under_way(where)
        try:
            return injected(*args, **kwargs)
        except Exception as exc:  # noted here too: another middleware may answer it first
            unit.record(exc)
            raise

    return cast("F", serve)


def inject_command(handle: F) -> F:
    """Run a management command's ``handle`` in a scope of its own and resolve its
    parameters that Django does not pass (all but the command's arguments and options)
    by their annotations::

        class Command(BaseCommand):
            def add_arguments(self, parser: CommandParser) -> None:
                parser.add_argument("user_id")

            @inject_command
            def handle(self, *args: Any, user_id: str, users: UserService, **options: Any) -> None:
                ...

    The scope closes when ``handle`` returns or raises; what it raised (``CommandError``,
    ``SystemExit``, any error) is thrown into the generator resources at their ``yield``
    and then reaches Django unchanged. A command called (``call_command``) while a request
    or another decorated command of the same container is under way runs in its scope.
    """
    if inspect.iscoroutinefunction(handle):
        raise InjectionError(
            f"@inject_command on async function {handle.__qualname__}: Django calls a "
            "command's handle() without awaiting it; make it a sync method"
        )
    injected = inject(handle)
    where = f"@inject_command on {handle.__qualname__}"

    @functools.wraps(handle)
    def run(*args: Any, **kwargs: Any) -> Any:
        container, scope_name = _configured(where)
        outer = _unit.get()
        if outer is not None and outer.container is container:
            return injected(*args, **kwargs)
        unit = _Unit(container, container.scope(scope_name), False)
        unit.scope.__enter__()
        unit.enter()
        try:
            result = injected(*args, **kwargs)
        except BaseException as exc:
            unit.close(exc)
            raise
        unit.close()
        return result

    return cast("F", run)


def setup_django(container: Any, *, scope_name: str = "request") -> None:
    """Serve the Django project's requests (through ``InjectQMiddleware``) and its
    ``@inject_command`` commands from ``container`` (``InjectQ`` or a generated container).

    Call it once, at startup, before the first request or command: in ``settings.py`` or
    an ``AppConfig.ready()`` (``wsgi.py``/``asgi.py`` are not run by management commands).
    An unknown scope name fails here. Django has no shutdown hook: close the container when
    the server stops (``container.close()``).
    """
    _check_scope(container, scope_name, "setup_django")
    with _lock:
        if _setup:
            raise InjectionError(
                "setup_django was already called: call it once, at startup (in settings.py "
                "or an AppConfig.ready())"
            )
        _setup.append((container, scope_name))
