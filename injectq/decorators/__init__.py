"""InjectQ 0.5.0's ``injectq.decorators``: injection, registration and resource
decorators; each the same object ``injectq`` exports.

0.5.0's older submodule paths keep working (``from injectq.decorators.inject import
Inject``, ``from injectq.decorators.resource import ResourceError``, and
``injectq.decorators.singleton``). They are registered in ``sys.modules`` only, never
set on this package, so ``injectq.decorators.inject`` stays the function, not a module;
``inject.pyi`` and its siblings give type checkers the same paths.
"""

from __future__ import annotations

import sys

from injectq.decorators import _inject
from injectq.model.markers import Inject
from injectq.runtime import decorators as _registration
from injectq.runtime import resources as _resources
from injectq.runtime.decorators import register_as, scoped, singleton, transient
from injectq.runtime.inject import inject
from injectq.runtime.resources import (
    async_managed_resource,
    get_resource_manager,
    managed_resource,
    resource,
)

for _path, _module in (("inject", _inject), ("singleton", _registration),
                       ("resource", _resources)):
    sys.modules.setdefault(f"{__name__}.{_path}", _module)
del _path, _module

__all__ = [
    # injection
    "inject",
    "Inject",
    # registration
    "singleton",
    "transient",
    "scoped",
    "register_as",
    # resources
    "resource",
    "managed_resource",
    "async_managed_resource",
    "get_resource_manager",
]
