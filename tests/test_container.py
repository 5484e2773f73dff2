"""The runtime container's registration and resolution API (``injectq.runtime.container``).

Covers InjectQ 0.5.0's public surface (``bind``, ``bind_instance``, ``bind_factory``, the dict
interface, ``get``/``try_get``/``has``, ``invoke``, modules, the global instance) and what
injectq adds on top (named bindings, ``Lazy``, builders, auto-wiring rules).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Iterator
from typing import Annotated, Protocol

import pytest

from injectq import (
    AlreadyRegisteredError,
    BindingBuilder,
    BindingError,
    ContainerContext,
    DependencyNotFoundError,
    GraphValidationError,
    Inject,
    InjectionError,
    InjectQ,
    InjectQError,
    Module,
    Named,
    ScopeError,
    ScopeType,
    inject,
)
from injectq.model.binding import Lifetime, ProviderKind

# -- sample classes (module level so string annotations evaluate) ---------------------------


class Database:
    def __init__(self) -> None:
        self.url = "sqlite://"


class UserRepo:
    def __init__(self, db: Database) -> None:
        self.db = db


class UserService:
    def __init__(self, repo: UserRepo) -> None:
        self.repo = repo


class Cache(abc.ABC):
    @abc.abstractmethod
    def get(self, key: str) -> str: ...


class MemoryCache(Cache):
    def get(self, key: str) -> str:
        return f"mem:{key}"


class RedisCache(Cache):
    def get(self, key: str) -> str:
        return f"redis:{key}"


class Greeter(Protocol):
    def greet(self) -> str: ...


class EnglishGreeter:
    def greet(self) -> str:
        return "hello"


class NeedsCache:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache


class NamedCaches:
    def __init__(
        self,
        primary: Annotated[Cache, Named("primary")],
        fallback: Annotated[Cache, Named("fallback")],
    ) -> None:
        self.primary = primary
        self.fallback = fallback


class Config:
    def __init__(self, db_url: str, port: int = 8080) -> None:
        self.db_url = db_url
        self.port = port


class NeedsContainer:
    def __init__(self, container: InjectQ, db: Database) -> None:
        self.container = container
        self.db = db


class InjectDefault:
    def __init__(self, cache: Cache = Inject[Cache]) -> None:
        self.cache = cache


class Counter:
    made = 0

    def __init__(self) -> None:
        Counter.made += 1


class Broken:
    def __init__(self) -> None:
        raise RuntimeError("constructor failed")


class NoInit:
    pass


@pytest.fixture
def c() -> InjectQ:
    return InjectQ()


@pytest.fixture
def clean_global() -> Iterator[None]:
    """Keep the process-wide default container and context as they were."""
    saved = InjectQ._instance
    token = ContainerContext.get_current()
    ContainerContext.clear_current()
    try:
        yield
    finally:
        InjectQ._instance = saved
        ContainerContext.set_current(token)


# -- bind -----------------------------------------------------------------------------------


def test_bind_class_to_implementation(c: InjectQ) -> None:
    """bind(Key, Impl) resolves Key to an Impl constructed with its dependencies."""
    c.bind(Cache, MemoryCache)
    c.bind(NeedsCache, NeedsCache)
    svc = c.get(NeedsCache)
    assert isinstance(svc.cache, MemoryCache)


def test_bind_default_scope_is_singleton(c: InjectQ) -> None:
    """bind() without scope gives one shared instance per container (0.5.0 default)."""
    c.bind(Cache, MemoryCache)
    assert c.get(Cache) is c.get(Cache)


def test_bind_self_binding(c: InjectQ) -> None:
    """bind(Cls) with no implementation binds the class to itself."""
    c.bind(Database)
    db = c.get(Database)
    assert type(db) is Database
    assert c.has(Database)


def test_bind_self_binding_non_class_key_rejected(c: InjectQ) -> None:
    """bind("key") with no implementation is a BindingError: only a class binds to itself."""
    with pytest.raises(BindingError, match="needs an implementation"):
        c.bind("db_url")


def test_bind_to_keyword(c: InjectQ) -> None:
    """bind(Key, to=Impl) is the same as bind(Key, Impl)."""
    c.bind(Cache, to=RedisCache)
    assert isinstance(c.get(Cache), RedisCache)


def test_bind_to_wins_over_implementation(c: InjectQ) -> None:
    """When both implementation and to= are given, to= wins (0.5.0 rule)."""
    c.bind(Cache, MemoryCache, to=RedisCache)
    assert isinstance(c.get(Cache), RedisCache)


@pytest.mark.parametrize("scope", ["transient", ScopeType.TRANSIENT, Lifetime.TRANSIENT])
def test_bind_transient_scope_values(c: InjectQ, scope: object) -> None:
    """scope= accepts a string, a ScopeType or a Lifetime; transient gives new instances."""
    c.bind(Cache, MemoryCache, scope=scope)  # type: ignore[arg-type]
    assert c.get(Cache) is not c.get(Cache)


@pytest.mark.parametrize("scope", ["singleton", ScopeType.SINGLETON, "SINGLETON"])
def test_bind_singleton_scope_values(c: InjectQ, scope: object) -> None:
    """scope="singleton" (any case) or ScopeType.SINGLETON gives one instance."""
    c.bind(Cache, MemoryCache, scope=scope)  # type: ignore[arg-type]
    assert c.get(Cache) is c.get(Cache)


@pytest.mark.parametrize("scope", ["request", ScopeType.REQUEST])
def test_bind_request_scope(c: InjectQ, scope: object) -> None:
    """scope="request" is one instance per open request scope, and needs one open."""
    c.bind(Cache, MemoryCache, scope=scope)  # type: ignore[arg-type]
    with c.scope("request"):
        a = c.get(Cache)
        assert c.get(Cache) is a
    with c.scope("request"):
        assert c.get(Cache) is not a
    with pytest.raises(ScopeError, match="no 'request' scope is open"):
        c.get(Cache)


def test_bind_returns_builder_with_binding(c: InjectQ) -> None:
    """bind() returns a BindingBuilder exposing the Binding it made, with its bind site."""
    builder = c.bind(Cache, MemoryCache)
    assert isinstance(builder, BindingBuilder)
    assert builder.binding.key is Cache
    assert builder.binding.kind is ProviderKind.CLASS
    assert builder.binding.site.split(":")[0].endswith("test_container.py")


def test_bind_site_is_callers_line(c: InjectQ) -> None:
    """The bind site recorded is this test file and the line of the bind() call."""
    import inspect

    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    builder = c.bind(Cache, MemoryCache)
    assert builder.binding.site == f"{_rel(__file__)}:{line}"


def _rel(path: str) -> str:
    import os

    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def test_builder_changes_lifetime(c: InjectQ) -> None:
    """.transient() after bind() makes the binding transient; .singleton() undoes it."""
    c.bind(Cache, MemoryCache).transient()
    assert c.get(Cache) is not c.get(Cache)
    c.bind(Database, Database, override=True).transient().singleton()
    assert c.get(Database) is c.get(Database)


def test_builder_scoped_on_class(c: InjectQ) -> None:
    """.scoped() makes a request-scoped binding by default."""
    b = c.bind(Cache, MemoryCache).scoped()
    assert b.binding.lifetime is Lifetime.SCOPED and b.binding.scope == "request"
    with c.scope():
        assert c.get(Cache) is c.get(Cache)


def test_bind_name(c: InjectQ) -> None:
    """bind(..., name=) makes a separate named key, resolved by get(K, name)."""
    c.bind(Cache, MemoryCache, name="primary")
    c.bind(Cache, RedisCache, name="fallback")
    assert isinstance(c.get(Cache, "primary"), MemoryCache)
    assert isinstance(c.get(Cache, name="fallback"), RedisCache)
    assert c.has(Cache, "primary")
    assert not c.has(Cache)
    with pytest.raises(DependencyNotFoundError):
        c.get(Cache)


def test_named_key_is_not_autowired(c: InjectQ) -> None:
    """A named key of a concrete class is not auto-wired: it must be bound."""
    with pytest.raises(DependencyNotFoundError):
        c.get(Database, "other")


def test_bind_instance_via_bind(c: InjectQ) -> None:
    """bind(Key, obj) with a non-class object binds that very object."""
    cache = MemoryCache()
    c.bind(Cache, cache)
    assert c.get(Cache) is cache


def test_bind_function_is_an_instance_not_called(c: InjectQ) -> None:
    """bind(Key, fn) binds the function itself (0.5.0): use bind_factory to call it."""

    def handler() -> str:
        return "called"

    c.bind("handler", handler)
    assert c.get("handler") is handler


def test_bind_instance_ignores_transient_scope(c: InjectQ) -> None:
    """An instance bound with scope="transient" stays that one object."""
    obj = MemoryCache()
    c.bind(Cache, obj, scope="transient")
    assert c.get(Cache) is obj


def test_bind_none_rejected_without_allow_none(c: InjectQ) -> None:
    """bind(K, None) is a BindingError telling about allow_none."""
    with pytest.raises(BindingError, match="allow_none=True"):
        c.bind("maybe", None)


def test_bind_none_allowed(c: InjectQ) -> None:
    """bind(K, None, allow_none=True) resolves K to None."""
    c.bind("maybe", None, allow_none=True)
    assert c.get("maybe") is None
    assert c.has("maybe")


def test_bind_abstract_implementation_rejected(c: InjectQ) -> None:
    """Binding a key to an abstract class fails at bind time with BindingError."""
    with pytest.raises(BindingError, match="abstract class Cache"):
        c.bind(Cache, Cache)
    with pytest.raises(BindingError, match="abstract"):
        c.bind(Cache)


def test_bind_unhashable_key_rejected(c: InjectQ) -> None:
    """An unhashable key is a BindingError, not a TypeError later."""
    with pytest.raises(BindingError, match="not hashable"):
        c.bind([1], MemoryCache)  # type: ignore[arg-type]


def test_bind_none_key_rejected(c: InjectQ) -> None:
    """None is not a key."""
    with pytest.raises(BindingError):
        c.bind(None, MemoryCache)


def test_rebinding_replaces(c: InjectQ) -> None:
    """With allow_override (the default), the last binding wins."""
    c.bind(Cache, MemoryCache)
    assert isinstance(c.get(Cache), MemoryCache)
    c.bind(Cache, RedisCache)
    assert isinstance(c.get(Cache), RedisCache)


def test_rebinding_after_resolution_updates_dependents(c: InjectQ) -> None:
    """Rebinding a dependency after a resolution is seen by new transient dependents."""
    c.bind(Cache, MemoryCache)
    c.bind(NeedsCache, scope="transient")
    assert isinstance(c.get(NeedsCache).cache, MemoryCache)
    c.bind(Cache, RedisCache, override=True)
    assert isinstance(c.get(NeedsCache).cache, RedisCache)


# -- bind_instance ----------------------------------------------------------------------------


def test_bind_instance(c: InjectQ) -> None:
    """bind_instance(K, obj) resolves K to obj every time."""
    cache = RedisCache()
    c.bind_instance(Cache, cache)
    assert c.get(Cache) is cache
    assert c.get(Cache) is cache


def test_bind_instance_string_key(c: InjectQ) -> None:
    """A string key can be bound to a plain value."""
    c.bind_instance("db_url", "postgres://")
    assert c.get("db_url") == "postgres://"


def test_bind_instance_rejects_class(c: InjectQ) -> None:
    """bind_instance with a class is a BindingError pointing at bind()."""
    with pytest.raises(BindingError, match="use bind"):
        c.bind_instance(Cache, MemoryCache)


def test_bind_instance_none(c: InjectQ) -> None:
    """bind_instance(K, None) needs allow_none=True."""
    with pytest.raises(BindingError, match="allow_none"):
        c.bind_instance("x", None)
    c.bind_instance("x", None, allow_none=True)
    assert c.get("x") is None


def test_bind_instance_does_not_bind_concrete_type(c: InjectQ) -> None:
    """Unlike 0.5.0, binding a value does not also bind its type (no int/str leaks)."""
    c.bind_instance("port", 5432)
    assert not c.has(int)
    with pytest.raises(DependencyNotFoundError):
        c.get(int)


def test_bind_instance_cannot_be_transient(c: InjectQ) -> None:
    """An instance binding refuses .transient(): it is one object."""
    with pytest.raises(BindingError, match="cannot be transient"):
        c.bind_instance(Cache, MemoryCache()).transient()


# -- bind_factory -----------------------------------------------------------------------------


def test_bind_factory_default_transient(c: InjectQ) -> None:
    """A factory is called on every get by default (transient)."""
    calls = []

    def make() -> MemoryCache:
        calls.append(1)
        return MemoryCache()

    c.bind_factory(Cache, make)
    assert c.get(Cache) is not c.get(Cache)
    assert len(calls) == 2


def test_bind_factory_params_injected(c: InjectQ) -> None:
    """A factory's annotated parameters are resolved from the container."""
    c.bind_instance("db_url", "sqlite://test")

    def make(db: Database, db_url: str) -> UserRepo:
        repo = UserRepo(db)
        repo.url = db_url  # type: ignore[attr-defined]
        return repo

    c.bind_factory(UserRepo, make)
    repo = c.get(UserRepo)
    assert isinstance(repo.db, Database)
    assert repo.url == "sqlite://test"  # type: ignore[attr-defined]


