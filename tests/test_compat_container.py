"""InjectQ 0.5.0's container API, in both containers (the runtime ``InjectQ`` and a
generated ``Container``), from its documented behaviour: parameterized factories
(``get_factory``, ``call_factory``, ``aget_factory``, ``acall_factory``), the ``factories``
mapping, ``clear_scope`` / ``clear_all_scopes``, ``allow_concrete``, and the
``use_async_scopes`` / ``thread_safe`` flags.

Each test that applies to both containers takes the ``c`` fixture, once per back end; both
are made from ``AppModule`` below (the generated one by running injectq-gen on it).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pytest

from injectq import (
    AsyncResolutionError,
    BindingError,
    DependencyNotFoundError,
    FactoryCallError,
    InjectionError,
    InjectQ,
    InjectQError,
    ScopeError,
    ScopeType,
)
from injectq.model.registry import AlreadyRegisteredError
from tests.codegen_support import build_wiring, make_project

APP = """\
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from injectq import Module

EVENTS: list[str] = []


class Pool:
    def __init__(self, db_name: str, max_conn: int) -> None:
        self.db_name = db_name
        self.max_conn = max_conn


def make_pool(db_name: str = "main", max_conn: int = 10) -> Pool:
    return Pool(db_name, max_conn)


async def amake_pool(db_name: str = "main") -> Pool:
    return Pool(db_name, 1)


class Session:
    def __init__(self, name: str) -> None:
        self.name = name


def open_session(name: str = "default") -> Iterator[Session]:
    EVENTS.append(f"open {name}")
    yield Session(name)
    EVENTS.append(f"close {name}")


async def aopen_session(name: str = "adefault") -> AsyncIterator[Session]:
    EVENTS.append(f"open {name}")
    yield Session(name)
    EVENTS.append(f"close {name}")


def lookup(key: str) -> str:
    return key.upper()


def broken(n: int = 1) -> int:
    return len(n)  # type: ignore[arg-type]


class Connection:
    pass


def connect() -> Iterator[Connection]:
    EVENTS.append("open connection")
    yield Connection()
    EVENTS.append("close connection")


class RequestState:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection


def request_state(connection: Connection) -> Iterator[RequestState]:
    EVENTS.append("open request")
    yield RequestState(connection)
    EVENTS.append("close request")


class ActionState:
    def __init__(self, request: RequestState) -> None:
        self.request = request


def action_state(request: RequestState) -> Iterator[ActionState]:
    EVENTS.append("open action")
    yield ActionState(request)
    EVENTS.append("close action")


class Stream:
    pass


async def open_stream() -> AsyncIterator[Stream]:
    EVENTS.append("open stream")
    yield Stream()
    EVENTS.append("close stream")


class Animal:
    pass


class Dog(Animal):
    pass


class Cat(Animal):
    pass


DOG = Dog()
CAT = Cat()


class AppModule(Module):
    def configure(self) -> None:
        self.bind("max_conn", 99)  # get(Pool) injects it by name; call_factory does not
        self.bind_factory(Pool, make_pool)
        self.bind_factory("apool", amake_pool)
        self.bind_factory(Session, open_session)
        self.bind_factory("asession", aopen_session)
        self.bind("lookup", lookup)  # only its callers pass `key`: bound as a value
        self.bind_factory("broken", broken)
        self.bind("title", "report")
        self.bind_factory(Connection, connect).singleton()
        self.bind_factory(RequestState, request_state).scoped("request")
        self.bind_factory(ActionState, action_state).scoped("action")
        self.bind_factory(Stream, open_stream).scoped("request")
        self.bind_instance(Animal, DOG)  # allow_concrete: Dog too
        self.bind_instance("cat", CAT, allow_concrete=False)
        self.bind_instance("port", 5432)
"""

TARGET = "compat_app.app:AppModule"


def _line(text: str) -> int:
    """The line of APP holding ``text``: a binding's site."""
    return next(i for i, line in enumerate(APP.splitlines(), 1) if text in line)


