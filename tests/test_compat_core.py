"""InjectQ 0.5.0's ``injectq.core`` machinery, from its documented behaviour, on our engine:
the concurrency utilities (``HybridLock``, ``ThreadSafeDict``, ``AsyncSafeCounter``,
``thread_safe``) with real threads and a real event loop; ``ServiceRegistry`` /
``ServiceBinding`` / ``DependencyResolver`` as views of a container; the scope managers
and scope objects over its scopes.

A test that involves a container takes the ``c`` fixture, once per back end (the runtime
``InjectQ``, and the ``Container`` injectq-gen builds from the same Module).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from injectq import (
    BindingError,
    DependencyNotFoundError,
    InjectQ,
    InjectQError,
    ScopeError,
    ScopeType,
)
from injectq.core import (
    AsyncSafeCounter,
    AsyncScope,
    AsyncScopeManager,
    BaseScopeManager,
    DependencyResolver,
    HybridLock,
    HybridScope,
    ScopeManager,
    ServiceBinding,
    ServiceRegistry,
    ThreadSafeDict,
    create_enhanced_scope_manager,
    get_scope_manager,
    thread_safe,
)
from injectq.model.registry import AlreadyRegisteredError
from injectq.runtime.scopes import ScopeState
from tests.codegen_support import build_wiring, make_project

APP = """\
from __future__ import annotations

from collections.abc import Iterator

from injectq import Module

EVENTS: list[str] = []


class Config:
    pass


class Repo:
    def __init__(self, config: Config) -> None:
        self.config = config


class Client:
    def __init__(self, config: Config) -> None:
        self.config = config


def make_client(config: Config) -> Client:
    return Client(config)


class Session:
    pass


def open_session() -> Iterator[Session]:
    EVENTS.append("open")
    yield Session()
    EVENTS.append("close")


class Tenant:
    pass


SETTINGS = {"debug": True}


class AppModule(Module):
    def configure(self) -> None:
        self.declare_scope("tenant", parent="request")
        self.bind(Config)
        self.bind(Repo, scope="transient")
        self.bind_factory(Client, make_client)
        self.bind_factory(Session, open_session).scoped("request")
        self.bind(Tenant).scoped("tenant")
        self.bind_instance("settings", SETTINGS)
"""

TARGET = "core_app.app:AppModule"


@pytest.fixture
def app(codegen_env: Path) -> ModuleType:
    make_project(codegen_env, {"core_app/app.py": APP})
    import core_app.app as app

    app.EVENTS.clear()
    return app


@pytest.fixture(params=["runtime", "generated"])
def c(request: pytest.FixtureRequest, app: ModuleType) -> Any:
    """A container of AppModule: the runtime one, or the generated one."""
    if request.param == "runtime":
        return InjectQ([app.AppModule()])
    return build_wiring([TARGET]).Container()


def _threads(n: int, target: Any) -> None:
    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)


# -- HybridLock ------------------------------------------------------------------------
def test_hybrid_lock_excludes_threads() -> None:
    """Threads that hold the lock never overlap."""
    lock = HybridLock()
    inside = AsyncSafeCounter()
    most: list[int] = []

    def work() -> None:
        for _ in range(20):
            with lock:
                most.append(inside.increment())
                time.sleep(0.0005)
                inside.decrement()

    _threads(4, work)
    assert len(most) == 80 and max(most) == 1


async def test_hybrid_lock_excludes_threads_and_tasks_without_blocking_the_loop() -> None:
    """A task waits for a thread's hold with ``async with``; the loop keeps running."""
    lock = HybridLock()
    held = threading.Event()
    go = threading.Event()

    def holder() -> None:
        with lock:
            held.set()
            go.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while not go.is_set():
            ticks += 1
            await asyncio.sleep(0.001)

    async def taker() -> bool:
        async with lock:
            return go.is_set()  # only after the thread let go

    tick_task = asyncio.create_task(ticker())
    take_task = asyncio.create_task(taker())
    await asyncio.sleep(0.05)
    assert not take_task.done() and ticks > 5
    go.set()
    assert await asyncio.wait_for(take_task, 5)
    await tick_task
    thread.join(5)
    assert not lock.locked()


