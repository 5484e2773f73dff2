"""The part of the container interface both containers share, written once.

``InjectQ`` (runtime) and ``GeneratedContainer`` (a generated ``_wiring.py``) differ in how
they resolve a key; scopes, overrides, ``try_get``, ``context()``, closing, clearing scopes
and InjectQ 0.5.0's parameterized factories (``get_factory``, ``call_factory``, the
``factories`` mapping) work the same way, and live here.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import time
from _thread import get_ident
from collections.abc import Callable, Generator, Iterator, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Self, TypeVar, overload

from injectq.errors import (
    AsyncResolutionError,
    CircularDependencyError,
    DependencyNotFoundError,
    FactoryCallError,
    Problem,
    ResourceCleanupError,
    ScopeError,
)
from injectq.model.arguments import check_key, check_name, scope_error, scope_text
from injectq.model.binding import ScopeType
from injectq.model.checks import async_step_problem, reentry_problem
from injectq.model.markers import ClassKey, Key, display_key
from injectq.model.recipe import Record, Source
from injectq.runtime import errorpath
from injectq.runtime.creation import (
    MISSING,
    Slot,
    aenter_resource,
    closing,
    enter_resource,
)
from injectq.runtime.overrides import Overrides
from injectq.runtime.scopes import (
    Finalizers,
    ScopeMap,
    ScopeState,
    arun_finalizers,
    run_finalizers,
)

__all__ = [
    "FACTORY_KINDS",
    "ContainerInterface",
    "FactoryCallError",
    "FactoryEntry",
    "Factories",
    "close_unawaited",
    "current",
    "current_var",
    "set_current",
]

_ASYNC_KINDS = ("async_factory", "async_generator", "awaitable")

if TYPE_CHECKING:
    from injectq.diagnostics.visualization import DependencyVisualizer

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

# the provider kinds a binding calls to make its instance: what ``factories`` holds
FACTORY_KINDS = frozenset({"class", "factory", "async_factory", "generator", "async_generator"})
_AWAITED_KINDS = frozenset({"async_factory", "async_generator"})


class FactoryEntry(NamedTuple):
    """What a container knows of the binding ``get_factory()`` asks about."""

    key: Key
    kind: str  # the provider kind: "factory", "class", "instance", ...
    provider: Any
    site: str


def _argument_problem(provider: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                      ) -> tuple[str, str | None] | None:
    """Why ``provider(*args, **kwargs)`` cannot bind its arguments, and the parameter at
    fault; None when they do bind (the TypeError came from elsewhere). Read only after a
    call failed: nothing here is on the path of a call that works."""
    try:
        signature = inspect.signature(provider)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to add
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        reason = str(exc)
    else:
        return None
    params = signature.parameters
    takes_any_keyword = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for name in kwargs:
        if name not in params and not takes_any_keyword:
            return f"it takes no parameter {name!r}", name
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return reason, None  # too many positional arguments, or a value given twice
    missing = [
        p.name for p in params.values()
        if p.name not in bound.arguments and p.default is p.empty
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if not missing:
        return reason, None
    names = ", ".join(repr(m) for m in missing)
    return f"missing argument{'s' if len(missing) > 1 else ''} {names}", missing[0]


def _raise_errors(errors: list[Exception], interrupt: BaseException | None, what: str) -> None:
    """Several owners were finalized one after the other: raise what they raised (an
    interrupt first, once every owner ran; one failure as itself; more together)."""
    if interrupt is not None:
        raise interrupt
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ResourceCleanupError(
            f"finalizers of {len(errors)} owners failed while {what}; all finalizers ran",
            errors,
        )


class Factories(MutableMapping[Any, Callable[..., Any]]):
    """``container.factories``: the container's factory bindings as a mapping (InjectQ
    0.5.0). ``factories[key]`` is the class or function bound to ``key`` (``KeyError`` when
    ``key`` is bound to none); ``factories[key] = fn`` is ``bind_factory(key, fn)``,
    replacing what was bound as a dict assignment does; ``del factories[key]`` removes
    the binding; ``key in factories``, ``len()`` and iteration see every binding whose
    provider is called to make its instance (classes, factories, generators). A generated
    container's mapping is read-only: its bindings were fixed when it was built."""

    __slots__ = ("_container",)

    def __init__(self, container: ContainerInterface) -> None:
        self._container = container

    def __getitem__(self, key: Any) -> Callable[..., Any]:
        entry = self._container.factory_entry(key, "factories[key]")
        if entry is None or entry.kind not in FACTORY_KINDS:
            raise KeyError(key)
        provider: Callable[..., Any] = entry.provider
        return provider

    def __setitem__(self, key: Any, factory: Callable[..., Any]) -> None:
        self._container.set_factory(key, factory)

    def __delitem__(self, key: Any) -> None:
        entry = self._container.factory_entry(key, "del factories[key]")
        if entry is None or entry.kind not in FACTORY_KINDS:
            raise KeyError(key)
        self._container.remove_factory(key)

    def __contains__(self, key: object) -> bool:
        entry = self._container.factory_entry(key, "key in factories")
        return entry is not None and entry.kind in FACTORY_KINDS

    def __iter__(self) -> Iterator[Any]:
        return iter(self._container.factory_keys())

    def __len__(self) -> int:
        return len(self._container.factory_keys())

    def __repr__(self) -> str:
        return f"<factories of {self._container!r}: {len(self)}>"


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

    def factory_entry(self, key: Any, call: str) -> FactoryEntry | None:
        """The explicit binding of ``key``, for ``get_factory`` and ``factories``."""
        raise NotImplementedError

    def factory_keys(self) -> list[Any]:
        raise NotImplementedError

    def set_factory(self, key: Any, factory: Callable[..., Any]) -> None:
        raise NotImplementedError

    def remove_factory(self, key: Any) -> None:
        raise NotImplementedError

    def _unknown_factory(self, key: Any, call: str) -> DependencyNotFoundError:
        raise NotImplementedError

    def _scope_ancestors(self, name: str) -> list[str]:
        """``name`` and every scope that outlives it, innermost first."""
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

    # -- parameterized factories (InjectQ 0.5.0) --------------------------------------
    @property
    def factories(self) -> Factories:
        """The factory bindings as a mapping: ``container.factories[key] = fn`` binds one,
        ``container.factories[key]`` is the function or class bound (see ``Factories``)."""
        return Factories(self)

    def _factory(self, service_type: Any, call: str) -> FactoryEntry:
        """The binding ``call`` calls: a factory binding (a class, a function, a generator),
        or a callable bound as a value (``bind(key, fn)``: how a function that takes only
        its callers' arguments is bound without the graph checking its parameters)."""
        entry = self.factory_entry(service_type, call)
        if entry is None:
            raise self._unknown_factory(service_type, call)
        if entry.kind in FACTORY_KINDS or (entry.kind == "instance" and callable(entry.provider)):
            return entry
        label = display_key(entry.key)
        what = (
            "an awaitable" if entry.kind == "awaitable"
            else f"a value (an instance of {type(entry.provider).__qualname__})"
        )
        err = DependencyNotFoundError(Problem(
            code="IQ001",
            name="missing-binding",
            message=f"{call}: {label} is bound to {what}, not to a factory",
            site=entry.site,
            key=label,
            help=(
                f"get the value with get({label}); to call a function with your arguments, "
                f"bind it with bind_factory({label}, fn)"
            ),
        ))
        err.dependency_type = entry.key
        raise err

    def _async_factory(self, entry: FactoryEntry, call: str, method: str) -> NoReturn:
        label = display_key(entry.key)
        name = getattr(entry.provider, "__qualname__", type(entry.provider).__qualname__)
        kind = entry.kind.replace("_", " ")
        raise AsyncResolutionError(Problem(
            code="IQ005",
            name="async-on-sync-path",
            message=f"{call}: {label} is bound to {name}, an {kind}; a sync call cannot await it",
            site=entry.site,
            key=label,
            help=f"use `await container.a{method}({label}, ...)`",
        ))

    def _call(self, entry: FactoryEntry, call: str, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Any:
        """``entry``'s provider called with exactly the caller's arguments; arguments that
        do not fit its parameters are a ``FactoryCallError`` naming the one at fault."""
        try:
            return entry.provider(*args, **kwargs)
        except TypeError as exc:
            # raised by the call itself, not inside the factory: no frame of it follows
            tb = exc.__traceback__
            problem = (
                _argument_problem(entry.provider, args, kwargs)
                if tb is not None and tb.tb_next is None else None
            )
            if problem is None:
                raise
            reason, parameter = problem
            label = display_key(entry.key)
            name = getattr(entry.provider, "__qualname__", type(entry.provider).__qualname__)
            raise FactoryCallError(
                f"{call}: cannot call {name}, bound at {entry.site}: {reason}; "
                f"call_factory() passes only your arguments (invoke({label}, ...) injects "
                "what you do not pass)",
                key=entry.key, parameter=parameter, site=entry.site,
            ) from None

    def _call_sync(self, entry: FactoryEntry, call: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
        if entry.kind in _AWAITED_KINDS:
            self._async_factory(entry, call, "call_factory")
        value = self._call(entry, call, args, kwargs)
        if entry.kind == "generator":  # a resource: its cleanup goes where a transient's does
            gen = value
            value = enter_resource(gen, entry.key)
            self.own(gen)
        return value

    async def _call_async(self, entry: FactoryEntry, call: str, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Any:
        value = self._call(entry, call, args, kwargs)
        if entry.kind == "async_factory":
            return await value
        if entry.kind in ("generator", "async_generator"):
            gen = value
            if entry.kind == "generator":
                value = enter_resource(gen, entry.key)
            else:
                value = await aenter_resource(gen, entry.key)
            self.own(gen)
        return value

    def get_factory(self, service_type: Any) -> Callable[..., Any]:
        """The factory bound to ``service_type``, not called: call it with your own
        arguments (InjectQ 0.5.0's parameterized factories). Nothing is injected; the
        function is the one you bound (``bind_factory``, ``factories[key] = fn``, a
        ``@provider``; a class bound with ``bind``; a function bound as a value with
        ``bind(key, fn)``). A generator factory comes back wrapped: its instance is what it
        yields, and its cleanup runs when the innermost open scope (else the container)
        closes, as for a transient resource. Raises ``DependencyNotFoundError`` when
        nothing is bound, or only a value."""
        entry = self._factory(service_type, f"get_factory({display_key(service_type)})")
        if entry.kind == "generator":
            return functools.partial(self.call_factory, entry.key)
        if entry.kind == "async_generator":
            return functools.partial(self.acall_factory, entry.key)
        provider: Callable[..., Any] = entry.provider
        return provider

    async def aget_factory(self, service_type: Any) -> Callable[..., Any]:
        """``get_factory`` for async code (the lookup itself never awaits); an async
        factory's result is awaited by its caller: ``await (await aget_factory(k))(...)``."""
        return self.get_factory(service_type)

    @overload
    def call_factory(self, service_type: ClassKey[T], /, *args: Any, **kwargs: Any) -> T: ...
    @overload
    def call_factory(self, service_type: Any, /, *args: Any, **kwargs: Any) -> Any: ...

    def call_factory(self, service_type: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call the factory bound to ``service_type`` with exactly these arguments, as
        ``get_factory(service_type)(*args, **kwargs)`` does: nothing is injected (to have
        the container supply what you do not pass, use ``invoke``). Arguments that do not
        fit are a ``FactoryCallError`` (also a ``TypeError``) naming the parameter and the
        binding; an async factory needs ``acall_factory`` (``AsyncResolutionError``)."""
        call = f"call_factory({display_key(service_type)})"
        return self._call_sync(self._factory(service_type, call), call, args, kwargs)

    @overload
    async def acall_factory(
        self, service_type: ClassKey[T], /, *args: Any, **kwargs: Any
    ) -> T: ...
    @overload
    async def acall_factory(self, service_type: Any, /, *args: Any, **kwargs: Any) -> Any: ...

    async def acall_factory(self, service_type: Any, /, *args: Any, **kwargs: Any) -> Any:
        """``call_factory`` that awaits an async factory (or enters an async generator's
        resource); a sync factory is called as it is."""
        call = f"acall_factory({display_key(service_type)})"
        return await self._call_async(self._factory(service_type, call), call, args, kwargs)

    # -- clearing scopes (InjectQ 0.5.0) -----------------------------------------------
    def _clear_target(self, scope_name: str | ScopeType, call: str) -> str:
        name = scope_text(scope_name, call)
        name = _SCOPE_ALIASES.get(name, name)
        if name in ("singleton", "transient", "app"):
            return name
        if not self._scope_known(name):
            raise ScopeError(
                f"{call}: unknown scope {name!r}; declare it first with "
                f"container.declare_scope({name!r}, parent='request')"
            )
        return name

    def _open_within(self, name: str | None) -> list[ScopeState]:
        """The scopes open in this context that ``name`` outlives or is (None: all of
        them), innermost first: what clearing ``name`` clears."""
        states = {id(s): s for s in self.scopes.get().values() if not s.ended}.values()
        found: list[tuple[int, ScopeState]] = []
        for state in states:
            ancestors = self._scope_ancestors(state.name)
            if name is None or name in ancestors:
                found.append((len(ancestors), state))
        found.sort(key=lambda pair: -pair[0])
        return [state for _, state in found]

    def _refuse_async(self, states: list[ScopeState], container: bool, call: str) -> None:
        """A sync clear that would drop resources only an await can finalize refuses
        before it drops anything."""
        owners = [f"scope {s.name!r}" for s in states if s.finalizers.has_async()]
        if container and self.finalizers.has_async():
            owners.append("the container")
        if owners:
            raise ScopeError(
                f"{call} would drop async resources (of {', '.join(owners)}) that a sync "
                f"call cannot finalize; nothing was cleared: use `await container.a{call}` "
                "(leaving a scope with `async with` finalizes them too)"
            )

    @staticmethod
    def _take_scope(state: ScopeState) -> list[Any]:
        """Drop a scope's instances (not the creations under way) and take its resources.
        Another thread than the opener's uses the scope as ``ScopeState.create`` does:
        it marks it shared and waits for a creation the opener makes without the lock."""
        if state.opener != get_ident() and not state.shared:
            state.shared = True
            while state.making is not None:
                time.sleep(0.0001)
        with state.lock:
            for key in [k for k, v in state.cache.items() if v is not MISSING]:
                del state.cache[key]
            return state.finalizers.take()

    def _take_container(self) -> list[Any]:
        with closing(self._slots.values()):  # creations under way complete first
            items = self.finalizers.take()
            self._forget_singletons()
        return items

    def _clear_plan(self, scope_name: str | ScopeType | None, call: str
                    ) -> tuple[list[ScopeState], bool]:
        """(the open scopes to clear, innermost first; whether the container's singletons
        go too)."""
        if scope_name is None:
            return self._open_within(None), True
        name = self._clear_target(scope_name, call)
        if name == "transient":
            return [], False
        if name in ("singleton", "app"):  # every scope outlives no singleton
            return self._open_within(None), True
        return self._open_within(name), False

    def _clear(self, scope_name: str | ScopeType | None, call: str) -> None:
        states, container = self._clear_plan(scope_name, call)
        self._refuse_async(states, container, call)
        errors: list[Exception] = []
        interrupt: BaseException | None = None
        owners: list[tuple[str, Any, Any]] = [
            (f"scope {s.name!r}", s, s.finalizers) for s in states
        ]
        if container:
            owners.append(("container", None, self.finalizers))
        for owner, state, keep in owners:
            items = self._take_scope(state) if state is not None else self._take_container()
            try:
                run_finalizers(items, owner, keep=keep)
            except Exception as exc:
                errors.append(exc)
            except BaseException as exc:  # every owner is finalized first
                interrupt = interrupt or exc
        _raise_errors(errors, interrupt, call)

    async def _aclear(self, scope_name: str | ScopeType | None, call: str) -> None:
        states, container = self._clear_plan(scope_name, call)
        errors: list[Exception] = []
        interrupt: BaseException | None = None
        owners: list[tuple[str, Any]] = [(f"scope {s.name!r}", s) for s in states]
        if container:
            owners.append(("container", None))
        for owner, state in owners:
            items = self._take_scope(state) if state is not None else self._take_container()
            try:
                await arun_finalizers(items, owner)
            except Exception as exc:
                errors.append(exc)
            except BaseException as exc:
                interrupt = interrupt or exc
        _raise_errors(errors, interrupt, call)

    def clear_scope(self, scope_name: str | ScopeType) -> None:
        """Drop the instances of the scope ``scope_name`` open in this context, and those
        of every scope open inside it (their instances may hold its), finalizing their
        resources now, newest first, as leaving the block would; the scopes stay open and
        the next resolution creates new instances. ``"singleton"`` (or ``"app"``) clears
        the container's singletons and container-owned resources too, with every open
        scope; ``"transient"`` holds nothing.

        Nothing to do outside a ``with container.scope(...)`` block: a scope drops its
        instances when its block ends (InjectQ 0.5.0 kept them, which is why it needed
        this call). Scopes open in other threads or tasks are theirs and are not touched.
        Async resources cannot be finalized by a sync call: if any would be dropped, this
        raises ``ScopeError`` before it drops anything; use ``aclear_scope``."""
        self._clear(scope_name, f"clear_scope({scope_name!r})")

    async def aclear_scope(self, scope_name: str | ScopeType) -> None:
        """``clear_scope`` that also finalizes async resources."""
        await self._aclear(scope_name, f"clear_scope({scope_name!r})")

    def clear_all_scopes(self) -> None:
        """Drop every instance: of each scope open in this context (innermost first) and
        the container's singletons, finalizing their resources, as ``clear_scope`` does
        (``ScopeError`` before anything is dropped when async resources would need an
        await: use ``aclear_all_scopes``). The container stays usable."""
        self._clear(None, "clear_all_scopes()")

    async def aclear_all_scopes(self) -> None:
        """``clear_all_scopes`` that also finalizes async resources."""
        await self._aclear(None, "clear_all_scopes()")

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

    def visualize_dependencies(self) -> DependencyVisualizer:
        """A ``DependencyVisualizer`` of this container's graph (DOT, mermaid, JSON, text)."""
        from injectq.diagnostics.visualization import DependencyVisualizer

        return DependencyVisualizer(self)

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
