"""injectq.testing as InjectQ 0.5.0 documents it: test_container(), override_dependency(),
TestModule, create_test_module(), mock_factory / MockFactory, pytest_container_fixture().

The helpers that take a container are run on the runtime InjectQ and on a generated one
(built from the same Modules by injectq-gen); the pytester tests run a user's suite in a
real pytest subprocess, warnings as errors, to see what pytest collects and keeps.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from injectq import InjectQ, Module, inject
from injectq.testing import (
    MockFactory,
    TestModule,
    create_test_module,
    mock_factory,
    override_dependency,
    pytest_container_fixture,
    test_container,
)
from tests.codegen_support import build_wiring, make_project

pytest_plugins = ("pytester",)

SHOP = """\
from __future__ import annotations

from collections.abc import Iterator

from injectq import Module
from injectq.testing import TestModule

EVENTS: list[str] = []


class Clock:
    def now(self) -> str:
        return "real time"


class FixedClock(Clock):
    def now(self) -> str:
        return "12:00"


class Mailer:
    def send(self, to: str) -> str:
        raise RuntimeError("no network in tests")


class Greeter:
    def __init__(self, clock: Clock, mailer: Mailer) -> None:
        self.clock = clock
        self.mailer = mailer

    def greet(self, who: str) -> str:
        return f"{self.mailer.send(who)} at {self.clock.now()}"


class Session:
    pass


def open_session() -> Iterator[Session]:
    EVENTS.append("open")
    try:
        yield Session()
    except Exception as exc:
        EVENTS.append(f"saw {type(exc).__name__}")
        raise
    finally:
        EVENTS.append("close")


class ShopModule(Module):
    def configure(self) -> None:
        self.bind(Clock, Clock).singleton()
        self.bind(Mailer, Mailer).singleton()
        self.bind(Greeter, Greeter).transient()
        self.bind_factory(Session, open_session).scoped("request")
        self.bind_instance(str, "real", name="greeting")


class GreeterOnly(Module):
    def configure(self) -> None:
        self.bind(Greeter, Greeter).transient()


# the doubles a test suite would install instead of the real Clock and Mailer
doubles = TestModule().bind_value(Clock, FixedClock()).mock(
    Mailer, **{"send.return_value": "queued"}
)
"""


@pytest.fixture
def shop(codegen_env: Path) -> ModuleType:
    """The app above, importable as ``shop.app`` from a fresh folder."""
    make_project(codegen_env, {"shop/__init__.py": "", "shop/app.py": SHOP})
    import shop.app

    return shop.app


@pytest.fixture(params=["runtime", "generated"])
def container(request: pytest.FixtureRequest, shop: ModuleType) -> Iterator[Any]:
    """ShopModule's container: the runtime one, or a generated module's Container()."""
    if request.param == "runtime":
        made: Any = InjectQ()
        made.install(shop.ShopModule())
    else:
        made = build_wiring(["shop.app:ShopModule"]).Container()
    yield made
    made.close()


@pytest.fixture
def injectq_wiring(shop: ModuleType) -> ModuleType:
    """The wiring the plugin's injectq_generated fixture instantiates, for this file."""
    return build_wiring(["shop.app:ShopModule"])


class Clock:
    def now(self) -> str:
        return "real time"


class FixedClock(Clock):
    def now(self) -> str:
        return "12:00"


class Mailer:
    greeting = "hello"

    def send(self, to: str) -> str:
        raise RuntimeError("no network in tests")

    async def send_later(self, to: str) -> str:
        raise RuntimeError("no network in tests")


class Signup:
    def __init__(self, mailer: Mailer, clock: Clock) -> None:
        self.mailer = mailer
        self.clock = clock

    def register(self, email: str) -> str:
        return f"{self.mailer.send(email)} at {self.clock.now()}"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A real pytest subprocess with warnings as errors, like this project's own runs."""
    return pytester.runpytest_subprocess(
        "-W", "error", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
        "-o", "asyncio_default_fixture_loop_scope=function", *args,
    )


# -- test_container() ------------------------------------------------------------------


def test_test_container_is_a_fresh_global_container_for_the_block() -> None:
    """Inside the block the container is new, empty, InjectQ.get_instance() and the one
    @inject resolves from; after it the previous global container is back untouched."""
    before = InjectQ.get_instance()

    @inject
    def clock_time(clock: Clock) -> str:
        return clock.now()

    with test_container() as container:
        assert container is not before
        assert InjectQ.get_instance() is container
        assert not container.has(Clock)
        container[Clock] = FixedClock()  # the dict style the 0.5.0 docs use
        container[Signup] = Signup
        container[Mailer] = Mailer()
        assert clock_time() == "12:00"
        assert isinstance(container[Signup].clock, FixedClock)
    assert InjectQ.get_instance() is before
    assert not before.has(Clock)


