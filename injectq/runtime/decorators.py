"""Class decorators that register a class in a container as soon as it is defined.

``@singleton``, ``@transient``, ``@scoped("request")`` and ``register_as(Key)`` bind into
``container=`` if given, else the current container, else ``InjectQ.get_instance()``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from injectq.errors import BindingError
from injectq.model.binding import bind_site

__all__ = ["register_as", "scoped", "singleton", "transient"]

C = TypeVar("C", bound=type)


def _target(container: Any) -> Any:
    from injectq.runtime.inject import current_container

    return container if container is not None else current_container()


def _register(cls: Any, key: Any, scope: str, container: Any, what: str) -> None:
    if not inspect.isclass(cls):
        raise BindingError(f"@{what} decorates a class, got {cls!r}")
    _target(container).bind(key, cls, scope, _site=bind_site())


def singleton(cls: C | None = None, container: Any = None) -> Any:
    """Register the class as a singleton (``@singleton`` or ``@singleton(container=c)``)."""
    if cls is None:
        return lambda c: singleton(c, container)
    _register(cls, cls, "singleton", container, "singleton")
    return cls


def transient(cls: C | None = None, container: Any = None) -> Any:
    """Register the class as transient: a new instance per resolution."""
    if cls is None:
        return lambda c: transient(c, container)
    _register(cls, cls, "transient", container, "transient")
    return cls


def scoped(scope_name: str = "request", container: Any = None) -> Callable[[C], C]:
    """Register the class as scoped to ``scope_name``: ``@scoped("request")``."""
    if inspect.isclass(scope_name):
        raise BindingError('@scoped takes the scope name: write @scoped("request")')

    def decorate(cls: C) -> C:
        _register(cls, cls, scope_name, container, "scoped")
        return cls

    return decorate


def register_as(
    service_type: Any, scope: str = "singleton", container: Any = None
) -> Callable[[C], C]:
    """Register the decorated class as the implementation of ``service_type``."""

    def decorate(cls: C) -> C:
        _register(cls, service_type, scope, container, "register_as")
        return cls

    return decorate
