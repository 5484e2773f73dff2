"""The services of the production example: database, caches, monitoring, orders.

Standard library only. The database is sqlite3 in a temporary directory, behind a small
connection pool; the L2 cache speaks a Redis-like client interface (``RedisClient``) whose
only implementation here is in memory. None of these classes knows about injectq: the
wiring lives in ``app/modules.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("app")

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    sku          TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    price_cents  INTEGER NOT NULL CHECK (price_cents >= 0),
    stock        INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS promotions (
    sku          TEXT PRIMARY KEY REFERENCES products (sku),
    percent_off  INTEGER NOT NULL CHECK (percent_off BETWEEN 1 AND 90)
);
CREATE TABLE IF NOT EXISTS orders (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    batch        INTEGER NOT NULL,
    customer     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
    total_cents  INTEGER NOT NULL CHECK (total_cents >= 0)
);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id          INTEGER NOT NULL REFERENCES orders (id),
    sku               TEXT NOT NULL REFERENCES products (sku),
    quantity          INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents  INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX IF NOT EXISTS order_lines_by_sku ON order_lines (sku);
"""


# -- data ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderRequest:
    customer: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class BatchResult:
    batch: int
    accepted: int
    rejected: int
    revenue_cents: int


@dataclass(frozen=True)
class OrderSummary:
    """What the database holds at the end, read back with SQL."""

    accepted: int
    rejected: int
    revenue_cents: int
    units_sold: int
    products: int


# -- database -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DatabaseConfig:
    max_connections: int = 20
    min_connections: int = 5
    connection_timeout: float = 30  # seconds to wait for a free connection / a lock
    command_timeout: float = 60  # seconds one checkout may spend running statements


class PoolExhaustedError(RuntimeError):
    pass


class ConnectionPool:
    """A bounded pool of sqlite3 connections to one database file.

    ``open()`` creates the file in a fresh temporary directory (WAL mode, so readers and
    the writer of a request do not block each other) and the first ``min_connections``;
    ``close()`` closes every connection and removes the directory.
    """

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.path: Path | None = None
        self._tmpdir: str | None = None
        self._idle: list[sqlite3.Connection] = []
        self._in_use = 0
        self._cond = threading.Condition()
        self.opened = 0
        self.acquired = 0
        self.released = 0
        self.peak_in_use = 0
        self.closed = False

    def open(self) -> None:
        self._tmpdir = tempfile.mkdtemp(prefix="injectq-production-")
        self.path = Path(self._tmpdir) / "orders.sqlite3"
        with self._cond:
            for _ in range(self.config.min_connections):
                self._idle.append(self._connect())
        log.info("connection pool open: %s (%d connections)", self.path, len(self._idle))

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None, "open() the pool first"
        conn = sqlite3.connect(
            self.path,
            timeout=self.config.connection_timeout,
            isolation_level=None,  # transactions are explicit: BEGIN / COMMIT / SAVEPOINT
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        self.opened += 1
        return conn

    def acquire(self) -> sqlite3.Connection:
        deadline = time.monotonic() + self.config.connection_timeout
        with self._cond:
            if self.closed:
                raise PoolExhaustedError("the connection pool is closed")
            while not self._idle and self._in_use >= self.config.max_connections:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    raise PoolExhaustedError(
                        f"no free connection within {self.config.connection_timeout}s "
                        f"(max_connections={self.config.max_connections})"
                    )
            conn = self._idle.pop() if self._idle else self._connect()
            self._in_use += 1
            self.acquired += 1
            self.peak_in_use = max(self.peak_in_use, self._in_use)
        stop_at = time.monotonic() + self.config.command_timeout
        conn.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)
        return conn

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()  # never hand out a connection in the middle of a transaction
        conn.set_progress_handler(None, 0)
        with self._cond:
            self._in_use -= 1
            self.released += 1
            if self.closed:
                conn.close()
            else:
                self._idle.append(conn)
            self._cond.notify()

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self.acquire()
        try:
            yield conn
        finally:
            self.release(conn)

    @property
    def in_use(self) -> int:
        return self._in_use

    def close(self) -> None:
        with self._cond:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        log.info("connection pool closed (%d connections opened in total)", self.opened)


def open_connection_pool(config: DatabaseConfig) -> Iterator[ConnectionPool]:
    """The pool as a resource: opened on first use, closed when the container closes."""
    pool = ConnectionPool(config)
    pool.open()
    try:
        yield pool
    finally:
        pool.close()


