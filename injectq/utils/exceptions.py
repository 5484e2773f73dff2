"""InjectQ 0.5.0's import path of its exceptions (``from injectq.utils.exceptions import
DependencyNotFoundError``): the same classes as ``injectq`` exports."""

from __future__ import annotations

from injectq.errors import (
    BindingError,
    CircularDependencyError,
    DependencyNotFoundError,
    InjectionError,
    InjectQError,
    ScopeError,
)
from injectq.model.registry import AlreadyRegisteredError

__all__ = [
    "AlreadyRegisteredError",
    "BindingError",
    "CircularDependencyError",
    "DependencyNotFoundError",
    "InjectQError",
    "InjectionError",
    "ScopeError",
]
