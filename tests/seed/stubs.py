"""In-memory stand-ins for what the performance-best-practices seed uses but never defines.

Each stub does just enough, for real, for the seed's code to run: pools, caches and
repositories keep their data in dicts and lists that the tests assert on. Constructor
parameters the container must inject are annotated; everything else has a default.
Imports only the standard library.
"""

import abc
import asyncio
import re
import types
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

# --- asyncpg ----------------------------------------------------------------------------------


class Connection:
    """One pooled connection; runs `SELECT * FROM t` and `INSERT INTO t (cols)` on the pool."""

    _INSERT = re.compile(r"^\s*INSERT INTO (\w+) \(([^)]*)\) VALUES", re.IGNORECASE)
    _SELECT = re.compile(r"^\s*SELECT \* FROM (\w+)\s*$", re.IGNORECASE)

    def __init__(self, pool: "Pool") -> None:
        self.pool = pool
        self.in_transaction = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Commit on success; on an exception restore the tables as they were and re-raise."""
        snapshot = {table: [dict(row) for row in rows] for table, rows in self.pool.tables.items()}
        self.in_transaction = True
        try:
            yield
        except BaseException:
            self.pool.tables = snapshot
            self.pool.transactions.append("rolled back")
            raise
        else:
            self.pool.transactions.append("committed")
        finally:
            self.in_transaction = False

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        self.pool.queries.append(query)
        match = self._SELECT.match(query)
        if match is None:
            raise ValueError(f"the asyncpg stub cannot run {query!r}")
        await asyncio.sleep(0)
        return [dict(row) for row in self.pool.tables.get(match.group(1), [])]

    async def executemany(self, query: str, args: list[list[Any]]) -> None:
        self.pool.queries.append(query)
        match = self._INSERT.match(query)
        if match is None:
            raise ValueError(f"the asyncpg stub cannot run {query!r}")
        table, columns = match.group(1), [c.strip() for c in match.group(2).split(",")]
        await asyncio.sleep(0)
        rows = self.pool.tables.setdefault(table, [])
        rows.extend(dict(zip(columns, values, strict=True)) for values in args)


class Pool:
    """A connection pool: `acquire()` lends a connection and takes it back."""

    def __init__(
        self,
        dsn: str = "postgresql://localhost/postgres",
        min_size: int = 10,
        max_size: int = 10,
        command_timeout: float | None = None,
        server_settings: dict[str, str] | None = None,
    ) -> None:
        self.dsn = dsn
        self.min_size = min_size
        self.max_size = max_size
        self.command_timeout = command_timeout
        self.server_settings = dict(server_settings or {})
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.queries: list[str] = []
        self.transactions: list[str] = []
        self.acquisitions = 0
        self.in_use = 0

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        if self.in_use >= self.max_size:
            raise RuntimeError("the pool is exhausted")
        self.acquisitions += 1
        self.in_use += 1
        try:
            yield Connection(self)
        finally:
            self.in_use -= 1


created_pools: list[Pool] = []  # every pool create_pool() made, in order


async def create_pool(
    dsn: str,
    *,
    min_size: int = 10,
    max_size: int = 10,
    command_timeout: float | None = None,
    server_settings: dict[str, str] | None = None,
) -> Pool:
    await asyncio.sleep(0)  # connecting
    pool = Pool(dsn, min_size, max_size, command_timeout, server_settings)
    created_pools.append(pool)
    return pool


asyncpg = types.ModuleType("asyncpg", "Stand-in for the asyncpg package.")
asyncpg.Pool = Pool  # type: ignore[attr-defined]
asyncpg.Connection = Connection  # type: ignore[attr-defined]
asyncpg.create_pool = create_pool  # type: ignore[attr-defined]


# --- psutil (only what MemoryEfficientService.cleanup_memory reads) ---------------------------


@dataclass
class _MemoryInfo:
    rss: int


class _Process:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def memory_info(self) -> _MemoryInfo:
        return _MemoryInfo(psutil.current_rss)  # type: ignore[attr-defined]


psutil = types.ModuleType("psutil", "Stand-in for psutil; set current_rss to fake memory use.")
psutil.Process = _Process  # type: ignore[attr-defined]
psutil.current_rss = 50 * 1024 * 1024  # type: ignore[attr-defined]


# --- redis --------------------------------------------------------------------------------------


class RedisClient:
    """Async Redis client keeping string values (and their TTLs) in memory."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.ttls: dict[str, int] = {}

    async def get(self, key: str) -> str | None:
        await asyncio.sleep(0)
        return self.data.get(key)

    async def setex(self, key: str, seconds: int, value: str) -> bool:
        await asyncio.sleep(0)
        self.data[key] = value
        self.ttls[key] = seconds
        return True

    async def delete(self, *keys: str) -> int:
        await asyncio.sleep(0)
        removed = 0
        for key in keys:
            if self.data.pop(key, None) is not None:
                self.ttls.pop(key, None)
                removed += 1
        return removed


