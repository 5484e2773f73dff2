"""``logger``: the standard library logger named ``injectq`` that the library logs to.

It is silent unless the application configures logging: a library adds only a
``NullHandler``. To see its records::

    import logging
    from injectq import logger

    logger.addHandler(logging.StreamHandler())
    logger.setLevel(logging.DEBUG)
"""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("injectq")
if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):  # once per process
    logger.addHandler(logging.NullHandler())