def test_bind_factory_singleton(c: InjectQ) -> None:
    """bind_factory(...).singleton() calls the factory once."""
    calls = []

    def make() -> MemoryCache:
        calls.append(1)
        return MemoryCache()

    c.bind_factory(Cache, make).singleton()
    assert c.get(Cache) is c.get(Cache)
    assert calls == [1]


def test_bind_factory_scoped(c: InjectQ) -> None:
    """bind_factory(...).scoped() gives one result per open request scope."""
    c.bind_factory(Cache, lambda: MemoryCache()).scoped()
    with c.scope("request"):
        a = c.get(Cache)
        assert c.get(Cache) is a
    with c.scope("request"):
        assert c.get(Cache) is not a


def test_bind_factory_scope_keyword(c: InjectQ) -> None:
    """bind_factory(..., scope="singleton") is the same as .singleton()."""
    c.bind_factory(Cache, lambda: MemoryCache(), scope="singleton")
    assert c.get(Cache) is c.get(Cache)


def test_bind_factory_not_callable(c: InjectQ) -> None:
    """A factory that is not callable is a BindingError at bind time."""
    with pytest.raises(BindingError, match="not callable"):
        c.bind_factory(Cache, 42)  # type: ignore[arg-type]


def test_bind_factory_class_as_factory(c: InjectQ) -> None:
    """A class passed to bind_factory is constructed on each get."""
    c.bind_factory(Cache, MemoryCache)
    assert isinstance(c.get(Cache), MemoryCache)
    assert c.get(Cache) is not c.get(Cache)