def test_test_container_closes_its_resources_when_the_block_ends() -> None:
    """Resources made in the block are finalized when it ends, also when it raises."""
    log: list[str] = []

    def resource() -> Iterator[str]:
        yield "conn"
        log.append("closed")

    with test_container() as container:
        container.bind_factory(str, resource).singleton()
        assert container.get(str) == "conn"
        assert log == []
    assert log == ["closed"]

    with pytest.raises(ValueError, match="boom"), test_container() as container:
        container.bind_factory(str, resource).singleton()
        container.get(str)
        raise ValueError("boom")
    assert log == ["closed", "closed"]


def test_test_container_installs_the_modules_it_is_given() -> None:
    """test_container(modules) starts with those Modules installed (an addition to 0.5.0)."""
    with test_container([create_test_module({Clock: FixedClock(), Mailer: Mailer()})]) as c:
        assert c.get(Signup).clock.now() == "12:00"


# -- override_dependency() -------------------------------------------------------------


def test_override_dependency_replaces_a_key_for_the_block(container: Any, shop: Any) -> None:
    """override_dependency(Key, value, container) replaces Key in that container for the
    block, in what depends on it too, and yields the value; after the block the real
    binding is back."""
    fixed = shop.FixedClock()
    with override_dependency(shop.Clock, fixed, container) as value:
        assert value is fixed
        assert container.get(shop.Clock) is fixed
        assert container.get(shop.Greeter).clock is fixed
    assert type(container.get(shop.Clock)) is shop.Clock
    assert type(container.get(shop.Greeter).clock) is shop.Clock


def test_override_dependency_uses_the_current_container(container: Any, shop: Any) -> None:
    """Without a container argument it overrides the current one: a generated container
    made current with context() as well as the runtime one."""
    with container.context(), override_dependency(shop.Clock, shop.FixedClock()):
        assert container.get(shop.Greeter).clock.now() == "12:00"
    assert container.get(shop.Greeter).clock.now() == "real time"


def test_override_dependency_on_the_global_container() -> None:
    """Outside any test container the global one is overridden, as 0.5.0's docs show:
    ``container = InjectQ.get_instance()`` then ``with override_dependency(...)``."""
    with test_container():  # a global container of its own, so no other test sees it
        container = InjectQ.get_instance()
        container[Clock] = Clock()
        with override_dependency(Clock, FixedClock()):
            assert isinstance(container[Clock], FixedClock)
        assert type(container[Clock]) is Clock


def test_override_dependency_by_name(container: Any) -> None:
    """name= replaces that named binding only."""
    with override_dependency(str, "test", container, name="greeting"):
        assert container.get(str, "greeting") == "test"
    assert container.get(str, "greeting") == "real"


async def test_override_dependency_reaches_async_resolution(container: Any, shop: Any) -> None:
    """The override holds for aget() and in a scope opened inside the block; the scope's
    resources are still finalized when it closes."""
    shop.EVENTS.clear()
    with override_dependency(shop.Clock, shop.FixedClock(), container):
        async with container.scope("request"):
            greeter = await container.aget(shop.Greeter)
            await container.aget(shop.Session)
        assert greeter.clock.now() == "12:00"
    assert shop.EVENTS == ["open", "close"]


def test_override_dependency_with_the_generated_fixture(injectq_generated: Any,
                                                        shop: Any) -> None:
    """The plugin's injectq_generated container is current in the test, so
    override_dependency() without a container argument overrides it."""
    with override_dependency(shop.Mailer, mock_factory.create_mock(shop.Mailer)) as mailer:
        mailer.send.return_value = "queued"
        assert injectq_generated.get(shop.Greeter).greet("ada") == "queued at real time"
    mailer.send.assert_called_once_with("ada")


# -- TestModule and create_test_module() -----------------------------------------------


def test_test_module_binds_mocks_and_values() -> None:
    """TestModule().mock(Key, **attributes) binds the shared factory's double of Key;
    bind_value(Key, value) binds the value itself; both return the module (fluent)."""
    module = TestModule()
    assert module.mock(Mailer, **{"send.return_value": "queued"}) is module
    assert module.bind_value(Clock, FixedClock()) is module
    with test_container([module]) as container:
        signup = container.get(Signup)
        assert signup.register("ada@example.com") == "queued at 12:00"
        assert signup.mailer is mock_factory.create_mock(Mailer)
        signup.mailer.send.assert_called_once_with("ada@example.com")


