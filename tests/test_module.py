"""Modules (``injectq.model.module``): the seed style, InjectQ 0.5.0's binder style, SimpleModule,
ProviderModule with ``@provider``, ConfigurationModule, and where bindings say they were made.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from injectq import (
    BindingError,
    ConfigurationModule,
    DependencyNotFoundError,
    InjectQ,
    Module,
    ModuleBinder,
    ProviderModule,
    ScopeType,
    SimpleModule,
    provider,
)
from injectq.model.binding import Lifetime

HERE = os.path.relpath(__file__) if not os.path.relpath(__file__).startswith("..") else __file__


def _line() -> int:
    """The line number of the caller."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


# -- sample classes -------------------------------------------------------------------------


class Database:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


class Cache:
    pass


class RedisCache(Cache):
    pass


class Settings:
    def __init__(self, debug: bool) -> None:
        self.debug = debug


def make_repo(db: Database) -> Repo:
    return Repo(db)


@pytest.fixture
def c() -> InjectQ:
    return InjectQ()


# -- seed style -------------------------------------------------------------------------------


def test_seed_style_configure_self_bind(c: InjectQ) -> None:
    """configure(self) with self.bind(...) registers into the installing container."""

    class AppModule(Module):
        def configure(self) -> None:
            self.bind(Database, Database).singleton()
            self.bind(Repo, Repo).transient()
            self.bind(Cache, RedisCache)

    c.install(AppModule())
    assert c.get(Database) is c.get(Database)
    assert c.get(Repo) is not c.get(Repo)
    assert isinstance(c.get(Cache), RedisCache)


def test_seed_style_all_bind_methods(c: InjectQ) -> None:
    """self.bind_instance and self.bind_factory work inside configure(self)."""
    db = Database("pg://")

    class AppModule(Module):
        def configure(self) -> None:
            self.bind_instance(Database, db)
            self.bind_factory(Repo, make_repo).singleton()
            self.bind_instance("url", "x", name="main")

    c.install(AppModule())
    assert c.get(Database) is db
    assert c.get(Repo) is c.get(Repo)
    assert c.get("url", "main") == "x"


def test_seed_style_scoped_builder(c: InjectQ) -> None:
    """self.bind(...).scoped() inside configure gives a request-scoped binding."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Cache, RedisCache).scoped()

    c.install(M())
    binding = c.registry.get(Cache)
    assert binding is not None and binding.lifetime is Lifetime.SCOPED
    with c.scope("request"):
        assert c.get(Cache) is c.get(Cache)


def test_seed_style_self_binding(c: InjectQ) -> None:
    """self.bind(Cls) binds the class to itself."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Database)

    c.install(M())
    assert c.has(Database)
    assert c.get(Database) is c.get(Database)


def test_seed_style_install_nested(c: InjectQ) -> None:
    """self.install(other) inside configure installs another module into the same container."""

    class Inner(Module):
        def configure(self) -> None:
            self.bind(Database)

    class Outer(Module):
        def configure(self) -> None:
            self.install(Inner())
            self.bind(Repo)

    c.install(Outer())
    assert c.has(Database) and c.has(Repo)
    assert c.get(Repo).db is c.get(Database)


def test_seed_style_declare_scope(c: InjectQ) -> None:
    """self.declare_scope() adds a custom scope the module's bindings can use."""

    class M(Module):
        def configure(self) -> None:
            self.declare_scope("job", parent="app")
            self.bind(Cache, RedisCache, scope="job")

    c.install(M())
    with c.scope("job"):
        assert c.get(Cache) is c.get(Cache)
    assert c.check() == []


