"""InjectQ 0.5.0's scope managers and scope objects, over a container's own scopes.

A container keeps its scopes in a context variable (so one ``scope()`` works in threads
and asyncio tasks alike); a scope manager is a view of one container's scopes:
``scope_context(name)`` is ``container.scope(name)``, ``get_scope(name)`` the scope open
in this context, ``clear_scope(name)`` the container's ``clear_scope``. ``AsyncScope``
and ``HybridScope`` are 0.5.0's stand-alone scope objects, an instance table per context.
"""

from __future__ import annotations

import contextvars
import enum
import inspect
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any

from injectq.core._concurrency import ThreadSafeDict
from injectq.core._registry import Container, container_arg
from injectq.errors import ScopeError
from injectq.runtime.container import InjectQ
from injectq.runtime.creation import MISSING
from injectq.runtime.interface import ContainerInterface
from injectq.runtime.scopes import ScopeState
from injectq.utils.types import Scope

__all__ = [
    "AsyncScope",
    "AsyncScopeManager",
    "BaseScopeManager",
    "HybridScope",
    "ScopeManager",
    "create_enhanced_scope_manager",
    "get_scope_manager",
]

_LIFETIMES = ("singleton", "transient", "app")


class BaseScopeManager(ABC):
    """The interface of InjectQ 0.5.0's scope managers (``ScopeManager`` implements it):
    for code that annotates with it or writes its own."""

    @abstractmethod
    def register_scope(self, scope: Any) -> None:
        """Make a scope known to the manager."""

    @abstractmethod
    def get_scope(self, scope_name: str) -> Any:
        """The scope called ``scope_name``."""

    @abstractmethod
    def resolve_scope_name(self, scope: Any) -> str:
        """The name of a scope given by name, ``ScopeType`` or scope object."""

    @abstractmethod
    def scope_context(self, scope_name: Any) -> Any:
        """A ``with`` block that opens and closes the scope."""

    @abstractmethod
    def get_instance(
        self, key: Any, factory: Callable[[], Any], scope_name: str = "singleton"
    ) -> Any:
        """The instance of ``key`` in the scope, made by ``factory()`` when it has none."""

    @abstractmethod
    def clear_scope(self, scope_name: Any) -> None:
        """Forget the instances of one scope."""

    @abstractmethod
    def clear_all_scopes(self) -> None:
        """Forget the instances of every scope."""


# -- stand-alone scope objects ---------------------------------------------------------
class _Frame:
    """One entered ``AsyncScope``: its instances, and the frame it was entered inside."""

    __slots__ = ("outer", "table")

    def __init__(self, outer: _Frame | None) -> None:
        self.table: ThreadSafeDict[Any] = ThreadSafeDict()
        self.outer = outer


