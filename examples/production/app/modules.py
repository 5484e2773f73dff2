"""The production wiring, described once.

Develop with ``InjectQ(); container.install(ProductionModule())``; ship the module that
``injectq-gen build`` compiles from this same class (``app/_wiring.py``).
"""

from __future__ import annotations

import os

from app.services import (
    Application,
    CacheSettings,
    ConnectionPool,
    DatabaseConfig,
    DatabaseService,
    MemoryCache,
    MetricsCollector,
    MultiLevelCache,
    OptimizedDatabaseService,
    OrderService,
    PerformanceMonitor,
    Promotions,
    RedisCache,
    RedisClient,
    UnitOfWork,
    connect_redis,
    load_promotions,
    open_connection_pool,
    open_unit_of_work,
)
from injectq import Module


class ProductionModule(Module):
    def configure(self) -> None:
        # Performance optimized bindings
        self._configure_database()
        self._configure_caching()
        self._configure_monitoring()
        self._configure_orders()

    def _configure_database(self) -> None:
        """Pooled connections (sqlite or PostgreSQL); one unit of work (a transaction) per request."""
        self.bind(DatabaseConfig, DatabaseConfig(
            url=os.environ.get("DATABASE_URL") or None,  # unset: the embedded sqlite
            max_connections=20,
            min_connections=5,
            connection_timeout=30,
            command_timeout=60,
        )).singleton()
        # an async resource: the pool is opened on first use, closed by container.aclose()
        self.bind_factory(ConnectionPool, open_connection_pool).singleton()
        # a resource per request scope: the connection goes back to the pool at scope end
        self.bind_factory(UnitOfWork, open_unit_of_work).scoped()
        self.bind(DatabaseService, OptimizedDatabaseService).singleton()

    def _configure_caching(self) -> None:
        """Multi-level caching: in-process L1, Redis-like L2."""
        settings = self._cache_settings()
        self.bind(CacheSettings, settings).singleton()
        self.bind(MemoryCache, MemoryCache(max_size=settings.l1_max_size)).singleton()
        # async resource: connected on first aget(), closed by container.aclose()
        self.bind_factory(RedisClient, connect_redis).singleton()
        self.bind(RedisCache, RedisCache).singleton()
        self.bind(MultiLevelCache, MultiLevelCache).singleton()

    def _configure_monitoring(self) -> None:
        """Performance monitoring."""
        self.bind(PerformanceMonitor, PerformanceMonitor).singleton()
        self.bind(MetricsCollector, MetricsCollector).singleton()

    def _configure_orders(self) -> None:
        """Request-scoped order processing; the application object is app-wide."""
        # async factory: read through the cache once per request scope
        self.bind_factory(Promotions, load_promotions).scoped()
        self.bind(OrderService, OrderService).scoped()
        self.bind(Application, Application).singleton()

    def _cache_settings(self) -> CacheSettings:
        """Factory method for configuration read from the environment."""
        return CacheSettings(
            redis_url=os.environ.get("REDIS_URL") or None,
            l1_max_size=32,  # small on purpose: the catalog is larger, so L2 gets traffic
            l1_ttl=60,
            default_ttl=300,
        )
