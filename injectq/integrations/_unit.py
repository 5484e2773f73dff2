"""A unit of work per outermost call, for the integrations whose units are calls (a CLI
command's callback, a task): the call runs in a scope of its own with the container
current, and a decorated call made from inside another one runs in that one's scope."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from injectq.runtime.interface import set_current

__all__ = ["Units"]

R = TypeVar("R")


class Units:
    """The units of work of one integration; ``run`` is how each decorated call runs."""

    def __init__(self, name: str) -> None:
        # the container whose scope a decorated call running in this context opened
        self._serving: contextvars.ContextVar[Any] = contextvars.ContextVar(name, default=None)

    def run(self, container: Any, scope_name: str, call: Callable[[], R]) -> R:
        """``call()`` inside its own ``container.scope(scope_name)``, the container
        current, or in the scope of the decorated call of the same container it is made
        from. What ``call`` raises reaches the scope's resources, then the caller."""
        if self._serving.get() is container:
            return call()
        token = self._serving.set(container)
        current = set_current(container)
        try:
            with container.scope(scope_name):
                return call()
        finally:
            current.var.reset(current)
            self._serving.reset(token)
