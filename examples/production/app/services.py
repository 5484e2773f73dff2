"""The services of the production example: database, caches, monitoring, orders.

The database is reached through a small async connection pool with two backends: sqlite3
in a temporary directory (standard library, the default) and PostgreSQL through asyncpg
when DATABASE_URL is set. The L2 cache speaks a Redis-like client interface
(``RedisClient``): a real Redis server through redis.asyncio when REDIS_URL is set, an
in-memory stand-in otherwise. Each run creates its own database (file or schema) and key
prefix and removes them at close. None of these classes knows about injectq: the wiring
lives in ``app/modules.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
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
    url: str | None = None  # DATABASE_URL: postgresql://... ; unset or sqlite: the embedded one
    max_connections: int = 20
    min_connections: int = 5
    connection_timeout: float = 30  # seconds to wait for a free connection / a lock
    command_timeout: float = 60  # seconds one statement may run


class DatabaseError(RuntimeError):
    """The database could not be reached or set up (bad DATABASE_URL, server down)."""


class PoolExhaustedError(DatabaseError):
    pass


def _rows_affected(status: str) -> int:
    """asyncpg reports 'UPDATE 1', 'INSERT 0 1': the count is the last word."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class Connection(ABC):
    """One pooled connection. SQL is written once for both backends, with $1, $2, ...
    placeholders (PostgreSQL's; sqlite reads them as ?1, ?2, ...)."""

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return next(iter(rows[0].values())) if rows else None

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...


class ConnectionPool(ABC):
    """A bounded pool of connections to a database this run creates and drops.

    ``open()`` creates the database (a temporary sqlite file, or a fresh schema on a
    PostgreSQL server) and the first ``min_connections``; ``close()`` closes every
    connection and removes what ``open()`` created.
    """

    backend = ""

    def __init__(self, config: DatabaseConfig) -> None:
        self.config = config
        self.opened = 0
        self.acquired = 0
        self.released = 0
        self.peak_in_use = 0
        self.in_use = 0
        self.closed = False
        self.removed = False  # the database / schema created by open() is gone

    @property
    @abstractmethod
    def description(self) -> str: ...

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def _acquire(self) -> Connection: ...

    @abstractmethod
    async def _release(self, conn: Connection) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def create_schema(self, conn: Connection) -> int:
        """Create the tables; how many there are."""

    async def acquire(self) -> Connection:
        if self.closed:
            raise PoolExhaustedError("the connection pool is closed")
        conn = await self._acquire()
        self.in_use += 1
        self.acquired += 1
        self.peak_in_use = max(self.peak_in_use, self.in_use)
        return conn

    async def release(self, conn: Connection) -> None:
        try:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")  # never pool a connection mid-transaction
        finally:
            self.in_use -= 1
            self.released += 1
            await self._release(conn)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        conn = await self.acquire()
        try:
            yield conn
        finally:
            await self.release(conn)


_ID_COLUMN = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
}


def schema_statements(backend: str) -> list[str]:
    sql = SCHEMA.replace("INTEGER PRIMARY KEY AUTOINCREMENT", _ID_COLUMN[backend])
    return [stmt.strip() for stmt in sql.split(";") if stmt.strip()]


class SqliteConnection(Connection):
    _PLACEHOLDER = re.compile(r"\$(\d+)")

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def _sql(self, sql: str) -> str:
        return self._PLACEHOLDER.sub(r"?\1", sql)

    async def execute(self, sql: str, *args: Any) -> int:
        return self.raw.execute(self._sql(sql), args).rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(self._sql(sql), rows)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in self.raw.execute(self._sql(sql), args).fetchall()]

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction


