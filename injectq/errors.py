"""The error hierarchy and the structured problems the graph checks report.

Every error raised by injectq derives from ``InjectQError``. Errors carry data (the key,
the dependency path, the problems) and render it in ``__str__``; nothing here imports
the rest of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AsyncResolutionError",
    "BindingError",
    "CircularDependencyError",
    "DependencyNotFoundError",
    "GraphValidationError",
    "InjectQError",
    "InjectionError",
    "PathLink",
    "Problem",
    "ResourceCleanupError",
    "ResourceError",
    "ScopeError",
]


@dataclass(frozen=True)
class PathLink:
    """One step of a dependency path: a key, its lifetime label and where it was declared."""

    label: str
    lifetime: str = ""
    site: str = ""
    via: str = ""  # how the previous link asks for this one, e.g. "UserService.__init__(db)"

    def render(self) -> str:
        return f"{self.label} [{self.lifetime}]" if self.lifetime else self.label


@dataclass(frozen=True)
class Problem:
    """One finding of the graph checks: a stable code, a message, the path and a fix."""

    code: str
    name: str
    message: str
    site: str = ""
    chain: tuple[PathLink, ...] = ()
    help: str = ""
    severity: str = "error"
    key: str = ""
    extra: tuple[str, ...] = field(default=())

    def render(self) -> str:
        head = f"{self.site}: " if self.site else ""
        lines = [f"{head}{self.severity}[{self.code} {self.name}]: {self.message}"]
        if self.chain:
            lines.append("  chain: " + " -> ".join(link.render() for link in self.chain))
            width = max(len(link.label) for link in self.chain)
            seen: set[str] = set()
            for link in self.chain:
                if link.label in seen:
                    continue
                seen.add(link.label)
                if link.via:
                    lines.append(f"    {link.label:<{width}}  injected into {link.via}")
                if link.site:
                    lines.append(f"    {link.label:<{width}}  bound at {link.site}")
        lines.extend(f"  {line}" for line in self.extra)
        if self.help:
            lines.append(f"  help: {self.help}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "message": self.message,
            "key": self.key,
            "site": self.site,
            "chain": [
                {"key": link.label, "lifetime": link.lifetime, "site": link.site, "via": link.via}
                for link in self.chain
            ],
            "help": self.help,
        }


def _label(key: Any) -> str:
    """A key as messages show it (``display_key`` without importing the model here)."""
    return getattr(key, "__qualname__", None) or repr(key)


class InjectQError(Exception):
    """Base class of every error raised by injectq."""


class BindingError(InjectQError):
    """A binding cannot be registered as written."""


class ScopeError(InjectQError):
    """A scope is missing, unknown, or used in the wrong way."""


class InjectionError(InjectQError):
    """A function decorated with ``@inject`` could not receive its dependencies."""


class FactoryCallError(InjectionError, TypeError):
    """``call_factory()`` (or a function ``get_factory()`` returned) was given arguments
    that do not fit the factory's parameters.

    Also a ``TypeError``, as calling the function with them would have raised one. Carries
    the key, the parameter at fault (None for too many positional arguments) and where the
    factory was bound.
    """

    def __init__(
        self, message: str, *, key: Any = None, parameter: str | None = None, site: str = ""
    ) -> None:
        super().__init__(message)
        self.key = key
        self.parameter = parameter
        self.site = site


class _ProblemError(InjectQError):
    """An error that wraps one graph problem and renders it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render())
        self.problem = problem

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def path(self) -> tuple[PathLink, ...]:
        return self.problem.chain


class DependencyNotFoundError(_ProblemError):
    """A key has no binding and cannot be auto-wired."""

    dependency_type: Any = None  # the missing key (InjectQ 0.5.0 attribute)

    def __init__(self, problem: Problem | Any) -> None:
        """``problem``: the finding of the checks, a message, or (as InjectQ 0.5.0 code
        raises it) the key that is missing."""
        if isinstance(problem, str):
            problem = Problem("IQ001", "missing-binding", problem, key=problem)
        elif not isinstance(problem, Problem):
            key, label = problem, _label(problem)
            problem = Problem("IQ001", "missing-binding", f"no binding for {label}", key=label)
            self.dependency_type = key
        super().__init__(problem)


class CircularDependencyError(_ProblemError):
    """Bindings depend on each other in a cycle that no ``Lazy`` edge breaks."""

    dependency_chain: list[Any] = []  # noqa: RUF012 - 0.5.0 attribute, replaced per error

    def __init__(self, problem: Problem | str | Sequence[Any]) -> None:
        """``problem``: the finding of the checks, a message, or (as InjectQ 0.5.0 code
        raises it) the keys of the cycle in order."""
        if isinstance(problem, str):
            problem = Problem("IQ002", "circular-dependency", problem)
        elif not isinstance(problem, Problem):
            chain = list(problem)
            shown = " -> ".join(_label(k) for k in chain)
            problem = Problem("IQ002", "circular-dependency", f"circular dependency: {shown}")
            self.dependency_chain = chain
        super().__init__(problem)


class AsyncResolutionError(_ProblemError):
    """A synchronous ``get`` reached something that needs ``await``: use ``aget``."""


class GraphValidationError(InjectQError):
    """``validate()`` found problems; all of them are listed, each with its code."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        errors = sum(1 for p in self.problems if p.severity == "error")
        body = "\n\n".join(p.render() for p in self.problems)
        super().__init__(f"dependency graph has {errors} error(s):\n\n{body}")

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class AutowireWarning(UserWarning):
    """The runtime container built a class nothing binds and no binding reaches: a
    generated wiring does not contain it unless it is given as a root."""


class ResourceError(InjectQError):
    """A resource could not be opened or closed (InjectQ 0.5.0's resource manager), or,
    as ``ResourceCleanupError``, finalizers failed while a container or scope closed."""


class ResourceCleanupError(ExceptionGroup[Exception], ResourceError):
    """One or more resource finalizers failed; every finalizer still ran."""


def problem_error(problem: Problem) -> InjectQError:
    """The exception type that stands for one problem raised at resolution time."""
    if problem.code == "IQ002":
        return CircularDependencyError(problem)
    if problem.code == "IQ005":
        return AsyncResolutionError(problem)
    if problem.code == "IQ009":
        return ScopeError(problem.render())
    if problem.code in {"IQ001", "IQ006"}:
        return DependencyNotFoundError(problem)
    return GraphValidationError([problem])
