"""Resources in InjectQ 0.5.0's style: ``@resource``, the resource manager, and the
``managed_resource`` / ``async_managed_resource`` context managers.

A ``@resource`` generator (or async generator) function is a factory both containers
already finalize: bind it (``bind_factory(Conn, open_conn).singleton()``) and the
container, or the scope that owns it, runs the code after its ``yield`` when it closes,
newest first. The resource manager is 0.5.0's hand-driven alternative: it turns each
resource it opens into a generator and closes them with the containers' finalizer code
(``run_finalizers``), so failures are handled the same way.
"""

from __future__ import annotations

import inspect
import itertools
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from typing import Any, TypeVar, overload

from injectq.errors import BindingError, ResourceError
from injectq.model.arguments import scope_text
from injectq.model.binding import ProviderKind, ScopeType, bind_site, classify_factory
from injectq.runtime.scopes import arun_finalizers, run_finalizers
from injectq.utils.logging import logger

__all__ = [
    "AsyncResourceLifecycle",
    "ResourceError",
    "ResourceLifecycle",
    "ResourceManager",
    "SyncResourceLifecycle",
    "async_managed_resource",
    "get_resource_manager",
    "managed_resource",
    "resource",
]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_opened = itertools.count()  # orders the manager's resources by when they were opened


def _label(factory: Any) -> str:
    module = getattr(factory, "__module__", None) or "?"
    return f"{module}.{getattr(factory, '__qualname__', None) or repr(factory)}"


def _entered(cm: AbstractContextManager[T]) -> Generator[T, None, None]:
    with cm as value:
        yield value


async def _aentered(cm: AbstractAsyncContextManager[T]) -> AsyncGenerator[T, None]:
    async with cm as value:
        yield value


def _finisher(result: Any, is_async: bool) -> Any:
    """What closes a factory's result, as a generator to run past its ``yield`` (the
    finalizers' unit): the generator it is, or one around the context manager it is;
    None for a plain value, which has nothing to close."""
    if inspect.isgenerator(result) or (is_async and inspect.isasyncgen(result)):
        return result
    cls: type[object] = result.__class__  # as `with` looks them up: a class is a value
    if is_async and hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__"):
        return _aentered(result)
    if hasattr(cls, "__enter__") and hasattr(cls, "__exit__"):
        return _entered(result)
    return None


