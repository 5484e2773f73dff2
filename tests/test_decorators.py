"""Class decorators (``injectq.runtime.decorators``): ``@singleton``, ``@transient``, ``@scoped`` and
``register_as`` bind the class as soon as it is defined, into ``container=``, the current
context container, or the global one.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from typing import assert_type

import pytest

from injectq import (
    BindingError,
    ContainerContext,
    InjectQ,
    ScopeError,
    register_as,
    scoped,
    singleton,
    transient,
)
from injectq.model.binding import Lifetime

HERE = os.path.relpath(__file__) if not os.path.relpath(__file__).startswith("..") else __file__


class Notifier:
    def notify(self) -> str:
        raise NotImplementedError


class DecoDb:
    pass


class DecoRepo:
    def __init__(self, db: DecoDb) -> None:
        self.db = db


@pytest.fixture
def c() -> InjectQ:
    return InjectQ()


@pytest.fixture(autouse=True)
def isolated_global() -> Iterator[None]:
    """No context container during a test; the global container is restored after."""
    saved = InjectQ._instance
    current = ContainerContext.get_current()
    ContainerContext.clear_current()
    try:
        yield
    finally:
        InjectQ._instance = saved
        ContainerContext.set_current(current)


# -- @singleton -------------------------------------------------------------------------------


def test_singleton_with_container(c: InjectQ) -> None:
    """@singleton(container=c) binds the class to itself as a singleton in c."""

    @singleton(container=c)
    class Service:
        pass

    assert c.has(Service)
    assert c.get(Service) is c.get(Service)
    binding = c.registry.get(Service)
    assert binding is not None and binding.lifetime is Lifetime.SINGLETON


def test_singleton_returns_class_unchanged(c: InjectQ) -> None:
    """The decorator returns the very class it was given."""

    class Service:
        pass

    assert singleton(Service, c) is Service
    assert Service.__init__ is object.__init__


def test_singleton_positional_container(c: InjectQ) -> None:
    """singleton(Cls, c) is the 0.5.0 call form."""

    class Service:
        pass

    singleton(Service, c)
    assert c.get(Service) is c.get(Service)


def test_singleton_bare_uses_global() -> None:
    """Bare @singleton registers into InjectQ.get_instance() when no context is active."""
    with InjectQ.test_mode() as tc:
        ContainerContext.clear_current()  # only the global remains

        @singleton
        class Service:
            pass

        assert InjectQ.get_instance() is tc
        assert tc.has(Service)
    assert not InjectQ.get_instance().has(Service)


def test_singleton_bare_uses_context(c: InjectQ) -> None:
    """Bare @singleton registers into the current context container."""
    with InjectQ.test_mode() as tc, c.context():

        @singleton
        class Service:
            pass

    assert c.has(Service)
    assert not tc.has(Service)


def test_singleton_dependencies_injected(c: InjectQ) -> None:
    """A decorated class's constructor dependencies are injected."""

    singleton(DecoDb, c)
    singleton(DecoRepo, c)
    assert c.get(DecoRepo).db is c.get(DecoDb)


def test_singleton_rejects_non_class(c: InjectQ) -> None:
    """@singleton on a function is a BindingError."""
    with pytest.raises(BindingError, match="decorates a class"):
        singleton(lambda: None, c)  # type: ignore[type-var]


# -- @transient -------------------------------------------------------------------------------


def test_transient_with_container(c: InjectQ) -> None:
    """@transient(container=c) binds the class as transient: a new instance per get."""

    @transient(container=c)
    class Handler:
        pass

    assert c.get(Handler) is not c.get(Handler)
    binding = c.registry.get(Handler)
    assert binding is not None and binding.lifetime is Lifetime.TRANSIENT


def test_transient_bare_in_test_mode() -> None:
    """Bare @transient inside test_mode() registers into the test container only."""
    outer = InjectQ.get_instance()
    with InjectQ.test_mode() as tc:

        @transient
        class Handler:
            pass

        assert tc.has(Handler)
        assert tc.get(Handler) is not tc.get(Handler)
    assert not outer.has(Handler)


def test_transient_rejects_non_class(c: InjectQ) -> None:
    """@transient on a non-class is a BindingError."""
    with pytest.raises(BindingError):
        transient(42, c)  # type: ignore[type-var]


# -- @scoped -------------------------------------------------------------------------------


def test_scoped_request(c: InjectQ) -> None:
    """@scoped("request") gives one instance per open request scope."""

    @scoped("request", container=c)
    class RequestCtx:
        pass

    binding = c.registry.get(RequestCtx)
    assert binding is not None
    assert binding.lifetime is Lifetime.SCOPED and binding.scope == "request"
    with c.scope("request"):
        first = c.get(RequestCtx)
        assert c.get(RequestCtx) is first
    with c.scope("request"):
        assert c.get(RequestCtx) is not first
    with pytest.raises(ScopeError):
        c.get(RequestCtx)


