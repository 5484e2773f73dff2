"""``DependencyValidator``: the container's graph checks as a ``ValidationResult``.

The problems are the ones ``container.check()`` reports (missing binding, cycle, captive
lifetime, ...), each with its code, dependency path and the places the bindings were
declared; the result sorts them into errors and warnings (the InjectQ 0.5.0 API).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from injectq.diagnostics._source import checked_container, cycles, problems_of, view_of
from injectq.errors import InjectQError, PathLink, Problem
from injectq.model.markers import Key

__all__ = [
    "DependencyValidator",
    "InvalidBindingError",
    "MissingDependencyError",
    "TypeMismatchError",
    "ValidationError",
    "ValidationResult",
]


class ValidationError(InjectQError):
    """One problem validation found; ``problem`` holds its code, path and bind sites."""

    def __init__(self, problem: Problem | str) -> None:
        if isinstance(problem, str):
            super().__init__(problem)
            self.problem: Problem | None = None
        else:
            super().__init__(problem.render())
            self.problem = problem

    @property
    def code(self) -> str:
        """The problem's code (``IQ001``...), empty for a message without one."""
        return self.problem.code if self.problem is not None else ""

    @property
    def path(self) -> tuple[PathLink, ...]:
        """The dependency path to the problem, from the binding that needs it."""
        return self.problem.chain if self.problem is not None else ()


class MissingDependencyError(ValidationError):
    """Something a binding needs cannot be resolved (IQ001, IQ006)."""


class InvalidBindingError(ValidationError):
    """A binding cannot be used as declared (IQ004 duplicate, IQ007, IQ009 unknown scope)."""


class TypeMismatchError(ValidationError):
    """A key is bound to something that is not of its type (IQ010)."""


_ERROR_TYPES: dict[str, type[ValidationError]] = {
    "IQ001": MissingDependencyError,
    "IQ006": MissingDependencyError,  # get() raises DependencyNotFoundError for it too
    "IQ004": InvalidBindingError,
    "IQ007": InvalidBindingError,
    "IQ009": InvalidBindingError,
    "IQ010": TypeMismatchError,
}


def error_for(problem: Problem) -> ValidationError:
    """The exception that stands for one problem in a ``ValidationResult``."""
    return _ERROR_TYPES.get(problem.code, ValidationError)(problem)


class ValidationResult:
    """What validation found: ``errors`` make the graph fail, ``warnings`` do not."""

    def __init__(
        self,
        errors: Sequence[Exception] | None = None,
        warnings: Sequence[Exception] | None = None,
    ) -> None:
        self.errors: list[Exception] = list(errors or ())
        self.warnings: list[Exception] = list(warnings or ())

    @property
    def is_valid(self) -> bool:
        """No errors (warnings allowed)."""
        return not self.errors

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings)

    def __str__(self) -> str:
        lines = ["Validation passed" if self.is_valid else "Validation failed"]
        for title, items in (("Errors", self.errors), ("Warnings", self.warnings)):
            if not items:
                continue
            lines.append(f"\n{title} ({len(items)}):")
            for i, item in enumerate(items, 1):
                first, *rest = str(item).splitlines() or [""]
                head = f"  {i}. "
                lines.append(head + first)
                lines.extend(" " * len(head) + line for line in rest)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ValidationResult(errors={len(self.errors)}, warnings={len(self.warnings)})"


class DependencyValidator:
    """Checks a container's whole dependency graph before anything is resolved.

    ``validate()`` reports every problem at once, with the codes, paths and bind sites
    ``container.validate()`` gives, as a ``ValidationResult``::

        result = DependencyValidator(container).validate()
        if not result.is_valid:
            for error in result.errors:
                print(error)

    Works with the runtime ``InjectQ`` and with a generated container (whose graph was
    checked when it was generated).
    """

    def __init__(self, container: Any = None) -> None:
        self.container: Any = None
        if container is not None:
            self.set_container(container)

    def set_container(self, container: Any) -> None:
        """Validate ``container`` from now on."""
        self.container = checked_container(container, "DependencyValidator")

    def _require(self) -> Any:
        if self.container is None:
            raise _no_container()
        return self.container

    def validate(self, roots: Iterable[Any] = ()) -> ValidationResult:
        """Every problem of the graph, sorted into errors and warnings.

        ``roots`` (keys or ``@inject`` functions) are the entry points, as in
        ``container.validate(roots)``: they are checked too, and bindings none of them
        reaches are reported as unused (a warning).
        """
        if self.container is None:
            return ValidationResult(errors=[_no_container()])
        result = ValidationResult()
        for problem in problems_of(self.container, roots):
            target = result.errors if problem.severity == "error" else result.warnings
            target.append(error_for(problem))
        return result

    def get_dependency_graph(self) -> dict[Key, set[Key]]:
        """Each key of the graph with the keys it depends on (bound or auto-wired)."""
        return {key: set(deps) for key, deps in self._edges().items()}

    def _edges(self) -> dict[Key, list[Key]]:
        view = view_of(self._require())
        keys = {n.id: n.key for n in view.nodes}
        edges: dict[Key, list[Key]] = {n.key: [] for n in view.nodes}
        for e in view.edges:
            edges[keys[e.source]].append(keys[e.target])
        return edges

    def get_dependency_chain(self, service_key: Key) -> list[Key]:
        """``service_key`` and everything it reaches, each once, depth first in parameter
        order."""
        edges = self._edges()
        chain: list[Key] = []
        seen: set[Key] = set()
        stack = [service_key]
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            chain.append(key)
            stack.extend(reversed(edges.get(key, ())))
        return chain

    def find_potential_cycles(self) -> list[list[Key]]:
        """The cycles that make resolution fail (a ``Lazy`` edge breaks one), each as
        its keys from its first member on; one per group of bindings that depend on
        each other."""
        return [cycle[:-1] for cycle in cycles(view_of(self._require()))]


def _no_container() -> ValidationError:
    return ValidationError(
        "no container to validate: pass one, DependencyValidator(container), or call "
        "set_container(container)"
    )
