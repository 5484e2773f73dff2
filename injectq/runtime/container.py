"""``InjectQ``: the runtime container users develop against.

Registration goes into a Registry; the first ``get`` of a key compiles its resolvers
(``compiler.py``); later gets are a dict lookup and a call. Overrides, scopes and the
"current container" live in ContextVars, so threads and asyncio tasks stay apart.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import inspect
import threading
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from types import FrameType
from typing import Any, ClassVar, NoReturn, TypeVar, cast, overload

from injectq.errors import (
    AsyncResolutionError,
    AutowireWarning,
    DependencyNotFoundError,
    GraphValidationError,
    Problem,
    ScopeError,
)
from injectq.model.arguments import refuse_lookup
from injectq.model.binding import (
    Binding,
    Lifetime,
    ProviderKind,
)
from injectq.model.checks import (
    check_graph,
    unfilled_problem,
    unknown_key_problem,
    warm_async_problem,
)
from injectq.model.graph import Dep, DependencyGraph, Resolution
from injectq.model.introspect import Param, describe, is_container_type
from injectq.model.markers import ClassKey, Key, display_key, make_key
from injectq.model.recipe import Record
from injectq.model.registrar import Registrar
from injectq.model.registry import Registry
from injectq.runtime import errorpath, forking
from injectq.runtime.compiler import (
    CompiledEntry,
    ResolverCompiler,
    RuntimeHooks,
    key_placeholder,
)
from injectq.runtime.creation import MISSING, Slot
from injectq.runtime.inject import CallPlan, afill, fill, plan_call
from injectq.runtime.interface import (
    FACTORY_KINDS,
    ContainerInterface,
    FactoryEntry,
    close_unawaited,
    current_var,
)
from injectq.runtime.overrides import Overrides
from injectq.runtime.scopes import (
    Finalizers,
    ScopeMap,
)

__all__ = ["ContainerContext", "InjectQ"]

T = TypeVar("T")

_EMPTY: dict[Any, Any] = {}

_instance_lock = threading.Lock()  # makes InjectQ.get_instance()'s default once



class ContainerContext:
    """The container ``@inject`` uses when none is given (InjectQ 0.5.0 API)."""

    @classmethod
    def get_current(cls) -> InjectQ | None:
        return cast("InjectQ | None", current_var.get())

    @classmethod
    def set_current(cls, container: InjectQ | None) -> None:
        current_var.set(container)

    @classmethod
    def clear_current(cls) -> None:
        current_var.set(None)

    @classmethod
    @contextlib.contextmanager
    def use(cls, container: InjectQ) -> Generator[InjectQ, None, None]:
        token = current_var.set(container)
        try:
            yield container
        finally:
            current_var.reset(token)

    @classmethod
    @contextlib.asynccontextmanager
    async def use_async(cls, container: InjectQ) -> AsyncGenerator[InjectQ, None]:
        token = current_var.set(container)
        try:
            yield container
        finally:
            current_var.reset(token)


class InjectQ(Registrar, ContainerInterface):
    """The dependency-injection container (runtime back end).

    ``InjectQ(modules, use_async_scopes, thread_safe, allow_override)`` takes InjectQ
    0.5.0's arguments: ``modules`` are installed at once; ``allow_override=False`` makes a
    second binding of a key an ``AlreadyRegisteredError``. ``use_async_scopes`` and
    ``thread_safe`` are accepted so that 0.5.0 code runs, and both are always on whatever
    they say: scopes live in context variables, so one ``scope()`` works in threads and in
    asyncio tasks alike (``with`` and ``async with``); and resolution is always safe
    across threads (a created singleton is read without a lock, only its creation takes
    one, so that it happens once). Obeying False would save nothing on the request path
    and would let a container shared with a thread pool create a singleton twice, so
    False is kept (``repr`` shows it) and changes nothing.
    """

    __injectq_container__: ClassVar[bool] = True
    _instance: ClassVar[InjectQ | None] = None

    def __init__(
        self,
        modules: Iterable[Any] | None = None,
        use_async_scopes: bool = True,
        thread_safe: bool = True,
        allow_override: bool = True,
    ) -> None:
        self._scope_cache: dict[Any, str] = {}
        self._registry = Registry(on_change=self._changed)
        self._registry.allow_override = allow_override
        # kept for 0.5.0 code that reads them; both are always on (see the class docstring)
        self.use_async_scopes = use_async_scopes
        self.thread_safe = thread_safe
        self._slots: dict[Binding, Slot] = {}
        self._hot: dict[Any, Any] = {}
        self._hot_view: dict[Any, Any] = self._hot
        self._overrides = [0]  # read inline by compiled resolvers: is any block open?
        self._overrides_engine = Overrides(
            self, contextvars.ContextVar("injectq_override", default=None)
        )
        self._infos: dict[Key, Record] = {}
        self.scopes: contextvars.ContextVar[ScopeMap] = contextvars.ContextVar(
            "injectq_scopes", default=_EMPTY
        )
        self.finalizers = Finalizers()
        self._awaitables: list[Any] = []
        weakref.finalize(self, close_unawaited, self._awaitables)
        self._compile_lock = threading.RLock()
        self._compiler: ResolverCompiler | None = None
        self._resolvers: dict[Key, Callable[[], Any]] = {}
        self._aentries: dict[Key, CompiledEntry] = {}
        self._closed = False
        self._warned: set[Key] = set()
        forking.track(self)
        for module in modules or ():
            self.install_module(module)

    def _after_fork_in_child(self) -> None:
        """A forked child gets fresh locks; creations other threads had under way are
        abandoned (see injectq.runtime.forking)."""
        self._compile_lock = forking.fresh_rlock(self._compile_lock)
        compiler = self._compiler
        if compiler is not None:
            compiler.lock = forking.fresh_rlock(compiler.lock)
        for slot in list(self._slots.values()):
            slot.after_fork_in_child()
        self.finalizers.after_fork_in_child()
        self._overrides_engine.after_fork_in_child()
        for state in {id(s): s for s in self.scopes.get().values()}.values():
            state.after_fork_in_child()

    # -- global instance (0.5.0) ------------------------------------------------------
    @classmethod
    def get_instance(cls) -> InjectQ:
        """The current context container, else the process-wide default one."""
        current = current_var.get()
        if current is not None:
            return cast("InjectQ", current)
        if cls._instance is None:
            with _instance_lock:
                if cls._instance is None:
                    cls._instance = InjectQ()
        return cls._instance

    @classmethod
    def reset_instance(cls) -> None:
        cls._instance = None

    @classmethod
    @contextlib.contextmanager
    def test_mode(cls) -> Generator[InjectQ, None, None]:
        """A fresh global container for the block; the previous one comes back after."""
        previous = cls._instance
        container = InjectQ()
        cls._instance = container
        token = current_var.set(container)
        try:
            yield container
        finally:
            current_var.reset(token)
            cls._instance = previous

    def _changed(self) -> None:
        """Bindings changed: compiled resolvers and the graph are rebuilt on next use."""
        with self._compile_lock:
            self._generation += 1
            if self._compiler is None and not (
                self._resolvers or self._aentries or self._infos or self._hot
                or self._scope_cache
            ):
                return  # nothing derived since the last change (each bind() of a Module)
            self._compiler = None
            self._resolvers = {}
            self._aentries = {}
            self._infos = {}
            self._hot.clear()
            self._scope_cache = {}

    def _added(self, binding: Binding) -> None:
        if binding.kind is ProviderKind.AWAITABLE:
            self._awaitables.append(binding.provider)

    def clear(self) -> None:
        """Forget every binding and cached instance (finalizers are not run: see close())."""
        self._registry.clear()
        self._slots.clear()

    # -- compiling --------------------------------------------------------------------
    def _get_compiler(self) -> ResolverCompiler:
        compiler = self._compiler
        if compiler is None:
            with self._compile_lock:
                compiler = self._compiler
                if compiler is None:
                    hooks = RuntimeHooks(
                        container=self,
                        slots=self._slots,
                        finalizers=self.finalizers,
                        overrides=self._overrides,
                        scopes=self.scopes,
                        frame=self._overrides_engine.var,
                        ovget=self._overrides_engine.get,
                        ovaget=self._overrides_engine.aget,
                    )
                    compiler = ResolverCompiler(DependencyGraph(self._registry), hooks)
                    # singletons created before the change stay shared
                    for binding in self._registry:
                        slot = self._slots.get(binding)
                        if slot is not None and slot.value is not MISSING:
                            self._hot[binding.key] = slot.value
                    self._compiler = compiler
        return compiler

    def resolver(self, key: Key) -> Callable[[], Any]:
        """A function that resolves ``key`` as ``get(key)`` does, for a caller that
        resolves it again and again (``@inject``): its compiled resolver."""
        try:
            r = self._resolvers.get(key)
        except TypeError:
            refuse_lookup("resolver()", key)
            raise
        if r is None:
            if self._overrides[0] or is_container_type(key):
                return functools.partial(self.get, key)
            r = self._entry(key).sync
        return r

    def _entry(self, key: Key) -> CompiledEntry:
        compiler = self._get_compiler()
        entry = compiler.entries.get(key)
        if entry is None:
            entry = compiler.compile(key)
            if key not in self._registry:
                self._warn_autowired(compiler, key)
            # an auto-wired key may map to its node key; store under the asked key
        if self._compiler is compiler:
            self._resolvers[key] = entry.sync
            if entry.is_async:
                self._aentries[key] = entry
        return entry

    def _warn_autowired(self, compiler: ResolverCompiler, key: Key) -> None:
        """Once per key and container: ``get`` built a class that nothing binds and no
        binding reaches, which a generated wiring only holds when given as a root."""
        node = compiler.graph.node(key)
        if node is None or not node.binding.autowired or key in self._warned:
            return
        if compiler.reached is None:
            compiler.reached = {n.key for n in compiler.graph.all_nodes()}
        if key in compiler.reached:
            return
        self._warned.add(key)
        label = display_key(key)
        module = getattr(key, "__module__", "module")
        warnings.warn(
            f"{label} is not bound and no binding depends on it: the runtime container "
            f"builds it, but a wiring generated by injectq-gen does not contain it (its get() "
            f"raises DependencyNotFoundError); bind it in a Module, or build the wiring with "
            f"`--root {module}:{label}`",
            AutowireWarning,
            stacklevel=4,
        )

    @property
    def graph(self) -> DependencyGraph:
        return self._get_compiler().graph

    # -- resolution -------------------------------------------------------------------
    @overload
    def get(self, service_type: ClassKey[T], name: str | None = None) -> T: ...
    @overload
    def get(self, service_type: Any, name: str | None = None) -> Any: ...

    def get(self, service_type: Any, name: str | None = None) -> Any:
        """Resolve a key; raises if it needs an async step (use ``aget``)."""
        if name is None:
            try:  # free unless it raises: an unhashable key is told apart there
                v = self._hot_view.get(service_type, MISSING)
                if v is not MISSING:
                    return v
            except TypeError:
                refuse_lookup("get()", service_type)
                raise
            key = service_type
        else:
            key = make_key(service_type, name)
        try:
            r = self._resolvers.get(key)
            if r is None:
                if self._overrides[0]:
                    return self._overrides_engine.get(key)
                if is_container_type(key) and key not in self._registry:
                    return self  # asking for the container type gives the resolving container
                r = self._entry(key).sync
            return r()
        except Exception as exc:
            if isinstance(exc, TypeError):
                refuse_lookup("get()", service_type, name)
            errorpath.note_path(self, key, exc)
            raise

    @overload
    async def aget(self, service_type: ClassKey[T], name: str | None = None) -> T: ...
    @overload
    async def aget(self, service_type: Any, name: str | None = None) -> Any: ...

    async def aget(self, service_type: Any, name: str | None = None) -> Any:
        """Resolve a key, awaiting async factories and awaitable instances on the way."""
        if name is None:
            try:
                v = self._hot_view.get(service_type, MISSING)
                if v is not MISSING:
                    return v
            except TypeError:
                refuse_lookup("aget()", service_type)
                raise
            key = service_type
        else:
            key = make_key(service_type, name)
        try:
            entry = self._aentries.get(key)
            if entry is None:
                r = self._resolvers.get(key)
                if r is not None:
                    return r()
                if self._overrides[0]:
                    return await self._overrides_engine.aget(key)
                if is_container_type(key) and key not in self._registry:
                    return self
                entry = self._entry(key)
                if not entry.is_async:
                    return entry.sync()
            assert entry.asyncfn is not None
            return await entry.asyncfn()
        except Exception as exc:
            if isinstance(exc, TypeError):
                refuse_lookup("aget()", service_type, name)
            errorpath.note_path(self, key, exc)
            raise

    def dep_for(self, param: Any) -> Dep:
        """What satisfies one parameter of a function (``@inject``), by the graph's rules."""
        return self.graph.dep(param)

    def _invoke_plan(
        self, service_type: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Callable[..., Any], CallPlan]:
        try:
            binding = self._registry.get(service_type)
        except TypeError:
            refuse_lookup("invoke()", service_type)
            raise
        if binding is None or not binding.kind.takes_parameters:
            raise DependencyNotFoundError(unknown_key_problem(service_type, role="factory"))

        def missing(p: Param, dep: Dep) -> DependencyNotFoundError:
            problem = unfilled_problem(service_type, p.name, dep.target)
            name = getattr(binding.provider, "__qualname__", binding.provider_name)
            err = DependencyNotFoundError(dataclasses.replace(
                problem, site=binding.site, message=f"{problem.message} of {name}()",
                help=f"pass it: invoke({display_key(service_type)}, {p.name}=...), or bind it",
            ))
            err.dependency_type = dep.target
            return err

        params = describe(binding.provider).params
        return binding.provider, plan_call(self, params, len(args), kwargs, missing)

    def invoke(self, service_type: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the factory bound to ``service_type``, injecting what is not passed."""
        fn, plan = self._invoke_plan(service_type, args, kwargs)
        fill(self, plan, kwargs)
        return fn(*args, **kwargs)

    async def ainvoke(self, service_type: Any, *args: Any, **kwargs: Any) -> Any:
        fn, plan = self._invoke_plan(service_type, args, kwargs)
        await afill(self, plan, kwargs)
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    # -- what the shared interface and the override engine need -----------------------
    def _scope_known(self, name: str) -> bool:
        return name in self._registry.scopes

    def _scope_ancestors(self, name: str) -> list[str]:
        return self._registry.scopes.ancestors(name)

    def factory_entry(self, key: Any, call: str) -> FactoryEntry | None:
        try:
            binding = self._registry.get(key)
        except TypeError:
            refuse_lookup(call, key)
            raise
        if binding is None:
            return None
        return FactoryEntry(binding.key, str(binding.kind), binding.provider, binding.site)

    def factory_keys(self) -> list[Any]:
        return [b.key for b in self._registry if str(b.kind) in FACTORY_KINDS]

    def set_factory(self, key: Any, factory: Callable[..., Any]) -> None:
        # a dict assignment replaces, unless this container refuses a second binding
        self.bind_factory(key, factory, override=self._registry.allow_override)

    def remove_factory(self, key: Any) -> None:
        self._registry.remove(key)

    def _unknown_factory(self, key: Any, call: str) -> DependencyNotFoundError:
        label = display_key(key)
        err = DependencyNotFoundError(Problem(
            code="IQ001",
            name="missing-binding",
            message=f"{call}: nothing is bound to {label}",
            key=label,
            help=f"bind a factory first: container.bind_factory({label}, fn)",
        ))
        err.dependency_type = key
        return err

    def overrides_changed(self, active: bool) -> None:
        """An override block opened (or the last one closed) somewhere: while any is open,
        resolution checks for one (compiled code reads ``_overrides[0]``)."""
        self._overrides[0] = 1 if active else 0
        self._hot_view = _EMPTY if active else self._hot

    def raw(self, key: Key) -> Any:
        return self._entry(key).sync()

    async def araw(self, key: Key) -> Any:
        entry = self._entry(key)
        return await entry.asyncfn() if entry.asyncfn is not None else entry.sync()

    def noscope(self, key: Key) -> NoReturn:
        """No open scope for a scoped binding; or (what only a runtime graph can hold,
        as injectq-gen rejects it) a scope that was never declared."""
        node = self.node_info(key)
        if node is not None and node.scope not in self._registry.scopes:
            known = ", ".join(n for n in self._registry.scopes.names() if n != "app")
            raise ScopeError(
                f"error[IQ009 unknown-scope]: {node.label} is scoped to {node.scope!r} (bound "
                f"at {node.site}), which is not a declared scope (known: {known}); declare it "
                f"with container.declare_scope({node.scope!r}, parent='request')"
            )
        super().noscope(key)

    def _frame_key(self, frame: FrameType) -> Any:
        """The binding a compiled resolver's frame builds (errorpath.py)."""
        code = frame.f_code
        if not code.co_filename.startswith("<injectq resolvers"):
            return errorpath.NONE
        placeholder = key_placeholder.get(code)
        if placeholder is not None:  # a shared shape: the key is one of its free variables
            default = errorpath.SAME if code.co_name in ("create", "acreate") else errorpath.NONE
            return frame.f_locals.get(placeholder, default)
        return self._key_of_ident(code.co_name)

    def _real_callee(self, callee: str, frame_key: Any) -> str:
        """A name read from a resolver line: the line's text is its shape's, shared by
        bindings, where ``_3`` is the fourth per-binding name of ``frame_key``'s source."""
        compiler = self._compiler
        if compiler is not None and callee[1:].isdigit():
            names = compiler.placeholders.get(frame_key, ())
            index = int(callee[1:])
            return names[index] if index < len(names) else callee
        return callee

    def _callee_key(self, callee: str, parent: Any) -> Any:
        """The binding whose provider ``_p<name>`` is (inlined into a resolver line)."""
        return self._key_of_ident(callee) if callee.startswith("_p") else errorpath.NONE

    def _key_of_ident(self, ident: str) -> Any:
        compiler = self._compiler
        name = ident.lstrip("_anprs")  # _r12_Repo, _an12_Repo, _p12_Repo -> 12_Repo
        if compiler is not None:
            return compiler.keys.get(name, errorpath.NONE)
        return errorpath.NONE

    # -- what deep.py's builder reads --------------------------------------------------
    def deep_slot(self, key: Key) -> Slot:
        node = self.graph.node(key)
        assert node is not None
        return self._slots[node.binding]

    def publish(self, key: Key, value: Any) -> None:
        """Put a singleton on get()'s fast path: while it is still the slot's (a close()
        since it was created has forgotten it, and maybe finalized it)."""
        slot = self.deep_slot(key)
        with slot.lock:
            if slot.value is value:
                self._hot[key] = value

    def node_info(self, key: Key) -> Record | None:
        """The record of ``key``'s recipe: what messages and the override engine read."""
        info = self._infos.get(key)
        if info is None:
            compiler = self._get_compiler()
            if compiler.graph.node(key) is None:
                return None
            info = self._infos[key] = compiler.cookbook.recipe(key).record()
        return info

    # -- whole graph ------------------------------------------------------------------
    def check(self, roots: Iterable[Any] = ()) -> list[Problem]:
        """Every problem of the graph (errors and warnings), without raising."""
        return check_graph(self.graph, roots)

    def validate(self, roots: Iterable[Any] = ()) -> list[Problem]:
        """Check the whole graph; raise ``GraphValidationError`` listing every error.

        Returns the warnings (e.g. unused bindings when roots are given).
        """
        problems = self.check(roots)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            raise GraphValidationError(problems)
        return problems

    def compile(self) -> None:
        """Validate, then compile the resolver of every binding now."""
        self.validate()
        for binding in self._registry:
            self._entry(binding.key)

    def get_dependency_graph(self) -> dict[Any, list[Any]]:
        """Each bound key with the keys its provider depends on."""
        graph = self.graph
        out: dict[Any, list[Any]] = {}
        for node in graph.all_nodes():
            out[node.key] = [d.target for d in node.deps if d.resolution is Resolution.BINDING]
        return out

    def warm(self) -> None:
        """Create every singleton now. Async ones need ``awarm()``."""
        pending: list[str] = []
        for binding in self._registry:
            if binding.lifetime is not Lifetime.SINGLETON:
                continue
            entry = self._entry(binding.key)
            if entry.is_async:
                slot = self._slots.get(binding)
                if slot is None or slot.value is MISSING:
                    pending.append(binding.label)
                continue
            entry.sync()
        if pending:
            raise AsyncResolutionError(warm_async_problem(pending))

    async def awarm(self) -> None:
        """Create every singleton now, awaiting async ones."""
        for binding in self._registry:
            if binding.lifetime is Lifetime.SINGLETON:
                await self.aget(binding.key)

    # -- closing ----------------------------------------------------------------------
    def _forget_singletons(self) -> None:
        """After close, a finalized singleton is never handed out again: the next get
        creates a new one (as the generated container does)."""
        with self._compile_lock:
            for binding, slot in self._slots.items():
                if binding.kind is not ProviderKind.AWAITABLE:
                    slot.value = MISSING
            self._hot.clear()

    def __repr__(self) -> str:
        return f"InjectQ(services={len(self._registry)}, thread_safe={self.thread_safe})"


def _fresh_instance_lock() -> None:
    global _instance_lock  # noqa: PLW0603  # a forked child gets a lock nobody holds
    _instance_lock = threading.Lock()


forking.on_fork_in_child(_fresh_instance_lock)
