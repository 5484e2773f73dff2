"""Timing and setup checks shared by every contender (runs inside a worker subprocess).

An operation is an expression (``Op.stmt``) evaluated in a namespace (``Op.ns``): timeit
compiles it into its loop, so no contender pays for an extra wrapper call. Case e's
expression may contain ``await``; it is timed inside one event loop.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import model as m


class NotSupported(Exception):
    """The contender has no feature for this case (reported as n/a with the reason)."""


class SetupError(Exception):
    """The contender's objects are not what the case asks for (wrong lifetime, sharing)."""


@dataclass
class Op:
    stmt: str
    ns: dict[str, Any] = field(default_factory=dict)
    is_async: bool = False


class KeyedCases:
    """Cases a, b3, b10 and c for a library that resolves one key per call: an adapter
    defines ``_get(key)`` (the Op resolving ``key``) and, when its keys are not the model
    classes (dependency-injector's providers), ``_key(cls)``."""

    def _get(self, key: Any) -> Op:
        raise NotImplementedError

    def _key(self, cls: type) -> Any:
        return cls

    def a(self) -> Op:
        return self._get(self._key(m.S))

    def b3(self) -> Op:
        return self._get(self._key(m.C))

    def b10(self) -> Op:
        return self._get(self._key(m.K9))

    def c(self) -> Op:
        return self._get(self._key(m.Wide))


CASES = ("a", "b3", "b10", "c", "d", "e", "f")
CASE_TITLES = {
    "a": "a. cached singleton get",
    "b3": "b. transient chain, depth 3",
    "b10": "b. transient chain, depth 10",
    "c": "c. wide: 10 dependencies (5 transient, 5 singleton)",
    "d": "d. request scope: open, resolve (5 scoped + 1 singleton), close",
    "e": "e. async: aget of a chain with one async factory",
    "f": "f. call of an @inject function with 3 dependencies",
}


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise SetupError(what)


def _fresh(x: Any, y: Any, label: str) -> None:
    _expect(x is not y, f"{label} is shared between two resolutions (expected a new one)")


def _same(x: Any, y: Any, label: str) -> None:
    _expect(x is y, f"{label} differs between two resolutions (expected one shared instance)")


def _kind(x: Any, cls: type, label: str) -> None:
    _expect(isinstance(x, cls), f"{label} is {type(x).__name__}, expected {cls.__name__}")


def check_a(x: Any, y: Any) -> None:
    _kind(x, m.S, "S")
    _same(x, y, "singleton S")


def check_b3(x: Any, y: Any) -> None:
    for cls, attr in ((m.C, "b"), (m.B, "a"), (m.A, None)):
        _kind(x, cls, cls.__name__)
        _fresh(x, y, f"transient {cls.__name__}")
        if attr:
            x, y = getattr(x, attr), getattr(y, attr)


def check_b10(x: Any, y: Any) -> None:
    for cls in reversed(m.CHAIN10):
        _kind(x, cls, cls.__name__)
        _fresh(x, y, f"transient {cls.__name__}")
        if cls is not m.K0:
            x, y = x.k, y.k


def check_c(x: Any, y: Any) -> None:
    _kind(x, m.Wide, "Wide")
    _fresh(x, y, "transient Wide")
    for i, cls in enumerate(m.WIDE_TRANSIENT):
        _kind(getattr(x, f"t{i}"), cls, cls.__name__)
        _fresh(getattr(x, f"t{i}"), getattr(y, f"t{i}"), f"transient {cls.__name__}")
    for i, cls in enumerate(m.WIDE_SINGLETON):
        _kind(getattr(x, f"w{i}"), cls, cls.__name__)
        _same(getattr(x, f"w{i}"), getattr(y, f"w{i}"), f"singleton {cls.__name__}")


def check_d(x: Any, y: Any) -> None:
    """x and y come from two scopes: scoped shared inside one scope, distinct across."""
    _kind(x, m.Handler, "Handler")
    _fresh(x, y, "Handler")
    for h in (x, y):
        for i, cls in enumerate(m.SCOPED, 1):
            _kind(getattr(h, f"r{i}"), cls, cls.__name__)
        _same(h.r2.r1, h.r1, "scoped R1 inside one scope (via R2)")
        _same(h.r3.r1, h.r1, "scoped R1 inside one scope (via R3)")
        _same(h.r4.r2, h.r2, "scoped R2 inside one scope (via R4)")
        _kind(h.config, m.Config, "Config")
    for i in range(1, 6):
        _fresh(getattr(x, f"r{i}"), getattr(y, f"r{i}"), f"scoped R{i} across two scopes")
    _same(x.config, y.config, "singleton Config across scopes")


