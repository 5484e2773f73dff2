"""``@inject`` (``injectq.runtime.inject``): functions, async functions, methods, ``__init__`` and
classes receive what the caller leaves out, from ``container=``, the current context
container, or the global one.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
from collections.abc import Iterator
from typing import Annotated

import pytest

from injectq import (
    AsyncResolutionError,
    ContainerContext,
    Inject,
    InjectionError,
    InjectQ,
    InjectQError,
    Lazy,
    Named,
    inject,
)


class Database:
    def __init__(self) -> None:
        self.url = "sqlite://"


class Repo:
    def __init__(self, db: Database) -> None:
        self.db = db


class Mailer:
    """Abstract-ish: a plain base the tests bind explicitly."""

    def send(self) -> str:
        raise NotImplementedError


class SmtpMailer(Mailer):
    def send(self) -> str:
        return "smtp"


class FakeMailer(Mailer):
    def send(self) -> str:
        return "fake"


class Unbindable:
    """Needs a str with no default: never auto-wirable without a 'token' key."""

    def __init__(self, token: str) -> None:
        self.token = token


class Port(abc.ABC):
    @abc.abstractmethod
    def run(self) -> None: ...


class _PortImpl(Port):
    def run(self) -> None:
        pass


class Boom:
    def __init__(self) -> None:
        raise ValueError("boom")


class Req:
    pass


@pytest.fixture
def c() -> InjectQ:
    container = InjectQ()
    container.bind(Database)
    container.bind(Mailer, SmtpMailer)
    return container


@pytest.fixture(autouse=True)
def isolated_global() -> Iterator[None]:
    """Each test starts with no context container and restores the global one after."""
    saved = InjectQ._instance
    current = ContainerContext.get_current()
    ContainerContext.clear_current()
    try:
        yield
    finally:
        InjectQ._instance = saved
        ContainerContext.set_current(current)


# -- functions ------------------------------------------------------------------------------


def test_function_receives_dependencies(c: InjectQ) -> None:
    """A decorated function called without arguments gets them from the container."""

    @inject(container=c)
    def handler(db: Database, mailer: Mailer) -> tuple[Database, Mailer]:
        return db, mailer

    db, mailer = handler()
    assert db is c.get(Database)
    assert isinstance(mailer, SmtpMailer)


def test_explicit_args_win(c: InjectQ) -> None:
    """Arguments the caller passes (positional or keyword) are used as given."""

    @inject(container=c)
    def handler(db: Database, mailer: Mailer) -> tuple[Database, Mailer]:
        return db, mailer

    mine = Database()
    fake = FakeMailer()
    assert handler(mine) == (mine, c.get(Mailer))
    assert handler(mailer=fake)[1] is fake
    assert handler(mine, fake) == (mine, fake)


def test_call_shapes_are_planned_apart_and_replanned_after_rebinding(c: InjectQ) -> None:
    """What to fill is planned once per call shape and container; a binding changed
    afterwards (here Mailer rebound) is seen by the next call, and two containers keep
    their own plans."""

    @inject
    def handler(db: Database, mailer: Mailer) -> tuple[Database, Mailer]:
        return db, mailer

    with c.context():
        first = handler()
        assert isinstance(first[1], SmtpMailer)
        mine = Database()
        assert handler(mine)[0] is mine  # another shape: only mailer is filled
        assert handler()[0] is first[0]
        c.bind(Mailer, FakeMailer, override=True)
        assert isinstance(handler()[1], FakeMailer)
        assert isinstance(handler(mine)[1], FakeMailer)
    other = InjectQ()
    other.bind(Database, Database)
    other.bind(Mailer, SmtpMailer)
    with other.context():
        db, mailer = handler()
    assert db is other.get(Database) and db is not first[0]
    assert isinstance(mailer, SmtpMailer)

    @inject(container=c)
    def ported(port: Port | None = None) -> Port | None:
        return port

    assert ported() is None  # planned: nothing bound, the default
    c.bind(Port, _PortImpl)
    assert isinstance(ported(), _PortImpl)  # replanned: now injected


def test_explicit_args_win_even_for_unresolvable(c: InjectQ) -> None:
    """A parameter the container cannot fill is fine when the caller passes it."""

    @inject(container=c)
    def handler(token: str, db: Database) -> str:
        return f"{token}:{db.url}"

    assert handler("t") == "t:sqlite://"
    assert handler(token="k") == "k:sqlite://"


def test_non_injectable_leading_params(c: InjectQ) -> None:
    """Leading plain parameters are passed by the caller; the rest are injected."""

    @inject(container=c)
    def handler(x: int, y: int, mailer: Mailer) -> str:
        return f"{x + y}:{mailer.send()}"

    assert handler(1, 2) == "3:smtp"


def test_kwargs_extra_do_not_block_injection(c: InjectQ) -> None:
    """Extra keyword arguments collected by **kwargs do not stop injection of the rest."""

    @inject(container=c)
    def handler(mailer: Mailer, **extra: object) -> tuple[str, dict[str, object]]:
        return mailer.send(), extra

    assert handler(a=1, b=2) == ("smtp", {"a": 1, "b": 2})


def test_varargs_do_not_block_injection(c: InjectQ) -> None:
    """Keyword arguments given alongside a *args function still inject the others."""

    @inject(container=c)
    def handler(*items: int, mailer: Mailer, db: Database) -> str:
        return f"{sum(items)}:{mailer.send()}:{db.url}"

    assert handler(1, 2, 3) == "6:smtp:sqlite://"
    assert handler(1, 2, mailer=FakeMailer()) == "3:fake:sqlite://"


def test_defaults_used_when_unbound(c: InjectQ) -> None:
    """A parameter whose key is not bound keeps its default."""

    @inject(container=c)
    def handler(timeout: int = 30, label: str = "x", unb: Unbindable | None = None) -> tuple:
        return timeout, label, unb

    assert handler() == (30, "x", None)


def test_bound_value_beats_default(c: InjectQ) -> None:
    """A default is replaced when something is bound for it (type, or name key)."""
    c.bind_instance("timeout", 5)

    @inject(container=c)
    def handler(mailer: Mailer | None = None, timeout: int = 30) -> tuple:
        return mailer, timeout

    mailer, timeout = handler()
    assert isinstance(mailer, SmtpMailer)
    assert timeout == 5


def test_string_key_by_parameter_name(c: InjectQ) -> None:
    """A str parameter is filled from the string key equal to its name."""
    c.bind_instance("api_key", "secret")

    @inject(container=c)
    def handler(api_key: str) -> str:
        return api_key

    assert handler() == "secret"


def test_named_parameter(c: InjectQ) -> None:
    """Annotated[T, Named("x")] receives the named binding."""
    c.bind(Mailer, FakeMailer, name="test")

    @inject(container=c)
    def handler(m: Annotated[Mailer, Named("test")], default: Mailer) -> tuple[str, str]:
        return m.send(), default.send()

    assert handler() == ("fake", "smtp")


def test_inject_default_marker(c: InjectQ) -> None:
    """A parameter defaulting to Inject[T] is resolved from the container on each call."""
    c.bind(Repo, scope="transient")

    @inject(container=c)
    def handler(repo: Repo = Inject[Repo]) -> Repo:
        return repo

    first, second = handler(), handler()
    assert isinstance(first, Repo)
    assert first is not second  # not cached in the default (0.5.0 bug 11)
    mine = Repo(Database())
    assert handler(mine) is mine


def test_lazy_parameter(c: InjectQ) -> None:
    """A Lazy[T] parameter receives a handle that resolves T when called."""

    @inject(container=c)
    def handler(mailer: Lazy[Mailer]) -> Lazy[Mailer]:
        return mailer

    lazy = handler()
    assert isinstance(lazy, Lazy) and not lazy.resolved
    assert lazy() is c.get(Mailer)


def test_container_parameter(c: InjectQ) -> None:
    """A parameter annotated InjectQ receives the container resolving the call."""

    @inject(container=c)
    def handler(container: InjectQ) -> InjectQ:
        return container

    assert handler() is c


def test_autowired_parameter(c: InjectQ) -> None:
    """An unbound concrete class parameter is auto-wired."""

    @inject(container=c)
    def handler(repo: Repo) -> Repo:
        return repo

    assert handler().db is c.get(Database)


def test_metadata_preserved() -> None:
    """The wrapper keeps the function's name, docstring and signature."""

    @inject
    def handler(db: Database) -> str:
        """Doc."""
        return db.url

    assert handler.__name__ == "handler"
    assert handler.__doc__ == "Doc."
    assert list(inspect.signature(handler).parameters) == ["db"]