async def test_hybrid_lock_serializes_tasks_across_awaits() -> None:
    """Tasks holding the lock across an await never interleave."""
    lock = HybridLock()
    log: list[str] = []

    async def one(i: int) -> None:
        async with lock.async_lock():
            log.append(f"in {i}")
            await asyncio.sleep(0.001)
            log.append(f"out {i}")

    await asyncio.gather(*(one(i) for i in range(5)))
    assert all(log[k].startswith("in") and log[k + 1].startswith("out")
               for k in range(0, 10, 2))


async def test_hybrid_lock_is_reentrant_for_its_thread_and_its_task() -> None:
    """The holder takes it again (sync in a thread, async and sync in a task)."""
    lock = HybridLock()
    with lock.sync_lock(), lock:
        assert lock.locked()
    assert not lock.locked()
    async with lock:
        async with lock:
            with lock:  # sync inside the holding task
                pass
    assert not lock.locked()


async def test_hybrid_lock_refuses_what_would_deadlock_or_is_not_held() -> None:
    """``with`` in a coroutine while another task of the loop holds it raises instead of
    hanging; release by a non-holder raises; non-blocking and timed acquires fail."""
    lock = HybridLock()
    with pytest.raises(RuntimeError, match="not held"):
        lock.release()
    entered = asyncio.Event()
    leave = asyncio.Event()

    async def holder() -> None:
        async with lock:
            entered.set()
            await leave.wait()

    task = asyncio.create_task(holder())
    await entered.wait()
    with pytest.raises(RuntimeError, match="use `async with lock:`"):
        lock.acquire()
    assert lock.acquire(blocking=False) is False
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(lock.acquire(timeout=0.01)))
    t.start()
    t.join(5)
    assert result == [False]
    leave.set()
    await task
    assert lock.acquire(timeout=1)
    lock.release()


async def test_a_cancelled_waiter_gives_up_its_turn() -> None:
    """A task cancelled while waiting leaves the lock free for the others."""
    lock = HybridLock()
    await lock.aacquire()

    async def wait_for_it() -> None:
        async with lock:
            pass

    waiter = asyncio.create_task(wait_for_it())
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    lock.release()
    assert not lock.locked()
    await asyncio.wait_for(wait_for_it(), 1)


# -- ThreadSafeDict and AsyncSafeCounter -----------------------------------------------
async def test_thread_safe_dict_sync_and_async_operations() -> None:
    """Each operation and its async twin; delete says whether the key was there, a None
    value included."""
    d: ThreadSafeDict[Any] = ThreadSafeDict()
    d.set("a", 1)
    await d.aset("b", None)
    assert d.get("a") == 1 and await d.aget("b") is None and d.get("x", 0) == 0
    assert d.contains("b") and await d.acontains("a") and "a" in d and len(d) == 2
    assert d.copy() == {"a": 1, "b": None} == await d.acopy()
    assert sorted(d.items()) == [("a", 1), ("b", None)]
    assert d.delete("b") is True and d.delete("b") is False
    assert await d.adelete("a") is True and await d.adelete("a") is False
    d.set("c", 3)
    d.clear()
    assert len(d) == 0
    d.set("c", 3)
    await d.aclear()
    assert d.copy() == {}


def test_get_or_create_makes_one_value_across_threads() -> None:
    """Threads asking for one key at once get one value, made by one factory call."""
    d: ThreadSafeDict[object] = ThreadSafeDict()
    calls = AsyncSafeCounter()
    seen: list[object] = []

    def factory() -> object:
        calls.increment()
        time.sleep(0.02)
        return object()

    _threads(8, lambda: seen.append(d.get_or_create("k", factory)))
    assert calls.get() == 1 and len(seen) == 8 and len({id(s) for s in seen}) == 1


async def test_aget_or_create_async_awaits_one_factory_for_tasks_and_threads() -> None:
    """Tasks and a thread asking at once share one awaited async factory's result."""
    d: ThreadSafeDict[object] = ThreadSafeDict()
    calls = 0
    value = object()

    async def factory() -> object:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return value

    tasks = [asyncio.create_task(d.aget_or_create_async("k", factory)) for _ in range(5)]
    await asyncio.sleep(0.01)
    from_thread: list[object] = []
    thread = threading.Thread(target=lambda: from_thread.append(d.get_or_create("k", object)))
    thread.start()
    results = await asyncio.gather(*tasks)
    await asyncio.to_thread(thread.join, 5)
    assert calls == 1 and all(r is value for r in results) and from_thread == [value]
    assert await d.aget_or_create("k", object) is value


