"""InjectQ 0.5.0's path ``injectq.decorators.resource``, as type checkers and readers
see it.

At run time this file is not executed: the package puts ``injectq.runtime.resources``
in ``sys.modules`` under this name first (see ``injectq/decorators/__init__.py``), so
importing the path never replaces the package's ``resource`` function with a module.
"""

from injectq.runtime.resources import (
    AsyncResourceLifecycle,
    ResourceError,
    ResourceLifecycle,
    ResourceManager,
    SyncResourceLifecycle,
    async_managed_resource,
    get_resource_manager,
    managed_resource,
    resource,
)

__all__ = [
    "AsyncResourceLifecycle",
    "ResourceError",
    "ResourceLifecycle",
    "ResourceManager",
    "SyncResourceLifecycle",
    "async_managed_resource",
    "get_resource_manager",
    "managed_resource",
    "resource",
]
