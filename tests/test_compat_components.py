"""Components (``injectq.components``, InjectQ 0.5.0's API): lifecycle states, interfaces
provided and required, start in dependency order and stop in reverse, errors that name
the component and the path, a failing start or stop leaving the others consistent, and
requirements served by a generated wiring.

Registration lines are computed from this file's own frames, never hard-coded.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from injectq import InjectQ, InjectQError, Lazy, ResourceCleanupError
from injectq.components import (
    Component,
    ComponentBinding,
    ComponentContainer,
    ComponentError,
    ComponentInterface,
    ComponentRegistry,
    ComponentScope,
    ComponentState,
)
from tests.codegen_support import build_wiring, make_project

HERE = os.path.relpath(__file__) if not os.path.relpath(__file__).startswith("..") else __file__

S = ComponentState


def _line() -> int:
    """The caller's current line number."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


# -- an application of four components, as 0.5.0's documentation describes one ---------------


class IDatabase(Protocol):
    def query(self, sql: str) -> list[str]: ...


class ICache(Protocol):
    def lookup(self, key: str) -> str | None: ...


class IUsers(Protocol):
    def user(self, uid: int) -> str: ...


class IOrders(Protocol):
    def order(self, oid: int) -> str: ...


class Recording(Component):
    """Records each start and stop in ``events`` (set by the test)."""

    events: list[str]

    def start(self) -> None:
        super().start()
        self.events.append(f"start {self.name}")

    def stop(self) -> None:
        super().stop()
        self.events.append(f"stop {self.name}")


class DatabaseComponent(Recording):
    name = "database"
    provides = [IDatabase]

    def configure(self, **kwargs: Any) -> None:
        super().configure(**kwargs)
        self.url = kwargs.get("url", "sqlite://")

    def query(self, sql: str) -> list[str]:
        return [sql]


class CacheComponent(Recording):
    name = "cache"
    provides = [ICache]


class UserComponent(Recording):
    name = "user"
    provides = [IUsers]
    requires = [IDatabase, ICache]


class OrderComponent(Recording):
    name = "order"
    provides = [IOrders]
    requires = [IUsers, IDatabase]


def _app(events: list[str], *classes: type[Component]) -> ComponentContainer:
    """A container with ``classes`` registered (in that order), recording into ``events``."""
    c = ComponentContainer()
    for cls in classes:
        c.register_component(cls, configuration={"events": events})
    return c


ALL = (OrderComponent, UserComponent, CacheComponent, DatabaseComponent)


# -- lifecycle states ---------------------------------------------------------------------


def test_lifecycle_moves_through_the_documented_states() -> None:
    """initialized -> configured -> started -> stopped -> started -> destroyed."""
    comp = CacheComponent()
    comp.events = []
    assert comp.state is S.INITIALIZED
    comp.initialize()
    assert comp.state is S.INITIALIZED
    comp.configure(size=3)
    assert (comp.state, comp.size) == (S.CONFIGURED, 3)  # type: ignore[attr-defined]
    comp.configure(size=4)  # configured again before it starts
    comp.start()
    assert comp.state is S.STARTED
    comp.stop()
    assert comp.state is S.STOPPED
    comp.start()
    comp.destroy()  # stops a started component first
    assert comp.state is S.DESTROYED
    assert comp.events == ["start cache", "stop cache", "start cache", "stop cache"]
    assert repr(comp) == "<Component 'cache' state=destroyed>"


@pytest.mark.parametrize(
    ("steps", "action", "state", "allowed"),
    [
        ([], "start", "initialized", "configured or stopped"),
        ([], "stop", "initialized", "started"),
        (["configure", "start"], "be configured", "started", "initialized or configured"),
        (["configure"], "be initialized", "configured", "it was just created"),
        (["configure", "start", "stop"], "stop", "stopped", "started"),
        (["configure", "destroy"], "start", "destroyed", "configured or stopped"),
    ],
)
def test_a_transition_from_the_wrong_state_is_refused(
    steps: list[str], action: str, state: str, allowed: str
) -> None:
    """A lifecycle method called from a state it does not start from raises ComponentError
    naming the component, its state and the states it would take, and changes nothing."""
    comp = Component()
    for step in steps:
        getattr(comp, step)()
    method = {"be configured": "configure", "be initialized": "initialize"}.get(action, action)
    with pytest.raises(ComponentError) as info:
        getattr(comp, method)()
    assert str(info.value).startswith(
        f"component 'component' cannot {action} from state {state!r}: it can {action} only "
        f"when {allowed}"
    )
    assert info.value.component == "component"
    assert comp.state.value == state


def test_configure_refuses_names_of_the_lifecycle() -> None:
    """Settings may not overwrite the component's own machinery (state, container, ...)."""
    comp = Component()
    with pytest.raises(ComponentError, match=r"'_lock', 'state'.*rename the setting"):
        comp.configure(state="started", _lock=None, url="x")
    assert comp.state is S.INITIALIZED
    assert not hasattr(comp, "url")


