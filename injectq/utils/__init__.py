"""InjectQ 0.5.0's ``injectq.utils``: its exceptions, its type aliases and protocols, and
``logger``, each the same object ``injectq`` exports; and its helper functions.

The helpers that read signatures and type hints (``get_function_dependencies``,
``normalize_type``...) answer with the containers' own reading, so what they report is
what a container injects. ``ThreadLocalStorage`` is kept for code that uses it; injectq's
scopes live in context variables.
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
from injectq.utils.helpers import (
    ThreadLocalStorage,
    get_class_constructor_dependencies,
    get_function_dependencies,
    is_injectable_class,
    is_injectable_function,
    safe_issubclass,
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
from injectq.utils.types import (
    BindingDict,
    ServiceFactory,
    ServiceInstance,
    ServiceKey,
    format_type_name,
    get_type_name,
    is_concrete_type,
    is_generic_type,
    normalize_type,
)

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
    # helpers
    "ThreadLocalStorage",
    "format_type_name",
    "get_class_constructor_dependencies",
    "get_function_dependencies",
    "get_type_name",
    "is_concrete_type",
    "is_generic_type",
    "is_injectable_class",
    "is_injectable_function",
    "normalize_type",
    "safe_issubclass",
]
