"""``load_container``: the generated wiring in production, the runtime container as the
development fallback, chosen in one place.

Imports the standard library and injectq's runtime only (never injectq_codegen).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from injectq.errors import InjectQError
from injectq.runtime.container import InjectQ
from injectq.wiring import GeneratedContainer

__all__ = ["load_container"]

log = logging.getLogger("injectq")


def load_container(
    wiring: str,
    modules: Iterable[Any] | Callable[[], Iterable[Any]],
    *,
    runtime: bool = False,
    validate: bool = True,
) -> InjectQ | GeneratedContainer:
    """The ``container`` of the generated module ``wiring`` (e.g. ``"app._wiring"``), or,
    when that module does not exist or ``runtime`` is true, a runtime ``InjectQ`` with
    ``modules`` installed (validated unless ``validate=False``: every problem raised at
    once as a GraphValidationError).

    ``modules`` may be a callable returning them, so that nothing is constructed when the
    generated wiring is used. A missing wiring is logged (warning, logger ``injectq``)
    with the command that builds it; any other error importing it propagates: a wiring
    that exists but fails to import is a bug to see, not to fall back from.
    """
    if not runtime:
        try:
            module = importlib.import_module(wiring)
        except ModuleNotFoundError as exc:
            if exc.name != wiring:
                raise  # the wiring exists; something it imports does not
            log.warning(
                "%s not found (build it with `injectq-gen build`): using the runtime "
                "container", wiring,
            )
        else:
            container = getattr(module, "container", None)
            if not isinstance(container, GeneratedContainer):
                raise InjectQError(
                    f"{wiring} has no generated `container`: is it a module written by "
                    "injectq-gen? Rebuild it with `injectq-gen build`"
                )
            return container
    runtime_container = InjectQ()
    for module_obj in modules() if callable(modules) else modules:
        runtime_container.install(module_obj)
    if validate:
        runtime_container.validate()
    return runtime_container
