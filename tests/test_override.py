"""``override()``: replace a key for one block, in one context, reaching everything built
inside that depends on it, and leaving everything else as it was.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from injectq import AsyncResolutionError, InjectQ, ScopeError


class Database:
    def __init__(self) -> None:
        self.name = "real"


class FakeDatabase(Database):
    def __init__(self, name: str = "fake") -> None:
        self.name = name


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


class Unrelated:
    pass


class RequestContext:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


@pytest.fixture
def c() -> InjectQ:
    container = InjectQ()
    container.bind(Database, Database).singleton()
    container.bind(Repo, Repo).transient()
    container.bind(Service, Service).singleton()
    container.bind(Unrelated, Unrelated).singleton()
    container.bind(RequestContext, RequestContext).scoped("request")
    return container


def run_in_thread(fn: object) -> object:
    """Run ``fn`` in a fresh real thread (fresh context); return its result or raise."""
    out: list[object] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=target)
    t.start()
    t.join(5)
    assert not t.is_alive()
    if errors:
        raise errors[0]
    return out[0]


# -- reach -----------------------------------------------------------------------------------


def test_override_replaces_the_key_itself(c: InjectQ) -> None:
    """Inside the block, ``get(Key)`` returns the replacement; the block yields it."""
    fake = FakeDatabase()
    with c.override(Database, fake) as yielded:
        assert yielded is fake
        assert c.get(Database) is fake
        assert c[Database] is fake
    assert c.get(Database) is not fake


def test_override_reaches_direct_dependents(c: InjectQ) -> None:
    """A service built inside the block that depends on the key directly gets the fake."""
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert c.get(Repo).db is fake


def test_override_reaches_transitive_dependents(c: InjectQ) -> None:
    """A service two hops above the key gets the fake too."""
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert c.get(Service).repo.db is fake


def test_override_reaches_autowired_dependents() -> None:
    """An unbound class that depends on an overridden key is built with the fake."""

    class Consumer:
        def __init__(self, service: Service) -> None:
            self.service = service

    c = InjectQ()
    c.bind(Database, Database).singleton()
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert c.get(Consumer).service.repo.db is fake


def test_singleton_dependent_gets_a_block_local_instance(c: InjectQ) -> None:
    """A singleton depending on the key gets a block-local instance, one per block."""
    real = c.get(Service)
    fake = FakeDatabase()
    with c.override(Database, fake):
        local = c.get(Service)
        assert local is not real
        assert local.repo.db is fake
        assert c.get(Service) is local  # still one instance within the block
    assert c.get(Service) is real
    assert c.get(Service).repo.db.name == "real"


def test_singleton_first_created_inside_block_does_not_leak(c: InjectQ) -> None:
    """A singleton first built inside the block is not what the container keeps after it."""
    fake = FakeDatabase()
    with c.override(Database, fake):
        inside = c.get(Service)
    after = c.get(Service)
    assert after is not inside
    assert after.repo.db.name == "real"
    assert c.get(Service) is after


def test_scoped_dependent_gets_a_block_local_instance(c: InjectQ) -> None:
    """A scoped service depending on the key gets the fake inside the block, per scope."""
    fake = FakeDatabase()
    with c.scope():
        real = c.get(RequestContext)
        with c.override(Database, fake):
            local = c.get(RequestContext)
            assert local is not real
            assert local.repo.db is fake
            assert c.get(RequestContext) is local
        assert c.get(RequestContext) is real


def test_scoped_dependent_under_override_still_needs_a_scope(c: InjectQ) -> None:
    """Inside an override block, a scoped dependent still raises ``ScopeError`` with no scope."""
    with c.override(Database, FakeDatabase()):
        with pytest.raises(ScopeError, match="'request'"):
            c.get(RequestContext)


def test_override_of_a_named_key(c: InjectQ) -> None:
    """``override(K, fake, name=...)`` replaces only the named binding."""
    c.bind(Database, Database, name="replica").singleton()
    fake = FakeDatabase()
    with c.override(Database, fake, name="replica"):
        assert c.get(Database, name="replica") is fake
        assert c.get(Database) is not fake


def test_override_of_an_unbound_key() -> None:
    """Overriding a key with no binding makes it resolvable inside the block."""
    c = InjectQ()
    fake = FakeDatabase()
    with c.override("db_url", "sqlite://"):
        assert c.get("db_url") == "sqlite://"
    with c.override(Database, fake):
        assert c.get(Repo).db is fake


async def test_override_reaches_aget(c: InjectQ) -> None:
    """``aget`` inside the block sees the fake, directly and transitively."""
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert await c.aget(Database) is fake
        assert (await c.aget(Service)).repo.db is fake
    assert (await c.aget(Service)).repo.db is not fake


def test_override_compiled_before_the_block(c: InjectQ) -> None:
    """Resolvers compiled before the block still honour it (no stale fast path)."""
    c.get(Repo)
    c.get(Service)
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert c.get(Repo).db is fake
        assert c.get(Service).repo.db is fake


# -- what stays untouched ---------------------------------------------------------------------


def test_regression_override_does_not_clear_every_singleton(c: InjectQ) -> None:
    """Regression (InjectQ 0.5.0): singletons created before the block survive it."""
    db = c.get(Database)
    svc = c.get(Service)
    other = c.get(Unrelated)
    with c.override(Database, FakeDatabase()):
        assert c.get(Unrelated) is other  # unrelated singleton untouched inside
    assert c.get(Database) is db
    assert c.get(Service) is svc
    assert c.get(Unrelated) is other


def test_unrelated_singleton_created_inside_block_is_the_real_one(c: InjectQ) -> None:
    """A singleton that does not reach the key, first built inside the block, is kept."""
    with c.override(Database, FakeDatabase()):
        inside = c.get(Unrelated)
    assert c.get(Unrelated) is inside


def test_override_is_invisible_to_another_thread(c: InjectQ) -> None:
    """A thread running while the block is open resolves the real bindings."""
    real = c.get(Service)
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert run_in_thread(lambda: c.get(Database)) is not fake
        assert run_in_thread(lambda: c.get(Service)) is real
        assert run_in_thread(lambda: c.get(Repo).db) is not fake
        assert c.get(Repo).db is fake  # while this thread still sees it


def test_threads_overriding_concurrently_stay_apart(c: InjectQ) -> None:
    """Threads with their own override blocks open at once each see only their own fake."""
    n = 8
    barrier = threading.Barrier(n, timeout=5)
    results: dict[int, tuple[str, str]] = {}
    lock = threading.Lock()

    def work(i: int) -> None:
        with c.override(Database, FakeDatabase(f"fake{i}")):
            barrier.wait()  # every block open at the same time
            pair = (c.get(Service).repo.db.name, c.get(Repo).db.name)
            barrier.wait()
        with lock:
            results[i] = pair

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert results == {i: (f"fake{i}", f"fake{i}") for i in range(n)}
    assert c.get(Service).repo.db.name == "real"


async def test_override_is_invisible_to_a_task_started_outside_the_block(c: InjectQ) -> None:
    """A task created before the block resolves the real bindings while the block is open."""
    go = asyncio.Event()

    async def outsider() -> Database:
        await asyncio.wait_for(go.wait(), 5)
        return (await c.aget(Service)).repo.db

    task = asyncio.create_task(outsider())
    await asyncio.sleep(0)  # let it start, with the context of before the block
    fake = FakeDatabase()
    with c.override(Database, fake):
        go.set()
        seen = await asyncio.wait_for(task, 5)
        assert (await c.aget(Service)).repo.db is fake
    assert seen is not fake
    assert seen.name == "real"


async def test_task_started_inside_the_block_sees_the_override(c: InjectQ) -> None:
    """A task created inside the block inherits its context, so it sees the fake."""
    fake = FakeDatabase()
    with c.override(Database, fake):
        db = await asyncio.create_task(c.aget(Database))
    assert db is fake


async def test_tasks_overriding_concurrently_stay_apart(c: InjectQ) -> None:
    """Concurrent tasks, each with its own override block, each see their own fake."""
    n = 50
    gate = asyncio.Event()
    entered = 0

    async def work(i: int) -> str:
        nonlocal entered
        with c.override(Database, FakeDatabase(f"fake{i}")):
            entered += 1
            if entered == n:
                gate.set()
            await asyncio.wait_for(gate.wait(), 5)
            return (await c.aget(Service)).repo.db.name

    names = await asyncio.wait_for(asyncio.gather(*(work(i) for i in range(n))), 10)
    assert names == [f"fake{i}" for i in range(n)]


# -- nesting ---------------------------------------------------------------------------------


def test_nested_override_of_the_same_key(c: InjectQ) -> None:
    """An inner override of the same key wins inside it; the outer one comes back after."""
    outer = FakeDatabase("outer")
    inner = FakeDatabase("inner")
    with c.override(Database, outer):
        assert c.get(Service).repo.db is outer
        with c.override(Database, inner):
            assert c.get(Database) is inner
            assert c.get(Service).repo.db is inner
        assert c.get(Database) is outer
        assert c.get(Service).repo.db is outer
    assert c.get(Database).name == "real"


def test_nested_overrides_of_different_keys_combine(c: InjectQ) -> None:
    """An inner override of another key keeps the outer one in force as well."""
    fake_db = FakeDatabase()
    fake_repo = Repo(FakeDatabase("repo's"))
    with c.override(Database, fake_db):
        with c.override(Repo, fake_repo):
            assert c.get(Database) is fake_db
            assert c.get(Service).repo is fake_repo
        assert c.get(Service).repo.db is fake_db
        assert c.get(Repo) is not fake_repo


# -- async bindings ---------------------------------------------------------------------------


def test_sync_fake_for_async_binding_lets_get_work() -> None:
    """Overriding an async binding with a plain object lets ``get`` resolve its dependents."""

    async def make_db() -> Database:
        return Database()

    c = InjectQ()
    c.bind_factory(Database, make_db).singleton()
    c.bind(Service, Service).singleton()
    with pytest.raises(AsyncResolutionError):
        c.get(Service)
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert c.get(Database) is fake
        assert c.get(Service).repo.db is fake
    with pytest.raises(AsyncResolutionError):
        c.get(Service)


async def test_sync_fake_for_async_binding_with_aget() -> None:
    """Inside the block, ``aget`` of a dependent of an overridden async binding uses the fake."""

    async def make_db() -> Database:
        return Database()

    c = InjectQ()
    c.bind_factory(Database, make_db).singleton()
    real = await c.aget(Service)
    fake = FakeDatabase()
    with c.override(Database, fake):
        assert (await c.aget(Service)).repo.db is fake
    assert (await c.aget(Service)) is not real  # Service is transient (auto-wired) ...
    assert (await c.aget(Service)).repo.db is await c.aget(Database)  # ... over the real DB


# -- resources built in the block -------------------------------------------------------------


def test_resource_built_for_the_block_is_finalized_when_it_ends() -> None:
    """A singleton resource rebuilt because of the override is finalized at block exit."""
    log: list[str] = []

    def session(db: Database) -> Iterator[Repo]:
        log.append(f"open {db.name}")
        yield Repo(db)
        log.append(f"close {db.name}")

    c = InjectQ()
    c.bind(Database, Database).singleton()
    c.bind_factory(Repo, session).singleton()
    c.get(Repo)
    with c.override(Database, FakeDatabase()):
        assert c.get(Repo).db.name == "fake"
        assert log == ["open real", "open fake"]
    assert log == ["open real", "open fake", "close fake"]
    c.close()
    assert log[-1] == "close real"


def test_transient_resource_built_for_the_block_belongs_to_innermost_scope() -> None:
    """A transient resource rebuilt because of the override follows the usual owner rule."""
    log: list[str] = []

    def session(db: Database) -> Iterator[Repo]:
        log.append(f"open {db.name}")
        yield Repo(db)
        log.append(f"close {db.name}")

    c = InjectQ()
    c.bind(Database, Database).singleton()
    c.bind_factory(Repo, session)  # transient
    with c.override(Database, FakeDatabase()):
        with c.scope():
            assert c.get(Repo).db.name == "fake"
        assert log == ["open fake", "close fake"]
        c.get(Repo)
    assert log == ["open fake", "close fake", "open fake"]
    c.close()
    assert log[-1] == "close fake"


async def test_block_local_async_singleton_is_created_once_under_contention(c: InjectQ) -> None:
    """Many tasks ``aget``ting a rebuilt async singleton in one block run its factory once."""
    calls: list[int] = []

    class Client:
        def __init__(self, db: Database) -> None:
            self.db = db

    async def make_client(db: Database) -> Client:
        calls.append(1)
        await asyncio.sleep(0.01)
        return Client(db)

    c.bind_factory(Client, make_client).singleton()
    fake = FakeDatabase()
    with c.override(Database, fake):
        results = await asyncio.wait_for(asyncio.gather(*(c.aget(Client) for _ in range(100))), 5)
        assert len({id(r) for r in results}) == 1
        assert results[0].db is fake
    assert calls == [1]
    real = await c.aget(Client)
    assert real.db is not fake
    assert calls == [1, 1]


async def test_block_local_async_scoped_instances_stay_per_scope(c: InjectQ) -> None:
    """Inside one block, tasks in different scopes each get their own rebuilt scoped instance."""

    class PerRequest:
        def __init__(self, db: Database) -> None:
            self.db = db

    async def make(db: Database) -> PerRequest:
        await asyncio.sleep(0.01)
        return PerRequest(db)

    c.bind_factory(PerRequest, make).scoped("request")
    fake = FakeDatabase()

    async def work() -> tuple[PerRequest, PerRequest]:
        async with c.scope():
            a, b = await asyncio.gather(c.aget(PerRequest), c.aget(PerRequest))
            return a, b

    with c.override(Database, fake):
        pairs = await asyncio.wait_for(asyncio.gather(*(work() for _ in range(20))), 5)
    assert all(a is b and a.db is fake for a, b in pairs)
    assert len({id(a) for a, _ in pairs}) == 20


async def test_failing_block_local_async_singleton_caches_nothing(c: InjectQ) -> None:
    """A rebuilt async singleton whose factory fails in the block is retried on the next call."""
    calls: list[int] = []

    class Client:
        def __init__(self, db: Database) -> None:
            self.db = db

    async def make_client(db: Database) -> Client:
        calls.append(1)
        await asyncio.sleep(0)
        if len(calls) == 1:
            raise ConnectionError("first try fails")
        return Client(db)

    c.bind_factory(Client, make_client).singleton()
    with c.override(Database, FakeDatabase()):
        with pytest.raises(ConnectionError):
            await c.aget(Client)
        first = await c.aget(Client)
        assert await c.aget(Client) is first
    assert calls == [1, 1]
