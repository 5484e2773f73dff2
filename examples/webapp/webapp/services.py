"""The todo service's parts: a database (singleton), a unit of work per request (scoped),
a repository and a service (transient). Plain classes: nothing here knows about injectq.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the database lives: ``None`` means a fresh temporary directory."""

    database_path: str | None = None


@dataclass
class Stats:
    """What happened to units of work since the database was opened (the /stats endpoint)."""

    opened: int = 0
    closed: int = 0
    committed: int = 0
    rolled_back: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {"opened": self.opened, "closed": self.closed,
                    "committed": self.committed, "rolled_back": self.rolled_back}


SCHEMA = """
CREATE TABLE IF NOT EXISTS todos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
)
"""


class Database:
    """The app-wide database: knows its file, hands out connections, counts units of work."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stats = Stats()
        self.closed = False
        self._numbers = itertools.count(1)
        with self.connect() as conn:
            conn.execute(SCHEMA)

    def connect(self) -> sqlite3.Connection:
        # a connection is made on the event loop and may be used from FastAPI's threadpool
        return sqlite3.connect(self.path, check_same_thread=False)

    def next_unit_number(self) -> int:
        return next(self._numbers)


def open_database(settings: Settings) -> Iterator[Database]:
    """Singleton resource: the database, removed at container close if it was temporary."""
    scratch = None
    if settings.database_path is None:
        scratch = Path(tempfile.mkdtemp(prefix="injectq-webapp-"))
        path = scratch / "todos.sqlite3"
    else:
        path = Path(settings.database_path)
    db = Database(path)
    try:
        yield db
    finally:
        db.closed = True
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


class UnitOfWork:
    """One connection and one transaction; ``number`` tells units apart in responses."""

    def __init__(self, conn: sqlite3.Connection, number: int) -> None:
        self.conn = conn
        self.number = number
        self.committed = False
        self.closed = False

    def commit(self) -> None:
        self.conn.commit()
        self.committed = True


def open_unit_of_work(db: Database) -> Iterator[UnitOfWork]:
    """Request-scoped resource: committed work stays, anything else is rolled back when the
    scope closes (after the response is sent, also when the endpoint raised)."""
    conn = db.connect()
    unit = UnitOfWork(conn, db.next_unit_number())
    db.stats.count("opened")
    try:
        yield unit
    finally:
        if conn.in_transaction:
            conn.rollback()
            db.stats.count("rolled_back")
        if unit.committed:
            db.stats.count("committed")
        conn.close()
        unit.closed = True
        db.stats.count("closed")


@dataclass(frozen=True)
class Todo:
    id: int
    title: str
    done: bool


class TodoRepository:
    """SQL for todos, inside the request's unit of work."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def add(self, title: str) -> Todo:
        cur = self.unit.conn.execute("INSERT INTO todos (title) VALUES (?)", (title,))
        assert cur.lastrowid is not None
        return Todo(cur.lastrowid, title, False)

    def all(self) -> list[Todo]:
        rows = self.unit.conn.execute("SELECT id, title, done FROM todos ORDER BY id")
        return [Todo(i, t, bool(d)) for i, t, d in rows]

    def mark_done(self, todo_id: int) -> Todo | None:
        self.unit.conn.execute("UPDATE todos SET done = 1 WHERE id = ?", (todo_id,))
        row = self.unit.conn.execute(
            "SELECT id, title, done FROM todos WHERE id = ?", (todo_id,)
        ).fetchone()
        return Todo(row[0], row[1], bool(row[2])) if row else None


class InvalidTitleError(ValueError):
    pass


class TodoService:
    """The rules: titles are trimmed, non-empty and at most 200 characters."""

    def __init__(self, repo: TodoRepository, unit: UnitOfWork) -> None:
        self.repo = repo
        self.unit = unit

    def add(self, title: str) -> Todo:
        title = title.strip()
        if not title or len(title) > 200:
            raise InvalidTitleError("a title has 1 to 200 characters")
        todo = self.repo.add(title)
        self.unit.commit()
        return todo

    def add_then_fail(self, title: str) -> None:
        """Writes, then fails before committing: the unit of work rolls the write back."""
        self.repo.add(title)
        raise RuntimeError(f"failed after adding {title!r}")

    def complete(self, todo_id: int) -> Todo | None:
        todo = self.repo.mark_done(todo_id)
        self.unit.commit()
        return todo

    def list(self) -> list[Todo]:
        return self.repo.all()