class AsyncScope(Scope):
    """A scope object of its own (InjectQ 0.5.0): between ``enter()`` and ``exit()`` (or
    in a ``with`` / ``async with`` block) ``get(key, factory)`` makes one instance per key
    and gives it back after. Its instances live in a context variable: each thread and
    each asyncio task started outside sees none of them; a task started inside the
    block shares them. Blocks nest: an inner block has its own instances, and the outer
    ones come back when it exits.

    Registered with a scope manager (``manager.register_scope(scope)``), it is entered
    and exited with the manager's ``scope_context(scope.name)`` and serves its
    ``get_instance``. ``get`` outside a block is a ``ScopeError``.
    """

    def __init__(self, name: str, thread_safe: bool = True) -> None:
        super().__init__(name, thread_safe)
        self._frame: contextvars.ContextVar[_Frame | None] = contextvars.ContextVar(
            f"injectq_scope_{name}", default=None
        )

    def _current(self, call: str) -> _Frame:
        frame = self._frame.get()
        if frame is None:
            raise ScopeError(
                f"{type(self).__name__}({self.name!r}).{call}: the scope is not entered in "
                f"this context; use `with scope:` (or `async with`), or call enter() first"
            )
        return frame

    @property
    def active(self) -> bool:
        """Whether the scope is entered in this context."""
        return self._frame.get() is not None

    def enter(self) -> None:
        """Start a new, empty set of instances (until ``exit()``)."""
        self._frame.set(_Frame(self._frame.get()))

    def exit(self) -> None:
        """Drop the instances of the innermost block; the outer block's come back."""
        self._frame.set(self._current("exit()").outer)

    def get(self, key: Any, factory: Callable[[], Any]) -> Any:
        """The instance of ``key`` in this block, made by ``factory()`` (once) when it
        has none."""
        return self._current("get()").table.get_or_create(key, factory)

    async def aget(self, key: Any, factory: Callable[[], Any]) -> Any:
        """``get``, awaiting what ``factory()`` returns when it is awaitable."""
        return await self._current("aget()").table.aget_or_create_async(key, factory)

    def clear(self) -> None:
        """Forget the instances of the innermost block (it stays entered)."""
        frame = self._frame.get()
        if frame is not None:
            frame.table.clear()

    def __enter__(self) -> AsyncScope:
        self.enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.exit()

    async def __aenter__(self) -> AsyncScope:
        self.enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.exit()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class HybridScope(AsyncScope):
    """InjectQ 0.5.0's scope for sync and async code at once. ``AsyncScope`` already is:
    a context variable keeps threads apart as it keeps tasks apart, so this is the same
    scope under 0.5.0's name."""


# -- scope managers --------------------------------------------------------------------
class _ManagedScope:
    """``container.scope(name)`` with a registered scope object entered inside it."""

    __slots__ = ("_hook", "_state")

    def __init__(self, state: ScopeState, hook: Scope) -> None:
        self._state = state
        self._hook = hook

    def __enter__(self) -> ScopeState:
        state = self._state.__enter__()
        try:
            self._hook.enter()
        except BaseException as exc:
            self._state.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return state

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._hook.exit()
        finally:
            self._state.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> ScopeState:
        state = await self._state.__aenter__()
        try:
            self._hook.enter()
        except BaseException as exc:
            await self._state.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return state

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._hook.exit()
        finally:
            await self._state.__aexit__(exc_type, exc, tb)


