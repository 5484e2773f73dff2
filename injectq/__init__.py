"""injectq: dependency injection with a static wiring compiler.

Describe the graph in ``Module`` classes, develop against the runtime container
``InjectQ``, and ship the wiring ``injectq-gen`` compiles from the same Modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from injectq.errors import (
    AsyncResolutionError,
    AutowireWarning,
    BindingError,
    CircularDependencyError,
    DependencyNotFoundError,
    FactoryCallError,
    GraphValidationError,
    InjectionError,
    InjectQError,
    Problem,
    ResourceCleanupError,
    ScopeError,
)
from injectq.loading import load_container
from injectq.model.binding import BindingBuilder, Lifetime, ScopeType
from injectq.model.markers import Inject, Lazy, Named
from injectq.model.module import (
    ConfigurationModule,
    Module,
    ModuleBinder,
    ProviderModule,
    SimpleModule,
    provider,
)
from injectq.model.registry import AlreadyRegisteredError
from injectq.runtime.container import ContainerContext, InjectQ
from injectq.runtime.decorators import register_as, scoped, singleton, transient
from injectq.runtime.inject import inject
from injectq.runtime.resources import (
    async_managed_resource,
    get_resource_manager,
    managed_resource,
    resource,
)
from injectq.utils.logging import logger
from injectq.utils.protocols import (
    AsyncFactory,
    AsyncProvider,
    AsyncResourceProvider,
    Configurable,
    Factory,
    Injectable,
    Provider,
    Resolvable,
    ResourceProvider,
    ScopeAware,
)
from injectq.utils.types import Scope, ServiceFactory, ServiceKey

if TYPE_CHECKING:  # imported on first use (see __getattr__): most programs use none
    from injectq import testing
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
    from injectq.diagnostics import (
        DependencyProfiler,
        DependencyValidator,
        DependencyVisualizer,
    )

__version__ = "0.6.0.dev0"

# name -> the module that defines it, imported when the name is first read: the
# diagnostics, components and the pytest helpers cost import time nobody else pays
_LAZY = {
    **dict.fromkeys(
        (
            "Component", "ComponentBinding", "ComponentContainer", "ComponentError",
            "ComponentInterface", "ComponentRegistry", "ComponentScope", "ComponentState",
        ),
        "injectq.components",
    ),
    **dict.fromkeys(
        ("DependencyProfiler", "DependencyValidator", "DependencyVisualizer"),
        "injectq.diagnostics",
    ),
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "testing":
        return importlib.import_module("injectq.testing")
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'injectq' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    # containers
    "InjectQ",
    "ContainerContext",
    "load_container",
    # modules
    "Module",
    "ModuleBinder",
    "SimpleModule",
    "ProviderModule",
    "ConfigurationModule",
    "provider",
    "BindingBuilder",
    # injection
    "inject",
    "Inject",
    "Lazy",
    "Named",
    "singleton",
    "transient",
    "scoped",
    "register_as",
    "Lifetime",
    "ScopeType",
    # errors
    "InjectQError",
    "AutowireWarning",
    "DependencyNotFoundError",
    "CircularDependencyError",
    "BindingError",
    "InjectionError",
    "FactoryCallError",
    "ScopeError",
    "AlreadyRegisteredError",
    "AsyncResolutionError",
    "GraphValidationError",
    "ResourceCleanupError",
    "Problem",
    # resources
    "resource",
    "managed_resource",
    "async_managed_resource",
    "get_resource_manager",
    # types and protocols
    "ServiceKey",
    "ServiceFactory",
    "Scope",
    "Injectable",
    "Provider",
    "AsyncProvider",
    "Factory",
    "AsyncFactory",
    "ResourceProvider",
    "AsyncResourceProvider",
    "Resolvable",
    "ScopeAware",
    "Configurable",
    # components
    "Component",
    "ComponentBinding",
    "ComponentContainer",
    "ComponentError",
    "ComponentInterface",
    "ComponentRegistry",
    "ComponentScope",
    "ComponentState",
    # diagnostics
    "DependencyProfiler",
    "DependencyValidator",
    "DependencyVisualizer",
    # the rest
    "logger",
    "testing",
    "__version__",
]
