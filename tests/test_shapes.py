"""Every key and provider shape the runtime container resolves, injectq-gen compiles, and
both containers give the same objects: generic aliases, type aliases and NewType keys,
Annotated keys, classmethod, staticmethod and bound-method factories, functools.partial,
ProviderModules installed from another Module, keyword-only and positional-only
parameters with any defaults."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from injectq import InjectQ
from injectq_codegen.build import generate
from injectq_codegen.errors import GraphProblems
from tests.codegen_support import build_wiring, make_project, unique_name

SHAPES = """\
from __future__ import annotations

import functools
from typing import Annotated, Generic, NewType, TypeVar

from typing_extensions import TypeAliasType

from injectq import Module, ProviderModule, provider

T = TypeVar("T")


class User:
    pass


class Order:
    pass


class Repository(Generic[T]):
    def __init__(self) -> None:
        self.items: list[T] = []


class UserRepository(Repository[User]):
    pass


UserRepo = TypeAliasType("UserRepo", Repository[User])
OrderRepo = TypeAliasType("OrderRepo", Repository[Order])
UserId = NewType("UserId", str)


class Settings:
    def __init__(self) -> None:
        self.host = "smtp.example"

    def smtp_config(self) -> SmtpConfig:
        return SmtpConfig(self.host)


class SmtpConfig:
    def __init__(self, host: str) -> None:
        self.host = host


class Client:
    def __init__(self, host: str) -> None:
        self.host = host

    @classmethod
    def from_settings(cls, settings: Settings) -> Client:
        return cls(settings.host)


class Clock:
    @staticmethod
    def system() -> Clock:
        return Clock()


class Pool:
    def __init__(self, size: int, users: Repository[User]) -> None:
        self.size = size
        self.users = users


def make_pool(users: Repository[User], size: int = 1) -> Pool:
    return Pool(size, users)


class Cache:
    pass


class RedisCache(Cache):
    pass


class Mode:
    def __init__(self, name: str) -> None:
        self.name = name


PROD = Mode("prod")
SENTINEL = object()


class Thing:
    def __init__(self, *parts: object) -> None:
        self.parts = parts


def make_thing(
    mode: Mode = PROD, limit: float = float("inf"), tag: object = SENTINEL,
    users: Repository[User] | None = None, /,
) -> Thing:
    return Thing(mode, limit, tag, users)


def make_keywords(*, tags: list[str] = [], clock: Clock, mode: Mode = PROD) -> Thing:  # noqa: B006
    return Thing(tags, clock, mode)


class Audit:
    def __init__(
        self, users: UserRepo, orders: OrderRepo, uid: UserId, client: Client,
        smtp: SmtpConfig, pool: Pool, clock: Clock, thing: Thing,
    ) -> None:
        self.deps = (users, orders, uid, client, smtp, pool, clock, thing)


class Stats:
    def __init__(self, audit: Audit) -> None:
        self.audit = audit


class Providers(ProviderModule):
    @provider(scope="singleton")
    def stats(self, audit: Audit) -> Stats:
        return Stats(audit)


class Inner(Module):
    def configure(self) -> None:
        self.install(Providers())


class ShapesModule(Module):
    def configure(self) -> None:
        settings = Settings()
        self.bind(Repository[User], UserRepository).singleton()
        self.bind(UserRepo, UserRepository).singleton()
        self.bind(OrderRepo, Repository).singleton()
        self.bind_instance(UserId, UserId("u-1"))
        self.bind_instance(Settings, settings)
        self.bind_factory(Client, Client.from_settings).singleton()
        self.bind_factory(SmtpConfig, settings.smtp_config).singleton()
        self.bind_factory(Clock, Clock.system).singleton()
        self.bind_factory(Pool, functools.partial(make_pool, size=3)).singleton()
        self.bind(Annotated[Cache, "redis"], RedisCache).singleton()
        self.bind_factory(Thing, make_thing).transient()
        self.bind_factory("keywords", make_keywords).transient()
        self.bind(Audit).singleton()
        self.install(Inner())