async def test_a_failed_creation_lets_the_next_caller_try() -> None:
    """The factory's error goes to its caller; a waiter makes the value itself."""
    d: ThreadSafeDict[str] = ThreadSafeDict()
    started = asyncio.Event()

    async def failing() -> str:
        started.set()
        await asyncio.sleep(0.02)
        raise ValueError("boom")

    first = asyncio.create_task(d.aget_or_create_async("k", failing))
    await started.wait()
    second = asyncio.create_task(d.aget_or_create_async("k", lambda: "ok"))
    with pytest.raises(ValueError, match="boom"):
        await first
    assert await second == "ok" and d.get("k") == "ok"


def test_a_factory_asking_for_its_own_key_is_an_error() -> None:
    """A reentrant get_or_create of the same key raises instead of hanging."""
    d: ThreadSafeDict[Any] = ThreadSafeDict()
    with pytest.raises(RuntimeError, match="asked for 'k' itself"):
        d.get_or_create("k", lambda: d.get_or_create("k", object))
    assert d.get_or_create("k", lambda: 1) == 1


async def test_async_safe_counter_loses_no_update() -> None:
    """Threads and tasks incrementing at once reach the exact total."""
    counter = AsyncSafeCounter(10)

    def work() -> None:
        for _ in range(500):
            counter.increment()

    async def awork() -> None:
        for _ in range(100):
            await counter.aincrement(2)
            await counter.adecrement()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    await asyncio.gather(*(awork() for _ in range(4)))
    for t in threads:
        await asyncio.to_thread(t.join, 10)
    assert counter.get() == 10 + 1500 + 400 == await counter.aget()
    assert counter.decrement(10) == 1900
    counter.set(3)
    await counter.aset(await counter.aget() + 1)
    assert counter.get() == 4


# -- thread_safe -------------------------------------------------------------------------
def test_thread_safe_runs_a_function_one_call_at_a_time() -> None:
    """Calls from several threads never overlap; the function keeps its name and is
    reentrant for its caller."""
    inside = AsyncSafeCounter()
    most: list[int] = []

    @thread_safe
    def work(depth: int = 0) -> int:
        """Work."""
        most.append(inside.increment())
        time.sleep(0.0005)
        if depth:
            work(depth - 1)
        inside.decrement()
        return depth

    _threads(4, lambda: [work(1) for _ in range(10)])
    assert max(most) == 2  # only its own nested call: never another thread's
    assert work.__name__ == "work" and work.__doc__ == "Work." and work(0) == 0


async def test_thread_safe_serializes_an_async_function_across_its_awaits() -> None:
    """An ``async def`` runs one call at a time, across tasks."""
    log: list[str] = []

    @thread_safe
    async def step(i: int) -> int:
        log.append(f"in {i}")
        await asyncio.sleep(0.001)
        log.append(f"out {i}")
        return i

    assert await asyncio.gather(*(step(i) for i in range(4))) == [0, 1, 2, 3]
    assert all(log[k][:2] == "in" and log[k + 1][:3] == "out" for k in range(0, 8, 2))


def test_thread_safe_refuses_a_generator_function() -> None:
    """A generator's body runs after the call: locking the call would lock nothing."""

    def gen() -> Iterator[int]:
        yield 1

    with pytest.raises(TypeError, match="generator function"):
        thread_safe(gen)


# -- ServiceRegistry / ServiceBinding ------------------------------------------------------
def test_service_binding_describes_each_binding(c: Any, app: ModuleType) -> None:
    """Class, factory, scoped factory and instance bindings, in 0.5.0's terms."""
    registry = ServiceRegistry(c)
    config = registry.get_binding(app.Config)
    assert config is not None
    assert (config.service_type, config.implementation, config.scope, config.is_factory) == (
        app.Config, app.Config, "singleton", False
    )
    line = next(i for i, text in enumerate(APP.splitlines(), 1) if "self.bind(Config)" in text)
    assert config.site == f"core_app/app.py:{line}"
    client = registry.get_binding(app.Client)
    assert client is not None and client.is_factory and client.scope == "transient"
    assert client.implementation is app.make_client
    session = registry.get_binding(app.Session)
    assert session is not None and session.scope == "request" and session.is_factory
    tenant = registry.get_binding(app.Tenant)
    assert tenant is not None and tenant.scope == "tenant" and not tenant.is_factory
    settings = registry.get_binding("settings")
    assert settings is not None and settings.implementation is app.SETTINGS
    assert registry.get_binding(app.Repo) is not None
    assert registry.get_binding("nothing") is None