def test_factory_error_propagates(c: InjectQ) -> None:
    """An exception raised by a factory reaches the caller unchanged."""

    def boom() -> Cache:
        raise ValueError("nope")

    c.bind_factory(Cache, boom)
    with pytest.raises(ValueError, match="nope"):
        c.get(Cache)


def test_singleton_factory_failure_caches_nothing(c: InjectQ) -> None:
    """A singleton whose factory raised is built again on the next get."""
    attempts = []

    def flaky() -> MemoryCache:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first try fails")
        return MemoryCache()

    c.bind_factory(Cache, flaky).singleton()
    with pytest.raises(RuntimeError):
        c.get(Cache)
    first = c.get(Cache)
    assert c.get(Cache) is first
    assert len(attempts) == 2


# -- dict interface -----------------------------------------------------------------------


def test_setitem_instance_and_getitem(c: InjectQ) -> None:
    """c[K] = obj binds the object; c[K] resolves it."""
    cache = MemoryCache()
    c[Cache] = cache
    assert c[Cache] is cache


def test_setitem_class_is_constructed(c: InjectQ) -> None:
    """c[K] = Cls binds a class, constructed as a singleton."""
    c[Cache] = RedisCache
    assert isinstance(c[Cache], RedisCache)
    assert c[Cache] is c[Cache]