def check_e(x: Any, y: Any) -> None:
    for cls, attr in ((m.EC, "b"), (m.EB, "a"), (m.EA, None)):
        _kind(x, cls, cls.__name__)
        _fresh(x, y, f"transient {cls.__name__}")
        if attr:
            x, y = getattr(x, attr), getattr(y, attr)


def check_f(x: Any, y: Any) -> None:
    _expect(isinstance(x, tuple) and len(x) == 3, f"target returned {x!r}")
    _kind(x[0], m.F1, "F1")
    _kind(x[1], m.F2, "F2")
    _kind(x[2], m.FS, "FS")
    _fresh(x[0], y[0], "transient F1")
    _fresh(x[1], y[1], "transient F2")
    _same(x[2], y[2], "singleton FS")


CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "a": check_a, "b3": check_b3, "b10": check_b10, "c": check_c, "d": check_d,
    "e": check_e, "f": check_f,
}


def check_graph(g: Any, instances: dict[int, Any]) -> None:
    """Startup graphs: every node resolved once in one scope; each dependency edge points at
    the shared instance (singleton, scoped) or at a fresh one (transient)."""
    _expect(len(instances) == len(g.NODES), f"{len(instances)} of {len(g.NODES)} nodes resolved")
    for i, (_lifetime, deps) in enumerate(g.NODES):
        inst = instances[i]
        _kind(inst, g.CLASSES[i], f"node C{i}")
        for j in deps:
            dep = getattr(inst, f"d{j}")
            _kind(dep, g.CLASSES[j], f"C{i}.d{j}")
            if g.NODES[j][0] == "transient":
                _fresh(dep, instances[j], f"transient C{j} (dependency of C{i})")
            else:
                _same(dep, instances[j], f"{g.NODES[j][0]} C{j} (dependency of C{i})")


# ---------------------------------------------------------------- timing

class Runner:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.target = 0.004 if quick else 0.15  # seconds per repeat
        self.repeats = 3 if quick else 7
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)  # adapters prepare async scopes on this loop

    def close(self) -> None:
        self.loop.close()

    def once(self, op: Op) -> Callable[[], Any]:
        ns = dict(op.ns)
        if op.is_async:
            exec(f"async def _one():\n    return {op.stmt}\n", ns)
            coro_fn = ns["_one"]
            return lambda: self.loop.run_until_complete(coro_fn())
        exec(f"def _one():\n    return {op.stmt}\n", ns)
        return ns["_one"]  # type: ignore[no-any-return]

    def _timer(self, op: Op) -> Callable[[int], float]:
        if not op.is_async:
            t = timeit.Timer(op.stmt, globals=dict(op.ns))
            return t.timeit
        ns = dict(op.ns)
        exec(f"async def _bench(_n):\n    for _i in range(_n):\n        _r = {op.stmt}\n", ns)
        bench = ns["_bench"]
        loop = self.loop

        def run(n: int) -> float:
            gc_was = gc.isenabled()
            gc.disable()
            try:
                t0 = time.perf_counter()
                loop.run_until_complete(bench(n))
                return time.perf_counter() - t0
            finally:
                if gc_was:
                    gc.enable()
        return run

    def _calibrate(self, run: Callable[[int], float]) -> int:
        n = 1
        while True:
            t = run(n)
            if t >= self.target / 5 or n >= 10**8:
                break
            n *= 10 if t < self.target / 50 else 2
        return max(1, int(n * self.target / max(t, 1e-9)))

    def measure(self, op: Op, baseline: Op | None = None) -> dict[str, Any]:
        """ns per operation of ``op``; with a baseline (the hand-written op of the same
        case), the two are timed in alternating repeats in this process, so that the ratio
        is immune to the machine's load drifting between contenders."""
        run = self._timer(op)
        number = self._calibrate(run)
        base_run = self._timer(baseline) if baseline is not None else None
        base_number = self._calibrate(base_run) if base_run is not None else 0
        times: list[float] = []
        base_times: list[float] = []
        for _ in range(self.repeats):
            if base_run is not None:
                base_times.append(base_run(base_number) / base_number * 1e9)
            times.append(run(number) / number * 1e9)
        out = {"median_ns": statistics.median(times), "min_ns": min(times),
               "loops": number, "repeats": self.repeats}
        if base_times:
            out["hand_median_ns"] = statistics.median(base_times)
            out["hand_min_ns"] = min(base_times)
        return out
