"""``DependencyProfiler``: how often each key is resolved, how long that takes, and
whether the instance came from a cache.

While a profiler is active, every lookup of both containers is timed: ``get``, ``aget``
and all that goes through them (``container[key]``, ``try_get``, ``@inject``, ``Lazy``),
from any thread or task. The containers' methods are wrapped only then: when no profiler
is active, their own methods are in place again and a lookup costs what it did before.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import inspect
import os
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from injectq.diagnostics._source import one_line
from injectq.errors import InjectQError
from injectq.model.markers import Key, display_key, make_key
from injectq.model.recipe import Source
from injectq.runtime import forking
from injectq.runtime.creation import MISSING

__all__ = [
    "AggregatedMetrics",
    "DependencyProfiler",
    "ProfilingError",
    "ResolutionMetrics",
    "get_global_profiler",
    "profile_method",
    "profile_resolution",
]

F = TypeVar("F", bound=Callable[..., Any])


class ProfilingError(InjectQError):
    """A profiling operation cannot be done as asked."""


@dataclass
class ResolutionMetrics:
    """One resolution of a key.

    ``resolution_time`` is in seconds and includes creating what the key needs;
    ``cache_hit``: the instance already existed (a created singleton, or a scoped instance
    of the open scope); ``dependency_count``: the dependencies its binding injects;
    ``stack_depth`` (with ``enable_stack_tracing``): how many profiled resolutions
    enclose this one (a factory that resolves another key); ``failed``: it raised.
    """

    service_type: Key
    resolution_time: float
    cache_hit: bool
    dependency_count: int
    stack_depth: int
    timestamp: float = field(default_factory=time.time)
    failed: bool = False


@dataclass
class AggregatedMetrics:
    """The resolutions of one key, summed up."""

    service_type: Key
    total_resolutions: int = 0
    total_time: float = 0.0
    average_time: float = 0.0
    min_time: float = float("inf")
    max_time: float = 0.0
    cache_hit_rate: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    failures: int = 0

    def update(self, metrics: ResolutionMetrics) -> None:
        """Add one resolution."""
        self.total_resolutions += 1
        self.total_time += metrics.resolution_time
        self.average_time = self.total_time / self.total_resolutions
        self.min_time = min(self.min_time, metrics.resolution_time)
        self.max_time = max(self.max_time, metrics.resolution_time)
        if metrics.cache_hit:
            self.cache_hits += 1
        else:
            self.cache_misses += 1
        if metrics.failed:
            self.failures += 1
        self.cache_hit_rate = self.cache_hits / self.total_resolutions


class DependencyProfiler:
    """Records the resolutions made while it is active, and reports on them.

    ::

        with DependencyProfiler() as profiler:
            service = container.get(UserService)
        print(profiler.report())

    ``start()``/``stop()`` do the same as the ``with`` block (``start`` clears what an
    earlier session recorded). ``@profiler.profile_method`` and ``profile_resolution(name)``
    record a function call or a block of your own under a name. Several profilers may be
    active at once; each records what happens while it is.
    """

    def __init__(self, enable_stack_tracing: bool = False) -> None:
        self._enable_stack_tracing = enable_stack_tracing
        self._metrics: list[ResolutionMetrics] = []
        self._aggregated: dict[Key, AggregatedMetrics] = {}
        self._is_active = False
        self._lock = threading.RLock()

    # -- session ------------------------------------------------------------------------
    def __enter__(self) -> DependencyProfiler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Clear what was recorded and record from now on."""
        with self._lock:
            self._metrics.clear()
            self._aggregated.clear()
            self._is_active = True
        _activate(self)

    def stop(self) -> None:
        """Stop recording (what was recorded stays until ``start`` or ``reset``)."""
        with self._lock:
            self._is_active = False
        _deactivate(self)

    def is_active(self) -> bool:
        return self._is_active

    @property
    def stack_tracing(self) -> bool:
        """Whether ``stack_depth`` is recorded (``enable_stack_tracing``)."""
        return self._enable_stack_tracing

    def reset(self) -> None:
        """Forget what was recorded (recording goes on if active)."""
        with self._lock:
            self._metrics.clear()
            self._aggregated.clear()

    # -- recording ----------------------------------------------------------------------
    def record(self, metrics: ResolutionMetrics) -> None:
        """Add one resolution (while active; what the lookups and ``end_resolution``
        call)."""
        with self._lock:
            if not self._is_active:
                return
            self._metrics.append(metrics)
            aggregated = self._aggregated.get(metrics.service_type)
            if aggregated is None:
                aggregated = self._aggregated[metrics.service_type] = AggregatedMetrics(
                    metrics.service_type
                )
            aggregated.update(metrics)

    def begin_resolution(self, service_type: Key) -> None:
        """Mark the start of a resolution you time yourself (in this thread or task)."""
        if self._is_active:
            entry = (id(self), service_type, time.perf_counter(), time.time())
            _manual.set((*_manual.get(), entry))

    def end_resolution(self, service_type: Key, cache_hit: bool = False) -> None:
        """Record the resolution ``begin_resolution(service_type)`` started in this thread
        or task (the latest one, when they nest); without one, nothing is recorded."""
        end = time.perf_counter()
        stack = _manual.get()
        for i in range(len(stack) - 1, -1, -1):
            owner, key, start, stamp = stack[i]
            if owner == id(self) and key == service_type:
                _manual.set(stack[:i] + stack[i + 1:])
                depth = 0
                if self._enable_stack_tracing:
                    depth = sum(1 for entry in stack[:i] if entry[0] == id(self))
                self.record(
                    ResolutionMetrics(service_type, end - start, cache_hit, 0, depth, stamp)
                )
                return

    @contextlib.contextmanager
    def profile_resolution(
        self, service_type: Key, cache_hit: bool = False
    ) -> Generator[None, None, None]:
        """Record the block as one resolution of ``service_type``."""
        self.begin_resolution(service_type)
        try:
            yield
        finally:
            self.end_resolution(service_type, cache_hit)

    def profile_method(self, func: F) -> F:
        """Record each call of ``func`` (sync or async) under ``module.qualname``."""
        name = f"{func.__module__}.{func.__qualname__}"
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                with self.profile_resolution(name):
                    return await func(*args, **kwargs)

            return cast(F, awrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.profile_resolution(name):
                return func(*args, **kwargs)

        return cast(F, wrapper)

    # -- results ------------------------------------------------------------------------
    def get_metrics(self) -> list[ResolutionMetrics]:
        """Every recorded resolution, in the order they ended."""
        with self._lock:
            return list(self._metrics)

    def get_aggregated_metrics(self) -> dict[Key, AggregatedMetrics]:
        """The resolutions of each key, summed up (a copy: later ones are not added)."""
        with self._lock:
            return {k: dataclasses.replace(v) for k, v in self._aggregated.items()}

    def get_slowest_resolutions(self, limit: int = 10) -> list[ResolutionMetrics]:
        with self._lock:
            return sorted(self._metrics, key=lambda m: m.resolution_time, reverse=True)[:limit]

    def get_most_resolved(self, limit: int = 10) -> list[AggregatedMetrics]:
        aggregated = self.get_aggregated_metrics()
        return sorted(aggregated.values(), key=lambda m: m.total_resolutions, reverse=True)[
            :limit
        ]

    def get_cache_performance(self) -> dict[str, float]:
        """``hit_rate`` (0 to 1), ``hits`` and ``misses`` over every resolution."""
        with self._lock:
            hits = sum(1 for m in self._metrics if m.cache_hit)
            total = len(self._metrics)
        return {"hit_rate": hits / total if total else 0.0, "hits": hits, "misses": total - hits}

    def get_timing_statistics(self) -> dict[str, float]:
        """Total, average, median, min, max and standard deviation of the resolution
        times, in seconds; empty when nothing was recorded."""
        import statistics

        with self._lock:
            times = [m.resolution_time for m in self._metrics]
        if not times:
            return {}
        return {
            "total_time": sum(times),
            "average_time": statistics.mean(times),
            "median_time": statistics.median(times),
            "min_time": min(times),
            "max_time": max(times),
            "std_dev": statistics.stdev(times) if len(times) > 1 else 0.0,
        }

    def get_stats(self) -> dict[str, Any]:
        """Everything at once: ``total_resolutions``, ``failures``, ``timing``
        (``get_timing_statistics``), ``cache`` (``get_cache_performance``) and ``services``
        (``get_aggregated_metrics``)."""
        with self._lock:
            return {
                "total_resolutions": len(self._metrics),
                "failures": sum(1 for m in self._metrics if m.failed),
                "timing": self.get_timing_statistics(),
                "cache": self.get_cache_performance(),
                "services": self.get_aggregated_metrics(),
            }

    def report(self, detailed: bool = False) -> str:
        """A text report: overall figures, the slowest resolutions and the most resolved
        keys; ``detailed`` adds every key's figures."""
        with self._lock:
            if not self._metrics:
                return (
                    "No profiling data available: nothing was resolved while the profiler "
                    "was active (resolve inside `with DependencyProfiler() as profiler:`, "
                    "or between start() and stop())."
                )
            timing = self.get_timing_statistics()
            cache = self.get_cache_performance()
            failures = sum(1 for m in self._metrics if m.failed)
            lines = [
                "=== InjectQ Dependency Profiling Report ===",
                "",
                "Overall Statistics:",
                f"  Total resolutions: {len(self._metrics)}",
                f"  Total time: {_duration(timing['total_time'])}",
                f"  Average time: {_duration(timing['average_time'])}",
                f"  Median time: {_duration(timing['median_time'])}",
                f"  Cache hit rate: {cache['hit_rate']:.2%}",
            ]
            if failures:
                lines.append(f"  Failed resolutions: {failures}")
            lines += ["", "Slowest Resolutions:"]
            for i, m in enumerate(self.get_slowest_resolutions(5), 1):
                failed = " (failed)" if m.failed else ""
                lines.append(
                    f"  {i}. {_label(m.service_type)} - {_duration(m.resolution_time)}{failed}"
                )
            lines += ["", "Most Frequently Resolved:"]
            for i, a in enumerate(self.get_most_resolved(5), 1):
                times = "time" if a.total_resolutions == 1 else "times"
                lines.append(f"  {i}. {_label(a.service_type)} - {a.total_resolutions} {times}")
            if detailed:
                lines += ["", "Detailed Service Metrics:"]
                for a in sorted(self._aggregated.values(), key=lambda a: _label(a.service_type)):
                    lines += [
                        f"  {_label(a.service_type)}:",
                        f"    Resolutions: {a.total_resolutions}",
                        f"    Total time: {_duration(a.total_time)}",
                        f"    Average time: {_duration(a.average_time)}",
                        f"    Min/Max time: {_duration(a.min_time)} / {_duration(a.max_time)}",
                        f"    Cache hit rate: {a.cache_hit_rate:.2%}",
                    ]
                    if a.failures:
                        lines.append(f"    Failed: {a.failures}")
            return "\n".join(lines)

    def export_csv(self, filename: str | os.PathLike[str]) -> None:
        """Every recorded resolution as a CSV row (UTF-8); keys are written as labels."""
        import csv
        from pathlib import Path

        with Path(filename).open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(
                ["service_type", "resolution_time", "cache_hit", "dependency_count",
                 "stack_depth", "timestamp", "failed"]
            )
            for m in self.get_metrics():
                writer.writerow(
                    [display_key(m.service_type), m.resolution_time, m.cache_hit,
                     m.dependency_count, m.stack_depth, m.timestamp, m.failed]
                )

    def export_json(self, filename: str | os.PathLike[str]) -> None:
        """The statistics, each key's figures and every resolution as JSON (UTF-8)."""
        import json
        from pathlib import Path

        metrics = self.get_metrics()
        data = {
            "timing_statistics": self.get_timing_statistics(),
            "cache_performance": self.get_cache_performance(),
            "aggregated_metrics": {
                display_key(a.service_type): {
                    **dataclasses.asdict(a), "service_type": display_key(a.service_type),
                }
                for a in self.get_aggregated_metrics().values()
            },
            "detailed_metrics": [
                {**dataclasses.asdict(m), "service_type": display_key(m.service_type)}
                for m in metrics
            ],
        }
        Path(filename).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _label(key: Key) -> str:
    return one_line(display_key(key))


def _duration(seconds: float) -> str:
    """A resolution time a reader can compare: microseconds, milliseconds or seconds."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f}us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f}ms"
    return f"{seconds:.3f}s"


# -- the lookups of both containers, wrapped while a profiler is active -------------------
@dataclass(frozen=True, slots=True)
class _Request:
    """A profiled lookup under way (the innermost one of its thread or task)."""

    container: Any
    key: Any
    depth: int
    hit: bool
    deps: int


_lock = threading.Lock()
_active: tuple[DependencyProfiler, ...] = ()
_saved: list[tuple[type, str, Any]] = []  # (class, method name, its own method)
_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar(
    "injectq_profiled_lookup", default=None
)
# begin_resolution() marks not yet ended: (profiler id, key, perf_counter, time)
_manual: contextvars.ContextVar[tuple[tuple[int, Any, float, float], ...]] = (
    contextvars.ContextVar("injectq_profiled_marks", default=())
)


def _activate(profiler: DependencyProfiler) -> None:
    global _active  # noqa: PLW0603 - one set of wrapped methods for the process
    with _lock:
        if profiler in _active:
            return
        first = not _active
        if first:
            _install()
        _active = (*_active, profiler)
    if first:
        _replan()


def _deactivate(profiler: DependencyProfiler) -> None:
    global _active  # noqa: PLW0603
    with _lock:
        if profiler not in _active:
            return
        _active = tuple(p for p in _active if p is not profiler)
        last = not _active
        if last:
            _uninstall()
    if last:
        _replan()


def _install() -> None:
    from injectq.runtime.container import InjectQ
    from injectq.wiring import GeneratedContainer

    wrappers: tuple[tuple[str, Callable[[Any], Any]], ...] = (
        ("get", _wrap_get), ("aget", _wrap_aget), ("resolver", _wrap_resolver),
    )
    for cls in (InjectQ, GeneratedContainer):
        for name, wrap in wrappers:
            own = cls.__dict__[name]
            _saved.append((cls, name, own))
            setattr(cls, name, wrap(own))


def _uninstall() -> None:
    while _saved:
        cls, name, own = _saved.pop()
        setattr(cls, name, own)


def _replan() -> None:
    """``@inject`` keeps each function's resolvers until its container's bindings change:
    mark every container changed, so that calls are planned again, through the wrapped
    lookups while profiling and through the containers' own resolvers after."""
    for container in list(forking._owners):  # pyright: ignore[reportPrivateUsage]
        lock = getattr(container, "_compile_lock", None)
        with lock if lock is not None else contextlib.nullcontext():
            container._generation += 1


def _request(container: Any, service_type: Any, name: str | None) -> _Request | None:
    """The lookup to record, or None: not a key (the lookup itself says why), or the
    lookup already being recorded (a generated container's aget of a sync key goes on
    through its get)."""
    try:
        key = make_key(service_type, name)
        hash(key)
        outer = _current.get()
        if outer is not None and outer.container is container and outer.key == key:
            return None
    except Exception:
        return None
    hit, deps = _cached(container, key)
    return _Request(container, key, outer.depth + 1 if outer is not None else 0, hit, deps)


def _cached(container: Any, key: Any) -> tuple[bool, int]:
    """Whether ``key``'s instance exists already, and how many dependencies its binding
    injects. Read before the lookup; a lookup that fails reports its own error."""
    try:
        record = container.node_info(key)
        if record is None:
            return False, 0
        deps = sum(1 for edge, _ in record.deps if edge in (Source.DEP, Source.LAZY))
        if record.lifetime == "singleton":
            return container.deep_slot(record.key).value is not MISSING, deps
        if record.lifetime == "scoped":
            state = container.scopes.get().get(record.scope)
            return state is not None and state.cache.get(record.key, MISSING) is not MISSING, deps
        return False, deps
    except Exception:
        return False, 0


def _record(
    profilers: tuple[DependencyProfiler, ...], request: _Request, elapsed: float, stamp: float,
    failed: bool,
) -> None:
    for p in profilers:
        depth = request.depth if p.stack_tracing else 0
        p.record(
            ResolutionMetrics(request.key, elapsed, request.hit, request.deps, depth, stamp,
                              failed)
        )


def _wrap_get(own: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(own)
    def get(self: Any, service_type: Any, name: str | None = None) -> Any:
        profilers = _active
        request = _request(self, service_type, name) if profilers else None
        if request is None:
            return own(self, service_type, name)
        token = _current.set(request)
        stamp = time.time()
        start = time.perf_counter()
        failed = True
        try:
            value = own(self, service_type, name)
            failed = False
            return value
        finally:
            elapsed = time.perf_counter() - start
            _current.reset(token)
            _record(profilers, request, elapsed, stamp, failed)

    return get


def _wrap_aget(own: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(own)
    async def aget(self: Any, service_type: Any, name: str | None = None) -> Any:
        profilers = _active
        request = _request(self, service_type, name) if profilers else None
        if request is None:
            return await own(self, service_type, name)
        token = _current.set(request)
        stamp = time.time()
        start = time.perf_counter()
        failed = True
        try:
            value = await own(self, service_type, name)
            failed = False
            return value
        finally:
            elapsed = time.perf_counter() - start
            _current.reset(token)
            _record(profilers, request, elapsed, stamp, failed)

    return aget


def _wrap_resolver(own: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(own)
    def resolver(self: Any, key: Any) -> Callable[[], Any]:
        found: Callable[[], Any] = own(self, key)  # its errors stay its own
        if not _active:
            return found
        return functools.partial(self.get, key)  # the wrapped get: recorded

    return resolver


# -- a process-wide profiler, for code that has none at hand ------------------------------
_global_profiler: DependencyProfiler | None = None
_global_lock = threading.Lock()


def get_global_profiler() -> DependencyProfiler:
    """The process-wide profiler (made on first use; start() it to record)."""
    global _global_profiler  # noqa: PLW0603
    with _global_lock:
        if _global_profiler is None:
            _global_profiler = DependencyProfiler()
        return _global_profiler


def profile_resolution(
    service_type: Key, cache_hit: bool = False
) -> contextlib.AbstractContextManager[None]:
    """``get_global_profiler().profile_resolution(...)``."""
    return get_global_profiler().profile_resolution(service_type, cache_hit)


def profile_method(func: F) -> F:
    """``get_global_profiler().profile_method(func)``."""
    return get_global_profiler().profile_method(func)


def _fresh_locks() -> None:
    global _lock, _global_lock  # noqa: PLW0603 - a forked child gets locks nobody holds
    _lock = threading.Lock()
    _global_lock = threading.Lock()


forking.on_fork_in_child(_fresh_locks)