def test_test_module_installs_in_the_0_5_0_binder_style() -> None:
    """A TestModule is a Module: InjectQ(modules=[...]), install_module() and a
    configure(binder) of another Module all install it."""
    module = TestModule().bind_value(Clock, FixedClock()).bind_value("greeting", None)

    class AppModule(Module):
        def configure(self, binder: Any) -> None:
            binder.bind(Signup, Signup)
            binder.bind(Mailer, Mailer)

    container = InjectQ(modules=[AppModule(), module])
    assert container.get(Signup).clock.now() == "12:00"
    assert container.get("greeting") is None  # bind_value binds None on purpose
    other = InjectQ()
    other.install_module(module)
    assert other.get(Clock).now() == "12:00"


def test_test_module_replaces_real_bindings_only_when_told() -> None:
    """A key bound by the real Modules and again by a TestModule is a duplicate: the
    TestModule's own bind(..., override=True) or container.override() replaces it."""
    class Real(Module):
        def configure(self) -> None:
            self.bind(Clock, Clock).singleton()

    container = InjectQ()
    container.install(Real())
    container.install(TestModule().bind(Clock, FixedClock(), override=True))
    assert container.get(Clock).now() == "12:00"


def test_test_module_feeds_a_generated_container(shop: Any) -> None:
    """A TestModule instance is a target injectq-gen compiles like any Module: the
    generated container hands out its value and its double."""
    wiring = build_wiring(["shop.app:GreeterOnly", "shop.app:doubles"])
    container = wiring.Container()
    greeter = container.get(shop.Greeter)
    assert greeter.greet("ada") == "queued at 12:00"
    assert isinstance(greeter.mailer, shop.Mailer)
    greeter.mailer.send.assert_called_with("ada")


def test_create_test_module_binds_each_value() -> None:
    """create_test_module({Key: value}) is a TestModule binding each key to its value."""
    module = create_test_module({Clock: FixedClock(), "db_url": "sqlite://"})
    assert isinstance(module, TestModule)
    module.mock(Mailer)
    with test_container([module]) as container:
        assert container["db_url"] == "sqlite://"
        assert container.get(Signup).clock.now() == "12:00"


def test_test_module_and_test_container_are_not_tests() -> None:
    """Their names match pytest's Test*/test_* patterns; __test__ = False tells pytest,
    in every file that imports them, that they are no tests (also for a subclass)."""
    assert TestModule.__test__ is False
    assert test_container.__test__ is False  # type: ignore[attr-defined]

    class TestDoubles(TestModule):
        pass

    assert TestDoubles.__test__ is False


# -- mock_factory ----------------------------------------------------------------------


def test_create_mock_has_the_interface_of_the_class() -> None:
    """A class's double passes isinstance, records calls, has AsyncMock async methods and
    refuses an attribute the class lacks (a typo fails the test)."""
    factory = MockFactory()
    mailer = factory.create_mock(Mailer)
    assert isinstance(mailer, Mailer)
    mailer.send("ada")
    mailer.send.assert_called_once_with("ada")
    mailer.send_later.return_value = "later"
    assert asyncio.run(mailer.send_later("ada")) == "later"
    with pytest.raises(AttributeError, match="sned"):
        mailer.sned("ada")
    with pytest.raises(TypeError):
        mailer()  # an instance of Mailer is not callable; neither is its double


def test_create_mock_sets_the_attributes_it_is_given() -> None:
    """Keyword arguments become the double's attributes, mock's dotted names included;
    ones the class lacks may be set too. A key that is no class gets a plain double."""
    factory = MockFactory()
    mailer = factory.create_mock(
        Mailer, greeting="hi", sent=3, **{"send.return_value": "queued"}
    )
    assert (mailer.greeting, mailer.sent, mailer.send("x")) == ("hi", 3, "queued")
    token = factory.create_mock("api_token", value="secret")
    assert token.value == "secret"


def test_create_mock_is_one_double_per_key_until_reset() -> None:
    """The same key gives the same double, and attributes given later are applied to it
    (not ignored); reset() forgets them all."""
    factory = MockFactory()
    first = factory.create_mock(Mailer, greeting="hi")
    again = factory.create_mock(Mailer, greeting="hey")
    assert again is first and first.greeting == "hey"
    assert factory.create_mock(Clock) is not first
    factory.reset()
    assert factory.create_mock(Mailer) is not first


def test_create_mock_of_a_callable_class_is_callable() -> None:
    """A class whose instances are callable gets a callable double."""
    class Handler:
        def __call__(self, event: str) -> str:
            return event

    handler = MockFactory().create_mock(Handler, return_value="handled")
    assert handler("x") == "handled"


