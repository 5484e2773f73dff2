"""The part of the container interface both containers share, written once.

``InjectQ`` (runtime) and ``GeneratedContainer`` (a generated ``_wiring.py``) differ in how
they resolve a key; scopes, overrides, ``try_get``, ``context()`` and closing work the
same way, and live here.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Generator
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar, overload

from injectq.errors import (
    AsyncResolutionError,
    CircularDependencyError,
    DependencyNotFoundError,
    ScopeError,
)
from injectq.model.arguments import check_key, check_name, scope_error, scope_text
from injectq.model.binding import ScopeType
from injectq.model.checks import async_step_problem, reentry_problem
from injectq.model.markers import ClassKey, Key
from injectq.model.recipe import Record, Source
from injectq.runtime import errorpath
from injectq.runtime.creation import Slot, closing
from injectq.runtime.overrides import Overrides
from injectq.runtime.scopes import (
    Finalizers,
    ScopeMap,
    ScopeState,
    arun_finalizers,
    run_finalizers,
)

__all__ = ["ContainerInterface", "close_unawaited", "current", "current_var", "set_current"]

_ASYNC_KINDS = ("async_factory", "async_generator", "awaitable")

T = TypeVar("T")
D = TypeVar("D")

# the container @inject resolves from in this context (None: the global one)
current_var: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "injectq_current_container", default=None
)


def current() -> Any:
    """The container ``@inject`` resolves from in this context, if one was set."""
    return current_var.get()


def set_current(container: Any) -> contextvars.Token[Any]:
    return current_var.set(container)


def close_unawaited(items: list[Any]) -> None:
    """Close coroutines bound as instances that were never awaited (no RuntimeWarning)."""
    for item in items:
        if getattr(item, "cr_frame", None) is not None:
            item.close()


_SCOPE_ALIASES = {"async_request": "request", "async_action": "action"}  # 0.5.0 names


class ContainerInterface:
    """Shared behaviour; a subclass provides get/aget/has/close/aclose and these fields.

    The lookups are typed by their key: a class, a Protocol or an ABC gives its instance
    type (``ClassKey``), any other key (a string, ``Annotated[...]``, a NewType) gives
    ``Any``. A subclass repeats the overloads of ``get`` and ``aget`` it implements.
    """

    scopes: contextvars.ContextVar[ScopeMap]
    # scope() argument -> (scope name, state factory), for names known to the container;
    # a subclass empties it when its scopes change
    _scope_cache: dict[Any, str]
    # bumped whenever bindings change: what @inject planned against older ones is redone
    _generation: int = 0
    finalizers: Finalizers
    _slots: dict[Any, Slot]  # where each singleton lives
    _overrides_engine: Overrides
    _awaitables: list[Any]  # coroutines bound as instances

    @overload
    def get(self, service_type: ClassKey[T], name: str | None = None) -> T: ...
    @overload
    def get(self, service_type: Any, name: str | None = None) -> Any: ...

    def get(self, service_type: Any, name: str | None = None) -> Any:
        raise NotImplementedError

    @overload
    async def aget(self, service_type: ClassKey[T], name: str | None = None) -> T: ...
    @overload
    async def aget(self, service_type: Any, name: str | None = None) -> Any: ...

    async def aget(self, service_type: Any, name: str | None = None) -> Any:
        raise NotImplementedError

    def has(self, service_type: Any, name: str | None = None) -> bool:
        raise NotImplementedError

    def _scope_known(self, name: str) -> bool:
        raise NotImplementedError

    def node_info(self, key: Key) -> Record | None:
        raise NotImplementedError

    def _forget_singletons(self) -> None:
        raise NotImplementedError

    # -- errors raised on the resolve path ---------------------------------------------
    def noscope(self, key: Key) -> NoReturn:
        node = self.node_info(key)
        assert node is not None
        raise errorpath.pathless(ScopeError(
            f"{node.label} is scoped to {node.scope!r} (bound at {node.site}), but no "
            f"{node.scope!r} scope is open: resolve it inside "
            f"`with container.scope({node.scope!r}):` (or `async with`)"
        ))

    def needs_async(self, key: Key) -> NoReturn:
        """``get`` reached a binding that needs an await: say which, and the path to it."""
        node = self.node_info(key)
        assert node is not None
        chain = [node]
        seen = {key}
        while chain[-1].kind not in _ASYNC_KINDS:
            nxt = None
            for edge, k in chain[-1].deps:
                info = self.node_info(k) if edge == Source.DEP and k not in seen else None
                if info is not None and info.is_async:
                    nxt = info
                    break
            if nxt is None:
                break
            seen.add(nxt.key)
            chain.append(nxt)
        raise AsyncResolutionError(async_step_problem(chain))

    def reentry(self, key: Key) -> NoReturn:
        raise CircularDependencyError(reentry_problem(key))

    # -- lookups -----------------------------------------------------------------------
    @overload
    def __getitem__(self, key: ClassKey[T]) -> T: ...
    @overload
    def __getitem__(self, key: Any) -> Any: ...

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return self.has(key)

    @overload
    def try_get(
        self, service_type: ClassKey[T], default: None = None, name: str | None = None
    ) -> T | None: ...
    @overload
    def try_get(
        self, service_type: ClassKey[T], default: D, name: str | None = None
    ) -> T | D: ...
    @overload
    def try_get(
        self, service_type: Any, default: Any = None, name: str | None = None
    ) -> Any: ...

    def try_get(self, service_type: Any, default: Any = None, name: str | None = None) -> Any:
        """``get``, or ``default`` when the key (or something it needs) is not bound."""
        try:
            return self.get(service_type, name)
        except DependencyNotFoundError:
            return default

    @overload
    async def atry_get(
        self, service_type: ClassKey[T], default: None = None, name: str | None = None
    ) -> T | None: ...
    @overload
    async def atry_get(
        self, service_type: ClassKey[T], default: D, name: str | None = None
    ) -> T | D: ...
    @overload
    async def atry_get(
        self, service_type: Any, default: Any = None, name: str | None = None
    ) -> Any: ...

    async def atry_get(
        self, service_type: Any, default: Any = None, name: str | None = None
    ) -> Any:
        try:
            return await self.aget(service_type, name)
        except DependencyNotFoundError:
            return default

    # -- scopes ------------------------------------------------------------------------
    def scope(self, scope_name: str | ScopeType = "request") -> ScopeState:
        """Open a scope: ``with container.scope():`` or ``async with container.scope():``."""
        try:
            name = self._scope_cache.get(scope_name)
        except TypeError:
            raise scope_error("scope()", scope_name) from None
        if name is not None:  # a name this container knows: checked once, not per request
            return ScopeState(name, self.scopes)
        name = scope_text(scope_name, "scope()")
        if name in ("singleton", "transient"):
            raise ScopeError(f"{name!r} is a lifetime, not a scope that can be opened")
        name = _SCOPE_ALIASES.get(name, name)
        if not self._scope_known(name):  # reported when opened (it may be declared first)
            return ScopeState(name, self.scopes, self._scope_known)
        self._scope_cache[scope_name] = name
        return ScopeState(name, self.scopes)

    def async_scope(self, scope_name: str | ScopeType = "request") -> ScopeState:
        """Same as ``scope()``; kept for InjectQ 0.5.0 code (``async with``)."""
        return self.scope(scope_name)

    def current_scope(self, name: str | None = None) -> ScopeState | None:
        """The open scope called ``name`` (the innermost one for None), if any."""
        try:
            return self.scopes.get().get(name)
        except TypeError:
            raise scope_error("current_scope()", name) from None

    def own(self, gen: Any) -> None:
        """A transient resource belongs to the innermost open scope, else the container."""
        state = self.scopes.get().get(None)
        (state.finalizers if state is not None else self.finalizers).add(gen)

    # -- context and overrides ---------------------------------------------------------
    @contextlib.contextmanager
    def context(self) -> Generator[Self, None, None]:
        """Make this the container ``@inject`` resolves from, for this block."""
        token = current_var.set(self)
        try:
            yield self
        finally:
            current_var.reset(token)

    def activate(self) -> None:
        current_var.set(self)

    def override(
        self, service_type: Any, override_value: Any, name: str | None = None
    ) -> contextlib.AbstractContextManager[Any]:
        """Replace a key for this block, in this context only (other threads and tasks are
        unaffected). Everything resolved inside that depends on the key, directly or not,
        is rebuilt with the replacement; singletons built outside stay untouched."""
        check_key(service_type, "override()")
        name = check_name(name, "override()")
        return self._overrides_engine.block(service_type, override_value, name)

    # -- closing -----------------------------------------------------------------------
    def close(self) -> None:
        """Finalize container-owned resources (singletons, stray transients), newest first,
        and forget the singletons: a finalized one is never handed out again."""
        close_unawaited(self._awaitables)
        with closing(self._slots.values()):  # creations under way complete first
            items = self.finalizers.take()
            self._forget_singletons()
        # async resources stay registered, so the aclose() the error asks for finishes them
        run_finalizers(items, "container", keep=self.finalizers)

    async def aclose(self) -> None:
        close_unawaited(self._awaitables)
        with closing(self._slots.values()):
            items = self.finalizers.take()
            self._forget_singletons()
        await arun_finalizers(items, "container")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
