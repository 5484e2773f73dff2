"""Every code example of the docs page "Performance Best Practices", run against the containers.

The page's code lives in `tests/seed/examples.py` (what it uses but never defines: in
`tests/seed/stubs.py`). Each test installs an example's module(s) and checks what the page
promises: lifetimes, named and instance bindings, injection, and the examples' own behaviour.
Each test runs twice (fixture `container_factory`): on the runtime container `InjectQ`, and
on the container injectq-gen generates from the same Modules (`GeneratedAdapter`).
"""

import gc
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from injectq import DependencyNotFoundError, InjectQ, InjectQError, ScopeError
from tests.codegen_support import build_wiring
from tests.seed import examples, stubs
from tests.seed.examples import (
    AsyncOptimizedService,
    AsyncStoresModule,
    CachedDataService,
    CachedDynamicService,
    CachingModule,
    CompleteMemoryEfficientService,
    CompleteProductionModule,
    CompleteProductionModuleRegistration,
    DatabaseModule,
    EfficientService,
    HandlerModule,
    IneffientModule,
    IneffientService,
    LoggerModule,
    MemoryCache,
    MemoryCacheServiceModule,
    MemoryEfficientService,
    MemoryOptimizedModule,
    MonitoredService,
    MonitoringModule,
    MultiLevelCache,
    OptimizedDatabaseService,
    OptimizedModule,
    PerformanceMonitor,
    PerformanceOptimizedModule,
    ProductionModule,
    ProductionModuleRegistration,
    RedisCache,
    SequentialService,
    StubPoolModule,
    monitor_performance,
    performance_monitor,
)
from tests.seed.stubs import (
    Application,
    AsyncAPIClient,
    AsyncCache,
    AsyncDatabase,
    BaseRepository,
    CacheService,
    CalculationEngine,
    ConnectionPool,
    Database,
    DatabaseConfig,
    DatabaseConnection,
    DatabaseService,
    DataProcessingService,
    DataProcessor,
    DataValidator,
    EmailHandler,
    IHandler,
    IRepository,
    Logger,
    LoggingService,
    MetricsCollector,
    OrderRepository,
    OrderService,
    RedisCacheService,
    RedisClient,
    SmsHandler,
    UserRepository,
    UserService,
    ValidationService,
    asyncpg,
)

MB = 1024 * 1024
F = TypeVar("F", bound=Callable[..., Any])


# The entry points each example's app resolves without binding them (auto-wired classes):
# what `injectq-gen build ... --root` lists in production, since the generated wiring holds
# only the bindings and what the roots reach.
SEED_ROOTS = {
    "LoggerModule": ["IneffientService", "EfficientService"],
    "HandlerModule": ["CachedDynamicService"],
    "AsyncStoresModule": ["AsyncOptimizedService", "SequentialService"],
    "MonitoringModule": ["MonitoredService"],
    "CachingModule": ["CachedDataService"],
    "CompleteProductionModule": ["tests.seed.stubs:Application"],
}