def test_setitem_replaces_silently(c: InjectQ) -> None:
    """Assigning twice replaces the binding without a duplicate problem."""
    c["url"] = "a"
    c["url"] = "b"
    assert c["url"] == "b"
    assert c.check() == []


def test_setitem_none(c: InjectQ) -> None:
    """c[K] = None binds None (allow_none is implied)."""
    c["nothing"] = None
    assert c["nothing"] is None


def test_setitem_on_strict_container(c: InjectQ) -> None:
    """Assignment replaces even on an allow_override=False container (dict semantics)."""
    strict = InjectQ(allow_override=False)
    strict["k"] = 1
    strict["k"] = 2
    assert strict["k"] == 2


def test_getitem_missing_raises_dependency_not_found(c: InjectQ) -> None:
    """c[K] for an unbound key raises DependencyNotFoundError (not KeyError), like 0.5.0."""
    with pytest.raises(DependencyNotFoundError):
        c["nope"]


def test_contains(c: InjectQ) -> None:
    """`K in c` is has(K): explicit bindings only."""
    c[Cache] = MemoryCache()
    assert Cache in c
    assert "other" not in c
    assert Database not in c  # auto-wirable, but not bound


def test_delitem(c: InjectQ) -> None:
    """del c[K] removes the binding."""
    c["k"] = 1
    del c["k"]
    assert "k" not in c
    with pytest.raises(DependencyNotFoundError):
        c["k"]


def test_delitem_missing_raises_keyerror(c: InjectQ) -> None:
    """del c[K] for an unbound key raises KeyError."""
    with pytest.raises(KeyError):
        del c["never-bound"]


def test_delitem_resets_resolution(c: InjectQ) -> None:
    """After del c[Cache], a dependent that was resolved before now fails to resolve."""
    c[Cache] = MemoryCache()
    c.bind(NeedsCache, scope="transient")
    assert c.get(NeedsCache)
    del c[Cache]
    with pytest.raises(DependencyNotFoundError):
        c.get(NeedsCache)


# -- get / try_get / has ------------------------------------------------------------------


def test_get_resolves_chain(c: InjectQ) -> None:
    """get() builds the whole chain of constructor dependencies."""
    c.bind(Database)
    svc = c.get(UserService)
    assert svc.repo.db is c.get(Database)


def test_get_missing_names_key(c: InjectQ) -> None:
    """DependencyNotFoundError names the key and says what to do."""
    with pytest.raises(DependencyNotFoundError) as info:
        c.get(Cache)
    text = str(info.value)
    assert "error[IQ001 missing-binding]: Cache is not bound" in text
    assert "help: bind it in a Module" in text
    assert info.value.code == "IQ001"
    assert info.value.dependency_type is Cache  # type: ignore[attr-defined]


def test_get_missing_nested_shows_path(c: InjectQ) -> None:
    """A missing dependency deep in the graph reports the path from the requested key."""
    c.bind(NeedsCache, scope="transient")
    with pytest.raises(DependencyNotFoundError) as info:
        c.get(NeedsCache)
    text = str(info.value)
    assert "NeedsCache needs Cache, which is not bound" in text
    assert "chain: NeedsCache [transient] -> Cache [unbound]" in text
    assert "NeedsCache.__init__(cache)" in text
    assert info.value.dependency_type == "Cache"  # type: ignore[attr-defined]


def test_get_is_instance_of_injectqerror(c: InjectQ) -> None:
    """Every error raised by resolution derives from InjectQError."""
    with pytest.raises(InjectQError):
        c.get("missing")


def test_try_get_default(c: InjectQ) -> None:
    """try_get returns the default (None unless given) when the key is not bound."""
    assert c.try_get(Cache) is None
    sentinel = object()
    assert c.try_get(Cache, sentinel) is sentinel
    c[Cache] = MemoryCache()
    assert isinstance(c.try_get(Cache, sentinel), MemoryCache)


def test_try_get_default_when_nested_missing(c: InjectQ) -> None:
    """try_get returns the default when something the key needs is not bound."""
    assert c.try_get(NeedsCache, "dflt") == "dflt"