def test_a_component_is_a_component_interface() -> None:
    """Component implements the ComponentInterface protocol (runtime checkable)."""
    assert isinstance(Component(), ComponentInterface)
    assert not isinstance(object(), ComponentInterface)


def test_resolve_dependency_without_a_container_says_what_to_do() -> None:
    """A component nobody gave a container cannot resolve its requirements."""
    comp = UserComponent()
    comp.configure()
    with pytest.raises(ComponentError, match=r"component 'user' has no container to resolve "
                       r"IDatabase from: register it in a ComponentContainer"):
        comp.start()
    assert comp.state is S.CONFIGURED


def test_a_bare_component_resolves_and_keeps_its_requirements() -> None:
    """start() resolves every requirement through the container it was given, once."""
    c = InjectQ()
    c.bind_instance(IDatabase, DatabaseComponent())
    comp = Component()
    comp.requires = [IDatabase]  # type: ignore[misc]
    comp.set_container(c)
    comp.configure()
    comp.start()
    assert comp.resolve_dependency(IDatabase) is c.get(IDatabase)


# -- registration --------------------------------------------------------------------------


def test_register_component_binds_it_and_what_it_provides() -> None:
    """get() of a provided interface is the component, created and configured once, with
    what it requires injected; the registration is described by its ComponentBinding."""
    events: list[str] = []
    c = _app(events, *ALL)
    db = c.get(IDatabase)
    assert isinstance(db, DatabaseComponent)
    assert db.state is S.CONFIGURED and db.url == "sqlite://"
    assert c.get(DatabaseComponent) is db  # the class itself, when nothing else binds it
    assert c.get(DatabaseComponent, name="database") is db
    assert c.get_component("database") is db
    users = c.get(IUsers)
    assert users.resolve_dependency(IDatabase) is db  # type: ignore[attr-defined]
    binding = c.component_registry.get_binding("user")
    assert binding == ComponentBinding(
        component_type=UserComponent, scope="singleton", dependencies={IDatabase, ICache},
        provided_interfaces={IUsers}, configuration={"events": events}, name="user",
    )
    assert c.list_components() == {
        "order": S.INITIALIZED, "user": S.CONFIGURED, "cache": S.CONFIGURED,
        "database": S.CONFIGURED,
    }
    c.validate()  # components are ordinary bindings of the graph


def test_names_default_to_the_class_name_and_the_registered_name_wins() -> None:
    """Without a name attribute a component is registered under its class name in lower
    case; an instance carries the name it was registered under."""

    class MailerComponent(Component):
        pass

    c = ComponentContainer()
    c.register_component(MailerComponent)
    c.register_component(MailerComponent, name="backup")
    assert c.component_registry.list_components() == ["mailercomponent", "backup"]
    backup = c.component_registry.create_instance("backup", c)
    assert backup.name == "backup"
    assert c.get(MailerComponent, name="backup") is backup
    assert c.get(MailerComponent) is c.get_component("mailercomponent")  # the first one


def test_interface_argument_is_one_more_provided_interface() -> None:
    """register(interface=X) binds X to the component too; nothing is inferred from bases."""

    class IMailer(Protocol): ...

    class Mailer(Component):
        pass

    c = ComponentContainer()
    binding = c.register_component(Mailer, interface=IMailer)
    assert binding.provided_interfaces == {IMailer}
    assert c.get(IMailer) is c.get_component("mailer")
    assert ComponentBinding(component_type=Mailer).interface is None


def test_tags_interfaces_and_priority_are_queried_from_the_registry() -> None:
    """Bindings are found by tag and by interface; tags merge, priority comes from the
    class unless given."""

    class Tagged(Component):
        tags = {"persistence"}
        provides = [ICache]
        priority = 7

    registry = ComponentRegistry()
    registry.register(Tagged, tags={"critical"})
    registry.register(DatabaseComponent, priority=1)
    assert [b.name for b in registry.get_bindings_by_tag("critical")] == ["tagged"]
    assert registry.get_binding("tagged").tags == {"persistence", "critical"}  # type: ignore[union-attr]
    assert [b.name for b in registry.get_bindings_by_interface(IDatabase)] == ["database"]
    assert registry.get_binding("tagged").priority == 7  # type: ignore[union-attr]
    assert registry.get_binding("nope") is None