class SqlitePool(ConnectionPool):
    """sqlite3 in a fresh temporary directory, WAL mode (readers and the writer of a
    request do not block each other). Stdlib only: the embedded default."""

    backend = "sqlite"

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        self.path: Path | None = None
        self._tmpdir: str | None = None
        self._idle: list[sqlite3.Connection] = []
        self._cond = threading.Condition()

    @property
    def description(self) -> str:
        return "sqlite (WAL) in a temporary directory"

    async def open(self) -> None:
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

    async def _acquire(self) -> Connection:
        deadline = time.monotonic() + self.config.connection_timeout
        with self._cond:
            while not self._idle and self.in_use >= self.config.max_connections:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    raise PoolExhaustedError(
                        f"no free connection within {self.config.connection_timeout}s "
                        f"(max_connections={self.config.max_connections})"
                    )
            conn = self._idle.pop() if self._idle else self._connect()
        stop_at = time.monotonic() + self.config.command_timeout
        conn.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)
        return SqliteConnection(conn)

    async def _release(self, conn: Connection) -> None:
        assert isinstance(conn, SqliteConnection)
        conn.raw.set_progress_handler(None, 0)
        with self._cond:
            if self.closed:
                conn.raw.close()
            else:
                self._idle.append(conn.raw)
            self._cond.notify()

    async def create_schema(self, conn: Connection) -> int:
        for stmt in schema_statements(self.backend):
            await conn.execute(stmt)
        await conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return int(await conn.fetchval(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%'"
        ))

    async def close(self) -> None:
        with self._cond:
            self.closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self.removed = not Path(self._tmpdir).exists()
        log.info("connection pool closed (%d connections opened in total)", self.opened)


class PostgresConnection(Connection):
    def __init__(self, raw: Any) -> None:
        self.raw = raw  # asyncpg.Connection (asyncpg ships no type hints)

    async def execute(self, sql: str, *args: Any) -> int:
        return _rows_affected(await self.raw.execute(sql, *args))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.raw.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in await self.raw.fetch(sql, *args)]

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.is_in_transaction())


class PostgresPool(ConnectionPool):
    """asyncpg's pool on a PostgreSQL server (DATABASE_URL). Each run works in a schema of
    its own, created by ``open()`` and dropped by ``close()``: nothing is left behind."""

    backend = "postgresql"

    def __init__(self, config: DatabaseConfig) -> None:
        super().__init__(config)
        assert config.url is not None
        self.url = config.url
        self.schema = f"injectq_demo_{os.getpid()}_{secrets.token_hex(4)}"
        self._pool: Any = None
        self._server = ""

    @property
    def description(self) -> str:
        return f"PostgreSQL {self._server} (asyncpg), schema {self.schema}"

    @staticmethod
    def _asyncpg() -> Any:
        try:
            import asyncpg  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:
            raise DatabaseError(
                "DATABASE_URL names a PostgreSQL server, but asyncpg is not installed: "
                "pip install asyncpg (or unset DATABASE_URL to use sqlite)"
            ) from exc
        return asyncpg

    async def _connect_once(self) -> Any:
        asyncpg = self._asyncpg()
        try:
            return await asyncpg.connect(self.url, timeout=self.config.connection_timeout)
        except (OSError, asyncpg.PostgresError) as exc:
            raise DatabaseError(f"cannot connect to DATABASE_URL: {exc}") from exc

    async def open(self) -> None:
        asyncpg = self._asyncpg()
        admin = await self._connect_once()
        try:
            self._server = str(await admin.fetchval("SHOW server_version")).split()[0]
            await admin.execute(f'CREATE SCHEMA "{self.schema}"')
        finally:
            await admin.close()

        async def counted(conn: Any) -> None:
            self.opened += 1

        self._pool = await asyncpg.create_pool(
            self.url,
            min_size=self.config.min_connections,
            max_size=self.config.max_connections,
            command_timeout=self.config.command_timeout,
            server_settings={"search_path": self.schema},
            init=counted,
        )
        log.info("connection pool open: PostgreSQL %s, schema %s", self._server, self.schema)

    async def _acquire(self) -> Connection:
        try:
            raw = await self._pool.acquire(timeout=self.config.connection_timeout)
        except TimeoutError as exc:
            raise PoolExhaustedError(
                f"no free connection within {self.config.connection_timeout}s "
                f"(max_connections={self.config.max_connections})"
            ) from exc
        return PostgresConnection(raw)

    async def _release(self, conn: Connection) -> None:
        assert isinstance(conn, PostgresConnection)
        await self._pool.release(conn.raw)

    async def create_schema(self, conn: Connection) -> int:
        for stmt in schema_statements(self.backend):
            await conn.execute(stmt)
        return int(await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = current_schema()"
        ))

    async def close(self) -> None:
        self.closed = True
        if self._pool is not None:
            await self._pool.close()
        admin = await self._connect_once()
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            self.removed = not await admin.fetchval(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1", self.schema
            )
        finally:
            await admin.close()
        log.info("connection pool closed (%d connections opened in total)", self.opened)


