"""InjectQ 0.5.0's ``injectq.core``: the container, its context, the binder Modules
receive and the scope names (each the same object ``injectq`` exports), and 0.5.0's
machinery as views of a container's own:

- ``ServiceRegistry(container)`` / ``ServiceBinding``: its bindings, in 0.5.0's terms;
- ``DependencyResolver(registry)``: ``resolve`` / ``aresolve`` through ``container.get``;
- ``ScopeManager`` / ``AsyncScopeManager`` (``get_scope_manager``,
  ``create_enhanced_scope_manager``): its scopes, opened with ``container.scope(name)``;
- ``AsyncScope`` / ``HybridScope``: stand-alone scope objects, one instance table per
  context;
- ``HybridLock``, ``ThreadSafeDict``, ``AsyncSafeCounter``, ``thread_safe``: locking that
  threads and asyncio tasks share.
"""

from __future__ import annotations

from injectq.core._concurrency import AsyncSafeCounter, HybridLock, ThreadSafeDict, thread_safe
from injectq.core._registry import DependencyResolver, ServiceBinding, ServiceRegistry
from injectq.core._scopes import (
    AsyncScope,
    AsyncScopeManager,
    BaseScopeManager,
    HybridScope,
    ScopeManager,
    create_enhanced_scope_manager,
    get_scope_manager,
)
from injectq.model.binding import ScopeType
from injectq.model.module import ModuleBinder
from injectq.runtime.container import ContainerContext, InjectQ
from injectq.utils.types import Scope

__all__ = [
    "AsyncSafeCounter",
    "AsyncScope",
    "AsyncScopeManager",
    "BaseScopeManager",
    "ContainerContext",
    "DependencyResolver",
    "HybridLock",
    "HybridScope",
    "InjectQ",
    "ModuleBinder",
    "Scope",
    "ScopeManager",
    "ScopeType",
    "ServiceBinding",
    "ServiceRegistry",
    "ThreadSafeDict",
    "create_enhanced_scope_manager",
    "get_scope_manager",
    "thread_safe",
]
