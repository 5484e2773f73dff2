"""``Lazy[T]``: a handle that resolves ``T`` on first call, and the cycles it may break."""

from __future__ import annotations

import asyncio
import threading

import pytest

from injectq import CircularDependencyError, GraphValidationError, InjectQ, Lazy


class Expensive:
    created = 0

    def __init__(self) -> None:
        type(self).created += 1


class UsesLazy:
    def __init__(self, dep: Lazy[Expensive]) -> None:
        self.dep = dep


# A -> Lazy[B], B -> A: a cycle broken by a Lazy edge
class LazyA:
    def __init__(self, b: Lazy[LazyB]) -> None:
        self.b = b


class LazyB:
    def __init__(self, a: LazyA) -> None:
        self.a = a


# A -> B -> A: a plain cycle
class PlainA:
    def __init__(self, b: PlainB) -> None:
        self.b = b


class PlainB:
    def __init__(self, a: PlainA) -> None:
        self.a = a


@pytest.fixture(autouse=True)
def _reset_counter() -> None:
    Expensive.created = 0


def test_lazy_parameter_receives_an_unresolved_handle() -> None:
    """A ``Lazy[T]`` parameter gets a ``Lazy`` handle; ``T`` is not built yet."""
    c = InjectQ()
    c.bind(Expensive, Expensive).singleton()
    user = c.get(UsesLazy)
    assert isinstance(user.dep, Lazy)
    assert not user.dep.resolved
    assert Expensive.created == 0
    assert "Expensive" in repr(user.dep)
    assert "unresolved" in repr(user.dep)


def test_calling_the_handle_resolves_on_first_call_only() -> None:
    """The first call resolves ``T``; later calls return the same object without resolving."""
    c = InjectQ()
    c.bind(Expensive, Expensive).transient()
    handle = c.get(UsesLazy).dep
    first = handle()
    assert isinstance(first, Expensive)
    assert handle.resolved
    assert handle() is first
    assert handle() is first
    assert Expensive.created == 1


def test_each_resolution_gets_its_own_handle_for_transients() -> None:
    """Two instances of the dependent get distinct handles, so a transient ``T`` differs."""
    c = InjectQ()
    c.bind(Expensive, Expensive).transient()
    assert c.get(UsesLazy).dep() is not c.get(UsesLazy).dep()


def test_lazy_singleton_target_is_the_container_singleton() -> None:
    """A handle to a singleton returns the container's one instance."""
    c = InjectQ()
    c.bind(Expensive, Expensive).singleton()
    handle = c.get(UsesLazy).dep
    assert handle() is c.get(Expensive)


def test_lazy_to_an_autowired_class() -> None:
    """A ``Lazy`` edge to an unbound concrete class auto-wires it on call."""
    c = InjectQ()
    assert isinstance(c.get(UsesLazy).dep(), Expensive)


def test_lazy_handle_resolves_in_the_scope_open_at_call_time() -> None:
    """A handle to a scoped key resolves it when called, inside the scope open then."""
    c = InjectQ()
    c.bind(Expensive, Expensive).scoped("request")
    c.bind(UsesLazy, UsesLazy).transient()
    with c.scope():
        user = c.get(UsesLazy)
        assert user.dep() is c.get(Expensive)


def test_lazy_handle_called_concurrently_resolves_once() -> None:
    """Many threads calling one fresh handle all get the one object it resolves."""
    c = InjectQ()
    c.bind(Expensive, Expensive).transient()
    handle = c.get(UsesLazy).dep
    n = 16
    barrier = threading.Barrier(n, timeout=5)
    out: list[Expensive] = []
    lock = threading.Lock()

    def work() -> None:
        barrier.wait()
        v = handle()
        with lock:
            out.append(v)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert not any(t.is_alive() for t in threads)
    assert len(out) == n
    assert len({id(v) for v in out}) == 1
    assert Expensive.created == 1


# -- async ---------------------------------------------------------------------------------


async def test_await_handle_aget_resolves_async_target() -> None:
    """``await handle.aget()`` resolves an async-factory target; later calls return it."""

    async def make() -> Expensive:
        await asyncio.sleep(0)
        return Expensive()

    c = InjectQ()
    c.bind_factory(Expensive, make)
    user = await c.aget(UsesLazy)
    assert not user.dep.resolved
    value = await user.dep.aget()
    assert isinstance(value, Expensive)
    assert await user.dep.aget() is value
    assert user.dep() is value  # once resolved, the sync call returns it too
    assert Expensive.created == 1


async def test_lazy_edge_to_async_target_does_not_make_dependent_async() -> None:
    """A class with a ``Lazy`` edge to an async binding is itself resolvable by ``get``."""

    async def make() -> Expensive:
        return Expensive()

    c = InjectQ()
    c.bind_factory(Expensive, make).singleton()
    user = c.get(UsesLazy)
    assert await user.dep.aget() is await c.aget(Expensive)