class GeneratedAdapter:
    """The generated container behind the runtime container's setup: ``install(module)``
    records the module; the first use of anything else compiles the recorded Modules'
    classes (``tests.seed.examples:ClassName``, with their SEED_ROOTS) with injectq-gen,
    imports the wiring and delegates to its ``container``."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._modules: list[Any] = []
        self._container: Any = None

    def install(self, module: Any) -> "GeneratedAdapter":
        if self._container is not None:
            raise RuntimeError("install() after the wiring was generated")
        self._modules.append(module)
        return self

    @property
    def container(self) -> Any:
        if self._container is None:
            classes = [type(m) for m in self._modules]
            targets = [f"{c.__module__}:{c.__qualname__}" for c in classes]
            roots = [
                root if ":" in root else f"{examples.__name__}:{root}"
                for c in classes
                for root in SEED_ROOTS.get(c.__qualname__, [])
            ]
            self._container = build_wiring(targets, roots, folder=self._folder).container
        return self._container

    def __getattr__(self, name: str) -> Any:  # get, aget, try_get, has, scope, close, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.container, name)

    def __getitem__(self, key: Any) -> Any:
        return self.container[key]

    def __contains__(self, key: Any) -> bool:
        return key in self.container


def runtime_only(reason: str) -> Callable[[F], F]:
    """Run this test against the runtime container only, for ``reason``."""

    def mark(test: F) -> F:
        test.runtime_only = reason  # type: ignore[attr-defined]
        return test

    return mark


@pytest.fixture(params=["runtime", "generated"])
def container_factory(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """``InjectQ``, or a factory of adapters running the same Modules through injectq-gen."""
    if request.param == "runtime":
        return InjectQ
    reason = getattr(request.function, "runtime_only", None)
    if reason:
        pytest.skip(f"runtime container only: {reason}")
    folder = request.getfixturevalue("codegen_env")
    return lambda: GeneratedAdapter(folder)


# --- Use Appropriate Lifecycles ---------------------------------------------------------------


def test_performance_optimized_module_singletons_are_shared(container_factory):
    """PerformanceOptimizedModule's singletons are one object per container."""
    container = container_factory()
    container.install(PerformanceOptimizedModule())

    db = container.get(DatabaseConnection)
    cache = container.get(CacheService)
    logging_service = container.get(LoggingService)

    assert type(db) is DatabaseConnection
    assert type(cache) is RedisCacheService
    assert type(logging_service) is LoggingService
    assert container.get(DatabaseConnection) is db
    assert container.get(CacheService) is cache
    assert container.get(LoggingService) is logging_service


def test_performance_optimized_module_transients_are_fresh(container_factory):
    """PerformanceOptimizedModule's transient bindings give a new object on every get."""
    container = container_factory()
    container.install(PerformanceOptimizedModule())

    validation = container.get(ValidationService)
    engine = container.get(CalculationEngine)

    assert type(validation) is ValidationService
    assert type(engine) is CalculationEngine
    assert container.get(ValidationService) is not validation
    assert container.get(CalculationEngine) is not engine
    assert engine.calculate([1, 2, 3.5]) == 6.5


def test_performance_optimized_module_scoped_services_live_per_scope(container_factory):
    """UserService and OrderService are one per scope, share it, and sit on the singletons."""
    container = container_factory()
    container.install(PerformanceOptimizedModule())
    db = container.get(DatabaseConnection)
    cache = container.get(CacheService)

    with container.scope():
        users = container.get(UserService)
        orders = container.get(OrderService)
        assert container.get(UserService) is users
        assert container.get(OrderService) is orders
        assert orders.users is users
        assert users.db is db
        assert orders.db is db
        assert users.cache is cache
        assert users.get_user("7") == {"id": "7"}

    with container.scope():
        assert container.get(UserService) is not users
        assert container.get(OrderService) is not orders
        # the singleton cache kept what the first request stored
        assert container.get(UserService).get_user("7") == {"id": "7"}

    assert db.executed == ["SELECT * FROM users WHERE id = '7'"]


def test_performance_optimized_module_scoped_service_outside_scope_raises(container_factory):
    """Resolving a scoped service with no scope open raises ScopeError."""
    container = container_factory()
    container.install(PerformanceOptimizedModule())

    with pytest.raises(ScopeError):
        container.get(UserService)
    with pytest.raises(ScopeError):
        container.get(OrderService)


async def test_performance_optimized_module_scoped_services_in_async_scopes(container_factory):
    """`async with container.scope()` gives one UserService per scope to aget and get."""
    container = container_factory()
    container.install(PerformanceOptimizedModule())

    async with container.scope():
        first = await container.aget(UserService)
        assert container.get(UserService) is first
        assert await container.aget(UserService) is first

    async with container.scope("request"):
        second = await container.aget(UserService)
        assert second is not first
        assert second.db is first.db