def test_module_installed_in_two_containers() -> None:
    """The same module instance can be installed in two containers; each gets its own."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Database)

    m = M()
    a, b = InjectQ(modules=[m]), InjectQ(modules=[m])
    assert a.get(Database) is not b.get(Database)


def test_bind_outside_configure_is_helpful_error() -> None:
    """self.bind() outside configure raises BindingError saying where it may be called."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Database)

    m = M()
    with pytest.raises(BindingError) as info:
        m.bind(Database)
    text = str(info.value)
    assert "M.bind() can only be called inside configure()" in text
    assert "container.install(module)" in text
    with pytest.raises(BindingError, match=r"bind_instance\(\) can only be called"):
        m.bind_instance(Database, Database())
    with pytest.raises(BindingError, match=r"bind_factory\(\) can only be called"):
        m.bind_factory(Database, Database)


def test_bind_after_install_is_error(c: InjectQ) -> None:
    """After install finishes, self.bind() fails again (the binder is not kept)."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Database)

    m = M()
    c.install(m)
    with pytest.raises(BindingError, match="only be called inside configure"):
        m.bind(Repo)


def test_binder_released_after_failing_configure(c: InjectQ) -> None:
    """A configure() that raises still detaches the binder."""

    class M(Module):
        def configure(self) -> None:
            self.bind(Database)
            raise RuntimeError("half way")

    m = M()
    with pytest.raises(RuntimeError):
        c.install(m)
    with pytest.raises(BindingError):
        m.bind(Repo)


def test_base_module_configure_is_noop(c: InjectQ) -> None:
    """A Module that does not override configure installs nothing."""
    c.install(Module())
    assert len(c.registry) == 0


# -- binder style (0.5.0) -----------------------------------------------------------------


def test_binder_style(c: InjectQ) -> None:
    """configure(self, binder) receives a ModuleBinder bound to the container."""
    seen: list[Any] = []

    class M(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            assert binder is not None
            seen.append(binder)
            binder.bind(Cache, RedisCache)
            binder.bind(Database, Database, scope=ScopeType.TRANSIENT)
            binder.bind_instance("url", "u")
            binder.bind_factory(Repo, make_repo)

    c.install_module(M())
    assert isinstance(seen[0], ModuleBinder) and seen[0].container is c
    assert isinstance(c.get(Cache), RedisCache)
    assert c.get(Database) is not c.get(Database)
    assert c.get("url") == "u"
    assert isinstance(c.get(Repo), Repo)


def test_binder_style_to_keyword(c: InjectQ) -> None:
    """binder.bind(K, to=Impl) works like 0.5.0."""

    class M(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            assert binder is not None
            binder.bind(Cache, to=RedisCache)

    c.install(M())
    assert isinstance(c.get(Cache), RedisCache)


def test_binder_style_self_binding(c: InjectQ) -> None:
    """binder.bind(Cls) binds the class to itself (0.5.0 raised BindingError: bug 10)."""

    class M(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            assert binder is not None
            binder.bind(Database)

    c.install(M())
    assert c.has(Database)


def test_binder_style_plain_object(c: InjectQ) -> None:
    """Any object with configure(binder) installs, without subclassing Module (duck typing)."""

    class Plain:
        def configure(self, binder: ModuleBinder) -> None:
            binder.bind(Cache, RedisCache)

    c.install(Plain())
    assert isinstance(c.get(Cache), RedisCache)


def test_binder_style_self_bind_also_works(c: InjectQ) -> None:
    """Inside configure(self, binder), self.bind() is available too."""

    class M(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            self.bind(Database)

    c.install(M())
    assert c.has(Database)


# -- SimpleModule -----------------------------------------------------------------------------


def test_simple_module_fluent(c: InjectQ) -> None:
    """SimpleModule's bind methods return the module and replay when installed."""
    db = Database("pg://")
    m = (
        SimpleModule()
        .bind(Cache, RedisCache)
        .bind_instance(Database, db)
        .bind_factory(Repo, make_repo)
    )
    assert isinstance(m, SimpleModule)
    assert len(c.registry) == 0
    c.install(m)
    assert isinstance(c.get(Cache), RedisCache)
    assert c.get(Database) is db
    assert c.get(Repo).db is db
    assert c.get(Repo) is not c.get(Repo)  # factories stay transient