def make_pool(config: DatabaseConfig) -> ConnectionPool:
    url = config.url or ""
    if not url or url.startswith("sqlite:"):
        return SqlitePool(config)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresPool(config)
    scheme = url.split(":", 1)[0]
    raise DatabaseError(
        f"DATABASE_URL has an unsupported scheme {scheme!r}: use postgresql://user@host/db, "
        "or unset it for the embedded sqlite database"
    )


async def open_connection_pool(config: DatabaseConfig) -> AsyncIterator[ConnectionPool]:
    """The pool as a resource: opened on first use, closed when the container closes."""
    pool = make_pool(config)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


class UnitOfWork:
    """One connection and one transaction for a request scope. Nothing is written unless
    ``commit()`` is called; whatever is left uncommitted is rolled back at scope end."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.committed = False

    async def execute(self, sql: str, *args: Any) -> int:
        return await self.connection.execute(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self.connection.fetchval(sql, *args)

    @contextlib.asynccontextmanager
    async def savepoint(self, name: str = "item") -> AsyncIterator[None]:
        """Undo only this block's writes when it raises."""
        await self.connection.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.connection.execute(f"ROLLBACK TO SAVEPOINT {name}")
            await self.connection.execute(f"RELEASE SAVEPOINT {name}")
            raise
        await self.connection.execute(f"RELEASE SAVEPOINT {name}")

    async def commit(self) -> None:
        await self.connection.execute("COMMIT")
        self.committed = True


async def open_unit_of_work(pool: ConnectionPool) -> AsyncIterator[UnitOfWork]:
    """Request-scoped resource: a pooled connection in a transaction, returned to the pool
    (rolled back if not committed) when the scope closes."""
    conn = await pool.acquire()
    try:
        await conn.execute("BEGIN")
        yield UnitOfWork(conn)
    finally:
        await pool.release(conn)


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
        with self.monitor.measure("db.create_schema"):
            async with self.pool.connection() as conn:
                return await self.pool.create_schema(conn)

    async def load_catalog(
        self, products: Sequence[tuple[str, str, int, int]], promotions: dict[str, int]
    ) -> int:
        with self.monitor.measure("db.load_catalog"):
            async with self.pool.connection() as conn:
                await conn.execute("BEGIN")
                await conn.executemany(
                    "INSERT INTO products (sku, name, price_cents, stock) "
                    "VALUES ($1, $2, $3, $4)",
                    products,
                )
                await conn.executemany(
                    "INSERT INTO promotions (sku, percent_off) VALUES ($1, $2)",
                    sorted(promotions.items()),
                )
                await conn.execute("COMMIT")
        return len(products)

    async def get_products_batch(self, skus: Sequence[str]) -> list[dict[str, Any]]:
        if not skus:
            return []
        marks = ", ".join(f"${i}" for i in range(1, len(skus) + 1))
        with self.monitor.measure("db.get_products_batch"):
            async with self.pool.connection() as conn:
                return await conn.fetch(
                    f"SELECT sku, name, price_cents FROM products WHERE sku IN ({marks})",
                    *skus,
                )

    async def active_promotions(self) -> dict[str, int]:
        async with self.pool.connection() as conn:
            rows = await conn.fetch("SELECT sku, percent_off FROM promotions")
        return {row["sku"]: row["percent_off"] for row in rows}

    async def update_price(self, sku: str, price_cents: int) -> bool:
        async with self.pool.connection() as conn:
            changed = await conn.execute(
                "UPDATE products SET price_cents = $1 WHERE sku = $2", price_cents, sku
            )
        return changed == 1

    async def order_summary(self) -> OrderSummary:
        async with self.pool.connection() as conn:
            orders = {
                row["status"]: (row["n"], row["total"])
                for row in await conn.fetch(
                    "SELECT status, count(*) AS n, coalesce(sum(total_cents), 0) AS total "
                    "FROM orders GROUP BY status"
                )
            }
            units = await conn.fetchval("SELECT coalesce(sum(quantity), 0) FROM order_lines")
            products = await conn.fetchval("SELECT count(*) FROM products")
        accepted, revenue = orders.get("accepted", (0, 0))
        rejected, _ = orders.get("rejected", (0, 0))
        return OrderSummary(int(accepted), int(rejected), int(revenue), int(units), int(products))


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