def test_ineffient_module_makes_everything_transient(container_factory):
    """IneffientModule rebuilds the connection, the cache and UserService on every get."""
    container = container_factory()
    container.install(IneffientModule())

    assert container.get(DatabaseConnection) is not container.get(DatabaseConnection)
    assert container.get(CacheService) is not container.get(CacheService)
    assert type(container.get(CacheService)) is RedisCacheService

    first = container.get(UserService)  # transient: no scope needed
    second = container.get(UserService)
    assert first is not second
    assert first.db is not second.db
    assert first.cache is not second.cache


def test_optimized_module_shares_resources_and_scopes_user_service(container_factory):
    """OptimizedModule shares the connection and cache; UserService is request-scoped."""
    container = container_factory()
    container.install(OptimizedModule())
    db = container.get(DatabaseConnection)
    cache = container.get(CacheService)
    assert container.get(DatabaseConnection) is db
    assert container.get(CacheService) is cache

    with container.scope():
        users = container.get(UserService)
        assert container.get(UserService) is users
        assert users.db is db
        assert users.cache is cache
    with container.scope():
        assert container.get(UserService) is not users
    with pytest.raises(ScopeError):
        container.get(UserService)


# --- Minimize Container Lookups ---------------------------------------------------------------


@runtime_only(
    "asserts the injected container `is` the object the test holds; under the adapter that "
    "is the generated container behind it (checked by "
    "test_generated_injects_its_own_container)"
)
def test_ineffient_service_receives_the_container_itself(container_factory):
    """A parameter annotated InjectQ receives the resolving container, which process_data uses."""
    container = container_factory()
    container.install(LoggerModule())

    service = container.get(IneffientService)

    assert service.container is container
    assert service.process_data([1, 2]) is None  # looks up three services, then does nothing


def test_efficient_service_gets_its_collaborators_injected(container_factory):
    """@inject on __init__ hands EfficientService its validator, processor and logger."""
    container = container_factory()
    container.install(LoggerModule())

    service = container.get(EfficientService)
    logger = container.get(Logger)

    assert isinstance(service.validator, DataValidator)
    assert isinstance(service.processor, DataProcessor)
    assert service.logger is logger
    assert service.process_data([1, 2, 3]) == [2, 4, 6]
    assert logger.messages == ["Processed 3 items"]
    with pytest.raises(TypeError):
        service.process_data("not a list")
    assert logger.messages == ["Processed 3 items"]


@runtime_only(
    "asserts the injected container `is` the object the test holds; under the adapter that "
    "is the generated container behind it (checked by "
    "test_generated_injects_its_own_container)"
)
def test_cached_dynamic_service_resolves_each_named_handler_once(container_factory):
    """get_handler looks a named IHandler up once and then serves it from its own cache."""
    container = container_factory()
    container.install(HandlerModule())

    service = container.get(CachedDynamicService)
    assert service.container is container

    email = service.get_handler("email")
    assert isinstance(email, EmailHandler)
    assert service.get_handler("email") is email
    # the binding is transient, so the sameness above is the service's cache at work
    assert container.get(IHandler, name="email") is not email
    assert isinstance(container.get(IHandler, name="email"), EmailHandler)

    sms = service.get_handler("sms")
    assert isinstance(sms, SmsHandler)
    assert sms.handle("hi") == "sms: hi"
    assert set(service._handler_cache) == {"email", "sms"}


def test_cached_dynamic_service_unknown_handler_raises_and_is_not_cached(container_factory):
    """An unbound handler name raises DependencyNotFoundError and leaves the cache alone."""
    container = container_factory()
    container.install(HandlerModule())
    service = container.get(CachedDynamicService)

    with pytest.raises(DependencyNotFoundError):
        service.get_handler("push")
    assert "push" not in service._handler_cache