@pytest.mark.parametrize(
    ("register", "message", "left"),
    [
        (lambda c: c.register_component(object),
         r"register\(<class 'object'>\) at .*: a component is a subclass of "
         r"injectq.components.Component; derive the class from it", 0),
        (lambda c: (c.register_component(CacheComponent),
                    c.register_component(CacheComponent)),
         r"component 'cache' \(CacheComponent, registered at .*\): a component named 'cache' "
         r"is registered already \(CacheComponent, at .*\); register it under another name", 3),
        (lambda c: (c.register_component(CacheComponent),
                    c.register_component(CacheComponent, name="other")),
         r"component 'other' .*: it provides ICache, which component 'cache' provides "
         r"already; an interface resolves to one component", 3),
        (lambda c: (c.bind_instance(ICache, object()),
                    c.register_component(CacheComponent)),
         r"component 'cache' .*: it provides ICache, which is bound already \(at .*\); remove "
         r"that binding, or this entry of CacheComponent.provides", 1),
        (lambda c: c.register_component(CacheComponent, scope="request"),
         r"scope 'request' is not possible for a component: a component is one instance per "
         r"container", 0),
        (lambda c: c.register_component(type("Bad", (Component,), {"requires": "IDatabase"})),
         r"Bad.requires must be a list of interfaces, got 'IDatabase'", 0),
        (lambda c: c.register_component(type("Bad", (Component,), {"provides": [[1]]})),
         r"Bad.provides holds \[1\], which is no key", 0),
        (lambda c: c.register_component(CacheComponent, configuration={1: 2}),
         r"configuration must be a dict of setting names", 0),
    ],
)
def test_registration_errors_name_the_component_and_the_fix(
    register: Any, message: str, left: int
) -> None:
    """What cannot be registered is refused at register time, saying why and what to do;
    nothing of the refused registration is bound (``left``: what the test bound first)."""
    c = ComponentContainer()
    with pytest.raises(ComponentError, match=message):
        register(c)
    assert len(c.registry) == left


def test_an_async_lifecycle_method_is_refused() -> None:
    """An ``async def start`` would never run (lifecycle calls are synchronous)."""

    class AsyncStart(Component):
        async def start(self) -> None:  # type: ignore[override]
            pass

    with pytest.raises(ComponentError, match=r"AsyncStart.start\(\) is async, but lifecycle "
                       r"methods are called synchronously.*make it a plain def"):
        ComponentContainer().register_component(AsyncStart)


def test_a_component_that_skips_super_init_is_reported() -> None:
    """A subclass whose __init__ does not call super().__init__() has no lifecycle state."""

    class NoSuper(Component):
        def __init__(self) -> None:
            pass

    c = ComponentContainer()
    c.register_component(NoSuper)
    with pytest.raises(ComponentError, match=r"component 'nosuper' \(.*NoSuper, registered at "
                       r".*\) could not be created: ComponentError: .*NoSuper.__init__ does not "
                       r"call super\(\).__init__\(\), so component 'nosuper' has no lifecycle "
                       r"state; call it first"):
        c.start_components()


# -- start order and stop order ------------------------------------------------------------


def test_start_in_dependency_order_and_stop_in_reverse() -> None:
    """Whatever the registration order, what a component requires starts first; stop runs
    in the reverse of the start order."""
    events: list[str] = []
    c = _app(events, *ALL)
    # order requires users first, which requires the database, then the cache
    assert c.component_registry.get_startup_order() == ["database", "cache", "user", "order"]
    c.start_components()
    assert events == ["start database", "start cache", "start user", "start order"]
    assert set(c.list_components().values()) == {S.STARTED}
    events.clear()
    c.stop_components()
    assert events == ["stop order", "stop user", "stop cache", "stop database"]
    assert set(c.list_components().values()) == {S.STOPPED}
    events.clear()
    c.start_components()  # stopped components start again
    assert events == ["start database", "start cache", "start user", "start order"]


def test_priority_orders_components_that_do_not_depend_on_each_other() -> None:
    """Higher priority starts first, but never before what a component requires."""
    events: list[str] = []
    c = ComponentContainer()
    c.register_component(OrderComponent, configuration={"events": events}, priority=100)
    c.register_component(UserComponent, configuration={"events": events})
    c.register_component(CacheComponent, configuration={"events": events}, priority=1)
    c.register_component(DatabaseComponent, configuration={"events": events}, priority=5)
    assert c.component_registry.get_startup_order() == ["database", "cache", "user", "order"]


def test_order_follows_requirements_through_ordinary_bindings() -> None:
    """A component that requires an ordinary service, which needs an interface another
    component provides, starts after that component."""

    class Reports:
        def __init__(self, db: IDatabase) -> None:
            self.db = db

    class ReportComponent(Recording):
        requires = [Reports]

    events: list[str] = []
    c = _app(events, ReportComponent, DatabaseComponent)
    c.bind(Reports, Reports)
    c.start_components()
    assert events == ["start database", "start reportcomponent"]
    assert c.get_component("reportcomponent").resolve_dependency(Reports).db is c.get(IDatabase)  # type: ignore[union-attr]
    events.clear()
    c.stop_components(["database"])
    assert events == ["stop reportcomponent", "stop database"]


