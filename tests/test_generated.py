"""The container of a generated ``_wiring.py`` behaves like the runtime one.

Each test writes a small app into ``tmp_path``, compiles it with injectq-gen, imports the
generated module and resolves from its ``container``.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import ModuleType

import pytest

from injectq import (
    AsyncResolutionError,
    DependencyNotFoundError,
    InjectionError,
    Lazy,
    ScopeError,
)
from tests.codegen_support import SAMPLE_FILES, SAMPLE_TARGET, build_wiring, make_project


@pytest.fixture
def gen(codegen_env: Path) -> tuple[ModuleType, ModuleType]:
    """(generated wiring module, the app's services module)."""
    make_project(codegen_env, SAMPLE_FILES)
    wiring = build_wiring([SAMPLE_TARGET])
    import gen.services as services

    return wiring, services


def test_singleton_is_one_object(gen: tuple[ModuleType, ModuleType]) -> None:
    """A singleton resolves to the same object every time, and dependents share it."""
    wiring, s = gen
    c = wiring.container
    db = c.get(s.Database)
    assert db is c.get(s.Database)
    assert c[s.Database] is db
    assert c.get(s.Repo).db is db
    assert db.config.url == "pg://prod"
    assert s.CREATED["Database"] == 1


def test_transient_is_new_each_time(gen: tuple[ModuleType, ModuleType]) -> None:
    """A transient gives a fresh object per resolution, also when inlined in a chain."""
    wiring, s = gen
    c = wiring.container
    assert c.get(s.Repo) is not c.get(s.Repo)
    a, b = c.get(s.Service), c.get(s.Service)
    assert a is not b
    assert a.repo is not b.repo
    assert a.repo.db is b.repo.db


def test_scoped_is_one_per_scope(gen: tuple[ModuleType, ModuleType]) -> None:
    """A scoped binding is shared inside one `with container.scope()`, new in the next."""
    wiring, s = gen
    c = wiring.container
    with c.scope():
        first = c.get(s.RequestContext)
        assert c.get(s.RequestContext) is first
        assert c.get(s.Handler).ctx is first
        with c.scope("action"):
            assert c.get(s.RequestContext) is first
    with c.scope("request"):
        second = c.get(s.RequestContext)
    assert second is not first
    assert s.CREATED["RequestContext"] == 2


def test_scoped_outside_a_scope_is_a_scope_error(gen: tuple[ModuleType, ModuleType]) -> None:
    """Resolving a scoped binding (or a transient needing one) with no open scope raises
    ScopeError naming the scope and how to open it."""
    wiring, s = gen
    c = wiring.container
    with pytest.raises(ScopeError, match=r"RequestContext is scoped to 'request'") as info:
        c.get(s.RequestContext)
    assert "with container.scope('request')" in str(info.value)
    with pytest.raises(ScopeError):
        c.get(s.Handler)


def test_scopes_are_separate_per_thread(gen: tuple[ModuleType, ModuleType]) -> None:
    """A scope opened in one thread is invisible to another thread."""
    wiring, s = gen
    c = wiring.container
    seen: list[BaseException] = []

    def other() -> None:
        try:
            c.get(s.RequestContext)
        except ScopeError as exc:
            seen.append(exc)

    with c.scope():
        c.get(s.RequestContext)
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert len(seen) == 1


def test_named_bindings(gen: tuple[ModuleType, ModuleType]) -> None:
    """Two names for one type are two singletons; Annotated[T, Named(...)] picks by name."""
    wiring, s = gen
    c = wiring.container
    primary = c.get(s.Cache, "primary")
    secondary = c.get(s.Cache, name="secondary")
    assert primary is not secondary
    assert c.get(s.Cache, "primary") is primary
    uses = c.get(s.UsesCaches)
    assert uses.primary is primary
    assert uses.secondary is secondary
    assert c.has(s.Cache, "primary")
    assert not c.has(s.Cache)


def test_instance_bindings(gen: tuple[ModuleType, ModuleType]) -> None:
    """An instance binding returns the very object configure() bound, string keys too."""
    wiring, s = gen
    c = wiring.container
    config = c.get(s.Config)
    assert isinstance(config, s.Config)
    assert config.url == "pg://prod"
    assert c.get(s.Config) is config
    assert c.get("greeting") == "hello"
    assert c.get(s.Greeter).greeting == "hello"
    assert "greeting" in c


async def test_coroutine_instance_is_awaited_once_on_first_aget(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """A coroutine bound as an instance is awaited on the first aget, then cached."""
    wiring, s = gen
    c = wiring.container
    assert s.CREATED.get("Token", 0) == 0
    token = await c.aget(s.Token)
    assert isinstance(token, s.Token)
    assert token.value == "secret"
    assert await c.aget(s.Token) is token
    assert c.get(s.Token) is token
    assert s.CREATED["Token"] == 1


async def test_coroutine_instance_keeps_its_result_after_aclose(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """aclose() forgets singletons, but an awaited coroutine instance cannot be awaited
    again: its result stays."""
    wiring, s = gen
    c = wiring.container
    token = await c.aget(s.Token)
    await c.aclose()
    assert await c.aget(s.Token) is token
    await c.awarm()
    assert s.CREATED["Token"] == 1


async def test_concurrent_agets_await_a_coroutine_instance_once(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """Many tasks asking for an awaitable instance at once all get the one result."""
    wiring, s = gen
    c = wiring.container
    tokens = await asyncio.gather(*(c.aget(s.Token) for _ in range(8)))
    assert len({id(t) for t in tokens}) == 1
    assert s.CREATED["Token"] == 1


async def test_async_factory_through_aget(gen: tuple[ModuleType, ModuleType]) -> None:
    """An async factory singleton is created by aget, once, and feeds sync dependents."""
    wiring, s = gen
    c = wiring.container
    client = await c.aget(s.Client)
    assert isinstance(client, s.Client)
    assert await c.aget(s.Client) is client
    user = await c.aget(s.UsesClient)
    assert user.client is client
    assert user is not await c.aget(s.UsesClient)
    clients = await asyncio.gather(*(c.aget(s.Client) for _ in range(5)))
    assert all(x is client for x in clients)
    assert s.CREATED["Client"] == 1
    assert c.get(s.Client) is client  # created: a sync get reads the cache


def test_get_of_an_async_binding_names_aget(gen: tuple[ModuleType, ModuleType]) -> None:
    """`get` of something that needs an await raises and says to use aget, with the chain."""
    wiring, s = gen
    c = wiring.container
    with pytest.raises(AsyncResolutionError) as info:
        c.get(s.UsesClient)
    text = str(info.value)
    assert "aget" in text
    assert "IQ005" in text
    assert "Client" in text
    with pytest.raises(AsyncResolutionError, match="aget"):
        c.get(s.Token)


def test_generator_resources_finalized_on_scope_exit(gen: tuple[ModuleType, ModuleType]) -> None:
    """A scoped generator resource is entered once per scope and finalized when it closes."""
    wiring, s = gen
    c = wiring.container
    with c.scope():
        session = c.get(s.Session)
        assert c.get(s.Session) is session
        assert session.open
        assert session.db is c.get(s.Database)
        assert s.EVENTS == ["session opened"]
    assert not session.open
    assert s.EVENTS == ["session opened", "session closed"]


async def test_async_generator_resources_finalized_on_async_scope_exit(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """A scoped async-generator resource needs aget and is finalized by `async with`."""
    wiring, s = gen
    c = wiring.container
    async with c.scope():
        conn = await c.aget(s.Connection)
        assert await c.aget(s.Connection) is conn
        with pytest.raises(AsyncResolutionError):
            c.get(s.UsesClient)
        session = await c.aget(s.Session)
    assert not conn.open
    assert not session.open
    assert s.EVENTS == [
        "connection opened", "session opened", "session closed", "connection closed"
    ]


def test_close_finalizes_singletons_in_reverse_order(gen: tuple[ModuleType, ModuleType]) -> None:
    """close() finalizes container-owned resources newest first and forgets singletons."""
    wiring, s = gen
    c = wiring.container
    metrics = c.get(s.Metrics)
    assert metrics.pool is c.get(s.Pool)
    db = c.get(s.Database)
    assert s.EVENTS == ["pool opened", "metrics opened"]
    c.close()
    assert s.EVENTS == ["pool opened", "metrics opened", "metrics closed", "pool closed"]
    assert c.get(s.Database) is not db
    assert c.get(s.Metrics) is not metrics


async def test_aclose_finalizes_in_reverse_order(gen: tuple[ModuleType, ModuleType]) -> None:
    """aclose() does the same from async code."""
    wiring, s = gen
    c = wiring.container
    async with c:
        await c.aget(s.Metrics)
    assert s.EVENTS == ["pool opened", "metrics opened", "metrics closed", "pool closed"]


def test_lazy_breaks_a_cycle(gen: tuple[ModuleType, ModuleType]) -> None:
    """Lazy[T] is a handle resolved on first call; it lets Parent and Child meet."""
    wiring, s = gen
    c = wiring.container
    parent = c.get(s.Parent)
    assert isinstance(parent.child, Lazy)
    assert not parent.child.resolved
    child = parent.child()
    assert isinstance(child, s.Child)
    assert child.parent is parent
    assert parent.child() is child


def test_container_parameter_receives_the_generated_container(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """A parameter annotated InjectQ receives the generated `container` itself."""
    wiring, s = gen
    c = wiring.container
    needs = c.get(s.NeedsContainer)
    assert needs.container is c
    assert needs.db is c.get(s.Database)


def test_inject_uses_the_context_container(gen: tuple[ModuleType, ModuleType]) -> None:
    """@inject fills parameters from the generated container inside `container.context()`."""
    wiring, s = gen
    c = wiring.container
    with c.context():
        db, repo, greeting, extra = s.handle()
        assert db is c.get(s.Database)
        assert isinstance(repo, s.Repo)
        assert greeting == "hello"
        assert extra == 3
        mine = s.Database(s.Config("x"))
        assert s.handle(mine)[0] is mine


def test_inject_reports_what_the_wiring_lacks(gen: tuple[ModuleType, ModuleType]) -> None:
    """@inject with a parameter the generated container cannot satisfy says which."""
    wiring, s = gen
    with wiring.container.context(), pytest.raises(InjectionError, match="'thing'"):
        s.needs_unwired()


async def test_inject_async_function(gen: tuple[ModuleType, ModuleType]) -> None:
    """An async @inject function awaits what needs an await."""
    wiring, s = gen
    c = wiring.container
    with c.context():
        user = await s.ahandle()
    assert user.client is await c.aget(s.Client)


def test_override_reaches_dependents(gen: tuple[ModuleType, ModuleType]) -> None:
    """override(Config) is seen by everything that depends on Config, directly or not."""
    wiring, s = gen
    c = wiring.container
    db = c.get(s.Database)
    fake = s.Config("fake://")
    with c.override(s.Config, fake) as value:
        assert value is fake
        assert c.get(s.Config) is fake
        inside = c.get(s.Database)
        assert inside is not db
        assert inside.config is fake
        assert c.get(s.Database) is inside  # still a singleton inside the block
        assert c.get(s.Service).repo.db is inside
        assert c.get(s.Cache, "primary").config is fake
    assert c.get(s.Database) is db
    assert c.get(s.Service).repo.db.config.url == "pg://prod"


def test_singleton_first_built_inside_an_override_is_not_kept(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """A singleton first resolved inside an override block (through the override) does not
    leak out: after the block the real one is built; untouched singletons are shared."""
    wiring, s = gen
    c = wiring.container
    with c.override(s.Config, s.Config("fake://")):
        inside = c.get(s.Database)
        assert inside.config.url == "fake://"
        pool = c.get(s.Pool)  # does not depend on Config
    outside = c.get(s.Database)
    assert outside is not inside
    assert outside.config.url == "pg://prod"
    assert c.get(s.Database) is outside
    assert c.get(s.Pool) is pool


def test_scoped_binding_under_an_override(gen: tuple[ModuleType, ModuleType]) -> None:
    """Inside a scope, an override reaches scoped dependents and leaves the scope's own
    instances alone once the block ends."""
    wiring, s = gen
    c = wiring.container
    with c.scope():
        real = c.get(s.Session)
        fake_db = s.Database(s.Config("fake://"))
        with c.override(s.Database, fake_db):
            session = c.get(s.Session)
            assert session.db is fake_db
            assert c.get(s.Session) is session
        assert c.get(s.Session) is real
        assert real.db is c.get(s.Database)


def test_override_of_a_named_key(gen: tuple[ModuleType, ModuleType]) -> None:
    """override() takes a name and replaces only that named binding."""
    wiring, s = gen
    c = wiring.container
    fake = object()
    with c.override(s.Cache, fake, name="primary"):
        uses = c.get(s.UsesCaches)
        assert uses.primary is fake
        assert uses.secondary is c.get(s.Cache, "secondary")


def test_override_is_context_local(gen: tuple[ModuleType, ModuleType]) -> None:
    """Another thread resolving during an override block sees the real bindings."""
    wiring, s = gen
    c = wiring.container
    real = c.get(s.Database)
    seen: list[object] = []
    with c.override(s.Database, "fake-db"):
        assert c.get(s.Database) == "fake-db"
        t = threading.Thread(target=lambda: seen.append(c.get(s.Database)))
        t.start()
        t.join()
    assert seen == [real]


def test_singleton_created_elsewhere_during_an_override_is_the_real_one(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """While one thread holds an override open, another thread creating the singleton for
    the first time builds the real one, and that one is kept."""
    wiring, s = gen
    c = wiring.container
    opened, done = threading.Event(), threading.Event()
    seen: list[object] = []

    def overriding() -> None:
        with c.override(s.Config, s.Config("fake://")):
            seen.append(c.get(s.Database))
            opened.set()
            done.wait(5)

    t = threading.Thread(target=overriding)
    t.start()
    assert opened.wait(5)
    real = c.get(s.Database)
    done.set()
    t.join()
    assert real.config.url == "pg://prod"
    assert seen[0] is not real
    assert c.get(s.Database) is real


async def test_override_is_task_local(gen: tuple[ModuleType, ModuleType]) -> None:
    """An asyncio task started outside the block does not see the override."""
    wiring, s = gen
    c = wiring.container
    real = c.get(s.Config)
    go = asyncio.Event()

    async def outside() -> object:
        await go.wait()
        return c.get(s.Config)

    task = asyncio.create_task(outside())
    with c.override(s.Config, "fake"):
        assert await c.aget(s.Config) == "fake"
        go.set()
        assert await task is real


async def test_override_with_async_dependents(gen: tuple[ModuleType, ModuleType]) -> None:
    """An override reaches async dependents resolved with aget."""
    wiring, s = gen
    c = wiring.container
    fake = s.Config("fake://")
    with c.override(s.Config, fake):
        user = await c.aget(s.UsesClient)
        assert user.client.config is fake
    assert (await c.aget(s.Client)).config.url == "pg://prod"


def test_warm_creates_sync_singletons_and_names_async_ones(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """warm() creates every sync singleton now and says which async ones need awarm()."""
    wiring, s = gen
    c = wiring.container
    with pytest.raises(AsyncResolutionError, match="awarm") as info:
        c.warm()
    assert "Client" in str(info.value)
    assert s.CREATED["Database"] == 1
    assert s.CREATED["Slow"] == 1
    assert "pool opened" in s.EVENTS
    c.get(s.Database)
    assert s.CREATED["Database"] == 1
    c.close()


async def test_awarm_creates_every_singleton(gen: tuple[ModuleType, ModuleType]) -> None:
    """awarm() creates sync and async singletons, awaiting the async ones."""
    wiring, s = gen
    c = wiring.container
    await c.awarm()
    assert s.CREATED["Client"] == 1
    assert s.CREATED["Token"] == 1
    assert s.CREATED["Database"] == 1
    assert c.get(s.Client) is await c.aget(s.Client)
    await c.aclose()


def test_unknown_key_mentions_the_wiring_and_root(gen: tuple[ModuleType, ModuleType]) -> None:
    """An unknown key is DependencyNotFoundError naming the generated wiring and --root."""
    wiring, _ = gen
    c = wiring.container

    class NotWired:
        pass

    with pytest.raises(DependencyNotFoundError) as info:
        c.get(NotWired)
    text = str(info.value)
    assert "not part of the generated wiring" in text
    assert "gen.modules:AppModule" in text
    assert "--root" in text
    with pytest.raises(DependencyNotFoundError):
        c.get("no-such-key")
    assert c.try_get(NotWired, "fallback") == "fallback"
    assert not c.has(NotWired)


async def test_unknown_key_through_aget(gen: tuple[ModuleType, ModuleType]) -> None:
    """aget of an unknown key raises the same DependencyNotFoundError."""
    wiring, _ = gen
    with pytest.raises(DependencyNotFoundError, match="--root"):
        await wiring.container.aget("no-such-key")
    assert await wiring.container.atry_get("no-such-key", 7) == 7


def test_singleton_is_created_once_under_racing_threads(
    gen: tuple[ModuleType, ModuleType],
) -> None:
    """16 threads racing for a slow singleton all get one instance, created once."""
    wiring, s = gen
    c = wiring.container
    barrier = threading.Barrier(16)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        value = c.get(s.Slow)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 16
    assert len({id(r) for r in results}) == 1
    assert s.CREATED["Slow"] == 1


def test_failing_singleton_caches_nothing(codegen_env: Path) -> None:
    """A singleton whose factory raises is retried on the next get, not cached broken."""
    make_project(codegen_env, {
        "flaky/app.py": """\
            from injectq import Module

            CALLS = []


            class Flaky:
                def __init__(self) -> None:
                    CALLS.append(1)
                    if len(CALLS) == 1:
                        raise RuntimeError("first try fails")


            class FlakyModule(Module):
                def configure(self) -> None:
                    self.bind(Flaky, Flaky).singleton()
            """,
    })
    wiring = build_wiring(["flaky.app:FlakyModule"])
    from flaky.app import CALLS, Flaky

    with pytest.raises(RuntimeError, match="first try fails"):
        wiring.container.get(Flaky)
    flaky = wiring.container.get(Flaky)
    assert wiring.container.get(Flaky) is flaky
    assert len(CALLS) == 2