def test_generated_injects_its_own_container(codegen_env):
    """Under injectq-gen, a parameter annotated InjectQ receives the generated container,
    which serves IneffientService's and CachedDynamicService's own lookups."""
    container = GeneratedAdapter(codegen_env)
    container.install(LoggerModule())
    container.install(HandlerModule())

    service = container.get(IneffientService)
    assert service.container is container.container
    assert service.process_data([1, 2]) is None

    dynamic = container.get(CachedDynamicService)
    assert dynamic.container is container.container
    email = dynamic.get_handler("email")
    assert isinstance(email, EmailHandler)
    assert dynamic.get_handler("email") is email
    assert container.get(IHandler, name="email") is not email


# --- Optimize Module Registration --------------------------------------------------------------


def test_production_module_registration_binds_pool_repositories_and_named_base(container_factory):
    """The pool is one bound instance, IRepository "base" a singleton, repositories scoped."""
    container = container_factory()
    container.install(CompleteProductionModuleRegistration())

    pool = container.get(ConnectionPool)
    assert (pool.host, pool.port, pool.min_connections, pool.max_connections) == (
        "db.example.com",
        5432,
        5,
        20,
    )
    assert container.get(ConnectionPool) is pool

    base = container.get(IRepository, name="base")
    assert type(base) is BaseRepository
    assert base.pool is pool
    assert container.get(IRepository, name="base") is base
    with pytest.raises(DependencyNotFoundError):
        container.get(IRepository)  # only the named binding exists; the ABC is not auto-wired

    with container.scope():
        users = container.get(UserRepository)
        orders = container.get(OrderRepository)
        assert container.get(UserRepository) is users
        assert container.get(OrderRepository) is orders
        assert users.pool is pool
        assert orders.pool is pool
        users.add({"id": 1, "name": "ada"})
        assert users.get(1) == {"id": 1, "name": "ada"}
        assert orders.get(1) is None
    with container.scope():
        assert container.get(UserRepository) is not users
    with pytest.raises(ScopeError):
        container.get(UserRepository)

    # what the completion supplies for the page's missing configure steps
    assert container.get(AsyncAPIClient) is container.get(AsyncAPIClient)


def test_seed_production_module_registration_as_written_fails_to_configure(container_factory):
    """As printed, the registration module calls a _configure_services it never defines."""
    container = container_factory()

    with pytest.raises((AttributeError, InjectQError), match="_configure_services"):
        container.install(ProductionModuleRegistration())
        container.get(ConnectionPool)


# --- Async/Await Best Practices ----------------------------------------------------------------


async def test_async_optimized_service_batches_misses_and_fills_the_cache(container_factory):
    """process_user_data serves hits from cache, loads all misses in one batch and caches them."""
    container = container_factory()
    container.install(AsyncStoresModule())
    db = container.get(AsyncDatabase)
    cache = container.get(AsyncCache)
    for user_id in ("1", "2", "3"):
        db.add_user({"id": user_id, "name": f"db-{user_id}"})
    cache.data["user:1"] = {"id": "1", "name": "cached-1"}
    cache.failing_keys.add("user:2")  # a cache error counts as a miss

    service = await container.aget(AsyncOptimizedService)
    assert service.database is db
    assert service.cache is cache
    assert isinstance(service.api_client, AsyncAPIClient)

    result = await service.process_user_data(["1", "2", "3", "4"])

    assert result == [
        {"id": "1", "name": "cached-1"},
        {"id": "2", "name": "db-2"},
        {"id": "3", "name": "db-3"},
    ]  # "4" is nowhere and is left out
    assert db.batch_calls == [["2", "3", "4"]]
    assert db.single_calls == []
    assert cache.data["user:2"] == {"id": "2", "name": "db-2"}
    assert cache.ttls == {"user:2": 300, "user:3": 300}

    cache.failing_keys.clear()
    again = await service.process_user_data(["3", "2", "1"])
    assert [user["id"] for user in again] == ["3", "2", "1"]
    assert db.batch_calls == [["2", "3", "4"]]  # all hits now: no new query