def _site(text: str) -> str:
    return "compat_app/app.py:" + str(_line(text))


SITE_LOOKUP = _site('self.bind("lookup"')


@pytest.fixture
def app(codegen_env: Path) -> ModuleType:
    make_project(codegen_env, {"compat_app/app.py": APP})
    import compat_app.app as app

    app.EVENTS.clear()
    return app


@pytest.fixture(params=["runtime", "generated"])
def c(request: pytest.FixtureRequest, app: ModuleType) -> Any:
    """A container of AppModule: the runtime one, or the generated one."""
    if request.param == "runtime":
        return InjectQ([app.AppModule()])
    return build_wiring([TARGET]).Container()


@pytest.fixture
def gen(app: ModuleType) -> Any:
    """The generated container of AppModule."""
    return build_wiring([TARGET]).Container()


# -- parameterized factories ----------------------------------------------------------


def test_get_factory_is_the_function_bound(c: Any, app: ModuleType) -> None:
    """get_factory() gives the factory itself, not called; calling it is a plain call."""
    factory = c.get_factory(app.Pool)
    assert factory is app.make_pool
    pool = factory("users", max_conn=20)
    assert (pool.db_name, pool.max_conn) == ("users", 20)


def test_call_factory_passes_positional_and_keyword_arguments(c: Any, app: ModuleType) -> None:
    """call_factory(key, *args, **kwargs) calls the factory with exactly those arguments."""
    pool = c.call_factory(app.Pool, "orders", max_conn=15)
    assert (pool.db_name, pool.max_conn) == ("orders", 15)
    assert c.call_factory(app.Pool, "logs", 3).max_conn == 3


def test_call_factory_injects_nothing(c: Any, app: ModuleType) -> None:
    """Parameters the caller leaves out keep their defaults: "max_conn" is bound (get()
    injects it by name), call_factory() does not pass it."""
    assert c.get(app.Pool).max_conn == 99
    assert c.call_factory(app.Pool).max_conn == 10
    assert c.call_factory(app.Pool) is not c.call_factory(app.Pool)  # always a new one


def test_a_function_bound_as_a_value_is_a_factory(c: Any, app: ModuleType) -> None:
    """bind(key, fn) binds the function itself (get() returns it), and get_factory() /
    call_factory() call it: how a function only its callers can fill is bound."""
    assert c.get("lookup") is app.lookup
    assert c.get_factory("lookup") is app.lookup
    assert c.call_factory("lookup", "user:1") == "USER:1"


def test_missing_caller_argument_names_factory_parameter_and_site(c: Any) -> None:
    """An argument the caller does not pass is a FactoryCallError (also a TypeError) that
    names the key, the function, the parameter and where it was bound."""
    with pytest.raises(FactoryCallError) as info:
        c.call_factory("lookup")
    err = info.value
    assert isinstance(err, TypeError)
    assert isinstance(err, InjectionError)
    assert (err.key, err.parameter, err.site) == ("lookup", "key", SITE_LOOKUP)
    assert str(err) == (
        f"call_factory('lookup'): cannot call lookup, bound at {SITE_LOOKUP}: missing "
        "argument 'key'; call_factory() passes only your arguments (invoke('lookup', "
        "...) injects what you do not pass)"
    )


def test_unknown_or_extra_caller_arguments(c: Any, app: ModuleType) -> None:
    """A keyword the factory does not take, or too many positional arguments, is a
    FactoryCallError too; a function from get_factory() raises what Python raises."""
    with pytest.raises(FactoryCallError, match="it takes no parameter 'size'") as info:
        c.call_factory(app.Pool, "x", size=3)
    assert info.value.parameter == "size"
    with pytest.raises(FactoryCallError, match="too many positional arguments") as info:
        c.call_factory("lookup", "a", "b")
    assert info.value.parameter is None
    with pytest.raises(TypeError):
        c.get_factory("lookup")()