def test_simple_module_self_binding(c: InjectQ) -> None:
    """SimpleModule().bind(Cls) binds Cls to itself (0.5.0 raised BindingError: bug 10)."""
    c.install(SimpleModule().bind(Database))
    assert c.has(Database)
    assert isinstance(c.get(Database), Database)
    assert c.get(Database) is c.get(Database)


def test_simple_module_scope_and_to(c: InjectQ) -> None:
    """SimpleModule.bind takes scope= and to= like the container."""
    c.install(SimpleModule().bind(Cache, to=RedisCache, scope="transient"))
    assert isinstance(c.get(Cache), RedisCache)
    assert c.get(Cache) is not c.get(Cache)


def test_simple_module_named_and_allow_none(c: InjectQ) -> None:
    """SimpleModule passes name= and allow_none= through."""
    c.install(
        SimpleModule()
        .bind(Cache, RedisCache, name="r")
        .bind_instance("opt", None, allow_none=True)
        .bind_factory("n", lambda: 1, scope="singleton")
    )
    assert isinstance(c.get(Cache, "r"), RedisCache)
    assert c.get("opt") is None
    assert c.get("n") == 1


def test_simple_module_errors_surface_at_install(c: InjectQ) -> None:
    """A bad SimpleModule binding fails when installed, naming the fluent call's site."""
    line = _line() + 1
    m = SimpleModule().bind("not-a-class")
    with pytest.raises(BindingError) as info:
        c.install(m)
    assert f"{HERE}:{line}" in str(info.value)


def test_simple_module_reinstall(c: InjectQ) -> None:
    """A SimpleModule can be installed into more than one container."""
    m = SimpleModule().bind(Database)
    a, b = InjectQ(modules=[m]), InjectQ(modules=[m])
    assert a.has(Database) and b.has(Database)


# -- ProviderModule -------------------------------------------------------------------------


class DbProviders(ProviderModule):
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url
        self.calls = 0

    @provider
    def database(self) -> Database:
        self.calls += 1
        return Database(self.url)

    @provider(scope="singleton")
    def repo(self, db: Database) -> Repo:
        return Repo(db)

    @provider(name="debug")
    def debug_settings(self, debug: bool) -> Settings:
        return Settings(debug)

    def helper(self) -> str:  # not a provider
        return "helper"


def test_provider_return_annotation_is_key(c: InjectQ) -> None:
    """@provider binds the method's result under its return annotation."""
    c.install(DbProviders("pg://"))
    assert c.get(Database).url == "pg://"
    assert not c.has(str)  # helper() is not a provider


def test_provider_default_transient(c: InjectQ) -> None:
    """@provider without a scope is transient: called on every get."""
    m = DbProviders()
    c.install(m)
    assert c.get(Database) is not c.get(Database)
    assert m.calls == 2


def test_provider_singleton_scope(c: InjectQ) -> None:
    """@provider(scope="singleton") is built once."""
    c.install(DbProviders())
    assert c.get(Repo) is c.get(Repo)


def test_provider_params_injected(c: InjectQ) -> None:
    """A provider's parameters are injected: types, and string keys by parameter name."""
    m = DbProviders()
    c.install(m)
    assert isinstance(c.get(Repo).db, Database)
    c.bind_instance("debug", True)
    assert c.get(Settings, "debug").debug is True


def test_provider_named(c: InjectQ) -> None:
    """@provider(name=...) binds a named key."""
    c.install(DbProviders())
    c.bind_instance("debug", False)
    assert not c.has(Settings)
    assert c.has(Settings, "debug")


def test_provider_without_return_annotation() -> None:
    """A @provider with no return annotation is a BindingError naming the method."""

    class Bad(ProviderModule):
        @provider
        def thing(self):  # type: ignore[no-untyped-def]
            return 1

    with pytest.raises(BindingError, match=r"Bad.thing needs a return type annotation"):
        InjectQ(modules=[Bad()])


def test_provider_async(c: InjectQ) -> None:
    """An async @provider is an async factory, resolved with aget."""
    import asyncio

    class M(ProviderModule):
        @provider
        async def db(self) -> Database:
            return Database("async://")

    c.install(M())
    assert asyncio.run(c.aget(Database)).url == "async://"