def test_try_get_propagates_constructor_errors(c: InjectQ) -> None:
    """try_get only hides missing bindings; a failing constructor still raises."""
    c.bind(Broken)
    with pytest.raises(RuntimeError, match="constructor failed"):
        c.try_get(Broken, "dflt")


async def test_atry_get_default(c: InjectQ) -> None:
    """atry_get returns the default when missing, the value when bound."""
    assert await c.atry_get(Cache) is None
    assert await c.atry_get(Cache, 7) == 7

    async def make() -> MemoryCache:
        return MemoryCache()

    c.bind_factory(Cache, make)
    assert isinstance(await c.atry_get(Cache, 7), MemoryCache)


def test_has_explicit_only(c: InjectQ) -> None:
    """has() is True for explicit bindings and False for auto-wirable classes."""
    assert not c.has(Database)
    c.get(Database)  # auto-wired resolution does not register it
    assert not c.has(Database)
    c.bind(Database)
    assert c.has(Database)


def test_has_factory(c: InjectQ) -> None:
    """has() counts factory bindings (0.5.0 has() did too)."""
    c.bind_factory("f", lambda: 1)
    assert c.has("f")


# -- invoke ----------------------------------------------------------------------------------


def test_invoke_injects_missing_params(c: InjectQ) -> None:
    """invoke(K) calls K's factory, injecting parameters not passed."""
    c.bind(Database)

    def make_report(db: Database, title: str) -> str:
        return f"{title}@{db.url}"

    c.bind_factory("report", make_report)
    assert c.invoke("report", title="T") == "T@sqlite://"
    assert c.invoke("report", Database(), "P") == "P@sqlite://"


def test_invoke_name_key_then_default(c: InjectQ) -> None:
    """invoke fills a parameter from a string key equal to its name, then its default."""
    c.bind_instance("title", "from-name")

    def make(title: str, suffix: str = "!") -> str:
        return title + suffix

    c.bind_factory("make", make)
    assert c.invoke("make") == "from-name!"


def test_invoke_missing_param(c: InjectQ) -> None:
    """invoke raises DependencyNotFoundError naming the parameter it cannot fill."""

    def make(title: str) -> str:
        return title

    c.bind_factory("make", make)
    with pytest.raises(DependencyNotFoundError, match="parameter 'title'"):
        c.invoke("make")


def test_invoke_unbound_key(c: InjectQ) -> None:
    """invoke on a key with no factory raises DependencyNotFoundError."""
    with pytest.raises(DependencyNotFoundError, match="no factory is bound"):
        c.invoke("nothing")


async def test_ainvoke_awaits(c: InjectQ) -> None:
    """ainvoke awaits an async factory and async dependencies."""

    async def make_db() -> Database:
        return Database()

    async def make(db: Database, n: int) -> str:
        return f"{db.url}:{n}"

    c.bind_factory(Database, make_db)
    c.bind_factory("make", make)
    assert await c.ainvoke("make", n=3) == "sqlite://:3"


# -- modules ---------------------------------------------------------------------------------


class CacheModule(Module):
    def configure(self) -> None:
        self.bind(Cache, MemoryCache)


class DbModule(Module):
    def configure(self, binder) -> None:  # type: ignore[no-untyped-def, override]
        binder.bind(Database, Database)


def test_install_returns_container(c: InjectQ) -> None:
    """install(module) installs and returns the container, for chaining."""
    assert c.install(CacheModule()).install(DbModule()) is c
    assert isinstance(c.get(Cache), MemoryCache)
    assert c.has(Database)


def test_install_module(c: InjectQ) -> None:
    """install_module(module) is 0.5.0's name for install."""
    c.install_module(CacheModule())
    assert isinstance(c.get(Cache), MemoryCache)


def test_install_module_class(c: InjectQ) -> None:
    """A Module subclass (not instance) is instantiated and installed."""
    c.install(CacheModule)
    assert isinstance(c.get(Cache), MemoryCache)


def test_constructor_modules() -> None:
    """InjectQ(modules=[...]) installs each module at construction."""
    c = InjectQ(modules=[CacheModule(), DbModule()])
    assert isinstance(c.get(Cache), MemoryCache)
    assert c.has(Database)


def test_install_non_module(c: InjectQ) -> None:
    """Installing an object with no configure() is a BindingError."""
    with pytest.raises(BindingError, match="no configure"):
        c.install(object())


# -- allow_override ---------------------------------------------------------------------------


def test_allow_override_false_raises() -> None:
    """InjectQ(allow_override=False) raises AlreadyRegisteredError on a second bind."""
    c = InjectQ(allow_override=False)
    c.bind(Cache, MemoryCache)
    with pytest.raises(AlreadyRegisteredError) as info:
        c.bind(Cache, RedisCache)
    assert info.value.dependency_type is Cache
    assert "allow_override=False" in str(info.value)
    assert isinstance(info.value, BindingError)
    assert isinstance(c.get(Cache), MemoryCache)


def test_allow_override_false_explicit_override_ok() -> None:
    """override=True replaces even on an allow_override=False container."""
    c = InjectQ(allow_override=False)
    c.bind(Cache, MemoryCache)
    c.bind(Cache, RedisCache, override=True)
    assert isinstance(c.get(Cache), RedisCache)