async def test_sequential_service_queries_each_miss_on_its_own(container_factory):
    """SequentialService returns the same users but issues one query per cache miss."""
    container = container_factory()
    container.install(AsyncStoresModule())
    db = container.get(AsyncDatabase)
    cache = container.get(AsyncCache)
    for user_id in ("1", "2", "3"):
        db.add_user({"id": user_id})
    cache.data["user:1"] = {"id": "1", "cached": True}

    service = container.get(SequentialService)
    assert service.database is db
    assert service.cache is cache

    users = await service.process_user_data(["1", "2", "3"])

    assert users == [{"id": "1", "cached": True}, {"id": "2"}, {"id": "3"}]
    assert db.single_calls == ["2", "3"]
    assert db.batch_calls == []
    assert cache.data["user:3"] == {"id": "3"}
    assert cache.ttls["user:3"] is None


# --- Memory Management -----------------------------------------------------------------------


def test_memory_optimized_module_lifetimes(container_factory):
    """MemoryEfficientService is a singleton; DataProcessingService is one per scope."""
    container = container_factory()
    container.install(MemoryOptimizedModule())

    service = container.get(MemoryEfficientService)
    assert container.get(MemoryEfficientService) is service
    assert isinstance(service.cache, CacheService)  # unbound concrete class: auto-wired
    assert service._memory_threshold == 100 * MB

    with container.scope():
        processing = container.get(DataProcessingService)
        assert container.get(DataProcessingService) is processing
        assert processing.process([1, 2, 3]) == 3
    with container.scope():
        assert container.get(DataProcessingService) is not processing
    with pytest.raises(ScopeError):
        container.get(DataProcessingService)


def test_memory_efficient_service_reuses_live_objects_and_recreates_collected_ones(
    container_factory,
):
    """get_large_object serves a live object again and re-creates one that was collected."""
    container = container_factory()
    container.install(MemoryCacheServiceModule())
    service = container.get(MemoryEfficientService)
    cache = container.get(CacheService)
    assert isinstance(service, CompleteMemoryEfficientService)
    assert service.cache is cache

    first = service.get_large_object("report")
    assert service.get_large_object("report") is first
    assert cache.get("report") is first
    assert service.created == ["report"]

    cache.delete("report")
    del first
    gc.collect()
    assert service._weak_refs["report"]() is None

    second = service.get_large_object("report")
    assert second.key == "report"
    assert service.created == ["report", "report"]
    assert service._weak_refs["report"]() is second


def test_memory_efficient_service_cleanup_drops_dead_refs_above_threshold(
    container_factory, monkeypatch
):
    """cleanup_memory removes dead weak references only when memory use passes 100MB."""
    monkeypatch.setitem(sys.modules, "psutil", stubs.psutil)
    container = container_factory()
    container.install(MemoryCacheServiceModule())
    service = container.get(MemoryEfficientService)

    dead = service.get_large_object("dead")
    service.cache.delete("dead")
    del dead
    live = service.get_large_object("live")

    monkeypatch.setattr(stubs.psutil, "current_rss", 10 * MB)
    service.cleanup_memory()
    assert set(service._weak_refs) == {"dead", "live"}

    monkeypatch.setattr(stubs.psutil, "current_rss", 200 * MB)
    service.cleanup_memory()
    assert set(service._weak_refs) == {"live"}
    assert service.get_large_object("live") is live


# --- Performance Monitoring --------------------------------------------------------------------


@runtime_only(
    "installs no Module: injectq-gen compiles Module targets, so an unbound class is only "
    "in a generated wiring as a root of some target"
)
def test_performance_monitor_report_averages_and_puts_slowest_first(container_factory):
    """The report gives each method's mean time and call count, slowest first."""
    container = container_factory()
    monitor = container.get(PerformanceMonitor)  # unbound: auto-wired, transient
    assert container.get(PerformanceMonitor) is not monitor

    monitor.record_execution("fast", 0.1)
    monitor.record_execution("fast", 0.3)
    monitor.record_execution("slow", 1.0)
    report = monitor.get_performance_report()

    assert [metric.method_name for metric in report] == ["slow", "fast"]
    assert report[0].execution_time == pytest.approx(1.0)
    assert report[0].call_count == 1
    assert report[1].execution_time == pytest.approx(0.2)
    assert report[1].call_count == 2
    assert all(metric.memory_usage == 0 for metric in report)


