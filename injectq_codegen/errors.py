"""Errors of injectq-gen, each mapped to an exit code by the CLI.

2: usage or import errors (the targets could not be loaded); 1: the graph has problems or
the output is stale; 3: an internal error (a bug in injectq-gen, never the user's fault).
"""

from __future__ import annotations

from collections.abc import Sequence

from injectq.errors import InjectQError, Problem

__all__ = ["CodegenError", "GraphProblems", "InternalError", "UsageError"]


class CodegenError(InjectQError):
    exit_code = 2


class UsageError(CodegenError):
    """Bad arguments, a target that cannot be imported, an output that cannot be written."""

    exit_code = 2


class GraphProblems(CodegenError):
    """The graph has errors; every problem is listed."""

    exit_code = 1

    def __init__(
        self, problems: Sequence[Problem], *, bindings: int | None = None, roots: int = 0
    ) -> None:
        self.problems = tuple(problems)
        self.bindings = bindings  # for the CLI's summary line
        self.roots = roots
        super().__init__(f"{len(self.problems)} problem(s)")


class InternalError(CodegenError):
    """The generated source failed its own checks: a bug in injectq-gen."""

    exit_code = 3