def test_provider_generator_yields_key(c: InjectQ) -> None:
    """A generator @provider is keyed by what it yields and finalized on close."""
    closed: list[str] = []

    class M(ProviderModule):
        @provider(scope="singleton")
        def db(self) -> Iterator[Database]:
            yield Database("gen://")
            closed.append("db")

    c.install(M())
    assert c.get(Database).url == "gen://"
    c.close()
    assert closed == ["db"]


def test_provider_module_subclass_inherits_providers(c: InjectQ) -> None:
    """Providers defined on a base ProviderModule are registered for subclasses."""

    class Child(DbProviders):
        @provider
        def cache(self) -> Cache:
            return RedisCache()

    c.install(Child())
    assert c.has(Database) and c.has(Cache)


def test_provider_function_marked() -> None:
    """@provider marks the function and returns it unchanged."""

    def f() -> int:
        return 1

    assert provider(f) is f
    assert f._is_provider is True  # type: ignore[attr-defined]


# -- ConfigurationModule --------------------------------------------------------------------


def test_configuration_module(c: InjectQ) -> None:
    """ConfigurationModule binds each item of the dict as an instance."""
    m = ConfigurationModule({"db_url": "pg://", "debug": True, Database: Database("x")})
    assert m.config["db_url"] == "pg://"
    c.install(m)
    assert c.get("db_url") == "pg://"
    assert c.get("debug") is True
    assert c.get(Database).url == "x"


def test_configuration_module_non_str_keys_stringified(c: InjectQ) -> None:
    """A key that is neither str nor type is bound under str(key)."""
    c.install(ConfigurationModule({42: "answer"}))
    assert c.get("42") == "answer"


def test_configuration_module_none_value(c: InjectQ) -> None:
    """A None value is bound as None."""
    c.install(ConfigurationModule({"opt": None}))
    assert c.get("opt") is None


def test_configuration_module_feeds_name_keys(c: InjectQ) -> None:
    """Config values satisfy str/bool parameters by name."""
    c.install(ConfigurationModule({"url": "pg://", "debug": True}))

    class App:
        def __init__(self, url: str, debug: bool) -> None:
            self.url, self.debug = url, debug

    app = c.get(App)
    assert (app.url, app.debug) == ("pg://", True)


def test_configuration_module_does_not_bind_types(c: InjectQ) -> None:
    """Config values do not leak type bindings (0.5.0 bound int/str too: bug 14)."""
    c.install(ConfigurationModule({"port": 5432}))
    assert not c.has(int)
    with pytest.raises(DependencyNotFoundError):
        c.get(int)


# -- bind sites ---------------------------------------------------------------------------


def _site(c: InjectQ, key: Any, name: str | None = None) -> str:
    from injectq.model.markers import make_key

    binding = c.registry.get(make_key(key, name))
    assert binding is not None
    return binding.site


def test_site_seed_style(c: InjectQ) -> None:
    """A seed-style self.bind() records this file and the bind line."""
    lines: dict[str, int] = {}

    class M(Module):
        def configure(self) -> None:
            lines["bind"] = _line() + 1
            self.bind(Database).singleton()
            lines["inst"] = _line() + 1
            self.bind_instance("u", "x")
            lines["fact"] = _line() + 1
            self.bind_factory(Repo, Repo)

    c.install(M())
    assert _site(c, Database) == f"{HERE}:{lines['bind']}"
    assert _site(c, "u") == f"{HERE}:{lines['inst']}"
    assert _site(c, Repo) == f"{HERE}:{lines['fact']}"