def test_type_error_inside_the_factory_is_not_rewrapped(c: Any) -> None:
    """A TypeError the factory itself raises reaches the caller unchanged."""
    with pytest.raises(TypeError) as info:
        c.call_factory("broken")
    assert not isinstance(info.value, InjectQError)


def test_get_factory_of_an_unbound_key(c: Any) -> None:
    """A key nothing binds is a DependencyNotFoundError (IQ001) naming the call."""
    with pytest.raises(DependencyNotFoundError) as info:
        c.get_factory("nothing")
    assert info.value.dependency_type == "nothing"
    text = str(info.value)
    if isinstance(c, InjectQ):
        assert text == (
            "error[IQ001 missing-binding]: get_factory('nothing'): nothing is bound to "
            "'nothing'\n  help: bind a factory first: container.bind_factory('nothing', fn)"
        )
    else:
        assert text.startswith(
            "error[IQ001 missing-binding]: get_factory('nothing'): 'nothing' is not part of "
            "the generated wiring (built from compat_app.app:AppModule)"
        )
    with pytest.raises(DependencyNotFoundError, match=r"call_factory\('nothing'\)"):
        c.call_factory("nothing", 1)


def test_get_factory_of_a_value(c: Any) -> None:
    """A key bound to a value that cannot be called has no factory: the error says what
    it is bound to, where, and what to do."""
    site = _site('self.bind("title"')
    with pytest.raises(DependencyNotFoundError) as info:
        c.get_factory("title")
    assert str(info.value) == (
        f"{site}: error[IQ001 missing-binding]: get_factory('title'): 'title' is bound to a "
        "value (an instance of str), not to a factory\n"
        "  help: get the value with get('title'); to call a function with your arguments, "
        "bind it with bind_factory('title', fn)"
    )


def test_call_factory_refuses_an_async_factory(c: Any) -> None:
    """A sync call of an async factory is an AsyncResolutionError naming acall_factory
    (no coroutine is left unawaited)."""
    with pytest.raises(AsyncResolutionError, match=r"await container.acall_factory\('apool'"):
        c.call_factory("apool", "x")


async def test_acall_factory_awaits_an_async_factory(c: Any, app: ModuleType) -> None:
    """acall_factory() awaits an async factory and calls a sync one as it is."""
    pool = await c.acall_factory("apool", "events")
    assert (pool.db_name, pool.max_conn) == ("events", 1)
    assert (await c.acall_factory(app.Pool, max_conn=2)).max_conn == 2
    assert await c.acall_factory("lookup", "k") == "K"


async def test_aget_factory_gives_the_raw_function(c: Any, app: ModuleType) -> None:
    """aget_factory() gives the factory as bound: an async one is awaited by its caller,
    a sync one is called directly."""
    factory = await c.aget_factory("apool")
    assert factory is app.amake_pool
    assert (await factory("x")).db_name == "x"
    assert (await c.aget_factory("lookup"))("a") == "A"


def test_generator_factory_resource_closes_with_its_scope(c: Any, app: ModuleType) -> None:
    """A generator factory gives what it yields; its cleanup runs when the innermost open
    scope closes (outside any scope: when the container closes), as a transient resource's
    does, so calling it never leaks the resource."""
    with c.scope("request"):
        session = c.call_factory(app.Session, "s1")
        assert session.name == "s1"
        made = c.get_factory(app.Session)("s2")
        assert made.name == "s2"
        assert app.EVENTS == ["open s1", "open s2"]
    assert app.EVENTS == ["open s1", "open s2", "close s2", "close s1"]
    c.call_factory(app.Session)
    assert app.EVENTS[-1] == "open default"
    c.close()
    assert app.EVENTS[-1] == "close default"