def test_allow_override_false_via_module() -> None:
    """A module binding a key twice fails on a strict container."""

    class Twice(Module):
        def configure(self) -> None:
            self.bind(Cache, MemoryCache)
            self.bind(Cache, RedisCache)

    with pytest.raises(AlreadyRegisteredError):
        InjectQ(modules=[Twice()], allow_override=False)


# -- global instance ------------------------------------------------------------------------


def test_get_instance_is_process_wide(clean_global: None) -> None:
    """get_instance() returns the same default container until reset_instance()."""
    InjectQ.reset_instance()
    a = InjectQ.get_instance()
    assert InjectQ.get_instance() is a
    InjectQ.reset_instance()
    assert InjectQ.get_instance() is not a


def test_get_instance_prefers_context(clean_global: None, c: InjectQ) -> None:
    """Inside c.context(), get_instance() is c."""
    with c.context():
        assert InjectQ.get_instance() is c
    assert InjectQ.get_instance() is not c


def test_test_mode_isolates_global(clean_global: None) -> None:
    """test_mode() yields a fresh global container and restores the previous one after."""
    before = InjectQ.get_instance()
    before.bind_instance("where", "outside")
    with InjectQ.test_mode() as tc:
        assert InjectQ.get_instance() is tc
        assert tc is not before
        assert not tc.has("where")
        tc.bind_instance("where", "inside")
    assert InjectQ.get_instance() is before
    assert before.get("where") == "outside"


def test_test_mode_wins_over_active_context(clean_global: None, c: InjectQ) -> None:
    """test_mode() also beats an active context container (0.5.0 bug 16)."""
    with c.context(), InjectQ.test_mode() as tc:
        assert InjectQ.get_instance() is tc
    assert ContainerContext.get_current() is None


def test_context_restores_previous(clean_global: None) -> None:
    """Nested context() blocks restore the outer container on exit."""
    a, b = InjectQ(), InjectQ()
    with a.context():
        with b.context() as inner:
            assert inner is b
            assert ContainerContext.get_current() is b
        assert ContainerContext.get_current() is a
    assert ContainerContext.get_current() is None


def test_context_restored_after_error(clean_global: None, c: InjectQ) -> None:
    """context() restores the previous container when the block raises."""
    with pytest.raises(RuntimeError), c.context():
        raise RuntimeError
    assert ContainerContext.get_current() is None


def test_context_is_per_task(clean_global: None) -> None:
    """A container made current in one asyncio task is not current in another."""
    a, b = InjectQ(), InjectQ()

    async def use(container: InjectQ) -> bool:
        with container.context():
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return ContainerContext.get_current() is container

    async def main() -> list[bool]:
        return list(await asyncio.gather(use(a), use(b)))

    assert asyncio.run(main()) == [True, True]


# -- auto-wiring ----------------------------------------------------------------------------


def test_autowire_concrete_class_transient(c: InjectQ) -> None:
    """An unbound concrete class is built from its constructor, anew each time."""
    a = c.get(UserService)
    b = c.get(UserService)
    assert isinstance(a.repo.db, Database)
    assert a is not b
    assert a.repo.db is not b.repo.db


def test_autowire_class_without_init(c: InjectQ) -> None:
    """A concrete class with no __init__ of its own is auto-wired too."""
    assert isinstance(c.get(NoInit), NoInit)


def test_autowire_refuses_abc(c: InjectQ) -> None:
    """An abstract class is never auto-wired."""
    with pytest.raises(DependencyNotFoundError, match="Cache is not bound"):
        c.get(Cache)


def test_autowire_refuses_protocol(c: InjectQ) -> None:
    """A Protocol is never auto-wired."""
    with pytest.raises(DependencyNotFoundError):
        c.get(Greeter)
    c.bind(Greeter, EnglishGreeter)
    assert c.get(Greeter).greet() == "hello"


@pytest.mark.parametrize("builtin", [str, int, float, bool, bytes, list, dict, set, tuple])
def test_autowire_refuses_builtins(c: InjectQ, builtin: type) -> None:
    """Builtins (str, int, list, ...) are never auto-wired."""
    with pytest.raises(DependencyNotFoundError):
        c.get(builtin)


def test_autowire_refuses_enum(c: InjectQ) -> None:
    """An Enum is not auto-wired."""
    import enum

    class Color(enum.Enum):
        RED = 1

    with pytest.raises(DependencyNotFoundError):
        c.get(Color)


def test_autowired_dependency_of_singleton_is_shared_through_it(c: InjectQ) -> None:
    """An auto-wired (transient) dependency of a singleton is created once with it."""
    c.bind(UserService)
    assert c.get(UserService).repo is c.get(UserService).repo


# -- parameters: Named, Inject, by name, container ----------------------------------------


def test_annotated_named_parameters(c: InjectQ) -> None:
    """Annotated[T, Named("x")] parameters receive the binding named x."""
    c.bind(Cache, MemoryCache, name="primary")
    c.bind(Cache, RedisCache, name="fallback")
    svc = c.get(NamedCaches)
    assert isinstance(svc.primary, MemoryCache)
    assert isinstance(svc.fallback, RedisCache)


