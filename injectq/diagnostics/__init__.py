"""Diagnostics: validate a container's graph, show it, and profile resolution.

``DependencyValidator`` reports the graph checks' problems as a ``ValidationResult``,
``DependencyVisualizer`` renders the graph (DOT, mermaid, JSON, text), and
``DependencyProfiler`` times the lookups made while it is active. Each works with the
runtime ``InjectQ`` and with a generated container.
"""

from __future__ import annotations

from injectq.diagnostics.profiling import (
    AggregatedMetrics,
    DependencyProfiler,
    ProfilingError,
    ResolutionMetrics,
    get_global_profiler,
    profile_method,
    profile_resolution,
)
from injectq.diagnostics.validation import (
    DependencyValidator,
    InvalidBindingError,
    MissingDependencyError,
    TypeMismatchError,
    ValidationError,
    ValidationResult,
)
from injectq.diagnostics.visualization import DependencyVisualizer, VisualizationError

__all__ = [
    "DependencyProfiler",
    "DependencyValidator",
    "DependencyVisualizer",
    # results
    "ValidationResult",
    "ResolutionMetrics",
    "AggregatedMetrics",
    # errors
    "ValidationError",
    "MissingDependencyError",
    "InvalidBindingError",
    "TypeMismatchError",
    "VisualizationError",
    "ProfilingError",
    # the process-wide profiler
    "get_global_profiler",
    "profile_method",
    "profile_resolution",
]