async def test_async_generator_factory_resource(c: Any, app: ModuleType) -> None:
    """acall_factory() enters an async generator's resource and the async scope finalizes
    it; the sync call refuses it."""
    with pytest.raises(AsyncResolutionError, match="async generator"):
        c.call_factory("asession", "x")
    async with c.scope("request"):
        session = await c.acall_factory("asession", "a1")
        assert session.name == "a1"
        factory = await c.aget_factory("asession")
        assert (await factory("a2")).name == "a2"
    assert app.EVENTS == ["open a1", "open a2", "close a2", "close a1"]


def test_call_factory_key_is_positional_only(c: Any) -> None:
    """The key is positional-only, so a factory may take a keyword named service_type."""
    with pytest.raises(FactoryCallError, match="it takes no parameter 'service_type'"):
        c.call_factory("lookup", service_type="x")


class Db:
    pass


class Cache(Protocol):
    def get(self) -> str: ...


def make_service(db: Db, cache: Cache, user_id: str) -> str:
    return user_id


def _this_line() -> int:
    """The caller's line number."""
    frame = sys._getframe(1)
    return frame.f_lineno


def test_invoke_names_the_parameter_it_cannot_inject() -> None:
    """invoke() (0.5.0's hybrid: the caller's arguments, the rest injected) says which
    parameter of which function nothing satisfies, and where the factory was bound."""
    c = InjectQ()
    c.bind_factory("service", make_service)
    site = f"tests/{Path(__file__).name}:{_this_line() - 1}"
    assert c.invoke("service", cache=object(), user_id="u1") == "u1"
    with pytest.raises(DependencyNotFoundError) as info:
        c.invoke("service", user_id="u1")
    assert str(info.value).endswith(
        f"{site}: error[IQ001 missing-binding]: invoke('service'): nothing satisfies "
        "parameter 'cache' (Cache) of make_service()\n"
        "  help: pass it: invoke('service', cache=...), or bind it"
    )
    assert info.value.dependency_type is Cache


# -- the factories mapping ------------------------------------------------------------


def test_factories_maps_keys_to_their_factories(c: Any, app: ModuleType) -> None:
    """factories[key] is the class or function bound; values are not factories."""
    assert c.factories[app.Pool] is app.make_pool
    assert c.factories["apool"] is app.amake_pool
    assert c.factories[app.Session] is app.open_session
    assert app.Pool in c.factories
    assert "lookup" not in c.factories  # a value, even a callable one
    assert "nothing" not in c.factories
    with pytest.raises(KeyError):
        c.factories["title"]
    assert c.factories.get("nothing") is None
    keys = list(c.factories)
    assert keys == [
        app.Pool, "apool", app.Session, "asession", "broken", app.Connection,
        app.RequestState, app.ActionState, app.Stream,
    ]
    assert len(c.factories) == len(keys)


def test_factories_assignment_binds_a_factory() -> None:
    """factories[key] = fn is bind_factory(key, fn): get() calls it with injection, a
    second assignment replaces it, del removes it (runtime container)."""
    c = InjectQ()
    c.bind("name", "world")

    def greet(name: str) -> str:
        return f"hello {name}"

    c.factories["greeting"] = greet
    assert c.get("greeting") == "hello world"
    assert c.factories["greeting"] is greet
    assert c.get_factory("greeting") is greet
    c.factories["greeting"] = lambda: "hi"
    assert c.get("greeting") == "hi"
    assert c.validate() == []  # replaced, as a dict assignment does: no IQ004
    del c.factories["greeting"]
    assert "greeting" not in c.factories
    assert not c.has("greeting")
    with pytest.raises(KeyError):
        del c.factories["greeting"]
    with pytest.raises(KeyError):
        del c.factories["name"]  # a value, not a factory: still bound
    assert c.get("name") == "world"


def test_factories_assignment_respects_allow_override() -> None:
    """On a container made with allow_override=False, assigning a bound key again raises."""
    c = InjectQ(allow_override=False)
    c.factories["x"] = lambda: 1
    with pytest.raises(AlreadyRegisteredError):
        c.factories["x"] = lambda: 2