class RedisServerClient(RedisClient):
    """A real Redis server (REDIS_URL) through redis.asyncio. Every key of this run gets a
    prefix of its own, and ``aclose()`` deletes them: nothing is left on the server."""

    def __init__(self, url: str) -> None:
        try:
            import redis.asyncio
        except ImportError as exc:
            raise CacheBackendError(
                "REDIS_URL is set but the redis client is not installed: pip install redis "
                "(or unset REDIS_URL to use the in-memory L2)"
            ) from exc
        self.url = url
        self.prefix = f"injectq-demo:{os.getpid()}:{secrets.token_hex(4)}:"
        self._redis = redis.asyncio.Redis.from_url(url)
        self.server = ""
        self._reached = False

    async def ping(self) -> bool:
        import redis.exceptions

        try:
            ok = bool(await self._redis.ping())
            self.server = str((await self._redis.info("server")).get("redis_version", ""))
            self._reached = True
        except (OSError, redis.exceptions.RedisError) as exc:
            raise CacheBackendError(f"cannot reach REDIS_URL: {exc}") from exc
        return ok

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self.prefix + key)
        return value if isinstance(value, bytes) else None

    async def setex(self, key: str, ttl: int, value: str) -> bool:
        return bool(await self._redis.setex(self.prefix + key, ttl, value))

    async def delete(self, *keys: str) -> int:
        return int(await self._redis.delete(*(self.prefix + k for k in keys)))

    async def aclose(self) -> None:
        try:
            if self._reached:
                mine = [k async for k in self._redis.scan_iter(match=self.prefix + "*")]
                if mine:
                    await self._redis.delete(*mine)
        finally:
            await self._redis.aclose()


async def connect_redis(settings: CacheSettings) -> AsyncIterator[RedisClient]:
    """The L2 client as a resource: connected on first use, closed with the container.
    A real Redis server when REDIS_URL is set, else an in-memory stand-in."""
    client: RedisClient = (
        RedisServerClient(settings.redis_url) if settings.redis_url else InMemoryRedis()
    )
    try:
        if not await client.ping():
            raise CacheBackendError("L2 cache did not answer PING")
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
                    async with self.uow.savepoint("order_item"):
                        revenue += await self._place(batch, order, products)
                    accepted += 1
                except OutOfStockError:
                    await self.uow.execute(
                        "INSERT INTO orders (batch, customer, status, total_cents) "
                        "VALUES ($1, $2, 'rejected', 0)",
                        batch, order.customer,
                    )
                    rejected += 1
            await self.uow.commit()
        self.metrics.increment("orders.accepted", accepted)
        self.metrics.increment("orders.rejected", rejected)
        self.metrics.increment("orders.revenue_cents", revenue)
        return BatchResult(batch, accepted, rejected, revenue)

    async def _place(
        self, batch: int, order: OrderRequest, products: dict[str, Product]
    ) -> int:
        with self.monitor.measure("OrderService.place_order"):
            priced = [(line, self.promotions.price(products[line.sku])) for line in order.lines]
            total = sum(line.quantity * unit for line, unit in priced)
            order_id = await self.uow.fetchval(
                "INSERT INTO orders (batch, customer, status, total_cents) "
                "VALUES ($1, $2, 'accepted', $3) RETURNING id",
                batch, order.customer, total,
            )
            for line, _ in priced:
                updated = await self.uow.execute(
                    "UPDATE products SET stock = stock - $1 WHERE sku = $2 AND stock >= $1",
                    line.quantity, line.sku,
                )
                if updated != 1:
                    raise OutOfStockError(line.sku)
            await self.uow.connection.executemany(
                "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents) "
                "VALUES ($1, $2, $3, $4)",
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
