"""InjectQ 0.5.0's path ``injectq.decorators.inject``, as type checkers and readers see it.

At run time this file is not executed: the package puts ``injectq.decorators._inject``
in ``sys.modules`` under this name first (see ``injectq/decorators/__init__.py``), so
importing the path never replaces the package's ``inject`` function with a module.
"""

from injectq.decorators._inject import Inject, inject

__all__ = ["Inject", "inject"]
