"""What InjectQ 0.5.0's ``injectq.decorators.inject`` held, for that import path."""

from __future__ import annotations

from injectq.model.markers import Inject
from injectq.runtime.inject import inject

__all__ = ["Inject", "inject"]