async def test_monitor_performance_times_sync_and_async_calls_even_when_they_fail():
    """monitor_performance records every call of sync and async functions, failures included."""
    monitor = PerformanceMonitor()

    @monitor_performance(monitor)
    def add(a, b):
        return a + b

    @monitor_performance(monitor)
    async def invert(x):
        return 1 / x

    assert add(1, 2) == 3
    assert add(2, 2) == 4
    assert await invert(4) == 0.25
    with pytest.raises(ZeroDivisionError):
        await invert(0)

    assert monitor.call_counts == {
        f"{add.__module__}.{add.__qualname__}": 2,
        f"{invert.__module__}.{invert.__qualname__}": 2,
    }
    assert all(t >= 0 for times in monitor.metrics.values() for t in times)


async def test_monitored_service_records_process_data(container_factory):
    """MonitoredService gets its monitor injected and each process_data call is recorded."""
    container = container_factory()
    container.install(MonitoringModule())

    service = await container.aget(MonitoredService)
    assert service.monitor is performance_monitor
    assert service.database is container.get(Database)

    name = (
        f"{MonitoredService.process_data.__module__}.{MonitoredService.process_data.__qualname__}"
    )
    assert name == f"{examples.__name__}.MonitoredService.process_data"
    before = performance_monitor.call_counts.get(name, 0)

    result = await service.process_data([{"id": 1}, {"id": 2}])

    assert result == [{"processed": True, "id": 1}, {"processed": True, "id": 2}]
    assert service.monitor.call_counts[name] == before + 1
    (metric,) = [m for m in service.monitor.get_performance_report() if m.method_name == name]
    assert metric.call_count == before + 1
    assert metric.execution_time >= 0.015  # two items, 10ms of simulated work each


# --- Database Connection Optimization ----------------------------------------------------------


async def test_optimized_database_service_bulk_insert_and_batch_query(container_factory):
    """bulk_insert runs one executemany; execute_batch_query runs all queries in one transaction."""
    container = container_factory()
    container.install(StubPoolModule())
    service = await container.aget(OptimizedDatabaseService)
    pool = container.get(asyncpg.Pool)
    assert service.pool is pool
    assert container.get(OptimizedDatabaseService) is service

    rows = [{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}]
    assert await service.bulk_insert("users", rows) == 2
    assert pool.queries == ["INSERT INTO users (id, name) VALUES ($1, $2)"]
    assert pool.tables["users"] == rows
    assert await service.bulk_insert("users", []) == 0
    assert pool.acquisitions == 1  # nothing to insert: no connection taken

    results = await service.execute_batch_query(["SELECT * FROM users", "SELECT * FROM orders"])
    assert results == [rows, []]
    assert pool.transactions == ["committed"]
    assert pool.acquisitions == 2

    with pytest.raises(ValueError, match="cannot run"):
        await service.execute_batch_query(["SELECT * FROM users", "DROP TABLE users"])
    assert pool.transactions == ["committed", "rolled back"]
    assert pool.in_use == 0  # every connection went back to the pool


async def test_database_module_awaits_the_pool_once_and_shares_it(container_factory):
    """DatabaseModule's pool coroutine is awaited once by aget and the pool is a singleton."""
    made_before = len(stubs.created_pools)
    container = container_factory()
    container.install(DatabaseModule())

    service = await container.aget(OptimizedDatabaseService)
    assert await container.aget(OptimizedDatabaseService) is service
    pool = await container.aget(asyncpg.Pool)
    assert await container.aget(asyncpg.Pool) is pool
    assert service.pool is pool
    assert stubs.created_pools[made_before:] == [pool]

    assert pool.dsn == "postgresql://user:pass@localhost/db"
    assert (pool.min_size, pool.max_size, pool.command_timeout) == (5, 20, 60)
    assert pool.server_settings == {"application_name": "injectq_app", "jit": "off"}

    assert await service.bulk_insert("events", [{"kind": "start"}]) == 1
    assert await service.execute_batch_query(["SELECT * FROM events"]) == [[{"kind": "start"}]]