class UnitOfWork:
    """One connection and one transaction for a request scope. Nothing is written unless
    ``commit()`` is called; whatever is left uncommitted is rolled back at scope end."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.connection.execute("BEGIN")
        self.committed = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, params)

    @contextlib.contextmanager
    def savepoint(self, name: str = "item") -> Iterator[None]:
        """Undo only this block's writes when it raises."""
        self.connection.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.connection.execute(f"ROLLBACK TO {name}")
            self.connection.execute(f"RELEASE {name}")
            raise
        self.connection.execute(f"RELEASE {name}")

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self.committed = True


def open_unit_of_work(pool: ConnectionPool) -> Iterator[UnitOfWork]:
    """Request-scoped resource: a pooled connection, returned when the scope closes."""
    conn = pool.acquire()
    try:
        yield UnitOfWork(conn)
    finally:
        pool.release(conn)  # rolls back what was not committed


class DatabaseService(ABC):
    """What the application needs from its database."""

    @abstractmethod
    async def create_schema(self) -> int: ...

    @abstractmethod
    async def load_catalog(
        self, products: Sequence[tuple[str, str, int, int]], promotions: dict[str, int]
    ) -> int: ...

    @abstractmethod
    async def get_products_batch(self, skus: Sequence[str]) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def active_promotions(self) -> dict[str, int]: ...

    @abstractmethod
    async def update_price(self, sku: str, price_cents: int) -> bool: ...

    @abstractmethod
    async def order_summary(self) -> OrderSummary: ...


class OptimizedDatabaseService(DatabaseService):
    """Pooled connections, one query per batch of keys, bulk inserts with executemany."""

    def __init__(self, connection_pool: ConnectionPool, monitor: PerformanceMonitor) -> None:
        self.pool = connection_pool
        self.monitor = monitor

    async def create_schema(self) -> int:
        with self.monitor.measure("db.create_schema"), self.pool.connection() as conn:
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            rows = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"
            ).fetchone()
        return int(rows[0])

    async def load_catalog(
        self, products: Sequence[tuple[str, str, int, int]], promotions: dict[str, int]
    ) -> int:
        with self.monitor.measure("db.load_catalog"), self.pool.connection() as conn:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO products (sku, name, price_cents, stock) VALUES (?, ?, ?, ?)",
                products,
            )
            conn.executemany(
                "INSERT INTO promotions (sku, percent_off) VALUES (?, ?)",
                sorted(promotions.items()),
            )
            conn.execute("COMMIT")
        return len(products)

    async def get_products_batch(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        if not skus:
            return []
        marks = ", ".join("?" for _ in skus)
        with self.monitor.measure("db.get_products_batch"), self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT sku, name, price_cents FROM products WHERE sku IN ({marks})",
                list(skus),
            ).fetchall()
        return [dict(row) for row in rows]

    async def active_promotions(self) -> dict[str, int]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT sku, percent_off FROM promotions").fetchall()
        return {row["sku"]: row["percent_off"] for row in rows}

    async def update_price(self, sku: str, price_cents: int) -> bool:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE products SET price_cents = ? WHERE sku = ?", (price_cents, sku)
            )
        return cur.rowcount == 1

    async def order_summary(self) -> OrderSummary:
        with self.pool.connection() as conn:
            orders = {
                row["status"]: (row["n"], row["total"])
                for row in conn.execute(
                    "SELECT status, count(*) AS n, coalesce(sum(total_cents), 0) AS total "
                    "FROM orders GROUP BY status"
                )
            }
            units = conn.execute("SELECT coalesce(sum(quantity), 0) FROM order_lines").fetchone()
            products = conn.execute("SELECT count(*) FROM products").fetchone()
        accepted, revenue = orders.get("accepted", (0, 0))
        rejected, _ = orders.get("rejected", (0, 0))
        return OrderSummary(accepted, rejected, revenue, int(units[0]), int(products[0]))


# -- monitoring ---------------------------------------------------------------------------
@dataclass
class PerformanceMetric:
    method_name: str
    execution_time: float  # average, seconds
    total_time: float
    call_count: int