def test_annotated_named_missing(c: InjectQ) -> None:
    """A missing named binding is reported with its name."""
    c.bind(Cache, MemoryCache, name="primary")
    with pytest.raises(DependencyNotFoundError, match=r"Cache\[name='fallback'\]"):
        c.get(NamedCaches)


def test_annotated_name_string_metadata(c: InjectQ) -> None:
    """Annotated[T, "name=x"] is accepted as a name too."""

    def make(cache: Annotated[Cache, "name=primary"]) -> str:
        return cache.get("k")

    c.bind(Cache, RedisCache, name="primary")
    c.bind_factory("out", make)
    assert c.get("out") == "redis:k"


def test_inject_default_value(c: InjectQ) -> None:
    """A parameter defaulting to Inject[T] is injected with T when constructed."""
    c.bind(Cache, RedisCache)
    assert isinstance(c.get(InjectDefault).cache, RedisCache)


def test_inject_default_missing(c: InjectQ) -> None:
    """An Inject[T] default is a requirement, not a fallback: missing T fails."""
    with pytest.raises(DependencyNotFoundError):
        c.get(InjectDefault)


def test_string_key_by_parameter_name(c: InjectQ) -> None:
    """A str-annotated parameter is filled from the string key equal to its name (0.5.0)."""
    c.bind_instance("db_url", "postgres://x")
    cfg = c.get(Config)
    assert cfg.db_url == "postgres://x"
    assert cfg.port == 8080


def test_string_key_by_name_for_unannotated(c: InjectQ) -> None:
    """An unannotated parameter is filled from a string key equal to its name."""

    def make(db_url):  # type: ignore[no-untyped-def]
        return db_url.upper()

    c.bind_instance("db_url", "abc")
    c.bind_factory("up", make)
    assert c.get("up") == "ABC"


def test_string_key_by_name_overrides_default(c: InjectQ) -> None:
    """A name key wins over a primitive parameter's default."""
    c.bind_instance("db_url", "u")
    c.bind_instance("port", 9000)
    assert c.get(Config).port == 9000


def test_primitive_without_name_key_missing(c: InjectQ) -> None:
    """A str parameter with no name key and no default is a missing binding."""
    with pytest.raises(DependencyNotFoundError, match="db_url"):
        c.get(Config)


def test_type_binding_wins_over_name(c: InjectQ) -> None:
    """For a class-annotated parameter, the bound type wins over a same-named string key."""

    class Holder:
        def __init__(self, cache: Cache) -> None:
            self.cache = cache

    c.bind(Cache, MemoryCache)
    c.bind_instance("cache", RedisCache())
    assert isinstance(c.get(Holder).cache, MemoryCache)


def test_name_key_used_when_type_unbound(c: InjectQ) -> None:
    """A class-annotated parameter whose type is unbound falls back to its name key."""
    c.bind_instance("cache", RedisCache())
    assert isinstance(c.get(NeedsCache).cache, RedisCache)


def test_optional_param_none_when_unbound(c: InjectQ) -> None:
    """An Optional[T] parameter with nothing bound receives None."""

    def make(cache: Cache | None) -> str:
        return "none" if cache is None else "some"

    c.bind_factory("x", make)
    assert c.get("x") == "none"
    c.bind(Cache, MemoryCache)
    assert c.get("x") == "some"


def test_container_parameter(c: InjectQ) -> None:
    """A parameter annotated InjectQ receives the resolving container itself."""
    svc = c.get(NeedsContainer)
    assert svc.container is c
    assert isinstance(svc.db, Database)


def test_get_container_type_returns_the_container(c: InjectQ) -> None:
    """get(InjectQ) is the resolving container itself, never a fresh auto-wired one."""
    assert c.get(InjectQ) is c


async def test_aget_container_type_returns_the_container(c: InjectQ) -> None:
    """aget(InjectQ) is the resolving container too."""
    assert await c.aget(InjectQ) is c


# -- graph, compile, clear ----------------------------------------------------------------


def test_get_dependency_graph(c: InjectQ) -> None:
    """get_dependency_graph() maps each key to the keys its provider depends on."""
    c.bind(UserService)
    c.bind_factory("report", lambda: "r")
    graph = c.get_dependency_graph()
    assert graph[UserService] == [UserRepo]
    assert graph[UserRepo] == [Database]
    assert graph[Database] == []
    assert graph["report"] == []  # factory-only keys are included (0.5.0 bug 12)


def test_get_dependency_graph_named_and_name_keys(c: InjectQ) -> None:
    """Named and by-name edges appear as the key they resolve to."""
    c.bind(Cache, MemoryCache, name="primary")
    c.bind(Cache, RedisCache, name="fallback")
    c.bind(NamedCaches)
    c.bind_instance("db_url", "u")
    c.bind(Config)
    graph = c.get_dependency_graph()
    assert len(graph[NamedCaches]) == 2
    assert graph[Config] == ["db_url"]


def test_compile_validates_and_builds(c: InjectQ) -> None:
    """compile() validates the graph and compiles every binding's resolver."""
    c.bind(UserService)
    c.compile()
    assert isinstance(c.get(UserService), UserService)