def test_scoped_action(c: InjectQ) -> None:
    """@scoped("action") binds to the action scope."""

    @scoped("action", container=c)
    class ActionCtx:
        pass

    with c.scope("request"), c.scope("action"):
        assert c.get(ActionCtx) is c.get(ActionCtx)


def test_scoped_default_is_request(c: InjectQ) -> None:
    """@scoped() with no name is request-scoped."""

    @scoped(container=c)
    class RequestCtx:
        pass

    binding = c.registry.get(RequestCtx)
    assert binding is not None and binding.scope == "request"


def test_scoped_singleton_name(c: InjectQ) -> None:
    """@scoped("singleton") is a singleton."""

    @scoped("singleton", container=c)
    class Shared:
        pass

    assert c.get(Shared) is c.get(Shared)


def test_scoped_without_parentheses_is_request_scoped(c: InjectQ) -> None:
    """@scoped applied to the class directly is @scoped("request") (0.5.0's docs write it
    so), with the type of the class kept for type checkers."""

    with c.context():

        @scoped
        class Bare:
            pass

    assert_type(Bare(), Bare)
    with c.scope("request"):
        one = c.get(Bare)
        assert c.get(Bare) is one
    with c.scope("request"):
        assert c.get(Bare) is not one
    with pytest.raises(ScopeError, match="request"):
        c.get(Bare)


def test_scoped_unknown_scope_reported(c: InjectQ) -> None:
    """@scoped("session") binds, and validate() reports the unknown scope (IQ009)."""

    @scoped("session", container=c)
    class Sess:
        pass

    assert [p.code for p in c.check()] == ["IQ009"]


def test_scoped_global_in_test_mode() -> None:
    """Bare @scoped inside test_mode() registers into the test container."""
    with InjectQ.test_mode() as tc:

        @scoped("request")
        class RequestCtx:
            pass

        with tc.scope():
            assert tc.get(RequestCtx) is tc.get(RequestCtx)


# -- register_as -------------------------------------------------------------------------------


def test_register_as_container(c: InjectQ) -> None:
    """register_as(Key, container=c) binds Key to the decorated class (singleton default)."""

    @register_as(Notifier, container=c)
    class EmailNotifier(Notifier):
        def notify(self) -> str:
            return "email"

    assert c.get(Notifier).notify() == "email"
    assert c.get(Notifier) is c.get(Notifier)
    assert not c.has(EmailNotifier)


def test_register_as_scope(c: InjectQ) -> None:
    """register_as(Key, scope="transient") honours the scope."""

    @register_as(Notifier, scope="transient", container=c)
    class SmsNotifier(Notifier):
        pass

    assert c.get(Notifier) is not c.get(Notifier)


def test_register_as_string_key(c: InjectQ) -> None:
    """register_as accepts a string key."""

    @register_as("notifier", container=c)
    class PushNotifier(Notifier):
        pass

    assert isinstance(c.get("notifier"), PushNotifier)


def test_register_as_current_context(c: InjectQ) -> None:
    """register_as with no container= binds into the current context container."""
    with c.context():

        @register_as(Notifier)
        class EmailNotifier(Notifier):
            pass

    assert isinstance(c.get(Notifier), EmailNotifier)


def test_register_as_global() -> None:
    """register_as with no container= and no context binds into the global container."""
    with InjectQ.test_mode() as tc:
        ContainerContext.clear_current()

        @register_as(Notifier)
        class EmailNotifier(Notifier):
            pass

        assert isinstance(InjectQ.get_instance().get(Notifier), EmailNotifier)
        assert tc.has(Notifier)
    assert not InjectQ.get_instance().has(Notifier)


def test_register_as_abstract_rejected(c: InjectQ) -> None:
    """register_as on an abstract class is a BindingError, at decoration time."""
    import abc

    with pytest.raises(BindingError, match="abstract"):

        @register_as(Notifier, container=c)
        class Half(Notifier, abc.ABC):
            @abc.abstractmethod
            def other(self) -> None: ...


def test_register_as_rejects_non_class(c: InjectQ) -> None:
    """register_as on a function is a BindingError."""
    with pytest.raises(BindingError, match="decorates a class"):
        register_as(Notifier, container=c)(lambda: None)  # type: ignore[arg-type]


# -- bind sites -------------------------------------------------------------------------------


def test_decorator_bind_site_is_user_code(c: InjectQ) -> None:
    """A decorator's binding points at the decorated class in this file, not at injectq."""
    start = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]

    @singleton(container=c)
    class Service:
        pass

    binding = c.registry.get(Service)
    assert binding is not None
    file, line = binding.site.rsplit(":", 1)
    assert file == HERE
    assert start <= int(line) <= start + 1


def test_decorator_allow_override_false() -> None:
    """Decorating two classes for one key on a strict container raises AlreadyRegisteredError."""
    from injectq import AlreadyRegisteredError

    strict = InjectQ(allow_override=False)

    @register_as(Notifier, container=strict)
    class A(Notifier):
        pass

    with pytest.raises(AlreadyRegisteredError):

        @register_as(Notifier, container=strict)
        class B(Notifier):
            pass