def test_generated_factories_are_read_only(gen: Any, app: ModuleType) -> None:
    """A generated container's bindings are fixed when it is built: assigning or deleting
    a factory says so and what to do."""
    with pytest.raises(BindingError, match="bindings were fixed when `injectq-gen build`"):
        gen.factories["x"] = app.lookup
    with pytest.raises(BindingError, match="bind Pool in a Module and build again"):
        del gen.factories[app.Pool]
    assert gen.factories[app.Pool] is app.make_pool


# -- clear_scope / clear_all_scopes ---------------------------------------------------


def test_clear_scope_finalizes_and_drops_the_open_scope(c: Any, app: ModuleType) -> None:
    """Inside a block, clear_scope() finalizes the scope's resources now and drops its
    instances; the scope stays open and the next get() creates a new one; leaving the
    block later does not finalize the cleared one twice."""
    with c.scope("request"):
        first = c.get(app.RequestState)
        c.clear_scope("request")
        assert app.EVENTS == ["open connection", "open request", "close request"]
        second = c.get(app.RequestState)
        assert second is not first
        assert c.get(app.RequestState) is second
        assert second.connection is first.connection  # singletons are not the scope's
    assert app.EVENTS == [
        "open connection", "open request", "close request", "open request", "close request",
    ]


def test_clear_scope_clears_the_scopes_open_inside_it(c: Any, app: ModuleType) -> None:
    """Clearing "request" clears an "action" scope open inside it too (its instances may
    hold the request's), innermost first."""
    with c.scope("request"), c.scope("action"):
        action = c.get(app.ActionState)
        c.clear_scope(ScopeType.REQUEST)
        assert app.EVENTS[-2:] == ["close action", "close request"]
        assert c.get(app.ActionState) is not action


def test_clear_scope_of_an_inner_scope_keeps_the_outer(c: Any, app: ModuleType) -> None:
    """Clearing "action" leaves the request scope that holds it alone."""
    with c.scope("request"):
        request = c.get(app.RequestState)
        with c.scope("action"):
            c.get(app.ActionState)
            c.clear_scope("action")
            assert app.EVENTS[-1] == "close action"
            assert c.get(app.RequestState) is request


def test_clear_scope_with_nothing_open_does_nothing(c: Any, app: ModuleType) -> None:
    """Outside its block a scope holds nothing (instances are dropped when a block ends,
    where 0.5.0 kept them), and "transient" never holds anything."""
    c.get(app.Connection)
    c.clear_scope("request")
    c.clear_scope("transient")
    c.clear_scope(ScopeType.ACTION)
    assert app.EVENTS == ["open connection"]


def test_clear_scope_of_an_unknown_name(c: Any) -> None:
    """A scope name nothing declares is a ScopeError saying how to declare it."""
    with pytest.raises(ScopeError, match=r"clear_scope\('tenant'\): unknown scope 'tenant'"):
        c.clear_scope("tenant")


def test_clear_scope_singleton_and_clear_all(c: Any, app: ModuleType) -> None:
    """clear_scope("singleton") and clear_all_scopes() finalize the open scopes and the
    container's singletons; the container stays usable and creates new ones."""
    first = c.get(app.Connection)
    c.clear_scope("singleton")
    assert app.EVENTS == ["open connection", "close connection"]
    second = c.get(app.Connection)
    assert second is not first
    with c.scope("request"):
        c.get(app.RequestState)
        c.clear_all_scopes()
        assert app.EVENTS[-2:] == ["close request", "close connection"]
        third = c.get(app.RequestState)
        assert third.connection is not second
    assert c.get(app.Connection) is third.connection