async def test_sync_call_of_handle_to_async_target_raises() -> None:
    """Calling a handle whose target needs an await raises, pointing at ``aget``."""
    from injectq import AsyncResolutionError

    async def make() -> Expensive:
        return Expensive()

    c = InjectQ()
    c.bind_factory(Expensive, make).singleton()
    handle = c.get(UsesLazy).dep
    with pytest.raises(AsyncResolutionError, match="aget"):
        handle()
    assert not handle.resolved


async def test_handle_aget_on_sync_target() -> None:
    """``await handle.aget()`` works for sync targets too, sharing the call's result."""
    c = InjectQ()
    c.bind(Expensive, Expensive).transient()
    handle = c.get(UsesLazy).dep
    value = await handle.aget()
    assert handle() is value


# -- cycles ------------------------------------------------------------------------------------


def test_cycle_through_lazy_edge_is_allowed() -> None:
    """``A -> Lazy[B]``, ``B -> A`` resolves: B is built only when the handle is called."""
    c = InjectQ()
    c.bind(LazyA, LazyA).singleton()
    c.bind(LazyB, LazyB).singleton()
    a = c.get(LazyA)
    b = a.b()
    assert isinstance(b, LazyB)
    assert b.a is a
    assert c.get(LazyB) is b


def test_cycle_through_lazy_edge_passes_validation() -> None:
    """``validate()`` accepts a cycle that a ``Lazy`` edge breaks."""
    c = InjectQ()
    c.bind(LazyA, LazyA).singleton()
    c.bind(LazyB, LazyB).singleton()
    assert c.validate() == []


def test_cycle_through_lazy_edge_resolved_from_the_other_side() -> None:
    """Resolving B first (B -> A -> Lazy[B]) works and the handle returns that B."""
    c = InjectQ()
    c.bind(LazyA, LazyA).singleton()
    c.bind(LazyB, LazyB).singleton()
    b = c.get(LazyB)
    assert b.a.b() is b


async def test_cycle_through_lazy_edge_with_aget() -> None:
    """The Lazy-broken cycle resolves through ``aget`` and ``handle.aget()`` as well."""
    c = InjectQ()
    c.bind(LazyA, LazyA).singleton()
    c.bind(LazyB, LazyB).singleton()
    a = await c.aget(LazyA)
    b = await a.b.aget()
    assert b.a is a


def test_plain_cycle_raises_circular_dependency_error() -> None:
    """``A -> B -> A`` without a ``Lazy`` edge raises ``CircularDependencyError`` with the path."""
    c = InjectQ()
    c.bind(PlainA, PlainA).singleton()
    c.bind(PlainB, PlainB).singleton()
    with pytest.raises(CircularDependencyError) as info:
        c.get(PlainA)
    text = str(info.value)
    assert "PlainA" in text and "PlainB" in text
    assert "Lazy" in text  # the help says how to break it
    assert info.value.code == "IQ002"


def test_plain_cycle_of_autowired_classes_raises() -> None:
    """The plain cycle is detected for auto-wired (unbound) classes too."""
    with pytest.raises(CircularDependencyError):
        InjectQ().get(PlainB)


def test_plain_cycle_fails_validation_with_cycle_code() -> None:
    """``validate()`` reports the plain cycle as IQ002."""
    c = InjectQ()
    c.bind(PlainA, PlainA).singleton()
    c.bind(PlainB, PlainB).singleton()
    with pytest.raises(GraphValidationError) as info:
        c.validate()
    assert "IQ002" in info.value.codes


class ReentrantA:
    def __init__(self, b: Lazy[ReentrantB]) -> None:
        self.b = b


class ReentrantB:
    """Calls, while being built, the very handle that is building it."""

    def __init__(self, a: ReentrantA) -> None:
        a.b()


@pytest.mark.parametrize("lifetime", ["singleton", "transient"])
def test_handle_called_from_inside_its_own_resolution_raises_not_deadlocks(
    lifetime: str,
) -> None:
    """Calling a handle from inside the construction it triggered raises a cycle error."""
    c = InjectQ()
    c.bind(ReentrantA, ReentrantA).singleton()
    c.bind(ReentrantB, ReentrantB, scope=lifetime)
    handle = c.get(ReentrantA).b
    errors: list[BaseException] = []

    def call() -> None:
        try:
            handle()
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=call, daemon=True)  # a deadlock must not hang the suite
    t.start()
    t.join(5)
    assert not t.is_alive(), "Lazy handle deadlocked on re-entry"
    assert len(errors) == 1
    assert isinstance(errors[0], CircularDependencyError)
    assert not handle.resolved
