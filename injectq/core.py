"""InjectQ 0.5.0's ``injectq.core``: the container, its context, the binder Modules
receive, and the scope names; each the same object ``injectq`` exports.

0.5.0's internal machinery (its registry, resolver, scope managers, locks) has no
counterpart here: the containers hold their own, and scopes are opened with
``container.scope(name)`` and declared with ``container.declare_scope(name, parent)``.
"""

from __future__ import annotations

from injectq.model.binding import ScopeType
from injectq.model.module import ModuleBinder
from injectq.runtime.container import ContainerContext, InjectQ
from injectq.utils.types import Scope

__all__ = ["ContainerContext", "InjectQ", "ModuleBinder", "Scope", "ScopeType"]