def test_no_container_needed_when_all_passed() -> None:
    """Calling with every argument does not touch any container."""

    @inject(container=None)
    def handler(db: Database) -> Database:
        return db

    mine = Database()
    InjectQ._instance = None
    assert handler(mine) is mine
    assert InjectQ._instance is None


# -- missing dependencies -------------------------------------------------------------------


def test_missing_dependency_names_parameter(c: InjectQ) -> None:
    """An unbound, non-auto-wirable parameter raises InjectionError naming it and the function."""

    @inject(container=c)
    def handler(secret: str) -> str:
        return secret

    with pytest.raises(InjectionError) as info:
        handler()
    text = str(info.value)
    assert "parameter 'secret'" in text
    assert "handler" in text
    assert isinstance(info.value, InjectQError)


def test_missing_nested_dependency_names_parameter(c: InjectQ) -> None:
    """A parameter whose type needs something unbound raises InjectionError with the path."""

    @inject(container=c)
    def handler(thing: Unbindable) -> Unbindable:
        return thing

    with pytest.raises(InjectionError) as info:
        handler()
    text = str(info.value)
    assert "parameter 'thing'" in text
    assert "Unbindable needs str, which is not bound" in text
    assert "self.bind_instance('token', ...)" in text


def test_missing_abstract_dependency(c: InjectQ) -> None:
    """A Protocol / ABC parameter with no binding is an InjectionError naming the parameter."""

    @inject(container=c)
    def handler(port: Port) -> Port:
        return port

    with pytest.raises(InjectionError, match="parameter 'port'") as info:
        handler()
    assert "Port is not bound" in str(info.value) or "nothing is bound" in str(info.value)
    assert "cannot be evaluated" not in str(info.value)