def test_site_binder_style(c: InjectQ) -> None:
    """binder.bind() records the user's line, not ModuleBinder's."""
    lines: dict[str, int] = {}

    class M(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            assert binder is not None
            lines["bind"] = _line() + 1
            binder.bind(Database)
            lines["inst"] = _line() + 1
            binder.bind_instance("u", "x")
            lines["fact"] = _line() + 1
            binder.bind_factory(Repo, Repo)

    c.install(M())
    assert _site(c, Database) == f"{HERE}:{lines['bind']}"
    assert _site(c, "u") == f"{HERE}:{lines['inst']}"
    assert _site(c, Repo) == f"{HERE}:{lines['fact']}"


def test_site_simple_module(c: InjectQ) -> None:
    """SimpleModule records the fluent call's line, not the install line or injectq's."""
    first = _line() + 1
    m = SimpleModule().bind(Database)
    second = _line() + 1
    m.bind_instance("u", "x")
    c.install(m)
    assert _site(c, Database) == f"{HERE}:{first}"
    assert _site(c, "u") == f"{HERE}:{second}"


def test_site_provider_module(c: InjectQ) -> None:
    """A @provider's site is the provider definition in the user's file (relative path)."""
    c.install(DbProviders())
    site = _site(c, Database)
    file, line = site.rsplit(":", 1)
    assert file == HERE
    lines, start = inspect.getsourcelines(DbProviders.database)
    assert start <= int(line) < start + len(lines)


def test_site_configuration_module(c: InjectQ) -> None:
    """ConfigurationModule bindings point at the user's install line."""
    line = _line() + 1
    c.install(ConfigurationModule({"k": 1}))
    assert _site(c, "k") == f"{HERE}:{line}"


def test_site_direct_bind(c: InjectQ) -> None:
    """Container bind methods and dict assignment record the caller's line."""
    line = _line() + 1
    c.bind(Database)
    assert _site(c, Database) == f"{HERE}:{line}"
    line = _line() + 1
    c["k"] = 1
    assert _site(c, "k") == f"{HERE}:{line}"


def test_sites_never_inside_injectq(c: InjectQ) -> None:
    """No binding made through any module style has a site inside the injectq package."""
    import injectq

    pkg = os.path.dirname(injectq.__file__)

    class Seed(Module):
        def configure(self) -> None:
            self.bind(Cache, RedisCache)

    class Binder(Module):
        def configure(self, binder: ModuleBinder | None = None) -> None:
            assert binder is not None
            binder.bind(Database)

    c.install(Seed()).install(Binder()).install(DbProviders()).install(
        SimpleModule().bind(Service)
    ).install(ConfigurationModule({"k": 1}))
    for binding in c.registry:
        path = os.path.abspath(binding.site.rsplit(":", 1)[0])
        assert not path.startswith(pkg), binding
        assert path == os.path.abspath(__file__), binding


def test_site_in_binding_error_message(c: InjectQ) -> None:
    """A BindingError raised inside configure names the user's bind line."""

    class M(Module):
        def configure(self) -> None:
            self.bind("no-impl")

    line = inspect.getsourcelines(M.configure)[1] + 1
    with pytest.raises(BindingError, match=f"{HERE}:{line}"):
        c.install(M())


def test_bind_sites_are_exact_in_a_long_configure(tmp_path: Path) -> None:
    """Each bind() of a 300-line configure() records its own line (read from a table per
    code object, not by rescanning the line table on every call)."""
    import importlib.util

    lines = ["from injectq import Module", ""]
    lines += [f"class K{i}:\n    pass\n" for i in range(300)]
    lines.append("class Long(Module):\n    def configure(self) -> None:")
    first = len("\n".join(lines).splitlines()) + 1
    lines += [f"        self.bind(K{i}).{'singleton' if i % 2 else 'transient'}()"
              for i in range(300)]
    path = tmp_path / "long_configure.py"
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location("long_configure", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    c = InjectQ()
    c.install(mod.Long())
    sites = [c._registry.get(getattr(mod, f"K{i}")).site for i in range(300)]  # type: ignore[union-attr]
    assert [int(s.rsplit(":", 1)[1]) for s in sites] == [first + i for i in range(300)]
    assert all(s.rsplit(":", 1)[0].endswith("long_configure.py") for s in sites)