def test_registry_lists_bindings_and_factories(c: Any, app: ModuleType) -> None:
    """All bindings (factories included) and the factories alone; lookups agree."""
    registry = ServiceRegistry(c)
    keys = [app.Config, app.Repo, app.Client, app.Session, app.Tenant, "settings"]
    assert list(registry.get_all_bindings()) == keys and len(registry) == 6
    assert registry.get_all_factories() == {
        app.Client: app.make_client, app.Session: app.open_session,
    }
    assert registry.get_factory(app.Client) is app.make_client
    assert registry.has_factory(app.Session) and not registry.has_factory(app.Config)
    assert registry.get_factory(app.Config) is None
    assert registry.has_binding(app.Tenant) and app.Tenant in registry
    assert "nothing" not in registry and not registry.has_binding("nothing")
    registry.validate()


def test_registry_changes_the_runtime_container(app: ModuleType) -> None:
    """What the registry binds, the container resolves; removing and clearing unbind."""
    c = InjectQ()
    registry = ServiceRegistry(c)
    registry.bind(app.Config)
    registry.bind_factory(app.Client, app.make_client)
    registry.bind_instance("settings", {"x": 1})
    assert c.get(app.Client).config is c.get(app.Config) and c.get("settings") == {"x": 1}
    registry.bind_instance("settings", {"x": 2})  # replaces, as 0.5.0's registry did
    assert c.get("settings") == {"x": 2} and c.check() == []
    with pytest.raises(AlreadyRegisteredError):
        registry.bind(app.Config, allow_override=False)
    assert registry.remove_factory(app.Config) is False
    assert registry.remove_factory(app.Client) is True and not c.has(app.Client)
    assert registry.remove_binding("settings") is True
    assert registry.remove_binding("settings") is False
    registry.clear()
    assert len(registry) == 0 and not c.has(app.Config)


def test_registry_respects_a_container_that_refuses_overrides(app: ModuleType) -> None:
    """``InjectQ(allow_override=False)``: binding a bound key again is refused."""
    registry = ServiceRegistry(InjectQ(allow_override=False))
    registry.bind(app.Config)
    with pytest.raises(AlreadyRegisteredError):
        registry.bind(app.Config)


def test_a_generated_containers_registry_is_read_only(app: ModuleType) -> None:
    """Its bindings were fixed when it was built: every change is a BindingError."""
    registry = ServiceRegistry(build_wiring([TARGET]).Container())
    calls = [
        lambda: registry.bind(app.Config),
        lambda: registry.bind_factory(app.Client, app.make_client),
        lambda: registry.bind_instance("settings", {}),
        lambda: registry.remove_binding(app.Config),
        lambda: registry.remove_factory(app.Client),
        registry.clear,
    ]
    for call in calls:
        with pytest.raises(BindingError, match="were fixed when `injectq-gen build`"):
            call()
    assert len(registry) == 6


def test_registry_of_its_own_and_invalid_bindings() -> None:
    """``ServiceRegistry()`` has a container of its own; a ServiceBinding of None needs
    allow_none; a registry of something else is a TypeError."""
    registry = ServiceRegistry()
    assert isinstance(registry.container, InjectQ)
    registry.bind("port", 8080)
    assert registry.container.get("port") == 8080
    with pytest.raises(BindingError, match="allow_none=True"):
        ServiceBinding("key", None)
    assert ServiceBinding("key", None, allow_none=True).implementation is None
    with pytest.raises(TypeError, match="injectq container"):
        ServiceRegistry(object())  # type: ignore[arg-type]


# -- DependencyResolver ------------------------------------------------------------------
async def test_resolver_resolves_through_the_container(c: Any, app: ModuleType) -> None:
    """resolve / aresolve / resolve_async give what the container gives."""
    resolver = DependencyResolver(ServiceRegistry(c))
    assert resolver.resolve(app.Config) is c.get(app.Config)
    assert resolver.resolve(app.Repo) is not resolver.resolve(app.Repo)  # transient
    assert await resolver.aresolve(app.Client) is not None
    assert (await resolver.resolve_async(app.Repo)).config is c.get(app.Config)
    assert DependencyResolver(c).resolve("settings") is app.SETTINGS
    with pytest.raises(DependencyNotFoundError):
        resolver.resolve("nothing")
    assert resolver.get_dependency_graph() == c.get_dependency_graph()
    resolver.validate_dependencies()
    resolver.compile_resolution_plans()
    assert resolver.scope_manager is get_scope_manager(c)