def test_a_lazy_requirement_does_not_order() -> None:
    """A Lazy[...] handle inside an ordinary binding resolves later, so it orders nothing
    (and a cycle through it is no cycle)."""

    class Notifier:
        def __init__(self, users: Lazy[IUsers]) -> None:
            self.users = users

    class NotifyComponent(Recording):
        provides = [IDatabase]
        requires = [Notifier]

    class LateUsers(Recording):
        provides = [IUsers]
        requires = [IDatabase]

    events: list[str] = []
    c = _app(events, NotifyComponent, LateUsers)
    c.bind(Notifier, Notifier)
    c.start_components()
    assert events == ["start notifycomponent", "start lateusers"]


def test_interfaces_with_the_same_name_are_kept_apart() -> None:
    """Interfaces are keys, not names: two classes both called IStore (as from two
    modules) are provided and required separately."""
    first, second = type("IStore", (), {}), type("IStore", (), {})

    class Left(Recording):
        provides = [first]

    class Right(Recording):
        provides = [second]

    class Both(Recording):
        requires = [second, first]

    events: list[str] = []
    c = _app(events, Both, Left, Right)
    c.start_components()
    assert events == ["start right", "start left", "start both"]
    both = c.get_component("both")
    assert both is not None
    assert both.resolve_dependency(first) is c.get_component("left")
    assert both.resolve_dependency(second) is c.get_component("right")


def test_start_of_some_components_starts_what_they_require() -> None:
    """start_components(names) starts those and everything they require (also components
    that do not auto-start), and nothing else."""

    class Extra(Recording):
        pass

    events: list[str] = []
    c = ComponentContainer()
    c.register_component(DatabaseComponent, configuration={"events": events}, auto_start=False)
    c.register_component(CacheComponent, configuration={"events": events})
    c.register_component(UserComponent, configuration={"events": events})
    c.register_component(OrderComponent, configuration={"events": events})
    c.register_component(Extra, configuration={"events": events})
    c.start_components(["user"])
    assert events == ["start database", "start cache", "start user"]
    assert c.list_components()["order"] is S.INITIALIZED  # not even created
    assert c.list_components()["extra"] is S.INITIALIZED


def test_components_that_do_not_auto_start_wait_to_be_named() -> None:
    """start_components() starts the auto-start components only (class attribute or
    registration argument)."""

    class Manual(Recording):
        auto_start = False

    events: list[str] = []
    c = _app(events, Manual, CacheComponent)
    c.register_component(DatabaseComponent, configuration={"events": events}, auto_start=False)
    c.start_components()
    assert events == ["start cache"]
    c.start_components(["manual", "database"])
    assert events == ["start cache", "start manual", "start database"]


def test_stopping_a_component_stops_what_requires_it_first() -> None:
    """stop_components(names) stops the started components that require them first, in
    reverse start order, and leaves unrelated ones running."""
    events: list[str] = []
    c = _app(events, *ALL)
    c.start_components()
    events.clear()
    c.stop_components(["cache"])
    assert events == ["stop order", "stop user", "stop cache"]
    assert c.list_components()["database"] is S.STARTED


def test_unknown_component_names_are_reported() -> None:
    """Naming a component that is not registered lists the registered ones."""
    c = _app([], CacheComponent)
    with pytest.raises(ComponentError, match=r"no component named 'cach' is registered "
                       r"\(registered: 'cache'\); register it first"):
        c.start_components(["cach"])
    with pytest.raises(ComponentError, match="no component named 'x'"):
        c.stop_components(["x"])


def test_a_deep_chain_of_components_starts_and_stops_in_order() -> None:
    """Ordering, checks and creation are iterative: 1,500 components, each requiring the
    previous one, start first to last and stop last to first."""
    n = 1500
    keys = [type(f"I{i}", (), {}) for i in range(n)]
    events: list[str] = []
    c = ComponentContainer()
    for i in range(n - 1, -1, -1):  # registered last first
        cls = type(f"C{i}", (Recording,), {
            "name": f"c{i}", "provides": [keys[i]], "requires": [keys[i - 1]] if i else [],
        })
        c.register_component(cls, configuration={"events": events})
    c.start_components()
    assert events == [f"start c{i}" for i in range(n)]
    events.clear()
    c.stop_components(["c0"])  # everything requires it, transitively
    assert events == [f"stop c{i}" for i in reversed(range(n))]


# -- problems found before anything starts -------------------------------------------------