# --- container-section services -----------------------------------------------------------------


class DatabaseConnection:
    """An expensive connection (the seed makes it a singleton)."""

    def __init__(self) -> None:
        self.executed: list[str] = []

    def execute(self, query: str) -> None:
        self.executed.append(query)


class CacheService:
    """A synchronous key/value cache."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any, ttl: int | None = None) -> bool:
        self.data[key] = value
        return True

    def delete(self, key: str) -> bool:
        return self.data.pop(key, None) is not None


class RedisCacheService(CacheService):
    """The seed's first-section `RedisCache`: a CacheService "backed by Redis" (in memory here).

    The seed binds `CacheService` to a `RedisCache` it never defines there, and later defines an
    unrelated `RedisCache(ICacheLayer)`; this is the earlier one under a suffixed name.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, int | None] = {}

    def set(self, key: str, value: Any, ttl: int | None = None) -> bool:
        self.ttls[key] = ttl
        return super().set(key, value, ttl)


class LoggingService:
    def __init__(self) -> None:
        self.records: list[str] = []

    def log(self, message: str) -> None:
        self.records.append(message)


class UserService:
    """Request-bound user service."""

    def __init__(self, db: DatabaseConnection, cache: CacheService) -> None:
        self.db = db
        self.cache = cache

    def get_user(self, user_id: str) -> dict[str, Any]:
        user = self.cache.get(f"user:{user_id}")
        if user is None:
            self.db.execute(f"SELECT * FROM users WHERE id = {user_id!r}")
            user = {"id": user_id}
            self.cache.set(f"user:{user_id}", user)
        return user


class OrderService:
    def __init__(self, db: DatabaseConnection, users: UserService) -> None:
        self.db = db
        self.users = users


class ValidationService:
    def validate(self, data: Any) -> bool:
        return bool(data)


class CalculationEngine:
    def calculate(self, values: list[float]) -> float:
        return sum(values)


class DataValidator:
    def validate(self, data: Any) -> None:
        if not isinstance(data, list):
            raise TypeError(f"expected a list, got {type(data).__name__}")


class DataProcessor:
    def process(self, data: list[Any]) -> list[Any]:
        return [item * 2 for item in data]


class Logger:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def log(self, message: str) -> None:
        self.messages.append(message)


class IHandler(ABC):
    @abstractmethod
    def handle(self, message: str) -> str: ...


class EmailHandler(IHandler):
    def handle(self, message: str) -> str:
        return f"email: {message}"


class SmsHandler(IHandler):
    def handle(self, message: str) -> str:
        return f"sms: {message}"