def test_resolver_refuses_another_containers_scope_manager(c: Any) -> None:
    """A container's scopes are its own."""
    with pytest.raises(ScopeError, match="does not manage the scopes"):
        DependencyResolver(c, ScopeManager(InjectQ()))


# -- scope managers ------------------------------------------------------------------------
def test_scope_context_is_the_containers_scope(c: Any, app: ModuleType) -> None:
    """Scoped bindings resolve inside it; get_scope is the open scope; both end with it
    (the scope's resources finalized)."""
    manager = ScopeManager(c)
    with manager.scope_context("request") as state:
        assert isinstance(state, ScopeState)
        assert manager.get_scope("request") is state is c.current_scope("request")
        assert c.get(app.Session) is c.get(app.Session)
        assert app.EVENTS == ["open"]
    assert app.EVENTS == ["open", "close"]
    with pytest.raises(ScopeError, match="no 'request' scope is open in this context"):
        manager.get_scope("request")
    with pytest.raises(ScopeError, match="lifetime"):
        manager.get_scope("singleton")
    with pytest.raises(ScopeError, match="lifetime"):
        manager.scope_context(ScopeType.SINGLETON)


async def test_async_scope_context_keeps_tasks_apart(c: Any, app: ModuleType) -> None:
    """Each task's ``async with`` has its own instances."""
    manager = create_enhanced_scope_manager(c)
    assert isinstance(manager, AsyncScopeManager)

    async def request() -> Any:
        async with manager.async_scope_context(ScopeType.REQUEST):
            first = c.get(app.Session)
            await asyncio.sleep(0.01)
            assert c.get(app.Session) is first
            return first

    one, two = await asyncio.gather(request(), request())
    assert one is not two and app.EVENTS.count("close") == 2


async def test_get_instance_keeps_a_value_per_scope(c: Any) -> None:
    """Once per open scope, per container for singleton, never for transient; what a
    scope kept ends with it, and is apart from the container's instances."""
    manager = ScopeManager(c)
    one = manager.get_instance("k", object)
    assert manager.get_instance("k", object, "singleton") is one
    assert manager.get_instance("k", object, "transient") is not one
    with manager.scope("request"):
        scoped = manager.get_instance("k", object, "request")
        assert manager.get_instance("k", object, ScopeType.REQUEST) is scoped is not one
        assert manager.get_instance("settings", lambda: "mine", "request") == "mine"
        assert c.get("settings") is not None and c.get("settings") != "mine"

        async def make() -> str:
            return "made"

        assert await manager.aget_instance("a", make, "request") == "made"
        assert await manager.aget_instance("a", object, "request") == "made"
        assert await manager.aget_instance("t", make, "transient") == "made"
    with manager.scope("request"):
        assert manager.get_instance("k", object, "request") is not scoped
    with pytest.raises(ScopeError, match="no 'request' scope is open"):
        manager.get_instance("k", object, "request")


async def test_clear_scope_drops_the_scopes_instances(c: Any, app: ModuleType) -> None:
    """``clear_scope`` finalizes the open scope's resources; the next get makes new ones;
    ``clear_scope('singleton')`` drops singletons, those of get_instance too."""
    manager = get_scope_manager(c)
    with manager.scope_context("request"):
        first = c.get(app.Session)
        kept = manager.get_instance("k", object, "request")
        manager.clear_scope("request")
        assert app.EVENTS == ["open", "close"]
        assert c.get(app.Session) is not first
        assert manager.get_instance("k", object, "request") is not kept
    config = c.get(app.Config)
    single = manager.get_instance("s", object)
    manager.clear_scope("singleton")
    assert c.get(app.Config) is not config and manager.get_instance("s", object) is not single
    single = manager.get_instance("s", object)
    manager.clear_all_scopes()
    assert manager.get_instance("s", object) is not single
    async with manager.scope_context("request"):
        c.get(app.Session)
        await manager.aclear_scope("request")
        await manager.aclear_all_scopes()
    assert app.EVENTS.count("close") == 3