"""


@pytest.fixture
def shapes(codegen_env: Path) -> tuple[Any, InjectQ, Any]:
    package = unique_name("shapes")
    make_project(codegen_env, {f"{package}/app.py": SHAPES})
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.ShapesModule())
    runtime.validate()
    wiring = build_wiring([f"{package}.app:ShapesModule"])
    return mod, runtime, wiring.container


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_every_shape_resolves_the_same_in_both(shapes: Any, which: str) -> None:
    """Generic, alias and NewType keys, method, partial and nested-provider factories."""
    mod, runtime, generated = shapes
    c = runtime if which == "runtime" else generated
    users, orders, uid, client, smtp, pool, clock, _ = c.get(mod.Audit).deps
    assert type(users) is mod.UserRepository and type(orders) is mod.Repository
    assert users is c.get(mod.UserRepo) is not c.get(mod.Repository[mod.User])
    assert uid == "u-1" and c.get(mod.UserId) is uid
    assert client.host == smtp.host == "smtp.example"
    assert c.get(mod.Settings) is c.get(mod.Settings)
    assert pool.size == 3 and pool.users is c.get(mod.Repository[mod.User])
    assert type(clock) is mod.Clock
    assert isinstance(c.get(mod.Annotated[mod.Cache, "redis"]), mod.RedisCache)
    stats = c.get(mod.Stats)
    assert stats is c.get(mod.Stats) and stats.audit is c.get(mod.Audit)


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_defaults_are_the_real_default_objects(shapes: Any, which: str) -> None:
    """A default passed before an injected positional-only parameter is the very default
    object (not a copy rebuilt from its repr); keyword-only defaults are left alone."""
    mod, runtime, generated = shapes
    c = runtime if which == "runtime" else generated
    mode, limit, tag, users = c.get(mod.Thing).parts
    assert mode is mod.PROD and limit == float("inf") and tag is mod.SENTINEL
    assert users is c.get(mod.Repository[mod.User])
    tags, clock, kw_mode = c.get("keywords").parts
    assert tags is mod.make_keywords.__kwdefaults__["tags"] and kw_mode is mod.PROD
    assert clock is c.get(mod.Clock)


def test_the_generated_module_imports_or_captures_each_provider(shapes: Any) -> None:
    """Classmethods and staticmethods are imported by name; a bound method and a partial
    come from re-running configure() at import; no user object's repr is written."""
    mod = shapes[0]
    text = generate([f"{mod.__name__}:ShapesModule"])[0]
    assert "Client.from_settings" in text and "Clock.system" in text
    assert "_iq_provided[SmtpConfig]" in text and "_iq_provided[Pool]" in text
    assert "_iq_default(make_thing, 0)" in text and "_iq_default(make_thing, 2)" in text
    assert "object at 0x" not in text and "Mode(" not in text


LOCAL = """\
from injectq import Module


class Thing:
    pass


class LambdaModule(Module):
    def configure(self) -> None:
        self.bind_factory(Thing, lambda: Thing())


class LocalModule(Module):
    def configure(self) -> None:
        class Local(Thing):
            pass

        self.bind(Thing, Local)
"""


@pytest.mark.parametrize(
    ("module", "says"),
    [
        ("LambdaModule", "it is a lambda, which cannot be imported; define a module-level"),
        ("LocalModule", "is defined inside the function LocalModule.configure(), so it cannot"),
    ],
)
def test_only_lambdas_and_local_definitions_are_refused(
    codegen_env: Path, module: str, says: str
) -> None:
    """IQ007 names exactly what cannot be imported and how to fix it."""
    package = unique_name("local")
    make_project(codegen_env, {f"{package}/app.py": LOCAL})
    with pytest.raises(GraphProblems) as info:
        generate([f"{package}.app:{module}"])
    (problem,) = info.value.problems
    assert problem.code == "IQ007" and says in problem.message


