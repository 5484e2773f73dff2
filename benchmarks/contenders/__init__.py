"""One adapter module per contender. Each defines ``ROWS`` (row label -> variant key),
``version()``, and ``make(variant)`` returning an object with the case methods
``a, b3, b10, c, d, e, f`` (each returns a ``harness.Op`` or raises ``NotSupported``) and
``startup(graph_module)`` (register, validate and resolve every node of the graph in one
scope; returns ``{index: instance}``)."""

from __future__ import annotations

# module name -> extra sys.path entry (relative to benchmarks/) put first in the worker
CONTENDERS: dict[str, str | None] = {
    "hand": None,
    "injectq_runtime": None,
    "injectq_gen": None,
    "injectq050": ".peers/injectq050",
    "dependency_injector": None,
    "dishka": None,
    "wireup": None,
    "diwire": None,
    "rodi": None,
    "that_depends": None,
    "modern_di": None,
    "lagom": None,
    "punq": None,
    "injector": None,
    "svcs": None,
}
