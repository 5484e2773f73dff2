"""injectq: dependency injection with a static wiring compiler.

Describe the graph in ``Module`` classes, develop against the runtime container
``InjectQ``, and ship the wiring ``injectq-gen`` compiles from the same Modules.
"""

from __future__ import annotations

from injectq.errors import (
    AsyncResolutionError,
    AutowireWarning,
    BindingError,
    CircularDependencyError,
    DependencyNotFoundError,
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

__version__ = "0.6.0.dev0"

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
    "ScopeError",
    "AlreadyRegisteredError",
    "AsyncResolutionError",
    "GraphValidationError",
    "ResourceCleanupError",
    "Problem",
    "__version__",
]