def test_unevaluable_annotation_explained(c: InjectQ) -> None:
    """A parameter whose string annotation names a function-local class says why it failed."""

    class Local:
        pass

    @inject(container=c)
    def handler(x: Local) -> Local:
        return x

    with pytest.raises(InjectionError) as info:
        handler()
    text = str(info.value)
    assert "parameter 'x'" in text
    assert "name 'Local' is not defined" in text
    assert handler(Local()).__class__ is Local


def test_sync_function_needing_async_binding(c: InjectQ) -> None:
    """A sync function whose dependency needs await raises AsyncResolutionError."""

    async def make() -> Repo:
        return Repo(Database())

    c.bind_factory(Repo, make)

    @inject(container=c)
    def handler(repo: Repo) -> Repo:
        return repo

    with pytest.raises(AsyncResolutionError):
        handler()


def test_constructor_error_propagates(c: InjectQ) -> None:
    """An exception raised while building a dependency propagates unchanged."""

    @inject(container=c)
    def handler(b: Boom) -> Boom:
        return b

    with pytest.raises(ValueError, match="boom"):
        handler()


# -- async ----------------------------------------------------------------------------------


async def test_async_function(c: InjectQ) -> None:
    """An async decorated function gets its dependencies, awaiting async factories."""

    async def make_repo(db: Database) -> Repo:
        await asyncio.sleep(0)
        return Repo(db)

    c.bind_factory(Repo, make_repo)

    @inject(container=c)
    async def handler(repo: Repo, mailer: Mailer) -> tuple[Repo, Mailer]:
        return repo, mailer

    assert inspect.iscoroutinefunction(handler)
    repo, mailer = await handler()
    assert repo.db is c.get(Database)
    assert isinstance(mailer, SmtpMailer)


async def test_async_explicit_args_win(c: InjectQ) -> None:
    """Explicit arguments win in async functions too."""

    @inject(container=c)
    async def handler(mailer: Mailer) -> Mailer:
        return mailer

    fake = FakeMailer()
    assert await handler(fake) is fake
    assert await handler(mailer=fake) is fake


async def test_async_missing_dependency(c: InjectQ) -> None:
    """An async function with an unfillable parameter raises InjectionError naming it."""

    @inject(container=c)
    async def handler(thing: Unbindable) -> Unbindable:
        return thing

    with pytest.raises(InjectionError, match="parameter 'thing'"):
        await handler()


async def test_async_from_context(c: InjectQ) -> None:
    """An async function resolves from the context container active when it is awaited."""

    @inject
    async def handler(mailer: Mailer) -> str:
        return mailer.send()

    with c.context():
        assert await handler() == "smtp"


# -- methods, __init__, classes -------------------------------------------------------------


def test_method(c: InjectQ) -> None:
    """@inject on a method injects everything after self."""

    class Controller:
        @inject(container=c)
        def handle(self, mailer: Mailer, n: int = 1) -> tuple[Controller, str, int]:
            return self, mailer.send(), n

    ctl = Controller()
    assert ctl.handle() == (ctl, "smtp", 1)
    assert ctl.handle(n=2)[2] == 2
    assert ctl.handle(FakeMailer())[1] == "fake"


async def test_async_method(c: InjectQ) -> None:
    """@inject on an async method injects everything after self."""

    class Controller:
        @inject(container=c)
        async def handle(self, mailer: Mailer) -> str:
            return mailer.send()

    assert await Controller().handle() == "smtp"


def test_classmethod_and_staticmethod(c: InjectQ) -> None:
    """@inject under @classmethod / @staticmethod works."""

    class Tools:
        @classmethod
        @inject(container=c)
        def cm(cls, mailer: Mailer) -> tuple[type, str]:
            return cls, mailer.send()

        @staticmethod
        @inject(container=c)
        def sm(mailer: Mailer) -> str:
            return mailer.send()

    assert Tools.cm() == (Tools, "smtp")
    assert Tools.sm() == "smtp"