def test_missing_interface_names_the_component_the_path_and_the_fix() -> None:
    """A requirement nothing provides or binds is reported with the path from the component
    asked for; nothing is created or started."""
    events: list[str] = []
    c = ComponentContainer()
    c.register_component(OrderComponent, configuration={"events": events})
    line = _line() + 1
    c.register_component(UserComponent, configuration={"events": events})
    c.register_component(CacheComponent, configuration={"events": events})
    with pytest.raises(ComponentError) as info:
        c.start_components(["order"])
    site = f"{HERE}:{line}"
    assert str(info.value) == "\n".join([
        "cannot start component 'order': 2 problems in what it requires; nothing was "
        "created or started",
        "",
        f"{HERE}:{line - 2}: error[IQ001 missing-binding]: component 'order' requires "
        "IDatabase, which no component provides and nothing binds",
        "  chain: order [component] -> IDatabase [unbound]",
        f"    order      bound at {HERE}:{line - 2}",
        "    IDatabase  injected into OrderComponent.requires",
        "  help: register a component whose provides lists IDatabase, bind IDatabase in the "
        "container, or remove it from OrderComponent.requires",
        "",
        f"{site}: error[IQ001 missing-binding]: component 'user' requires IDatabase, which "
        "no component provides and nothing binds",
        "  chain: order [component] -> IUsers -> user [component] -> IDatabase [unbound]",
        f"    order      bound at {HERE}:{line - 2}",
        "    IUsers     injected into OrderComponent.requires",
        f"    user       bound at {site}",
        "    IDatabase  injected into UserComponent.requires",
        "  help: register a component whose provides lists IDatabase, bind IDatabase in the "
        "container, or remove it from UserComponent.requires",
    ])
    assert info.value.component == "order"
    assert info.value.path == ("order", "IDatabase")
    assert [p.code for p in info.value.problems] == ["IQ001", "IQ001"]
    assert set(c.list_components().values()) == {S.INITIALIZED}
    assert events == []
    assert isinstance(info.value, InjectQError)


class IA(Protocol): ...


class IB(Protocol): ...


class A(Component):
    provides = [IA]
    requires = [IB]


class B(Component):
    provides = [IB]
    requires = [IA]


def test_a_cycle_of_components_names_the_path() -> None:
    """Components that require each other cannot start: the cycle is reported with every
    step, by get_startup_order() and start_components() alike."""
    c = ComponentContainer()
    line = _line() + 1
    c.register_component(A)
    c.register_component(B)
    expected = "\n".join([
        f"{HERE}:{line}: error[IQ002 cycle]: components require each other in a cycle: "
        "a -> b -> a",
        "  chain: a [component] -> IB -> b [component] -> IA -> a [component]",
        f"    a   bound at {HERE}:{line}",
        "    IB  injected into A.requires",
        f"    b   bound at {HERE}:{line + 1}",
        "    IA  injected into B.requires",
        "  help: a component starts after what it requires, so none of these can start "
        "first: remove one of the requirements, or move what they share into a component of "
        "its own",
    ])
    with pytest.raises(ComponentError) as info:
        c.component_registry.get_startup_order()
    assert str(info.value) == (
        f"cannot order the components: 1 problem in what they require\n\n{expected}"
    )
    with pytest.raises(ComponentError) as info:
        c.start_components()
    assert str(info.value).endswith(expected)
    assert info.value.path == ("a", "IB", "b", "IA", "a")
    assert c.list_components() == {"a": S.INITIALIZED, "b": S.INITIALIZED}


def test_a_component_that_requires_itself_is_a_cycle() -> None:
    """Requiring an interface the component provides itself is a cycle of one."""

    class Self(Component):
        provides = [ICache]
        requires = [ICache]

    c = ComponentContainer()
    c.register_component(Self)
    with pytest.raises(ComponentError, match=r"IQ002 cycle\]: component 'self' requires what "
                       r"it provides itself: self -> ICache -> self\n.*\n.*\n.*\n  help: remove "
                       r"it from requires: a component has its own services at hand"):
        c.start_components()


def test_every_problem_is_reported_at_once() -> None:
    """A missing requirement deep in an ordinary binding and an async requirement are
    reported together, each with its component."""

    class Store:
        def __init__(self, url: IDatabase) -> None:
            self.url = url

    class Token:
        pass

    async def make_token() -> Token:
        return Token()

    class NeedsStore(Component):
        requires = [Store]

    class NeedsToken(Component):
        requires = [Token]

    c = ComponentContainer()
    c.bind(Store, Store)
    c.bind_factory(Token, make_token)
    c.register_component(NeedsStore)
    c.register_component(NeedsToken)
    with pytest.raises(ComponentError) as info:
        c.start_components()
    text = str(info.value)
    store, token = Store.__qualname__, Token.__qualname__
    assert text.startswith("cannot start components 'needsstore', 'needstoken': 2 problems")
    assert f"component 'needsstore' cannot be built: {store} needs IDatabase, which is not " \
           "bound" in text
    assert f"chain: needsstore [component] -> {store} [singleton] -> IDatabase [unbound]" in text
    assert f"component 'needstoken' requires {token}, which needs an await; components are " \
           "created and started synchronously" in text
    assert [p.code for p in info.value.problems] == ["IQ001", "IQ005"]


def test_validate_reports_component_requirements_too() -> None:
    """Components are bindings of the container: validate() finds a missing requirement."""
    c = _app([], UserComponent)
    with pytest.raises(InjectQError, match=r"IQ001 missing-binding\]: UserComponent"
                       r"\[name='user'\] needs IDatabase, which is not bound"):
        c.validate()


# -- a failing start or stop ---------------------------------------------------------------