def test_compile_raises_on_missing(c: InjectQ) -> None:
    """compile() raises GraphValidationError when a binding cannot be resolved."""
    c.bind(NeedsCache)
    with pytest.raises(GraphValidationError) as info:
        c.compile()
    assert info.value.codes == ["IQ001"]


def test_clear(c: InjectQ) -> None:
    """clear() removes every binding and forgets cached singletons."""
    c.bind(Database)
    first = c.get(Database)
    c.clear()
    assert not c.has(Database)
    assert len(c.registry) == 0
    c.bind(Database)
    assert c.get(Database) is not first


def test_clear_forgets_strings(c: InjectQ) -> None:
    """After clear() a bound value is gone."""
    c["x"] = 1
    assert c["x"] == 1
    c.clear()
    with pytest.raises(DependencyNotFoundError):
        c["x"]


def test_repr(c: InjectQ) -> None:
    """repr shows the number of bindings (0.5.0 format)."""
    c.bind(Database)
    c["x"] = 1
    assert repr(c) == "InjectQ(services=2, thread_safe=True)"


# -- @inject interplay with container-resolved callables ---------------------------------------


def test_inject_decorated_factory_receives_args_from_container(c: InjectQ) -> None:
    """A factory decorated with @inject is called by the container with all its arguments."""

    @inject
    def make(db: Database) -> UserRepo:
        return UserRepo(db)

    c.bind(Database)
    c.bind_factory(UserRepo, make)
    assert c.get(UserRepo).db is c.get(Database)


def test_singleton_shared_across_keys(c: InjectQ) -> None:
    """A singleton dependency is the same object wherever it is injected."""
    c.bind(Database)
    c.bind(UserRepo, scope="transient")
    assert c.get(UserRepo).db is c.get(UserRepo).db is c.get(Database)


def test_transient_counter(c: InjectQ) -> None:
    """A transient class is constructed once per get."""
    c.bind(Counter, scope="transient")
    before = Counter.made
    c.get(Counter)
    c.get(Counter)
    assert Counter.made == before + 2


def test_injection_error_is_injectq_error() -> None:
    """InjectionError is part of the InjectQError hierarchy."""
    assert issubclass(InjectionError, InjectQError)


class KwOnly:
    def __init__(self, *, db: Database, n: int = 3) -> None:
        self.db = db
        self.n = n


class AnnotatedInject:
    def __init__(self, db: Inject[Database]) -> None:
        self.db = db


def test_keyword_only_params(c: InjectQ) -> None:
    """Keyword-only constructor parameters are injected; their defaults kept when unbound."""
    c.bind(Database)
    obj = c.get(KwOnly)
    assert obj.db is c.get(Database)
    assert obj.n == 3


def test_positional_only_params(c: InjectQ) -> None:
    """Positional-only factory parameters are injected positionally."""

    def make(db: Database, /, n: int = 2) -> tuple[Database, int]:
        return db, n

    c.bind(Database)
    c.bind_factory("pair", make)
    assert c.get("pair") == (c.get(Database), 2)


def test_default_before_injected_param(c: InjectQ) -> None:
    """A defaulted primitive before an injected parameter does not shift arguments."""

    def make(a: int = 1, db: Database | None = None) -> tuple[int, Database | None]:
        return a, db

    c.bind(Database)
    c.bind_factory("m", make)
    assert c.get("m") == (1, c.get(Database))


def test_inject_as_annotation(c: InjectQ) -> None:
    """Inject[T] used as an annotation (not a default) injects T too."""
    c.bind(Database)
    assert c.get(AnnotatedInject).db is c.get(Database)


def test_singleton_survives_unrelated_rebinding(c: InjectQ) -> None:
    """Binding another key does not rebuild existing singletons; rebinding the key does."""
    c.bind(Database)
    db = c.get(Database)
    c.bind_instance("unrelated", 1)
    assert c.get(Database) is db
    c.bind(Database, override=True)
    assert c.get(Database) is not db


def test_constructor_accepts_050_options() -> None:
    """InjectQ accepts 0.5.0's use_async_scopes and thread_safe arguments."""
    c = InjectQ(use_async_scopes=False, thread_safe=False)
    assert c.thread_safe is False
    c.bind(Database)
    assert c.get(Database) is c.get(Database)


class _Unbound:
    pass


class _Reached:
    def __init__(self, dep: _Unbound) -> None:
        self.dep = dep


def test_get_of_a_class_no_binding_reaches_warns_once_naming_root() -> None:
    """The runtime builds it; a generated wiring would not hold it: warn once, say --root."""
    from injectq import AutowireWarning

    c = InjectQ()
    with pytest.warns(AutowireWarning, match=r"--root .*:_Unbound`") as caught:
        c.get(_Unbound)
        c.get(_Unbound)
    assert len(caught) == 1
    c2 = InjectQ()
    c2.bind(_Reached)
    import warnings as _w

    with _w.catch_warnings():
        _w.simplefilter("error")
        assert isinstance(c2.get(_Unbound), _Unbound)  # a binding reaches it: no warning
