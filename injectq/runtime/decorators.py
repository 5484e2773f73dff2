"""Class decorators that register a class in a container as soon as it is defined.

``@singleton``, ``@transient``, ``@scoped("request")`` and ``register_as(Key)`` bind into
``container=`` if given, else the current container, else ``InjectQ.get_instance()``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from injectq.errors import BindingError
from injectq.model.arguments import check_key, hashable, scope_text
from injectq.model.binding import bind_site
from injectq.model.markers import as_plain_str

__all__ = ["register_as", "scoped", "singleton", "transient"]

C = TypeVar("C", bound=type)


def _target(container: Any) -> Any:
    from injectq.runtime.inject import current_container

    return container if container is not None else current_container()


def _register(cls: Any, key: Any, scope: str, container: Any, what: str) -> None:
    if not inspect.isclass(cls):
        raise BindingError(f"@{what} decorates a class, got {cls!r}")
    _target(container).bind(key, cls, scope, _site=bind_site())


@overload
def singleton(cls: C, container: Any = None) -> C: ...
@overload
def singleton(cls: None = None, container: Any = None) -> Callable[[C], C]: ...


def singleton(cls: C | None = None, container: Any = None) -> C | Callable[[C], C]:
    """Register the class as a singleton (``@singleton`` or ``@singleton(container=c)``)."""
    return _lifetime_decorator(cls, container, "singleton")


@overload
def transient(cls: C, container: Any = None) -> C: ...
@overload
def transient(cls: None = None, container: Any = None) -> Callable[[C], C]: ...


def transient(cls: C | None = None, container: Any = None) -> C | Callable[[C], C]:
    """Register the class as transient: a new instance per resolution."""
    return _lifetime_decorator(cls, container, "transient")


def _lifetime_decorator(cls: C | None, container: Any, lifetime: str) -> C | Callable[[C], C]:
    def decorate(c: C) -> C:
        _register(c, c, lifetime, container, lifetime)
        return c

    return decorate if cls is None else decorate(cls)


@overload
def scoped(scope_name: C, container: Any = None) -> C: ...
@overload
def scoped(scope_name: str = "request", container: Any = None) -> Callable[[C], C]: ...


def scoped(scope_name: Any = "request", container: Any = None) -> Any:
    """Register the class as scoped to ``scope_name``: ``@scoped("request")``. Written
    bare, ``@scoped`` is ``@scoped("request")`` (InjectQ 0.5.0's documentation writes it
    so; 0.5.0 itself then registered nothing)."""
    if inspect.isclass(scope_name):
        cls: Any = scope_name
        _register(cls, cls, "request", container, "scoped")
        return cls
    if as_plain_str(scope_name) is None:  # told at the decorator's line, not the class's
        scope_text(scope_name, "@scoped()", bind_site())

    def decorate(cls: C) -> C:
        _register(cls, cls, scope_name, container, "scoped")
        return cls

    return decorate


def register_as(
    service_type: Any, scope: str = "singleton", container: Any = None
) -> Callable[[C], C]:
    """Register the decorated class as the implementation of ``service_type``."""
    if as_plain_str(scope) is None or not hashable(service_type):
        site = bind_site()
        check_key(service_type, "@register_as()", site)
        scope_text(scope, "@register_as()", site)

    def decorate(cls: C) -> C:
        _register(cls, service_type, scope, container, "register_as")
        return cls

    return decorate