def test_init(c: InjectQ) -> None:
    """@inject on __init__ lets the class be constructed directly with injection."""

    class Service:
        @inject(container=c)
        def __init__(self, db: Database, mailer: Mailer) -> None:
            self.db = db
            self.mailer = mailer

    svc = Service()
    assert svc.db is c.get(Database)
    fake = FakeMailer()
    assert Service(mailer=fake).mailer is fake


def test_init_decorated_class_resolved_by_container(c: InjectQ) -> None:
    """A class whose __init__ is @inject-decorated is still built normally by the container."""
    other = InjectQ()
    other.bind(Mailer, FakeMailer)

    class Service:
        @inject(container=c)
        def __init__(self, mailer: Mailer) -> None:
            self.mailer = mailer

    # the container passes every argument, so the decorator's own container is not used
    assert isinstance(other.get(Service).mailer, FakeMailer)


def test_class(c: InjectQ) -> None:
    """@inject on a class decorates its __init__ and returns the class."""

    @inject(container=c)
    class Service:
        def __init__(self, db: Database, mailer: Mailer) -> None:
            self.db = db
            self.mailer = mailer

    assert inspect.isclass(Service)
    svc = Service()  # type: ignore[call-arg]
    assert svc.db is c.get(Database)
    assert isinstance(svc.mailer, SmtpMailer)


def test_bare_class_decorator_uses_context(c: InjectQ) -> None:
    """@inject (no arguments) on a class resolves from the context at construction time."""

    @inject
    class Service:
        def __init__(self, mailer: Mailer) -> None:
            self.mailer = mailer

    with c.context():
        assert isinstance(Service().mailer, SmtpMailer)  # type: ignore[call-arg]


def test_class_without_init_rejected() -> None:
    """@inject on a class with no __init__ of its own is an InjectionError."""
    with pytest.raises(InjectionError, match="defines no __init__"):

        @inject
        class Empty:
            pass


def test_non_callable_rejected() -> None:
    """@inject on something that is not callable is an InjectionError."""
    with pytest.raises(InjectionError, match="needs a function"):
        inject(42)  # type: ignore[call-overload]


# -- which container -------------------------------------------------------------------------


def test_container_argument_wins_over_context(c: InjectQ) -> None:
    """@inject(container=c) uses c even inside another container's context."""
    other = InjectQ()
    other.bind(Mailer, FakeMailer)

    @inject(container=c)
    def handler(mailer: Mailer) -> str:
        return mailer.send()

    with other.context():
        assert handler() == "smtp"


def test_context_container(c: InjectQ) -> None:
    """A bare @inject resolves from the container of `with c.context():`."""

    @inject
    def handler(mailer: Mailer) -> str:
        return mailer.send()

    other = InjectQ()
    other.bind(Mailer, FakeMailer)
    with c.context():
        assert handler() == "smtp"
        with other.context():
            assert handler() == "fake"
        assert handler() == "smtp"


def test_container_chosen_at_call_time(c: InjectQ) -> None:
    """The container is looked up on each call, not when the function is decorated."""
    other = InjectQ()
    other.bind(Mailer, FakeMailer)
    with c.context():

        @inject
        def handler(mailer: Mailer) -> str:
            return mailer.send()

    with other.context():
        assert handler() == "fake"


def test_global_container() -> None:
    """With no container= and no context, @inject uses InjectQ.get_instance()."""
    InjectQ.reset_instance()
    InjectQ.get_instance().bind(Mailer, FakeMailer)

    @inject
    def handler(mailer: Mailer) -> str:
        return mailer.send()

    assert handler() == "fake"


def test_test_mode_container() -> None:
    """Inside InjectQ.test_mode(), @inject resolves from the test container."""

    @inject
    def handler(mailer: Mailer) -> str:
        return mailer.send()

    InjectQ.get_instance().bind(Mailer, SmtpMailer)
    with InjectQ.test_mode() as tc:
        tc.bind(Mailer, FakeMailer)
        assert handler() == "fake"
    assert handler() == "smtp"


def test_context_in_thread_is_separate(c: InjectQ) -> None:
    """A context container set in one thread does not leak into another."""
    import threading

    InjectQ.reset_instance()
    InjectQ.get_instance().bind(Mailer, FakeMailer)

    @inject
    def handler(mailer: Mailer) -> str:
        return mailer.send()

    seen: list[str] = []
    with c.context():
        t = threading.Thread(target=lambda: seen.append(handler()))
        t.start()
        t.join()
        assert handler() == "smtp"
    assert seen == ["fake"]


def test_scoped_dependency_inside_scope(c: InjectQ) -> None:
    """A request-scoped dependency is the scope's instance inside `with c.scope()`."""
    c.bind(Req, scope="request")

    @inject(container=c)
    def handler(r: Req) -> Req:
        return r

    with c.scope("request"):
        assert handler() is handler() is c.get(Req)