class Failing(Recording):
    """Fails to start (or stop) while ``fail`` is set."""

    fail_start = False
    fail_stop = False

    def start(self) -> None:
        super().start()
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")

    def stop(self) -> None:
        if self.fail_stop:
            raise RuntimeError(f"{self.name} cannot stop")
        super().stop()


class FailingUsers(Failing):
    name = "user"
    provides = [IUsers]
    requires = [IDatabase, ICache]


def test_a_failing_start_stops_again_what_this_call_started() -> None:
    """When a component fails to start, the components this call started are stopped
    again, newest first; the failed one keeps its state; the error names it, its path and
    what to do; fixing the cause and starting again works."""
    events: list[str] = []
    c = _app(events, OrderComponent, CacheComponent, DatabaseComponent)
    line = _line() + 1
    c.register_component(FailingUsers, configuration={"events": events, "fail_start": True})
    c.start_components(["cache"])  # started before: not this call's to stop
    events.clear()
    with pytest.raises(ComponentError) as info:
        c.start_components(["order"])
    assert str(info.value) == "\n".join([
        f"component 'user' (FailingUsers, registered at {HERE}:{line}) failed to start: "
        "RuntimeError: user cannot start",
        "  path: order -> user",
        "  stopped again: database (started by this call)",
        "  help: nothing this call started is left running; fix the cause and call "
        "start_components() again",
    ])
    assert isinstance(info.value.__cause__, RuntimeError)
    assert (info.value.component, info.value.path) == ("user", ("order", "user"))
    assert events == ["start database", "start user", "stop database"]
    assert c.list_components() == {
        "order": S.CONFIGURED, "cache": S.STARTED, "database": S.STOPPED, "user": S.CONFIGURED,
    }
    c.get_component("user").fail_start = False  # type: ignore[union-attr]
    c.start_components(["order"])
    assert set(c.list_components().values()) == {S.STARTED}


def test_a_failing_creation_starts_nothing() -> None:
    """A component whose configure() raises fails the call before anything starts."""

    class BadConfig(Recording):
        def configure(self, **kwargs: Any) -> None:
            super().configure(**kwargs)
            raise ValueError("bad url")

    events: list[str] = []
    c = _app(events, CacheComponent, BadConfig)
    with pytest.raises(ComponentError, match=r"component 'badconfig' .* could not be created: "
                       r"ValueError: bad url") as info:
        c.start_components()
    assert "while configuring component 'badconfig'" in "".join(
        info.value.__cause__.__notes__  # type: ignore[union-attr]
    )
    assert events == []
    assert c.get_component("badconfig") is None  # a later call creates it again


def test_a_failing_stop_still_stops_the_others() -> None:
    """Every component is stopped even when one fails; the failures are reported after,
    and the failed one is still started, so stopping again retries it."""
    events: list[str] = []
    c = _app(events, OrderComponent, CacheComponent, DatabaseComponent)
    c.register_component(FailingUsers, configuration={"events": events, "fail_stop": True})
    c.start_components()
    events.clear()
    with pytest.raises(ComponentError) as info:
        c.stop_components()
    assert str(info.value) == "\n".join([
        "1 component(s) failed to stop; every other one was stopped",
        "  'user': RuntimeError: user cannot stop",
        "  help: a component whose stop() failed is still marked started; fix the cause and "
        "stop it again",
    ])
    assert isinstance(info.value.__cause__, RuntimeError)
    assert events == ["stop order", "stop cache", "stop database"]
    assert c.list_components()["user"] is S.STARTED
    c.get_component("user").fail_stop = False  # type: ignore[union-attr]
    c.stop_components()
    assert set(c.list_components().values()) == {S.STOPPED}


def test_a_start_override_without_super_is_still_recorded() -> None:
    """A start()/stop() that does not call super() still moves the state: the container
    records the transition it made."""

    class Plain(Component):
        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

    c = ComponentContainer()
    c.register_component(Plain)
    c.start_components()
    assert c.get_component("plain").state is S.STARTED  # type: ignore[union-attr]
    c.stop_components()
    assert c.get_component("plain").state is S.STOPPED  # type: ignore[union-attr]


def test_a_destroyed_component_does_not_start_again() -> None:
    """A destroyed component is reported, and nothing starts."""
    events: list[str] = []
    c = _app(events, CacheComponent, DatabaseComponent)
    c.start_components()
    c.get_component("cache").destroy()  # type: ignore[union-attr]
    events.clear()
    c.stop_components()
    with pytest.raises(ComponentError, match=r"cannot start component 'cache': destroyed"):
        c.start_components()
    assert events == ["stop database"]


def test_override_blocks_do_not_rebuild_components() -> None:
    """A component is the container's, with a lifecycle: an override block of something it
    requires does not rebuild it (not even when the block creates it first, which would
    leave the replacement in it after the block); overriding the interface it provides
    replaces it in the block."""
    c = _app([], UserComponent, CacheComponent, DatabaseComponent)
    fake: Any = object()
    with c.override(IDatabase, fake):
        users = c.get(IUsers)
        assert users.resolve_dependency(IDatabase) is c.get_component("database")  # type: ignore[attr-defined]
        assert c.get(IDatabase) is fake
    assert c.get(IUsers) is users
    assert c.get(IDatabase) is c.get_component("database")
    with c.override(IUsers, fake):
        assert c.get(IUsers) is fake