class PerformanceMonitor:
    """Execution times per operation name."""

    def __init__(self) -> None:
        self.metrics: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def record_execution(self, method_name: str, execution_time: float) -> None:
        with self._lock:
            self.metrics.setdefault(method_name, []).append(execution_time)

    @contextlib.contextmanager
    def measure(self, method_name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.record_execution(method_name, time.perf_counter() - start)

    def get_performance_report(self) -> list[PerformanceMetric]:
        report = [
            PerformanceMetric(name, sum(times) / len(times), sum(times), len(times))
            for name, times in self.metrics.items()
        ]
        return sorted(report, key=lambda m: m.total_time, reverse=True)


class MetricsCollector:
    """Business counters: orders, revenue, cache traffic."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def increment(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + amount

    def get(self, name: str) -> int:
        return self.counters.get(name, 0)


# -- caching ------------------------------------------------------------------------------
class ICacheLayer(ABC):
    @abstractmethod
    async def get(self, key: str) -> Any | None: ...

    @abstractmethod
    async def set(self, key: str, value: Any, ttl: int = 300) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> bool: ...


class MemoryCache(ICacheLayer):
    """L1: in-process, least recently used entries evicted first, per-entry TTL."""

    def __init__(self, max_size: int = 1000) -> None:
        self._cache: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max_size = max_size
        self.evictions = 0

    async def get(self, key: str) -> Any | None:
        entry = self._cache.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires < time.monotonic():
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return value

    async def set(self, key: str, value: Any, ttl: int = 300) -> bool:
        if key not in self._cache and len(self._cache) >= self._max_size:
            self._cache.popitem(last=False)
            self.evictions += 1
        self._cache[key] = (time.monotonic() + ttl, value)
        self._cache.move_to_end(key)
        return True

    async def delete(self, key: str) -> bool:
        return self._cache.pop(key, None) is not None


@dataclass(frozen=True)
class CacheSettings:
    redis_url: str | None = None
    l1_max_size: int = 1000
    l1_ttl: int = 60
    default_ttl: int = 300


class RedisClient(ABC):
    """The part of a Redis client the L2 cache uses (redis.asyncio.Redis fits it)."""

    @abstractmethod
    async def ping(self) -> bool: ...

    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def setex(self, key: str, ttl: int, value: str) -> bool: ...

    @abstractmethod
    async def delete(self, *keys: str) -> int: ...

    @abstractmethod
    async def aclose(self) -> None: ...


class InMemoryRedis(RedisClient):
    """Stands in for Redis when REDIS_URL is unset: bytes values with expiry."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self.closed = False

    async def ping(self) -> bool:
        return not self.closed

    async def get(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None or entry[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return entry[1]

    async def setex(self, key: str, ttl: int, value: str) -> bool:
        self._data[key] = (time.monotonic() + ttl, value.encode())
        return True

    async def delete(self, *keys: str) -> int:
        return sum(self._data.pop(k, None) is not None for k in keys)

    async def aclose(self) -> None:
        self._data.clear()
        self.closed = True


class CacheBackendError(RuntimeError):
    pass


async def connect_redis(settings: CacheSettings) -> AsyncIterator[RedisClient]:
    """The L2 client as a resource: connected on first use, closed with the container.

    Plug a real client in here (``redis.asyncio.from_url(settings.redis_url)``); this
    example ships only the in-memory stand-in, so a REDIS_URL is refused rather than
    silently ignored.
    """
    if settings.redis_url:
        raise CacheBackendError(
            f"REDIS_URL is set ({settings.redis_url}) but this example has no Redis client: "
            "unset it to use the in-memory L2, or plug a client into app.services.connect_redis"
        )
    client: RedisClient = InMemoryRedis()
    if not await client.ping():
        raise CacheBackendError("L2 cache did not answer PING")
    try:
        yield client
    finally:
        await client.aclose()


class RedisCache(ICacheLayer):
    """L2: JSON values in a Redis-like store."""

    def __init__(self, redis_client: RedisClient) -> None:
        self.redis = redis_client

    async def get(self, key: str) -> Any | None:
        data = await self.redis.get(key)
        return json.loads(data) if data else None

    async def set(self, key: str, value: Any, ttl: int = 300) -> bool:
        return await self.redis.setex(key, ttl, json.dumps(value, default=str))

    async def delete(self, key: str) -> bool:
        return await self.redis.delete(key) > 0


class MultiLevelCache:
    """L1 first, then L2 (refilling L1); writes and deletes go to both."""

    def __init__(
        self,
        l1_cache: MemoryCache,
        l2_cache: RedisCache,
        settings: CacheSettings,
        metrics: MetricsCollector,
    ) -> None:
        self.l1 = l1_cache
        self.l2 = l2_cache
        self.settings = settings
        self.metrics = metrics

    async def get(self, key: str) -> Any | None:
        value = await self.l1.get(key)
        if value is not None:
            self.metrics.increment("cache.l1_hits")
            return value
        value = await self.l2.get(key)
        if value is not None:
            self.metrics.increment("cache.l2_hits")
            await self.l1.set(key, value, ttl=self.settings.l1_ttl)
            return value
        self.metrics.increment("cache.misses")
        return None

    async def set(self, key: str, value: Any, ttl: int | None = None) -> bool:
        ttl = ttl or self.settings.default_ttl
        l1 = await self.l1.set(key, value, min(ttl, self.settings.l1_ttl))
        l2 = await self.l2.set(key, value, ttl)
        return l1 and l2

    async def delete(self, key: str) -> bool:
        self.metrics.increment("cache.invalidations")
        l1 = await self.l1.delete(key)
        l2 = await self.l2.delete(key)
        return l1 or l2


# -- orders -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Promotions:
    """Percent off per SKU, read once per request scope (through the cache)."""

    percent_off: dict[str, int]

    def price(self, product: Product) -> int:
        off = self.percent_off.get(product.sku, 0)
        return product.price_cents * (100 - off) // 100


async def load_promotions(database: DatabaseService, cache: MultiLevelCache) -> Promotions:
    cached = await cache.get("promotions:active")
    if cached is None:
        cached = await database.active_promotions()
        await cache.set("promotions:active", cached)
    return Promotions(dict(cached))


class OutOfStockError(Exception):
    pass


class OrderService:
    """Request-scoped: prices come through the cache, writes go through the scope's unit
    of work, committed once per batch."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        database: DatabaseService,
        cache: MultiLevelCache,
        promotions: Promotions,
        monitor: PerformanceMonitor,
        metrics: MetricsCollector,
    ) -> None:
        self.uow = uow
        self.database = database
        self.cache = cache
        self.promotions = promotions
        self.monitor = monitor
        self.metrics = metrics

    async def products(self, skus: Sequence[str]) -> dict[str, Product]:
        """Concurrent cache lookups, one database query for the misses."""
        with self.monitor.measure("OrderService.products"):
            cached = await asyncio.gather(*(self.cache.get(f"product:{s}") for s in skus))
            found = {s: v for s, v in zip(skus, cached, strict=True) if v is not None}
            missing = [s for s in skus if s not in found]
            if missing:
                rows = await self.database.get_products_batch(missing)
                await asyncio.gather(*(self.cache.set(f"product:{r['sku']}", r) for r in rows))
                found.update({r["sku"]: r for r in rows})
        return {s: Product(**v) for s, v in found.items()}

    async def process_batch(self, batch: int, orders: Sequence[OrderRequest]) -> BatchResult:
        with self.monitor.measure("OrderService.process_batch"):
            skus = sorted({line.sku for order in orders for line in order.lines})
            products = await self.products(skus)
            accepted = rejected = revenue = 0
            for order in orders:
                try:
                    with self.uow.savepoint("order_item"):
                        revenue += self._place(batch, order, products)
                    accepted += 1
                except OutOfStockError:
                    self.uow.execute(
                        "INSERT INTO orders (batch, customer, status, total_cents) "
                        "VALUES (?, ?, 'rejected', 0)",
                        (batch, order.customer),
                    )
                    rejected += 1
            self.uow.commit()
        self.metrics.increment("orders.accepted", accepted)
        self.metrics.increment("orders.rejected", rejected)
        self.metrics.increment("orders.revenue_cents", revenue)
        return BatchResult(batch, accepted, rejected, revenue)

    def _place(self, batch: int, order: OrderRequest, products: dict[str, Product]) -> int:
        with self.monitor.measure("OrderService.place_order"):
            priced = [(line, self.promotions.price(products[line.sku])) for line in order.lines]
            total = sum(line.quantity * unit for line, unit in priced)
            order_id = self.uow.execute(
                "INSERT INTO orders (batch, customer, status, total_cents) "
                "VALUES (?, ?, 'accepted', ?)",
                (batch, order.customer, total),
            ).lastrowid
            for line, _ in priced:
                updated = self.uow.execute(
                    "UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?",
                    (line.quantity, line.sku, line.quantity),
                )
                if updated.rowcount != 1:
                    raise OutOfStockError(line.sku)
            self.uow.connection.executemany(
                "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents) "
                "VALUES (?, ?, ?, ?)",
                [(order_id, line.sku, line.quantity, unit) for line, unit in priced],
            )
        return total


# -- application --------------------------------------------------------------------------
class Application:
    """Startup (schema, catalog), maintenance, and the end-of-run numbers."""

    def __init__(
        self,
        database: DatabaseService,
        cache: MultiLevelCache,
        pool: ConnectionPool,
        monitor: PerformanceMonitor,
        metrics: MetricsCollector,
    ) -> None:
        self.database = database
        self.cache = cache
        self.pool = pool
        self.monitor = monitor
        self.metrics = metrics
        self.tables = 0

    async def start(
        self, products: Sequence[tuple[str, str, int, int]], promotions: dict[str, int]
    ) -> int:
        self.tables = await self.database.create_schema()
        return await self.database.load_catalog(products, promotions)

    async def reprice(self, sku: str, price_cents: int) -> None:
        """Change a price and invalidate its cache entry."""
        if await self.database.update_price(sku, price_cents):
            await self.cache.delete(f"product:{sku}")

    async def summary(self) -> OrderSummary:
        return await self.database.order_summary()