async def test_database_module_sync_get_points_to_aget(container_factory):
    """get() on something that needs the awaited pool raises an InjectQError naming aget."""
    container = container_factory()
    container.install(DatabaseModule())

    with pytest.raises(InjectQError, match="aget") as excinfo:
        container.get(OptimizedDatabaseService)
    assert type(excinfo.value) is not InjectQError  # a specific subclass
    with pytest.raises(InjectQError, match="aget"):
        container.get(asyncpg.Pool)

    service = await container.aget(OptimizedDatabaseService)  # still resolvable, awaited once
    assert isinstance(service.pool, asyncpg.Pool)


# --- Multi-Level Caching -------------------------------------------------------------------------


async def test_memory_cache_evicts_the_oldest_entry_when_full(container_factory):
    """MemoryCache (bound as an instance of max_size 3) drops its oldest key when full."""
    container = container_factory()
    container.install(CachingModule())
    l1 = container.get(MemoryCache)
    assert container.get(MemoryCache) is l1

    for key in ("a", "b", "c", "d"):
        assert await l1.set(key, key.upper()) is True

    assert await l1.get("a") is None
    assert [await l1.get(k) for k in ("b", "c", "d")] == ["B", "C", "D"]
    assert await l1.delete("b") is True
    assert await l1.get("b") is None


async def test_redis_cache_stores_json_with_ttl(container_factory):
    """RedisCache round-trips values through JSON in Redis with the given TTL."""
    container = container_factory()
    container.install(CachingModule())
    l2 = await container.aget(RedisCache)
    redis = container.get(RedisClient)
    assert l2.redis is redis

    assert await l2.set("user", {"id": 7, "tags": ["a"]}, ttl=120) is True
    assert redis.data["user"] == '{"id": 7, "tags": ["a"]}'
    assert redis.ttls["user"] == 120
    assert await l2.get("user") == {"id": 7, "tags": ["a"]}
    assert await l2.get("absent") is None
    assert await l2.delete("user") is True
    assert await l2.delete("user") is False


async def test_multi_level_cache_reads_l1_then_l2_and_backfills_l1(container_factory):
    """MultiLevelCache writes both layers, reads L1 first, and copies L2 hits into L1."""
    container = container_factory()
    container.install(CachingModule())
    cache = await container.aget(MultiLevelCache)
    l1 = container.get(MemoryCache)
    l2 = container.get(RedisCache)
    redis = container.get(RedisClient)
    assert cache.l1 is l1
    assert cache.l2 is l2
    assert container.get(MultiLevelCache) is cache

    assert await cache.set("k", {"v": 1}, ttl=600) is True
    assert await l1.get("k") == {"v": 1}
    assert redis.ttls["k"] == 600
    redis.data.clear()
    assert await cache.get("k") == {"v": 1}  # an L1 hit never reaches Redis

    await l2.set("only-l2", [1, 2], ttl=120)
    assert await l1.get("only-l2") is None
    assert await cache.get("only-l2") == [1, 2]
    assert await l1.get("only-l2") == [1, 2]

    assert await cache.get("absent") is None

    await cache.set("gone", "x")
    assert await cache.delete("gone") is True
    assert await cache.get("gone") is None
    assert "gone" not in redis.data