# -- the container's own lifecycle -----------------------------------------------------------


def test_close_stops_components_before_finalizing_resources() -> None:
    """close() stops the started components first, then finalizes the container's
    resources, which the components may still use while they stop."""
    events: list[str] = []

    class Pool:
        pass

    def open_pool() -> Iterator[Pool]:
        yield Pool()
        events.append("pool closed")

    class UsesPool(Recording):
        requires = [Pool]

    c = _app(events, UsesPool)
    c.bind_factory(Pool, open_pool).singleton()
    with c:
        c.start_components()
    assert events == ["start usespool", "stop usespool", "pool closed"]


async def test_aclose_stops_components_too() -> None:
    """``async with`` / aclose() stops the components before finalizing."""
    events: list[str] = []
    c = _app(events, CacheComponent)
    async with c:
        c.start_components()
    assert events == ["start cache", "stop cache"]


def test_clear_destroys_components_and_forgets_their_bindings() -> None:
    """clear() stops and destroys every component and removes what it bound."""
    events: list[str] = []
    c = _app(events, CacheComponent, DatabaseComponent)
    c.start_components()
    cache = c.get_component("cache")
    c.component_registry.clear()
    assert cache is not None and cache.state is S.DESTROYED
    assert c.component_registry.list_components() == []
    assert not c.has(ICache) and len(c.registry) == 0
    c.register_component(CacheComponent, configuration={"events": events})  # anew
    assert c.get(ICache) is not cache


# -- thread safety --------------------------------------------------------------------------


def test_threads_starting_at_once_start_each_component_once() -> None:
    """Concurrent start_components() calls start every component exactly once."""
    events: list[str] = []
    c = _app(events, *ALL)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            c.start_components()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert events == ["start database", "start cache", "start user", "start order"]


def test_threads_creating_a_component_at_once_share_one() -> None:
    """Threads resolving the same interface for the first time get one component."""
    created: list[object] = []

    class Slow(Component):
        provides = [ICache]

        def configure(self, **kwargs: Any) -> None:
            super().configure(**kwargs)
            created.append(self)

    c = ComponentContainer()
    c.register_component(Slow)
    barrier = threading.Barrier(6)
    seen: list[object] = []

    def run() -> None:
        barrier.wait()
        seen.append(c.get(ICache))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(created) == 1
    assert all(s is created[0] for s in seen)


