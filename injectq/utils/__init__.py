"""InjectQ 0.5.0's ``injectq.utils``: its exceptions, its type aliases and protocols, and
``logger``; each the same object ``injectq`` exports.

0.5.0's helper functions (signature readers, type-name formatting, thread-local storage)
are not here: injectq reads signatures in one place of its own, and keeps scope state in
context variables.
"""

from __future__ import annotations

from injectq.utils.exceptions import (
    AlreadyRegisteredError,
    BindingError,
    CircularDependencyError,
    DependencyNotFoundError,
    InjectionError,
    InjectQError,
    ScopeError,
)
from injectq.utils.logging import logger
from injectq.utils.protocols import (
    AnyFactory,
    AnyProvider,
    AnyResourceProvider,
    AsyncFactory,
    AsyncProvider,
    AsyncResourceProvider,
    Configurable,
    Factory,
    Injectable,
    InjectableAsyncFunction,
    InjectableCallable,
    InjectableFunction,
    Provider,
    Resolvable,
    ResourceProvider,
    ScopeAware,
)
from injectq.utils.types import BindingDict, ServiceFactory, ServiceInstance, ServiceKey

__all__ = [
    # exceptions
    "InjectQError",
    "AlreadyRegisteredError",
    "BindingError",
    "CircularDependencyError",
    "DependencyNotFoundError",
    "InjectionError",
    "ScopeError",
    # logging
    "logger",
    # protocols
    "Injectable",
    "Provider",
    "AsyncProvider",
    "AnyProvider",
    "Factory",
    "AsyncFactory",
    "AnyFactory",
    "ResourceProvider",
    "AsyncResourceProvider",
    "AnyResourceProvider",
    "Resolvable",
    "Configurable",
    "ScopeAware",
    "InjectableFunction",
    "InjectableAsyncFunction",
    "InjectableCallable",
    # type aliases
    "ServiceKey",
    "ServiceFactory",
    "ServiceInstance",
    "BindingDict",
]