class _TableKey:
    """The key, in an open scope's instance cache, of what ``get_instance`` keeps there:
    apart from the container's own instances, and dropped with them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<get_instance() table>"


_TABLE = _TableKey()
_guard = threading.Lock()
# per container: what get_instance(..., "singleton") made
_singletons: weakref.WeakKeyDictionary[Any, ThreadSafeDict[Any]] = weakref.WeakKeyDictionary()
# where get_scope_manager() keeps a container's manager: on the container, as a weak
# table's value would keep its key alive
_MANAGER_ATTR = "_injectq_scope_manager"


def _singleton_table(container: Container) -> ThreadSafeDict[Any]:
    with _guard:
        table = _singletons.get(container)
        if table is None:
            table = _singletons[container] = ThreadSafeDict()
        return table


def _new_table(_: object) -> ThreadSafeDict[Any]:
    return ThreadSafeDict()


def _scope_table(state: ScopeState) -> ThreadSafeDict[Any]:
    table: ThreadSafeDict[Any] | None = state.cache.get(_TABLE)
    if table is not None and table is not MISSING:  # MISSING: being made, under the lock
        return table
    return state.create(_TABLE, _new_table, None)


class ScopeManager(BaseScopeManager):
    """The scopes of one container (``ScopeManager(container)``; with none, the one
    ``@inject`` would use: the context's container, else the global one).

    - ``scope_context(name)`` (also ``scope(name)``) is ``container.scope(name)``, for
      ``with`` and ``async with`` alike;
    - ``get_scope(name)`` is the ``ScopeState`` of that scope open in this context;
    - ``get_instance(key, factory, name)`` keeps ``factory()``'s result once per open
      scope (per container for ``"singleton"``; never for ``"transient"``), apart from
      what the container resolves: to resolve a binding, use ``container.get``;
    - ``clear_scope(name)`` / ``clear_all_scopes()`` are the container's;
    - ``register_scope(scope, parent="request")`` declares a custom scope
      (``container.declare_scope``); a scope object (``AsyncScope``, a ``Scope``
      subclass) is entered and exited with each ``scope_context`` of its name, serves
      ``get_instance`` in it and is cleared with it.

    ``thread_safe`` is accepted for InjectQ 0.5.0 code: scopes are always safe to share.
    """

    def __init__(self, container: ContainerInterface | None = None, thread_safe: bool = True
                 ) -> None:
        self.container: Container = (
            container_arg(container, "ScopeManager()") if container is not None
            else InjectQ.get_instance()
        )
        self.thread_safe = thread_safe
        self._objects: dict[str, Scope] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.container!r}>"

    # -- names -------------------------------------------------------------------------
    def resolve_scope_name(self, scope: Any) -> str:
        """The scope name of a string, a ``ScopeType`` (an enum whose value is the name)
        or a scope object (its ``name``); 0.5.0's ``"async_request"`` is ``"request"``,
        as in ``container.scope``."""
        if isinstance(scope, enum.Enum):
            scope = scope.value
        elif not isinstance(scope, str) and isinstance(getattr(scope, "name", None), str):
            scope = scope.name
        if not isinstance(scope, str) or not scope:
            raise ScopeError(
                f"invalid scope {scope!r}: give a scope name (such as 'request'), a "
                "ScopeType, or a scope object"
            )
        name = str.__str__(scope)
        if name in _LIFETIMES:
            return name
        return self.container.scope(name).name  # the container's own reading of a name

    def _known(self, name: str) -> bool:
        c = self.container
        if isinstance(c, InjectQ):
            return name in c.registry.scopes
        try:  # a generated container says so when a scope is opened
            with c.scope(name):
                pass
        except ScopeError:
            return False
        return True

    def register_scope(self, scope: Any, parent: str = "request") -> None:
        """Declare the scope ``scope`` names (a string or a scope object), nested in
        ``parent``, unless the container knows it; a scope object is plugged in under its
        name (replacing one registered before). A generated container's scopes were fixed
        when it was built: a name it does not know is a ``ScopeError``."""
        name = self.resolve_scope_name(scope)
        if name in _LIFETIMES:
            raise ScopeError(f"register_scope(): {name!r} is a lifetime, not a scope")
        if not self._known(name):
            c = self.container
            if not isinstance(c, InjectQ):
                raise ScopeError(
                    f"register_scope({name!r}): a generated container's scopes were fixed "
                    f"when it was built; declare it in a Module (declare_scope({name!r}, "
                    f"parent={parent!r})) and build again"
                )
            c.declare_scope(name, parent)
        if isinstance(scope, Scope):
            self._objects[name] = scope

    # -- opening -----------------------------------------------------------------------
    def scope_context(self, scope_name: Any) -> ScopeState | _ManagedScope:
        """``container.scope(name)``: ``with`` or ``async with`` it."""
        name = self.resolve_scope_name(scope_name)
        state = self.container.scope(name)  # refuses "singleton" and "transient"
        hook = self._objects.get(name)
        return state if hook is None else _ManagedScope(state, hook)

    def scope(self, scope_name: Any) -> ScopeState | _ManagedScope:
        """``scope_context`` under the container's name for it."""
        return self.scope_context(scope_name)

    def get_scope(self, scope_name: Any) -> ScopeState:
        """The scope called ``scope_name`` open in this context (``ScopeError`` when none
        is): its instances and the resources it will finalize."""
        name = self.resolve_scope_name(scope_name)
        if name in _LIFETIMES:
            raise ScopeError(
                f"get_scope({name!r}): {name!r} is a lifetime, not a scope; singletons live "
                "in the container itself"
            )
        state = self.container.current_scope(name)
        if state is None:
            raise ScopeError(
                f"get_scope({name!r}): no {name!r} scope is open in this context; open one "
                f"with `with container.scope({name!r}):`"
            )
        return state

    # -- instances ---------------------------------------------------------------------
    def get_instance(
        self, key: Any, factory: Callable[[], Any], scope_name: Any = "singleton"
    ) -> Any:
        """The instance of ``key`` kept in the scope, made by ``factory()`` (once) when it
        has none; ``"transient"`` calls ``factory()`` every time."""
        name = self.resolve_scope_name(scope_name)
        if name == "transient":
            return factory()
        obj = self._objects.get(name)
        if obj is not None:
            return obj.get(key, factory)
        return self._table(name).get_or_create(key, factory)

    async def aget_instance(
        self, key: Any, factory: Callable[[], Any], scope_name: Any = "singleton"
    ) -> Any:
        """``get_instance``, awaiting what ``factory()`` returns when it is awaitable."""
        name = self.resolve_scope_name(scope_name)
        if name == "transient":
            value = factory()
            if inspect.isawaitable(value):
                value = await value
            return value
        obj = self._objects.get(name)
        if obj is not None:
            return await obj.aget(key, factory)
        return await self._table(name).aget_or_create_async(key, factory)

    def _table(self, name: str) -> ThreadSafeDict[Any]:
        if name in _LIFETIMES:
            return _singleton_table(self.container)
        return _scope_table(self.get_scope(name))

    # -- clearing ----------------------------------------------------------------------
    def _forget(self, name: str | None) -> None:
        """What ``get_instance`` keeps outside the container's scopes."""
        if name is None or name in ("singleton", "app"):
            _singleton_table(self.container).clear()
        for obj_name, obj in self._objects.items():
            if name is None or obj_name == name:
                obj.clear()

    def clear_scope(self, scope_name: Any) -> None:
        """``container.clear_scope(name)``: the instances of the scope open in this
        context (and of the scopes open inside it) are dropped, their resources
        finalized; ``"singleton"`` clears the container's singletons."""
        name = self.resolve_scope_name(scope_name)
        self.container.clear_scope(name)
        self._forget(name)

    async def aclear_scope(self, scope_name: Any) -> None:
        """``clear_scope`` that finalizes async resources too."""
        name = self.resolve_scope_name(scope_name)
        await self.container.aclear_scope(name)
        self._forget(name)

    def clear_all_scopes(self) -> None:
        """``container.clear_all_scopes()``: every open scope's instances and the
        singletons."""
        self.container.clear_all_scopes()
        self._forget(None)

    async def aclear_all_scopes(self) -> None:
        await self.container.aclear_all_scopes()
        self._forget(None)


class AsyncScopeManager(ScopeManager):
    """``ScopeManager`` with InjectQ 0.5.0's ``async_scope_context``. Every scope manager
    serves async code (scopes live in context variables); this is the same one under
    0.5.0's name."""

    def async_scope_context(self, scope_name: Any) -> ScopeState | _ManagedScope:
        """``scope_context``, for ``async with``."""
        return self.scope_context(scope_name)


def get_scope_manager(container: ContainerInterface | None = None) -> ScopeManager:
    """The scope manager of ``container`` (with none, of the container ``@inject`` would
    use: the context's, else the global one); the same object on every call, so a scope
    object registered with it stays plugged in."""
    target = (
        container_arg(container, "get_scope_manager()") if container is not None
        else InjectQ.get_instance()
    )
    with _guard:
        manager = getattr(target, _MANAGER_ATTR, None)
        if not isinstance(manager, ScopeManager):
            manager = ScopeManager(target)
            setattr(target, _MANAGER_ATTR, manager)
        return manager


def create_enhanced_scope_manager(
    container: ContainerInterface | None = None,
) -> AsyncScopeManager:
    """A new ``AsyncScopeManager`` of ``container`` (as ``get_scope_manager`` picks it)."""
    return AsyncScopeManager(container)