async def test_cached_data_service_caches_profiles_and_invalidates_on_update(container_factory):
    """Profiles are loaded once and cached for 30 minutes; an update evicts the cached copy."""
    container = container_factory()
    container.install(CachingModule())
    db = container.get(DatabaseService)
    redis = container.get(RedisClient)
    db.profiles["42"] = {"id": "42", "name": "Ada"}

    service = await container.aget(CachedDataService)
    assert service.database is db
    assert service.cache is container.get(MultiLevelCache)

    assert await service.get_user_profile("42") == {"id": "42", "name": "Ada"}
    assert await service.get_user_profile("42") == {"id": "42", "name": "Ada"}
    assert db.reads == ["42"]
    assert redis.ttls["user_profile:42"] == 1800

    assert await service.update_user_profile("42", {"name": "Ada L."}) is True
    assert "user_profile:42" not in redis.data
    assert await service.get_user_profile("42") == {"id": "42", "name": "Ada L."}
    assert db.reads == ["42", "42"]

    assert await service.get_user_profile("7") is None
    assert await service.get_user_profile("7") is None
    assert db.reads == ["42", "42", "7", "7"]  # a miss is not cached
    assert await service.update_user_profile("7", {"name": "x"}) is False


def test_cached_data_service_cache_key_ignores_keyword_order(container_factory):
    """_generate_cache_key is the MD5 of the prefix and the sorted keyword arguments."""
    container = container_factory()
    container.install(CachingModule())
    service = container.get(CachedDataService)

    key = service._generate_cache_key("search", q="ada", page=2)

    assert key == service._generate_cache_key("search", page=2, q="ada")
    assert key == hashlib.md5(b"search:page=2:q=ada").hexdigest()
    assert key != service._generate_cache_key("search", q="ada", page=3)


# --- Example Production Configuration --------------------------------------------------------


async def test_production_module_bindings(container_factory):
    """ProductionModule binds config and caches as instances/singletons and wires the caches."""
    container = container_factory()
    container.install(CompleteProductionModule())

    config = container.get(DatabaseConfig)
    assert config == DatabaseConfig(
        max_connections=20, min_connections=5, connection_timeout=30, command_timeout=60
    )
    assert container.get(DatabaseConfig) is config
    pool = container.get(ConnectionPool)
    assert container.get(ConnectionPool) is pool
    assert pool.host == "db.example.com"

    database = container.get(DatabaseService)
    assert type(database) is OptimizedDatabaseService
    assert container.get(DatabaseService) is database
    assert isinstance(database.pool, asyncpg.Pool)  # unbound concrete class: auto-wired

    l1 = container.get(MemoryCache)
    assert l1._max_size == 1000
    cache = container.get(MultiLevelCache)
    assert container.get(MultiLevelCache) is cache
    assert cache.l1 is l1
    assert cache.l2 is container.get(RedisCache)
    assert isinstance(cache.l2.redis, RedisClient)
    assert await cache.set("k", "v") is True
    assert await cache.get("k") == "v"

    assert container.get(PerformanceMonitor) is container.get(PerformanceMonitor)
    assert container.get(MetricsCollector) is container.get(MetricsCollector)


async def test_production_main_starts_the_application(container_factory, monkeypatch):
    """main() installs ProductionModule, pre-warms its singletons and starts the Application."""
    containers = []

    def recording_factory():
        container = container_factory()
        containers.append(container)
        return container

    monkeypatch.setattr(examples, "InjectQ", recording_factory)
    monkeypatch.setattr(examples, "ProductionModule", CompleteProductionModule)
    monkeypatch.setattr(Application, "started", [])

    assert await examples.main() is None

    (container,) = containers
    (app,) = Application.started
    assert app.running
    assert app.database is container.get(DatabaseService)
    assert type(app.database) is OptimizedDatabaseService
    assert app.metrics is container.get(MetricsCollector)
    assert app.metrics.counters == {"app.started": 1}
    assert app.config is container.get(DatabaseConfig)
    assert app.config.max_connections == 20


def test_seed_production_module_as_written_lacks_the_pool_factory(container_factory):
    """As printed, ProductionModule calls a _create_connection_pool it never defines."""
    container = container_factory()

    with pytest.raises((AttributeError, InjectQError), match="_create_connection_pool"):
        container.install(ProductionModule())
        container.get(DatabaseConfig)