PEP695 = """\
from injectq import Module


class User:
    pass


class EventLog[T]:
    def __init__(self) -> None:
        self.events: list[T] = []


type UserLog = EventLog[User]


class Tracker:
    def __init__(self, log: UserLog, logs: EventLog[User]) -> None:
        self.log = log
        self.logs = logs


class LogModule(Module):
    def configure(self) -> None:
        self.bind(UserLog, EventLog).singleton()
        self.bind(EventLog[User], EventLog).singleton()
        self.bind(Tracker)
"""


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 syntax needs Python 3.12")
def test_pep_695_generic_classes_and_type_aliases(codegen_env: Path) -> None:
    """``class EventLog[T]`` and ``type UserLog = EventLog[User]`` as keys, both containers."""
    package = unique_name("pep695")
    make_project(codegen_env, {f"{package}/app.py": PEP695})
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.LogModule())
    generated = build_wiring([f"{package}.app:LogModule"]).container
    for c in (runtime, generated):
        tracker = c.get(mod.Tracker)
        assert tracker.log is c.get(mod.UserLog) and tracker.logs is c.get(mod.EventLog[mod.User])


RECORDED = """\
from injectq import Module


class Settings:
    def __init__(self, env: str) -> None:
        self.env = env


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class RecordedModule(Module):
    def configure(self, binder) -> None:
        binder.container[Settings] = Settings("prod")
        assert binder.container.has(Settings)
        builder = binder.bind(Service, Service)
        assert builder.binding.key is Service
        builder.singleton()
"""


def test_configure_using_the_whole_registration_api_builds_and_imports(
    codegen_env: Path,
) -> None:
    """``binder.container[k] = v``, ``has()`` and ``.binding`` work when the generated
    module re-runs configure() at import: it runs the same registration code."""
    package = unique_name("recorded")
    make_project(codegen_env, {f"{package}/app.py": RECORDED})
    mod = __import__(f"{package}.app", fromlist=["app"])
    generated = build_wiring([f"{package}.app:RecordedModule"]).container
    assert generated.get(mod.Service).settings.env == "prod"
    assert generated.get(mod.Service) is generated.get(mod.Service)


def test_the_recorder_is_the_registration_api() -> None:
    """Every public registration method of the runtime container is the Registrar's, so
    the recorder a generated module uses at import has all of them."""
    from injectq.model.registrar import Recorder, Registrar

    registration = {
        name for name in vars(Registrar) if not name.startswith("_") or name in (
            "__setitem__", "__delitem__")
    }
    assert {"bind", "bind_instance", "bind_factory", "declare_scope", "install", "has",
            "__setitem__", "__delitem__", "registry"} <= registration
    for name in registration:
        assert getattr(InjectQ, name) is getattr(Registrar, name), name
        assert getattr(Recorder, name) is getattr(Registrar, name), name


SIGNATURES = """\
from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from injectq import Module

if TYPE_CHECKING:
    from {package}.caching import Cache


class Repo:
    pass


class Model:
    # what pydantic does: __init__ takes **data, __signature__ says the fields
    def __init__(self, **data: object) -> None:
        self.data = data


Model.__signature__ = inspect.Signature([
    inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, annotation=str),
    inspect.Parameter("repo", inspect.Parameter.KEYWORD_ONLY, annotation=Repo),
])


class Service:
    def __init__(self, cache: Cache | None = None) -> None:
        self.cache = cache


class ModelModule(Module):
    def configure(self) -> None:
        self.bind(Model)


class CachedModule(Module):
    def configure(self) -> None:
        from {package}.caching import Cache

        self.bind(Cache).singleton()
        self.bind(Service)


class UncachedModule(Module):
    def configure(self) -> None:
        self.bind(Service)
"""


def test_a_class_signature_with_required_fields_is_checked_before_get(codegen_env: Path) -> None:
    """A class whose ``__signature__`` (pydantic models) has a required field nothing can
    supply is reported by validate() and refused by injectq-gen, with the same problem."""
    package = unique_name("sig")
    make_project(codegen_env, {
        f"{package}/app.py": SIGNATURES.replace("{package}", package),
        f"{package}/caching.py": "class Cache:\n    pass\n",
    })
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.ModelModule())
    problems = [p for p in runtime.check() if p.severity == "error"]
    assert [(p.code, p.key) for p in problems] == [("IQ001", "str")]
    assert "Model(name)" in problems[0].render()
    with pytest.raises(GraphProblems) as info:
        generate([f"{package}.app:ModelModule"])
    assert [p.render() for p in info.value.problems] == [p.render() for p in problems]