def test_mock_factory_wraps_a_factory_as_the_docs_show() -> None:
    """``container.bind_factory("request_id", mock_factory(lambda: "mock-123"))``: the
    container gets what the function returns, and ``.mock`` records each call."""
    with test_container() as container:
        made = mock_factory(lambda: "mock-123")
        container.bind_factory("request_id", made)
        assert container["request_id"] == "mock-123"
        assert container["request_id"] == "mock-123"
        assert made.mock.call_count == 2


def test_mock_factory_keeps_the_factory_signature_and_kind() -> None:
    """The wrapped factory's parameters are still injected, and a generator or async
    factory stays one: a resource is finalized, an async factory is awaited."""
    log: list[str] = []

    def connect(clock: Clock) -> Iterator[str]:
        yield f"conn at {clock.now()}"
        log.append("closed")

    async def token() -> str:
        return "t0k"

    with test_container([create_test_module({Clock: FixedClock()})]) as container:
        made = mock_factory(connect)
        container.bind_factory(str, made).singleton()
        container.bind_factory(bytes, mock_factory(token))
        assert container.get(str) == "conn at 12:00"
        made.mock.assert_called_once()
        assert isinstance(made.mock.call_args.args[0], FixedClock)
        assert asyncio.run(container.aget(bytes)) == "t0k"
    assert log == ["closed"]


# -- in a user's pytest run ------------------------------------------------------------


def test_imported_helpers_are_not_collected(pytester: pytest.Pytester) -> None:
    """A test file importing every helper gets exactly its own tests collected, and no
    collection warning (a TestModule subclass named Test* neither)."""
    pytester.makepyfile(test_user=textwrap.dedent("""
        from injectq.testing import (
            MockFactory, TestModule, create_test_module, mock_factory, override_dependency,
            test_container,
        )

        class TestDoubles(TestModule):
            pass

        def test_one():
            with test_container([TestDoubles().bind_value(int, 1)]) as c:
                assert c.get(int) == 1

        class TestGroup:
            def test_two(self):
                assert isinstance(mock_factory, MockFactory)
    """))
    result = run(pytester, "-q")
    result.assert_outcomes(passed=2)
    result.stdout.no_fnmatch_line("*warning*")


def test_pytest_container_fixture_gives_each_test_a_fresh_container(
    pytester: pytest.Pytester,
) -> None:
    """``container = pytest_container_fixture()`` in a conftest.py: a fixture named
    container, a fresh InjectQ per test, current while it runs, closed after it."""
    pytester.makeconftest(textwrap.dedent("""
        from injectq.testing import pytest_container_fixture

        container = pytest_container_fixture()
    """))
    pytester.makepyfile(textwrap.dedent("""
        from injectq import InjectQ

        log = []
        seen = []

        def resource():
            yield "conn"
            log.append("closed")

        def test_first(container):
            seen.append(container)
            assert InjectQ.get_instance() is container
            container.bind_factory(str, resource).singleton()
            container[int] = 5
            assert container.get(str) == "conn"

        def test_second(container):
            assert log == ["closed"]
            assert container is not seen[0]
            assert not container.has(int)
    """))
    result = run(pytester)
    result.assert_outcomes(passed=2)
    assert callable(pytest_container_fixture())


def test_mock_factory_starts_each_test_as_before_it(pytester: pytest.Pytester) -> None:
    """After each test the shared mock_factory is back as it was: doubles the test made
    are forgotten (the next test gets new ones, without their calls or attributes); a
    double made at import (a TestModule of a conftest.py) stays, its calls cleared."""
    pytester.makeconftest(textwrap.dedent("""
        from injectq.testing import TestModule

        class Mailer:
            def send(self, to): ...

        class Clock:
            def now(self): ...

        doubles = TestModule().mock(Mailer, **{"send.return_value": "queued"})
    """))
    pytester.makepyfile(textwrap.dedent("""
        import pytest
        from conftest import Clock, Mailer, doubles
        from injectq.testing import mock_factory, test_container

        @pytest.fixture
        def checked_after():
            yield
            # fixture teardown still sees the test's doubles and their calls
            mock_factory.create_mock(Clock).now.assert_called_once()

        def test_first(checked_after):
            with test_container([doubles]) as c:
                assert c.get(Mailer).send("ada") == "queued"
            clock = mock_factory.create_mock(Clock, zone="UTC")
            clock.now()

        def test_second():
            mailer = mock_factory.create_mock(Mailer)
            mailer.send.assert_not_called()  # test_first's call is not recorded here
            assert mailer.send("bob") == "queued"  # the conftest's double, configured
            clock = mock_factory.create_mock(Clock)
            clock.now.assert_not_called()
            assert not hasattr(clock, "zone")  # a new double, not test_first's
    """))
    result = run(pytester)
    result.assert_outcomes(passed=2)