def test_direct_starts_race_to_one_transition() -> None:
    """Threads calling start() on one component: one succeeds, the others are told it is
    started already."""
    entered = threading.Event()
    release = threading.Event()

    class Blocking(Component):
        def start(self) -> None:
            super().start()
            entered.set()
            release.wait(5)

    comp = Blocking()
    comp.configure()
    outcomes: list[str] = []

    def run() -> None:
        try:
            comp.start()
            outcomes.append("started")
        except ComponentError:
            outcomes.append("refused")

    first = threading.Thread(target=run)
    first.start()
    entered.wait(5)
    others = [threading.Thread(target=run) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "started"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_components_another_thread_was_creating() -> None:
    """A fork while another thread is inside start_components() (creating a component)
    leaves the child free to start them: the registry's locks are fresh there and the
    creation under way is done again."""
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    class Slow(Recording):
        provides = [IDatabase]

        def configure(self, **kwargs: Any) -> None:
            super().configure(**kwargs)
            calls.append(1)
            if len(calls) == 1:  # only the first creation, in the parent's thread
                entered.set()
                release.wait(10)

    events: list[str] = []
    c = _app(events, Slow, UserComponent, CacheComponent)
    worker = threading.Thread(target=c.start_components)
    worker.start()
    assert entered.wait(10)
    try:
        with warnings.catch_warnings():  # 3.12+ warns about forking with threads
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 1
            try:
                signal.alarm(5)  # a deadlock ends the child
                c.start_components()
                code = 0 if events == ["start slow", "start cache", "start user"] else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    finally:
        release.set()
        worker.join(10)
    assert events == ["start slow", "start cache", "start user"]


# -- a component's own instances ------------------------------------------------------------


def test_component_scope_makes_each_instance_once_and_clears_newest_first() -> None:
    """ComponentScope.get creates once per key; destroy() finalizes what the component owns,
    newest first (components are destroyed, other objects stopped)."""
    events: list[str] = []

    class Handle:
        def __init__(self, name: str) -> None:
            self.name = name

        def stop(self) -> None:
            events.append(f"stop {self.name}")

    comp = Component()
    scope = comp.scope
    assert scope.name == "component:component" and scope is comp.scope
    first = scope.get("a", lambda: Handle("a"))
    assert scope.get("a", lambda: Handle("other")) is first
    scope.get("b", lambda: Handle("b"))
    child = scope.get("c", Component)
    child.configure()
    child.start()
    comp.destroy()
    assert events == ["stop b", "stop a"]
    assert child.state is S.DESTROYED
    assert comp.scope is not scope  # a fresh, empty one


def test_component_scope_clear_runs_every_finalizer() -> None:
    """A failing finalizer does not stop the others; failures are raised together."""
    scope = ComponentScope("x")
    events: list[str] = []

    class Breaks:
        def stop(self) -> None:
            raise RuntimeError("broken")

    class Fine:
        def destroy(self) -> None:
            events.append("destroyed")

    scope.get("fine", Fine)
    scope.get("breaks", Breaks)
    with pytest.raises(ResourceCleanupError) as info:
        scope.clear()
    assert events == ["destroyed"]
    assert [str(e) for e in info.value.exceptions] == ["broken"]


async def test_component_scope_aget_awaits_once() -> None:
    """aget awaits an async factory once, however many tasks ask at the same time."""
    scope = ComponentScope("x")
    calls: list[int] = []

    async def make() -> object:
        calls.append(1)
        await asyncio.sleep(0.01)
        return object()

    values = await asyncio.gather(*(scope.aget("k", make) for _ in range(5)))
    assert len(calls) == 1
    assert all(v is values[0] for v in values)


# -- a registry of its own, with a runtime or a generated container -------------------------


def test_a_registry_creates_components_for_any_container() -> None:
    """A standalone registry provides its components' interfaces to each other and takes
    the rest from the container it is given."""

    class Settings:
        url = "pg://"

    class Store(Recording):
        provides = [IDatabase]
        requires = [Settings]

    class Users(Recording):
        provides = [IUsers]
        requires = [IDatabase]

    events: list[str] = []
    registry = ComponentRegistry()
    registry.register(Users, configuration={"events": events})
    registry.register(Store, configuration={"events": events})
    c = InjectQ()
    c.bind_instance(Settings, Settings())
    users = registry.create_instance("users", c)
    assert users.resolve_dependency(IDatabase) is registry.get_instance("store")
    registry.start_components(c)
    assert events == ["start store", "start users"]
    assert registry.get_instance("store").resolve_dependency(Settings) is c.get(Settings)  # type: ignore[union-attr]
    registry.stop_components()
    assert events[2:] == ["stop users", "stop store"]


def test_a_registry_reports_what_its_container_lacks() -> None:
    """A requirement neither a component nor the container has is reported before start."""

    class Unknown(Protocol): ...

    class NeedsUnknown(Component):
        requires = [Unknown]

    registry = ComponentRegistry()
    registry.register(NeedsUnknown)
    assert registry.get_startup_order() == ["needsunknown"]  # no container: nothing to ask
    with pytest.raises(ComponentError, match=r"component 'needsunknown' requires .*Unknown, "
                       r"which no component provides and its container does not have"):
        registry.start_components(InjectQ())


GEN_FILES = {
    "compapp/__init__.py": "",
    "compapp/services.py": """
        from injectq import Module

        class Config:
            def __init__(self) -> None:
                self.url = "pg://wired"

        class Database:
            def __init__(self, config: Config) -> None:
                self.config = config

        class NotWired:
            pass

        class AppModule(Module):
            def configure(self) -> None:
                self.bind(Config, Config).singleton()
                self.bind(Database, Database).singleton()
    """,
}


def test_components_take_their_requirements_from_a_generated_wiring(codegen_env: Path) -> None:
    """A registry started against a container generated by injectq-gen resolves what its
    components require from the wiring, in dependency order; a requirement the wiring does
    not hold is reported before anything starts. (Components are run-time objects: the
    wiring holds the services, the registry the lifecycles.)"""
    make_project(codegen_env, GEN_FILES)
    wiring = build_wiring(["compapp.services:AppModule"])
    import compapp.services as services

    class Storage(Recording):
        provides = [IDatabase]
        requires = [services.Database]

    class Front(Recording):
        requires = [IDatabase, services.Config]

    class Orphan(Recording):
        requires = [services.NotWired]

    events: list[str] = []
    registry = ComponentRegistry()
    registry.register(Front, configuration={"events": events})
    registry.register(Storage, configuration={"events": events})
    registry.register(Orphan, configuration={"events": events}, auto_start=False)
    container = wiring.container
    registry.start_components(container)
    assert events == ["start storage", "start front"]
    storage = registry.get_instance("storage")
    assert storage is not None
    assert storage.resolve_dependency(services.Database) is container.get(services.Database)
    assert storage.resolve_dependency(services.Database).config.url == "pg://wired"
    with pytest.raises(ComponentError, match=r"component 'orphan' requires NotWired, which no "
                       r"component provides and its container does not have"):
        registry.start_components(container, ["orphan"])
    registry.stop_components()
    assert events[2:] == ["stop front", "stop storage"]