def test_clear_scope_refuses_to_drop_async_resources(c: Any, app: ModuleType) -> None:
    """A sync clear that would drop a resource only an await can finalize raises a
    ScopeError and drops nothing; aclear_scope() finalizes it."""

    async def main() -> None:
        async with c.scope("request"):
            stream = await c.aget(app.Stream)
            with pytest.raises(ScopeError, match="nothing was cleared: use `await container"):
                c.clear_scope("request")
            with pytest.raises(ScopeError, match="aclear_all_scopes"):
                c.clear_all_scopes()
            assert await c.aget(app.Stream) is stream
            await c.aclear_scope("request")
            assert app.EVENTS == ["open stream", "close stream"]
            assert await c.aget(app.Stream) is not stream
        assert app.EVENTS[-1] == "close stream"
        assert app.EVENTS.count("close stream") == 2

    asyncio.run(main())


async def test_aclear_all_scopes(c: Any, app: ModuleType) -> None:
    """aclear_all_scopes() finalizes async and sync resources of every owner."""
    async with c.scope("request"):
        await c.aget(app.Stream)
        await c.aget(app.RequestState)
        await c.aclear_all_scopes()
        assert sorted(app.EVENTS[-3:]) == ["close connection", "close request", "close stream"]


def test_clear_scope_leaves_other_threads_scopes(c: Any, app: ModuleType) -> None:
    """A scope another thread opened is that thread's: clearing here does not touch it."""
    opened, cleared = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with c.scope("request"):
            state = c.get(app.RequestState)
            opened.set()
            cleared.wait(5)
            seen.append(c.get(app.RequestState) is state)

    thread = threading.Thread(target=other)
    thread.start()
    assert opened.wait(5)
    with c.scope("request"):
        c.get(app.RequestState)
        c.clear_scope("request")
    cleared.set()
    thread.join(5)
    assert seen == [True]


def test_clear_scope_from_a_thread_running_in_the_scope(c: Any, app: ModuleType) -> None:
    """A thread that runs in a copy of the request's context clears that very scope (as
    its creations share it): the opener sees the instance dropped and makes one new one."""
    with c.scope("request"):
        first = c.get(app.RequestState)
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(c.clear_scope, "request"))
        thread.start()
        thread.join(5)
        assert app.EVENTS[-1] == "close request"
        second = c.get(app.RequestState)
        assert second is not first and c.get(app.RequestState) is second
    assert app.EVENTS.count("open request") == 2 == app.EVENTS.count("close request")


def test_clear_scope_reports_every_failing_finalizer() -> None:
    """Finalizers that raise do not stop the others: every owner is finalized, then what
    failed is raised."""
    c = InjectQ()
    events: list[str] = []

    def failing(label: str) -> Callable[[], Iterator[str]]:
        def gen() -> Iterator[str]:
            yield label
            events.append(f"close {label}")
            raise RuntimeError(label)

        return gen

    c.bind_factory("app", failing("app")).singleton()
    c.bind_factory("req", failing("req")).scoped("request")
    with c.scope("request"):
        c.get("app")
        c.get("req")
        with pytest.raises(InjectQError) as info:
            c.clear_all_scopes()
    assert events == ["close req", "close app"]
    assert "2 owners failed" in str(info.value)


# -- allow_concrete -------------------------------------------------------------------


def test_an_instance_is_bound_under_its_class_too(c: Any, app: ModuleType) -> None:
    """bind_instance(Animal, dog) makes get(Dog) that same dog (0.5.0's allow_concrete,
    on by default)."""
    assert c.get(app.Animal) is app.DOG
    assert c.get(app.Dog) is app.DOG
    assert c.has(app.Dog)


def test_allow_concrete_false_binds_the_key_alone(c: Any, app: ModuleType) -> None:
    """With allow_concrete=False only the given key is bound."""
    assert c.get("cat") is app.CAT
    assert not c.has(app.Cat)


def test_a_builtin_value_does_not_bind_its_type(c: Any) -> None:
    """Binding "port" to 5432 does not bind int: a key of a builtin type would be injected
    into every parameter of that type."""
    assert c.get("port") == 5432
    assert not c.has(int)
    assert not c.has(str)


