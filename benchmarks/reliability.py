#!/usr/bin/env python3
"""Reliability figures for injectq: the runtime container and the module injectq-gen
generates from the same Module, measured side by side.

    depth    the longest chain of singletons, of scoped instances and of transients that
             get(), aget(), warm() and an override() block resolve, at Python's default
             recursion limit
    errors   what a failing get() costs in a graph of 10,000 bindings when the failure is
             20 bindings deep: a factory raising, a scope not open, a missing binding
    memory   what 20,000 containers leave behind once dropped (resident memory, Python
             allocations, linecache), for an application with many resolver shapes

    python3 benchmarks/reliability.py                   # all three, about 2 minutes
    python3 benchmarks/reliability.py --only depth      # one part, or several: depth,errors
    python3 benchmarks/reliability.py --quick           # smaller sizes, about 30 s
    python3 benchmarks/reliability.py --json out.json   # the figures as JSON as well

Needs only Python 3.11+: started by an interpreter that cannot run the generator, it
re-runs itself in the project's .venv (created first if needed, as `python3 dev.py`
does). The code measured is that of the checkout holding this script. Each case runs in
a process of its own, on an application written into a temporary folder; the figures are
printed as Markdown tables. The exit status is 1 when a case failed to resolve or crashed;
times are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib
import itertools
import json
import linecache
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PARTS = ("depth", "errors", "memory")
LIFETIMES = ("singleton", "scoped", "transient")
ERROR_GOAL_MS = 5.0


# -- the interpreter -----------------------------------------------------------------------


def ensure_python() -> None:
    """Run with this checkout first on sys.path, under an interpreter that has the
    generator's dependencies (else under the project's .venv)."""
    sys.path.insert(0, str(REPO))
    try:
        import injectq_codegen.render  # noqa: F401  (jinja2, libcst: what a build needs)
    except ImportError:
        import dev  # the project's entry point: creates .venv and installs the project

        if Path(sys.prefix).resolve() == dev.VENV.resolve():
            raise
        dev.ensure_env()
        os.execv(str(dev.PY), [str(dev.PY), str(Path(__file__).resolve()), *sys.argv[1:]])


# -- applications, written as source -------------------------------------------------------


def _life(lifetime: str) -> str:
    return 'scoped("request")' if lifetime == "scoped" else f"{lifetime}()"


def chain_source(n: int, lifetime: str) -> str:
    """C0 <- C1 <- ... <- C{n-1}, each class taking the one before, bound top first."""
    lines = ["from injectq import Module", "", "", "class C0:", "    pass", ""]
    for i in range(1, n):
        lines += ["", f"class C{i}:", f"    def __init__(self, d: C{i - 1}) -> None:",
                  "        self.d = d", ""]
    lines += ["", "class Chain(Module):", "    def configure(self) -> None:"]
    lines += [f"        self.bind(C{i}, C{i}).{_life(lifetime)}" for i in reversed(range(n))]
    return "\n".join(lines) + "\n"


def _links(prefix: str, depth: int) -> list[str]:
    """Classes {prefix}1 .. {prefix}{depth-1}, each taking the one before."""
    lines: list[str] = []
    for i in range(1, depth):
        lines += [f"class {prefix}{i}:", f"    def __init__(self, d: {prefix}{i - 1}) -> None:",
                  "        self.d = d", ""]
    return lines


# chain -> what a get() of its top meets 20 bindings down (the chain's bottom is {name}0)
FAILURES = {
    "T": "a factory raising under 19 transients",
    "S": "a singleton factory raising under 19 singletons",
    "Q": "a scoped binding under 19 transients, no scope open",
    "M": "a missing binding under 19 transients",
}
BASELINE = "K"  # the same 20-deep chain of transients, succeeding


def errors_sources(total: int, depth: int) -> tuple[str, str]:
    """``err_app`` (Module ``App``: ``total`` bindings, with the chains T, S, Q and K of
    ``depth`` bindings and fillers) and ``err_missing`` (Module ``Missing``: the chain M,
    whose bottom needs a key nobody binds; the generator refuses it, so runtime only)."""
    app = ["from injectq import Module", "", "", "class Boom(Exception):", "    pass", ""]
    for name in ("T", "S", "Q", "K"):
        app += [f"class {name}0:", "    pass", ""]
    app += ["def make_T0() -> T0:", "    raise Boom('T0 failed')", "",
            "def make_S0() -> S0:", "    raise Boom('S0 failed')", ""]
    for name in ("T", "S", "Q", "K"):
        app += _links(name, depth)
    fillers = total - 4 * depth
    for i in range(fillers):  # groups of 10: five singletons, then five transients
        deps = [f"F{i - j}" for j in (1, 2) if (i - j) // 10 == i // 10 and i - j >= 0]
        params = "".join(f", d{j}: {d}" for j, d in enumerate(deps))
        app += [f"class F{i}:", f"    def __init__(self{params}) -> None:", "        pass", ""]
    binds = [
        "self.bind_factory(T0, make_T0).transient()",
        "self.bind_factory(S0, make_S0).singleton()",
        'self.bind(Q0, Q0).scoped("request")',
        "self.bind(K0, K0).transient()",
    ]
    for name, life in (("T", "transient"), ("S", "singleton"), ("Q", "transient"),
                       ("K", "transient")):
        binds += [f"self.bind({name}{i}, {name}{i}).{life}()" for i in range(1, depth)]
    binds += [f"self.bind(F{i}, F{i}).{'singleton' if i % 10 < 5 else 'transient'}()"
              for i in range(fillers)]
    app += ["", "class App(Module):", "    def configure(self) -> None:"]
    app += [f"        {b}" for b in binds]

    missing = ["from typing import Annotated", "", "from injectq import Module, Named", "", "",
               "class M0:", "    pass", ""]  # bound by nobody under the name "nowhere"
    missing += ["class M1:", "    def __init__(self, d: Annotated[M0, Named('nowhere')]) -> None:",
                "        self.d = d", ""]
    missing += _links("M", depth)[4:]
    missing += ["", "class Missing(Module):", "    def configure(self) -> None:"]
    missing += [f"        self.bind(M{i}, M{i}).transient()" for i in range(1, depth)]
    return "\n".join(app) + "\n", "\n".join(missing) + "\n"


def shapes_source(m: int, per: int, rng: random.Random) -> str:
    """Module ``App{m}`` of ``per`` bindings with random arities (0-6, some keyword-only,
    some with a default), providers (class, factory, generator resource) and lifetimes,
    valid for the generator: a singleton takes singletons only, a scoped binding no
    transient that holds a transient resource."""
    out = ["from collections.abc import Iterator", "", "from injectq import Module", ""]
    binds: list[str] = []
    kinds: dict[str, tuple[str, bool]] = {}  # name -> (lifetime, holds a transient resource)
    for i in range(per):
        name = f"S{m}_{i}"
        life = rng.choice(LIFETIMES)
        kind = rng.choice(("class", "class", "factory", "generator"))
        if life == "singleton":
            pool = [k for k, (lt, _) in kinds.items() if lt == "singleton"]
        elif life == "scoped":
            pool = [k for k, (lt, res) in kinds.items() if lt != "transient" or not res]
        else:
            pool = list(kinds)
        deps = rng.sample(pool, rng.randint(0, min(6, len(pool))))
        kinds[name] = (life, (kind == "generator" and life == "transient")
                       or any(kinds[d][1] for d in deps))
        params = [f"d{j}: {d}" for j, d in enumerate(deps)]
        if params and rng.random() < 0.3:
            params.insert(rng.randint(0, len(params) - 1), "*")
        if rng.random() < 0.2:
            params.append(f"opt: int = {i}")
        sig = "".join(f", {p}" for p in params)
        args = ", ".join(f"d{j}=d{j}" for j in range(len(deps)))
        out += [f"class {name}:", f"    def __init__(self{sig}) -> None:", "        self.v = 1", ""]
        if kind == "class":
            binds.append(f"self.bind({name}, {name}).{_life(life)}")
        elif kind == "factory":
            out += [f"def make_{name}({sig[2:]}) -> {name}:", f"    return {name}({args})", ""]
            binds.append(f"self.bind_factory({name}, make_{name}).{_life(life)}")
        else:
            out += [f"def open_{name}({sig[2:]}) -> Iterator[{name}]:",
                    f"    yield {name}({args})", ""]
            binds.append(f"self.bind_factory({name}, open_{name}).{_life(life)}")
    out += [f"KEYS = [{', '.join(kinds)}]", "", "", f"class App{m}(Module):",
            "    def configure(self) -> None:", *[f"        {b}" for b in binds]]
    return "\n".join(out) + "\n"


# -- helpers of the cases -------------------------------------------------------------------


def write_module(folder: Path, name: str, source: str) -> ModuleType:
    (folder / f"{name}.py").write_text(source, encoding="utf-8")
    importlib.invalidate_caches()
    return importlib.import_module(name)


def generated_module(folder: Path, targets: list[str], name: str) -> ModuleType:
    """What `injectq-gen build TARGETS -o NAME.py` writes, imported."""
    from injectq_codegen.build import generate

    source, _ = generate(targets)
    return write_module(folder, name, source)


def runtime_of(*modules: Any) -> Any:
    from injectq import InjectQ

    c = InjectQ()
    for module in modules:
        c.install(module)
    return c


def describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# -- depth ----------------------------------------------------------------------------------


def depth_case(folder: Path, lifetime: str, n: int) -> dict[str, Any]:
    """get / aget / override / warm of the top of an n-long chain, each on a fresh
    container, in both containers."""
    mod = write_module(folder, "deep_chain", chain_source(n, lifetime))
    top, bottom = getattr(mod, f"C{n - 1}"), mod.C0
    started = time.perf_counter()
    wiring = generated_module(folder, ["deep_chain:Chain"], "deep_wiring")
    result: dict[str, Any] = {
        "lifetime": lifetime, "n": n, "recursion_limit": sys.getrecursionlimit(),
        "build_s": time.perf_counter() - started,
    }

    def bottom_of(obj: Any) -> Any:
        for _ in range(n - 1):
            obj = obj.d
        return obj

    def get(c: Any) -> bool:
        with c.scope():
            got = c.get(top)
            cached = lifetime == "transient" or c.get(top) is got
            return cached and isinstance(bottom_of(got), bottom)

    def aget(c: Any) -> bool:
        async def run() -> Any:
            async with c.scope():
                return await c.aget(top)

        return isinstance(bottom_of(asyncio.run(run())), bottom)

    def override(c: Any) -> bool:
        replacement = bottom()
        with c.override(bottom, replacement), c.scope():
            return bottom_of(c.get(top)) is replacement

    def warm(c: Any) -> bool:
        c.warm()  # bound top first: warming starts at the top of the chain
        with c.scope():
            return isinstance(bottom_of(c.get(top)), bottom)

    ops: dict[str, Callable[[Any], bool]] = {"get": get, "aget": aget, "override": override}
    if lifetime == "singleton":
        ops["warm"] = warm
    makers: dict[str, Callable[[], Any]] = {
        "runtime": lambda: runtime_of(mod.Chain()), "generated": wiring.Container,
    }
    for which, make in makers.items():
        rows: dict[str, Any] = {}
        for op, check in ops.items():
            c = make()
            started = time.perf_counter()
            try:
                ok = check(c)
                rows[op] = {"ok": ok, "s": time.perf_counter() - started,
                            **({} if ok else {"error": "resolved, but not the expected graph"})}
            except Exception as exc:
                rows[op] = {"ok": False, "s": time.perf_counter() - started,
                            "error": describe(exc)}
            finally:
                c.close()
        result[which] = rows
    return result


# -- errors ---------------------------------------------------------------------------------


def path_length(exc: BaseException) -> int:
    """Links of the dependency path the error carries (0: it carries none)."""
    path = getattr(exc, "injectq_path", None) or getattr(exc, "path", None) or ()
    return len(path)


def time_calls(call: Callable[[], Any], reps: int) -> dict[str, Any]:
    """The first call, then ``reps`` calls after a warm-up, each timed on its own."""

    def once() -> tuple[float, str | None, int]:
        started = time.perf_counter()
        try:
            call()
        except Exception as exc:
            elapsed = time.perf_counter() - started
            return elapsed, type(exc).__name__, path_length(exc)
        return time.perf_counter() - started, None, 0

    first, error, links = once()
    for _ in range(10):
        once()
    times: list[float] = []
    errors: set[str | None] = set()
    for _ in range(reps):
        elapsed, err, _n = once()
        times.append(elapsed)
        errors.add(err)
    times.sort()
    return {
        "first_ms": first * 1e3, "median_ms": statistics.median(times) * 1e3,
        "p95_ms": times[min(len(times) - 1, int(len(times) * 0.95))] * 1e3,
        "error": error, "path": links, "errors_seen": sorted(str(e) for e in errors),
        "reps": reps,
    }


def errors_case(folder: Path, total: int, depth: int, reps: int) -> dict[str, Any]:
    app_source, missing_source = errors_sources(total, depth)
    app = write_module(folder, "err_app", app_source)
    missing = write_module(folder, "err_missing", missing_source)
    started = time.perf_counter()
    wiring = generated_module(folder, ["err_app:App"], "err_wiring")
    build_s = time.perf_counter() - started
    try:
        generated_module(folder, ["err_missing:Missing"], "err_missing_wiring")
        refused = "built"
    except Exception as exc:
        refused = describe(exc)
    containers: dict[str, Any] = {
        "runtime": runtime_of(app.App(), missing.Missing()), "generated": wiring.Container(),
    }
    result: dict[str, Any] = {
        "bindings": {"runtime": total + depth - 1, "generated": total}, "depth": depth,
        "build_s": build_s, "generated_missing": refused, "cases": {},
    }
    for name in (*FAILURES, BASELINE):
        source = missing if name == "M" else app
        top = getattr(source, f"{name}{depth - 1}")
        for which, c in containers.items():
            if name == "M" and which == "generated":
                continue
            get: Callable[[], Any] = functools.partial(c.get, top)
            result["cases"][f"{name}/{which}"] = time_calls(get, reps)
    return result


# -- memory ---------------------------------------------------------------------------------


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


def _state() -> dict[str, Any]:
    gc.collect()
    sources = [k for k in linecache.cache if str(k).startswith("<injectq resolvers")]
    return {
        "rss": _rss(), "blocks": sys.getallocatedblocks(), "objects": len(gc.get_objects()),
        "linecache": len(linecache.cache),
        "linecache_lines": sum(len(v[2]) for v in linecache.cache.values() if len(v) > 2 and v[2]),
        "resolver_sources": len(sources),
    }


def memory_case(folder: Path, which: str, containers: int, modules: int, per: int,
                sample: int) -> dict[str, Any]:
    """``containers`` containers, one after the other: each installs one of ``modules``
    Modules (round robin), resolves all its keys in a request scope, closes and is dropped."""
    rng = random.Random(20_000)
    apps = [write_module(folder, f"shapes{m}", shapes_source(m, per, rng)) for m in range(modules)]
    started = time.perf_counter()
    if which == "runtime":
        modules_of = [getattr(app, f"App{m}") for m, app in enumerate(apps)]
        makers = [lambda module=module: runtime_of(module()) for module in modules_of]
    else:
        wirings = [generated_module(folder, [f"shapes{m}:App{m}"], f"shapes{m}_wiring")
                   for m in range(modules)]
        makers = [w.Container for w in wirings]
    build_s = time.perf_counter() - started

    def run(count: int, offset: int = 0) -> None:
        for i in range(offset, offset + count):
            m = i % modules
            c = makers[m]()
            with c.scope():
                for key in apps[m].KEYS:
                    c.get(key)
            c.close()

    started = time.perf_counter()
    run(2 * modules)  # every Module's resolvers compiled, caches filled
    warm_s = time.perf_counter() - started
    half = containers // 2
    states = [_state()]
    started = time.perf_counter()
    run(half)
    states.append(_state())
    run(containers - half, half)
    elapsed = time.perf_counter() - started
    states.append(_state())

    skip = (tracemalloc.Filter(False, tracemalloc.__file__),)
    tracemalloc.start()
    run(modules)  # tracemalloc's own first allocations
    snaps = []
    for _ in range(3):  # two samples: growth that is one-off shows in the first only
        gc.collect()
        snaps.append(tracemalloc.take_snapshot().filter_traces(skip))
        if len(snaps) < 3:
            run(sample)
    tracemalloc.stop()
    traced = [sum(d.size_diff for d in b.compare_to(a, "lineno"))
              for a, b in itertools.pairwise(snaps)]
    diff = snaps[2].compare_to(snaps[1], "lineno")
    top = [f"{d.traceback[0].filename}:{d.traceback[0].lineno} {d.size_diff:+,} B"
           for d in sorted(diff, key=lambda d: -d.size_diff)[:3] if d.size_diff > 0]
    return {
        "which": which, "containers": containers, "modules": modules, "per": per,
        "bindings": modules * per, "build_s": build_s, "warm_s": warm_s, "s": elapsed,
        "states": states, "sample": sample, "traced": traced,
        "traced_top": top,
    }


# -- running the cases, each in its own process --------------------------------------------


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="iq-reliability-") as tmp:
        folder = Path(tmp)
        os.chdir(folder)
        sys.path.insert(0, str(folder))
        sys.dont_write_bytecode = True
        part = spec.pop("part")
        if part == "depth":
            return depth_case(folder, **spec)
        if part == "errors":
            return errors_case(folder, **spec)
        return memory_case(folder, **spec)


def spawn(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"crash": f"no result within {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"crash": f"exit status {proc.returncode}: {tail[:300]}"}
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- the report -----------------------------------------------------------------------------


def _table(head: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _seconds(s: float) -> str:
    return f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.2f} s"


def depth_report(results: list[dict[str, Any]]) -> tuple[str, bool]:
    rows, ok = [], True
    plural = {"singleton": "singletons", "scoped": "scoped instances", "transient": "transients"}
    for r in results:
        if "crash" in r:
            rows.append([f"{r['spec']['n']:,} {plural[r['spec']['lifetime']]}", "both",
                         f"crashed: {r['crash']}", "", "", ""])
            ok = False
            continue
        for which in ("runtime", "generated"):
            cells = []
            for op in ("get", "aget", "override", "warm"):
                cell = r[which].get(op)
                if cell is None:
                    cells.append("")
                elif cell["ok"]:
                    cells.append(f"ok, {_seconds(cell['s'])}")
                else:
                    cells.append(f"FAILED: {cell['error']}")
                    ok = False
            rows.append([f"{r['n']:,} {plural[r['lifetime']]}", which, *cells])
    limit = next((r["recursion_limit"] for r in results if "recursion_limit" in r), None)
    text = _table(["chain", "container", "get", "aget", "override", "warm"], rows)
    return f"recursion limit {limit} (Python's default)\n\n{text}", ok


def errors_report(r: dict[str, Any]) -> tuple[str, bool]:
    if "crash" in r:
        return f"crashed: {r['crash']}", False
    rows = []
    for name in (*FAILURES, BASELINE):
        for which in ("runtime", "generated"):
            case = r["cases"].get(f"{name}/{which}")
            what = FAILURES.get(name, "no failure: 20 transients (for comparison)")
            if case is None:
                rows.append([what, which, "refused by injectq-gen build (IQ001)", "", "", ""])
                continue
            if case["error"] is None:
                raised = "nothing: returns"
            else:
                links = case["path"]
                raised = f"{case['error']}, " + (f"path of {links}" if links else "no path")
            if len(case["errors_seen"]) > 1:
                raised += f" (also {', '.join(case['errors_seen'])})"
            rows.append([what, which, raised,
                         f"{case['first_ms']:.2f} ms", f"{case['median_ms']:.3f} ms",
                         f"{case['p95_ms']:.3f} ms"])
    slowest = max(c["median_ms"] for c in r["cases"].values())
    head = (f"{r['bindings']['generated']:,} bindings (runtime: +{r['depth'] - 1} for the "
            f"missing-binding chain), failure {r['depth']} bindings deep, "
            f"{r['cases']['T/runtime']['reps']} timed calls each after 10 untimed; slowest "
            f"median {slowest:.3f} ms (goal: under {ERROR_GOAL_MS:g} ms: "
            f"{'met' if slowest < ERROR_GOAL_MS else 'NOT met'})")
    text = _table(["failing get()", "container", "raises", "first call", "median", "p95"], rows)
    return f"{head}\n\n{text}", True


def memory_report(results: list[dict[str, Any]]) -> tuple[str, bool]:
    rows, notes, ok = [], [], True
    for r in results:
        if "crash" in r:
            rows.append([r["spec"]["which"], f"crashed: {r['crash']}", "", "", "", "", ""])
            ok = False
            continue
        b, mid, a = r["states"]
        n, second = r["containers"], r["containers"] - r["containers"] // 2

        def grew(field: str, unit: int = 1, b: dict[str, Any] = b, mid: dict[str, Any] = mid,
                 a: dict[str, Any] = a, second: int = second) -> str:
            if a[field] is None:
                return "n/a"
            total, slope = (a[field] - b[field]) / unit, (a[field] - mid[field]) / unit
            return f"{total:+,.0f} (last {second:,}: {slope:+,.0f})"

        rows.append([
            r["which"], f"{n:,} in {_seconds(r['s'])}", grew("rss", 1024),
            grew("blocks"), grew("objects"),
            f"{r['traced'][0]:+,} B, then {r['traced'][1]:+,} B (2 x {r['sample']:,})",
            f"{b['linecache']:,} -> {a['linecache']:,} ({b['linecache_lines']:,} -> "
            f"{a['linecache_lines']:,} lines)",
        ])
        notes.append(f"{r['which']}: {r['modules']} Modules of {r['per']} bindings "
                     f"({r['bindings']:,} in all), {a['resolver_sources']:,} compiled resolver "
                     f"shapes in linecache; warm-up {_seconds(r['warm_s'])} "
                     f"({2 * r['modules']} containers)")
        notes += [f"  traced growth over the second sample at {line}" for line in r["traced_top"]]
    text = _table(["container", "containers", "resident memory, KB", "allocated blocks",
                   "gc objects", "traced (tracemalloc)", "linecache entries"], rows)
    return text + "\n\n" + "\n".join(notes), ok


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Figures vary with the machine and its load: compare runs made on the same one.",
    )
    p.add_argument("--only", default=",".join(PARTS), metavar="PARTS",
                   help=f"comma-separated parts among {', '.join(PARTS)} (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="smaller sizes: chains of 1,000 bindings, a graph of 1,000 for "
                   "the errors, 2,000 containers")
    p.add_argument("--depth", type=int, default=None, metavar="N",
                   help="length of each chain (default 10,000)")
    p.add_argument("--bindings", type=int, default=None, metavar="N",
                   help="bindings of the graph a failing get() runs in (default 10,000)")
    p.add_argument("--reps", type=int, default=None, metavar="N",
                   help="timed failing calls per case (default 300)")
    p.add_argument("--containers", type=int, default=None, metavar="N",
                   help="containers created and dropped per kind (default 20,000)")
    p.add_argument("--json", default="", metavar="PATH", help="also write the figures there")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="seconds allowed to each case (default 600)")
    p.add_argument("--worker", default="", help=argparse.SUPPRESS)  # one case, as JSON
    args = p.parse_args()

    ensure_python()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    parts = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        p.error(f"unknown part(s) {', '.join(unknown)}; choose among {', '.join(PARTS)}")
    depth = args.depth or (1_000 if args.quick else 10_000)
    bindings = args.bindings or (1_000 if args.quick else 10_000)
    reps = args.reps or (50 if args.quick else 300)
    containers = args.containers or (2_000 if args.quick else 20_000)
    if bindings < 100:
        p.error("--bindings must be at least 100")

    command = "python3 benchmarks/reliability.py " + " ".join(sys.argv[1:])
    print(f"# {command.strip()}\n\nPython {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    data: dict[str, Any] = {"command": command.strip(), "python": sys.version.split()[0]}
    ok = True
    if "depth" in parts:
        results = []
        for lifetime in LIFETIMES:
            spec = {"part": "depth", "lifetime": lifetime, "n": depth}
            t0 = time.perf_counter()
            results.append({"spec": spec, **spawn(dict(spec), args.timeout)})
            progress(f"depth: {depth:,} {lifetime} in {time.perf_counter() - t0:.1f} s")
        data["depth"] = results
        text, good = depth_report(results)
        ok &= good
        print(f"\n## depth\n\n{text}")
    if "errors" in parts:
        spec = {"part": "errors", "total": bindings, "depth": 20, "reps": reps}
        t0 = time.perf_counter()
        result = spawn(dict(spec), args.timeout)
        progress(f"errors: {bindings:,} bindings in {time.perf_counter() - t0:.1f} s")
        data["errors"] = result
        text, good = errors_report(result)
        ok &= good
        print(f"\n## errors\n\n{text}")
    if "memory" in parts:
        results = []
        for which in ("runtime", "generated"):
            spec = {"part": "memory", "which": which, "containers": containers,
                    "modules": 100, "per": 20, "sample": max(100, containers // 40)}
            t0 = time.perf_counter()
            results.append({"spec": spec, **spawn(dict(spec), args.timeout)})
            progress(f"memory: {containers:,} {which} containers in "
                     f"{time.perf_counter() - t0:.1f} s")
        data["memory"] = results
        text, good = memory_report(results)
        ok &= good
        print(f"\n## memory\n\n{text}")
    data["seconds"] = time.perf_counter() - started
    print(f"\ndone in {data['seconds']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