def test_register_scope_declares_a_custom_scope(app: ModuleType) -> None:
    """On the runtime container it declares the name (nested in ``parent``); scopes the
    container knows are left as they are."""
    c = InjectQ([app.AppModule()])
    manager = ScopeManager(c)
    manager.register_scope("job", parent="app")
    manager.register_scope("request")
    c.bind(app.Repo, scope="job")
    with manager.scope_context("job"):
        assert c.get(app.Repo) is c.get(app.Repo)
    with pytest.raises(ScopeError, match="lifetime"):
        manager.register_scope("transient")


def test_register_scope_on_a_generated_container(app: ModuleType) -> None:
    """Its scopes were fixed when built: a known one registers, an unknown one says how
    to add it."""
    manager = ScopeManager(build_wiring([TARGET]).Container())
    manager.register_scope("tenant")
    with pytest.raises(ScopeError, match=r"declare it in a Module \(declare_scope\('job'"):
        manager.register_scope(AsyncScope("job"))


def test_a_registered_scope_object_is_entered_with_its_scope(c: Any, app: ModuleType) -> None:
    """Its enter/exit hooks run with ``scope_context``; it serves get_instance there and
    is cleared with the scope."""
    events: list[str] = []

    class Audited(AsyncScope):
        def enter(self) -> None:
            events.append("enter")
            super().enter()

        def exit(self) -> None:
            events.append("exit")
            super().exit()

    scope = Audited("tenant")
    manager = ScopeManager(c)
    manager.register_scope(scope)
    with manager.scope_context("request"), manager.scope_context("tenant") as state:
        assert isinstance(state, ScopeState) and state.name == "tenant"
        assert c.get(app.Tenant) is c.get(app.Tenant)
        kept = manager.get_instance("k", object, "tenant")
        assert scope.get("k", object) is kept
        manager.clear_scope("tenant")
        assert manager.get_instance("k", object, "tenant") is not kept
    assert events == ["enter", "exit"] and not scope.active


def test_scope_names_resolve_as_the_container_reads_them(c: Any) -> None:
    """Strings, ScopeType, scope objects, and 0.5.0's async_request; anything else is a
    ScopeError."""
    manager = ScopeManager(c)
    assert manager.resolve_scope_name(ScopeType.ACTION) == "action"
    assert manager.resolve_scope_name(HybridScope("tenant")) == "tenant"
    assert manager.resolve_scope_name("async_request") == "request"
    assert manager.resolve_scope_name("singleton") == "singleton"
    with pytest.raises(ScopeError, match="invalid scope 3"):
        manager.resolve_scope_name(3)


def test_get_scope_manager_is_one_manager_per_container(c: Any) -> None:
    """The same object each time; with no container, the context's container's."""
    assert get_scope_manager(c) is get_scope_manager(c)
    assert get_scope_manager(InjectQ()) is not get_scope_manager(c)
    with c.context():
        assert get_scope_manager().container is c
        assert ScopeManager().container is c
    assert isinstance(get_scope_manager(c), BaseScopeManager)
    with pytest.raises(TypeError):
        BaseScopeManager()  # type: ignore[abstract]


# -- AsyncScope / HybridScope --------------------------------------------------------------
async def test_async_scope_keeps_instances_per_block_and_per_task() -> None:
    """One instance per key in a block; tasks started outside have their own; blocks
    nest; outside any block it is a ScopeError."""
    scope = AsyncScope("job")
    with pytest.raises(ScopeError, match=r"AsyncScope\('job'\)\.get\(\): the scope is not entered"):
        scope.get("k", object)

    async def job() -> object:
        async with scope:
            first = await scope.aget("k", object)
            await asyncio.sleep(0.01)
            assert scope.get("k", object) is first
            return first

    one, two = await asyncio.gather(job(), job())
    assert one is not two
    with scope:
        outer = scope.get("k", object)
        with scope:
            assert scope.get("k", object) is not outer
        assert scope.get("k", object) is outer
        scope.clear()
        assert scope.get("k", object) is not outer
    assert not scope.active


def test_hybrid_scope_keeps_threads_apart() -> None:
    """Each thread's block has its own instances."""
    scope = HybridScope("job")
    seen: list[object] = []

    def work() -> None:
        with scope:
            seen.append(scope.get("k", object))
            assert scope.get("k", object) is seen[-1]

    _threads(3, work)
    assert len({id(s) for s in seen}) == 3


def test_every_error_is_an_injectq_error() -> None:
    """The scope and binding errors raised here are injectq's."""
    assert issubclass(ScopeError, InjectQError) and issubclass(BindingError, InjectQError)