class ResourceLifecycle(ABC):
    """One resource of the manager: opened once by ``initialize``, closed by ``shutdown``."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        kind = classify_factory(factory)
        self.factory = factory
        self.is_coroutine = kind is ProviderKind.ASYNC_FACTORY
        self.is_async_gen = kind is ProviderKind.ASYNC_GENERATOR
        self.is_async = kind.is_async
        self._initialized = False
        self._resource: Any = None
        self._closer: Any = None  # the generator that closes it (None: nothing to close)
        self.opened_at = -1  # the manager closes resources newest first

    @property
    def name(self) -> str:
        return _label(self.factory)

    @abstractmethod
    def initialize(self, *args: Any, **kwargs: Any) -> Any:
        """Open the resource (once: later calls give the same one) and return it."""

    def shutdown(self) -> None:
        """Close the resource; a no-op when it is not open."""
        items = self.detach()
        if items:
            run_finalizers(items, f"resource {self.name}")

    async def shutdown_async(self) -> None:
        """Close the resource, awaiting an async one; a no-op when it is not open."""
        items = self.detach()
        if items:
            await arun_finalizers(items, f"resource {self.name}")

    @property
    def initialized(self) -> bool:
        return self._initialized

    @property
    def resource(self) -> Any:
        """The open resource; a ``ResourceError`` when it is not open."""
        if not self._initialized:
            raise ResourceError(
                f"resource {self.name} is not open: open it first with its initialize(), or "
                "the resource manager's initialize_resource(name)"
            )
        return self._resource

    def _opened(self, value: Any, closer: Any) -> Any:
        self._resource, self._closer, self._initialized = value, closer, True
        self.opened_at = next(_opened)
        logger.debug("resource %s opened", self.name)
        return value

    def detach(self) -> list[Any]:
        """Forget the open resource and return what closes it, for the finalizers to run
        (empty when it is not open, or has nothing to close)."""
        if not self._initialized:
            return []
        closer = self._closer
        self._resource = self._closer = None
        self._initialized = False
        logger.debug("resource %s closed", self.name)
        return [closer] if closer is not None else []

    def _failed(self, exc: Exception) -> ResourceError:
        return ResourceError(f"resource {self.name} failed to open: {exc!r}")

    def _no_yield(self) -> ResourceError:
        return ResourceError(f"resource {self.name} returned without yielding an instance")


class SyncResourceLifecycle(ResourceLifecycle):
    """A resource opened by a plain call: a generator, a context manager or a value."""

    def initialize(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialized:
            return self._resource
        try:
            result = self.factory(*args, **kwargs)
            closer = _finisher(result, is_async=False)
            value = result if closer is None else next(closer)
        except StopIteration:
            raise self._no_yield() from None
        except Exception as exc:
            raise self._failed(exc) from exc
        return self._opened(value, closer)


class AsyncResourceLifecycle(ResourceLifecycle):
    """A resource opened with ``await``: an async generator, an async function's result
    (an async context manager, a context manager or a value)."""

    async def initialize(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialized:
            return self._resource
        try:
            result = self.factory(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            closer = _finisher(result, is_async=True)
            if closer is None:
                value = result
            elif inspect.isasyncgen(closer):
                value = await anext(closer)
            else:
                value = next(closer)
        except (StopIteration, StopAsyncIteration):
            raise self._no_yield() from None
        except Exception as exc:
            raise self._failed(exc) from exc
        return self._opened(value, closer)

    def shutdown(self) -> None:
        raise ResourceError(
            f"resource {self.name} is async: close it with `await lifecycle.shutdown_async()` "
            "or `await get_resource_manager().shutdown_all_async()`"
        )


class ResourceManager:
    """The resources ``@resource`` registered, by name (``module.qualname`` of the
    function), opened and closed by hand (InjectQ 0.5.0's API). Bound in a container
    instead, a ``@resource`` generator is opened and closed by the container."""

    def __init__(self) -> None:
        self._resources: dict[str, ResourceLifecycle] = {}

    def register_resource(self, name: str, lifecycle: ResourceLifecycle) -> None:
        self._resources[name] = lifecycle

    def get_resource(self, name: str) -> ResourceLifecycle | None:
        return self._resources.get(name)

    def _known(self, name: str) -> ResourceLifecycle:
        lifecycle = self._resources.get(name)
        if lifecycle is None:
            raise ResourceError(
                f"no resource is registered as {name!r}: a resource's name is the module and "
                "qualified name of the function decorated with @resource(), e.g. "
                "'app.db.open_connection'"
            )
        return lifecycle

    def initialize_resource(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Open a sync resource (``args`` go to its function) and return it."""
        lifecycle = self._known(name)
        if lifecycle.is_async:
            raise ResourceError(
                f"resource {name} is async: open it with "
                f"`await get_resource_manager().initialize_async_resource({name!r})`"
            )
        return lifecycle.initialize(*args, **kwargs)

    async def initialize_async_resource(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Open a resource, sync or async, and return it."""
        lifecycle = self._known(name)
        if not lifecycle.is_async:
            return lifecycle.initialize(*args, **kwargs)
        return await lifecycle.initialize(*args, **kwargs)

    def shutdown_resource(self, name: str) -> None:
        """Close a sync resource (a no-op when it is not open)."""
        lifecycle = self._known(name)
        if lifecycle.initialized:
            lifecycle.shutdown()

    async def shutdown_async_resource(self, name: str) -> None:
        """Close a resource, sync or async (a no-op when it is not open)."""
        await self._known(name).shutdown_async()

    def _take(self, sync_only: bool) -> list[Any]:
        open_ones = [
            lc for lc in self._resources.values()
            if lc.initialized and not (sync_only and lc.is_async)
        ]
        open_ones.sort(key=lambda lc: lc.opened_at)
        return [item for lc in open_ones for item in lc.detach()]

    def shutdown_all(self) -> None:
        """Close every open sync resource, newest first; all are closed even when some
        fail, and the failures are raised together (``ResourceCleanupError``)."""
        items = self._take(sync_only=True)
        if items:
            run_finalizers(items, "the resource manager")

    async def shutdown_all_async(self) -> None:
        """Close every open resource, sync and async, newest first (as ``shutdown_all``)."""
        items = self._take(sync_only=False)
        if items:
            await arun_finalizers(items, "the resource manager")


_manager = ResourceManager()


def get_resource_manager() -> ResourceManager:
    """The process-wide manager ``@resource`` registers into."""
    return _manager


def _mark(fn: F, scope: str) -> F:
    if not callable(fn):
        raise BindingError(f"@resource decorates a function or a class, got {fn!r}")
    lifecycle = (AsyncResourceLifecycle if classify_factory(fn).is_async
                 else SyncResourceLifecycle)(fn)
    name = _label(fn)
    # InjectQ 0.5.0's marks, which code written for it may read
    marks = {"_is_resource": True, "_resource_name": name, "_resource_scope": scope,
             "_resource_lifecycle": lifecycle}
    try:
        for attr, value in marks.items():
            setattr(fn, attr, value)
    except AttributeError:
        raise BindingError(
            f"@resource cannot mark {fn!r}: it takes no attributes; decorate a function or "
            "a class"
        ) from None
    _manager.register_resource(name, lifecycle)
    return fn


@overload
def resource(scope: F) -> F: ...
@overload
def resource(scope: str | ScopeType = "singleton") -> Callable[[F], F]: ...


def resource(scope: Any = "singleton") -> Any:
    """Mark a function as a resource: ``@resource``, ``@resource()`` or
    ``@resource("request")``. The function is returned as it is.

    A generator or async generator function yields the resource and closes it after the
    ``yield``. Bound in a container (``bind_factory(Conn, open_conn).singleton()``, or a
    ``ProviderModule`` method), it is closed when its owner closes: the container for a
    singleton, the scope for a scoped one. ``get_resource_manager()`` opens and closes it
    by hand instead, and also takes a function returning a context manager (entered on
    open, exited on close) or a plain value (nothing to close).
    """
    if callable(scope) and not isinstance(scope, str):
        return _mark(scope, "singleton")
    name = scope_text(scope, "@resource()", bind_site())

    def decorate(fn: F) -> F:
        return _mark(fn, name)

    return decorate


@contextmanager
def managed_resource(
    factory: Callable[[], T], cleanup: Callable[[T], object] | None = None
) -> Generator[T, None, None]:
    """``with managed_resource(open_file, close_file) as f:``: ``factory()`` on entry,
    ``cleanup(resource)`` on exit, also when the block raises."""
    value = factory()
    try:
        yield value
    finally:
        if cleanup is not None:
            cleanup(value)


@asynccontextmanager
async def _amanaged(
    factory: Callable[[], Any], cleanup: Callable[[Any], object] | None
) -> AsyncGenerator[Any, None]:
    value = factory()
    if inspect.isawaitable(value):
        value = await value
    try:
        yield value
    finally:
        if cleanup is not None:
            done = cleanup(value)
            if inspect.isawaitable(done):
                await done


@overload
def async_managed_resource(
    factory: Callable[[], Awaitable[T]], cleanup: Callable[[T], object] | None = None
) -> AbstractAsyncContextManager[T]: ...
@overload
def async_managed_resource(
    factory: Callable[[], T], cleanup: Callable[[T], object] | None = None
) -> AbstractAsyncContextManager[T]: ...


def async_managed_resource(
    factory: Callable[[], Any], cleanup: Callable[[Any], object] | None = None
) -> AbstractAsyncContextManager[Any]:
    """``async with async_managed_resource(connect, disconnect) as conn:``: as
    ``managed_resource``, awaiting what ``factory`` and ``cleanup`` return when it is
    awaitable (async functions)."""
    return _amanaged(factory, cleanup)