def test_allow_concrete_on_every_registration() -> None:
    """bind(), bind_instance() and container[key] = value all bind the instance's class;
    a class implementation, a function, a named or Annotated key, a container and an
    instance of the key's own class bind nothing more."""

    class Base:
        pass

    class Impl(Base):
        pass

    c = InjectQ()
    a, b, d = Impl(), Impl(), Impl()
    c.bind(Base, a)
    assert c.get(Impl) is a
    c.bind_instance(Base, b)
    assert c.get(Impl) is b  # the later instance: as in 0.5.0
    c["base"] = d
    assert c.get(Impl) is d
    other = InjectQ()
    c.bind_instance("other", other)
    assert c.get(InjectQ) is c  # a parameter annotated InjectQ still gets its container
    c2 = InjectQ()
    c2.bind(Base, Impl)
    c2.bind_instance(Base, Impl(), name="named")
    c2.bind("fn", print)
    assert not c2.has(Impl)


def test_a_binding_of_the_class_itself_wins_in_either_order() -> None:
    """An explicit binding of the concrete class is never displaced by the implied one,
    bound before or after, and the implied one is no duplicate (no IQ004)."""

    class Base:
        pass

    class Impl(Base):
        pass

    explicit = Impl()
    before = InjectQ(allow_override=False)
    before.bind_instance(Impl, explicit)
    before.bind_instance(Base, Impl())
    assert before.get(Impl) is explicit
    after = InjectQ(allow_override=False)
    after.bind_instance(Base, Impl())
    after.bind_instance(Impl, explicit)  # replaces the implied binding: no error
    assert after.get(Impl) is explicit
    assert before.validate() == [] and after.validate() == []


def test_implied_bindings_are_not_reported_unused() -> None:
    """With roots given, a class bound only because an instance was is not IQ008."""

    class Base:
        pass

    class Impl(Base):
        pass

    c = InjectQ()
    c.bind_instance(Base, Impl())
    assert c.check([Base]) == []


def test_a_local_class_implied_is_left_out_of_the_wiring(codegen_env: Path) -> None:
    """An instance of a class generated code cannot import still builds: its implied
    binding is left out of the wiring (its key is not)."""
    make_project(codegen_env, {"local_app/app.py": """\
        from injectq import Module


        class Base:
            pass


        def make() -> Base:
            class Local(Base):
                pass

            return Local()


        class LocalModule(Module):
            def configure(self) -> None:
                self.bind_instance(Base, make())
        """})
    wiring = build_wiring(["local_app.app:LocalModule"])
    import local_app.app as app

    container = wiring.Container()
    assert isinstance(container.get(app.Base), app.Base)
    assert container.keys() == [app.Base]


# -- use_async_scopes / thread_safe ---------------------------------------------------


def test_flags_are_accepted_and_change_nothing() -> None:
    """use_async_scopes=False and thread_safe=False are kept for 0.5.0 code, but the
    container stays what it always is: scopes work in async code and one singleton is made
    under contention."""
    c = InjectQ(use_async_scopes=False, thread_safe=False)
    assert (c.use_async_scopes, c.thread_safe) == (False, False)
    assert repr(c) == "InjectQ(services=0, thread_safe=False)"
    made: list[int] = []

    class Slow:
        def __init__(self) -> None:
            made.append(1)

    def slow() -> Slow:
        time.sleep(0.05)  # the other threads ask while it is being made
        return Slow()

    c.bind_factory(Slow, slow).singleton()
    c.bind_factory("ctx", lambda: object()).scoped("request")
    results: list[Slow] = []

    def worker() -> None:
        results.append(c.get(Slow))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1 and len({id(r) for r in results}) == 1

    async def in_task() -> object:
        async with c.scope("request"):
            return c.get("ctx")

    async def main() -> list[object]:
        return list(await asyncio.gather(in_task(), in_task()))

    a, b = asyncio.run(main())
    assert a is not b