class ConnectionPool:
    """A synchronous connection pool description (the seed builds it in a factory method)."""

    def __init__(self, host: str, port: int, min_connections: int, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.min_connections = min_connections
        self.max_connections = max_connections


class IRepository(ABC):
    @abstractmethod
    def add(self, entity: dict[str, Any]) -> Any: ...

    @abstractmethod
    def get(self, entity_id: Any) -> dict[str, Any] | None: ...


class BaseRepository(IRepository):
    """Keeps entities by id; shares the connection pool."""

    table: ClassVar[str] = "entities"

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._rows: dict[Any, dict[str, Any]] = {}

    def add(self, entity: dict[str, Any]) -> Any:
        self._rows[entity["id"]] = dict(entity)
        return entity["id"]

    def get(self, entity_id: Any) -> dict[str, Any] | None:
        row = self._rows.get(entity_id)
        return dict(row) if row is not None else None


class UserRepository(BaseRepository):
    table: ClassVar[str] = "users"


class OrderRepository(BaseRepository):
    table: ClassVar[str] = "orders"


# --- async runtime section --------------------------------------------------------------------


class AsyncDatabase:
    """Users by id; records every query so tests can count round trips."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.batch_calls: list[list[str]] = []
        self.single_calls: list[str] = []

    def add_user(self, user: dict[str, Any]) -> None:
        self.users[user["id"]] = dict(user)

    async def get_users_batch(self, user_ids: list[str]) -> list[dict[str, Any]]:
        self.batch_calls.append(list(user_ids))
        await asyncio.sleep(0)
        return [dict(self.users[u]) for u in user_ids if u in self.users]

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        self.single_calls.append(user_id)
        await asyncio.sleep(0)
        user = self.users.get(user_id)
        return dict(user) if user is not None else None


class AsyncCache:
    """Async cache; a key in `failing_keys` makes `get` raise, like a flaky network cache."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.ttls: dict[str, int | None] = {}
        self.failing_keys: set[str] = set()

    async def get(self, key: str) -> Any:
        await asyncio.sleep(0)
        if key in self.failing_keys:
            raise ConnectionError(f"cache unavailable for {key}")
        return self.data.get(key)

    async def set(self, key: str, value: Any, ttl: int | None = None) -> bool:
        await asyncio.sleep(0)
        self.data[key] = value
        self.ttls[key] = ttl
        return True


class AsyncAPIClient:
    async def fetch(self, path: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"path": path}


class DataProcessingService:
    """Memory-hungry per-request worker: holds every batch it processed."""

    def __init__(self) -> None:
        self.buffers: list[list[Any]] = []

    def process(self, records: list[Any]) -> int:
        self.buffers.append(list(records))
        return len(records)


class LargeObject:
    """Something big enough to hold only weakly (dicts and lists cannot be weakly referenced)."""

    def __init__(self, key: str, size: int = 1024) -> None:
        self.key = key
        self.payload = bytearray(size)


class Database:
    """Async database handle for MonitoredService."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def fetch_all(self) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [dict(row) for row in self.rows]


class _DatabaseServiceShape(abc.ABCMeta):
    pass


class DatabaseService(metaclass=_DatabaseServiceShape):
    """User profiles; counts reads so tests can tell cache hits from database loads.

    The seed never defines it and binds it to ``OptimizedDatabaseService``, a class with no
    base: it is an interface its implementations meet by shape, so any class with the
    methods of a database service is a subclass (what the IQ010 check asks)."""

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        if cls is DatabaseService and any(
            hasattr(other, m) for m in ("get_user_profile", "execute_batch_query")
        ):
            return True
        return NotImplemented  # type: ignore[return-value]

    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.reads: list[str] = []

    async def get_user_profile(self, user_id: str) -> dict[str, Any] | None:
        self.reads.append(user_id)
        await asyncio.sleep(0)
        profile = self.profiles.get(user_id)
        return dict(profile) if profile is not None else None

    async def update_user_profile(self, user_id: str, updates: dict[str, Any]) -> bool:
        await asyncio.sleep(0)
        if user_id not in self.profiles:
            return False
        self.profiles[user_id].update(updates)
        return True


# --- production section ---------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseConfig:
    max_connections: int
    min_connections: int
    connection_timeout: int
    command_timeout: int


class MetricsCollector:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def increment(self, name: str, value: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + value


class Application:
    """The app the production example starts; `started` lists every instance that started."""

    started: ClassVar[list["Application"]] = []

    def __init__(
        self, database: DatabaseService, metrics: MetricsCollector, config: DatabaseConfig
    ) -> None:
        self.database = database
        self.metrics = metrics
        self.config = config
        self.running = False

    async def start(self) -> None:
        await asyncio.sleep(0)
        self.running = True
        self.metrics.increment("app.started")
        Application.started.append(self)