@pytest.mark.parametrize("module", ["CachedModule", "UncachedModule"])
def test_type_checking_only_optional_parameter_resolves_the_same(
    codegen_env: Path, module: str
) -> None:
    """``cache: Cache | None = None`` with Cache imported only under TYPE_CHECKING: both
    containers inject the bound Cache, or both pass the default."""
    package = unique_name("tc")
    make_project(codegen_env, {
        f"{package}/app.py": SIGNATURES.replace("{package}", package),
        f"{package}/caching.py": "class Cache:\n    pass\n",
    })
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(getattr(mod, module)())
    assert runtime.check() == []
    generated = build_wiring([f"{package}.app:{module}"]).container
    for c in (runtime, generated):
        cache = c.get(mod.Service).cache
        if module == "CachedModule":
            assert type(cache).__name__ == "Cache"
        else:
            assert cache is None


FORGED = """\
from injectq import Module


class Thing:
    def __init__(self, value: object) -> None:
        self.value = value


def make(*, name: Thing) -> Thing:
    return Thing(name)


# a keyword-only parameter whose name is code, as a forged code object can hold
make.__code__ = make.__code__.replace(
    co_varnames=("name=None); __import__('os')._exit(9); (x",)
)


class ForgedModule(Module):
    def configure(self) -> None:
        self.bind(Thing, Thing(1))
        self.bind_factory("made", make)
"""


def test_a_parameter_name_that_is_not_an_identifier_is_refused_by_both(
    codegen_env: Path,
) -> None:
    """Parameter names are checked to be identifiers: IQ006 in both, nothing runs."""
    package = unique_name("forged")
    make_project(codegen_env, {f"{package}/app.py": FORGED})
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.ForgedModule())
    (problem,) = [p for p in runtime.check() if p.severity == "error"]
    assert problem.code == "IQ006" and "is not an identifier" in problem.message
    with pytest.raises(GraphProblems) as info:
        generate([f"{package}.app:ForgedModule"])
    assert [p.code for p in info.value.problems] == ["IQ006"]


WRONG = """\
from injectq import Module


class Mailer:
    pass


class MemoryCache:
    pass


class WrongModule(Module):
    def configure(self) -> None:
        self.bind(Mailer, MemoryCache)
"""


def test_wrong_implementation_is_the_same_problem_in_both(codegen_env: Path) -> None:
    """IQ010 from validate() and from injectq-gen, rendered alike."""
    package = unique_name("wrong")
    make_project(codegen_env, {f"{package}/app.py": WRONG})
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.WrongModule())
    problems = [p for p in runtime.check() if p.severity == "error"]
    assert [p.code for p in problems] == ["IQ010"]
    with pytest.raises(GraphProblems) as info:
        generate([f"{package}.app:WrongModule"])
    assert [p.render() for p in info.value.problems] == [p.render() for p in problems]


HELD = """\
from collections.abc import Iterator

from injectq import Module


class Connection:
    pass


def connect() -> Iterator[Connection]:
    yield Connection()


class Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Service:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo


class HeldModule(Module):
    def configure(self) -> None:
        self.bind_factory(Connection, connect).transient()
        self.bind(Repo, Repo).transient()
        self.bind(Service, Service).singleton()
"""


def test_a_transient_resource_held_by_a_singleton_is_captive_in_both(codegen_env: Path) -> None:
    """A singleton that reaches a transient generator resource (through a transient) would
    keep it after the scope that owns it finalized it: IQ003, from validate() and from
    injectq-gen alike, with the whole chain."""
    package = unique_name("held")
    make_project(codegen_env, {f"{package}/app.py": HELD})
    mod = __import__(f"{package}.app", fromlist=["app"])
    runtime = InjectQ()
    runtime.install(mod.HeldModule())
    problems = [p for p in runtime.check() if p.severity == "error"]
    assert [p.code for p in problems] == ["IQ003"]
    assert problems[0].message.startswith(
        "singleton Service holds transient resource Connection, which is finalized"
    )
    assert [link.label for link in problems[0].chain] == ["Service", "Repo", "Connection"]
    assert problems[0].help == (
        "give Connection the lifetime of what holds it (.singleton()), or make Service "
        "transient"
    )
    with pytest.raises(GraphProblems) as info:
        generate([f"{package}.app:HeldModule"])
    assert [p.render() for p in info.value.problems] == [p.render() for p in problems]
