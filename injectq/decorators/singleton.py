"""InjectQ 0.5.0's path ``injectq.decorators.singleton``, as type checkers and readers
see it.

At run time this file is not executed: the package puts ``injectq.runtime.decorators``
in ``sys.modules`` under this name first (see ``injectq/decorators/__init__.py``), so
importing the path never replaces the package's ``singleton`` function with a module.
"""

from injectq.runtime.decorators import register_as, scoped, singleton, transient

__all__ = ["register_as", "scoped", "singleton", "transient"]
