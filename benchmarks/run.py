"""Benchmarks: injectq (runtime and generated) against hand-written wiring and
the major Python DI libraries, in one run.

    python3 benchmarks/run.py                 # full run: writes benchmarks/RESULTS.md,
                                              # results.png and results.json
    python3 benchmarks/run.py --quick         # smoke run (< 60 s), writes to benchmarks/.quick/
    python3 benchmarks/run.py --only a,b3,g --contenders injectq_runtime,dishka

Needs only Python 3.11+: the first run creates ``benchmarks/.venv`` from
``requirements.txt`` plus an editable install of this repository (``.[codegen]``), and
installs InjectQ 0.5.0 with ``pip --target`` into ``benchmarks/.peers/injectq050``; later
runs skip that while the inputs' hash is unchanged. Every contender runs in its own
subprocess (``worker.py``) and is checked (lifetimes, sharing) before it is timed.
Speeds are reported, never asserted.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
PEERS = HERE / ".peers"
STAMP = VENV / ".bench-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
VPY = BIN / "python"
IQ050 = "injectq==0.5.0"

ALL_CASES = ("a", "b3", "b10", "c", "d", "e", "f", "g", "h")
OURS = {"hand", "injectq_runtime", "injectq_gen"}
KIND: dict[str, str] = {}  # row label -> ours / default (a peer's default) / tuned
STARTUP_SKIP_ROWS = {"injectq-gen provide_x()", "rodi (explicit scope)"}  # same start-up code


# ---------------------------------------------------------------- the bench venv

def _stamp() -> str:
    h = hashlib.sha256()
    for p in (HERE / "requirements.txt", REPO / "pyproject.toml"):
        h.update(p.read_bytes())
    h.update(IQ050.encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_venv() -> None:
    """Create or update benchmarks/.venv (and the InjectQ 0.5.0 folder) when the pinned
    inputs changed; a hash stamp makes the up-to-date case instant."""
    want = _stamp()
    if VPY.exists() and STAMP.exists() and STAMP.read_text() == want:
        return
    print("setting up benchmarks/.venv (pinned peers, editable injectq) ...", flush=True)
    if not VPY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(VPY), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    target = PEERS / "injectq050"
    shutil.rmtree(target, ignore_errors=True)
    for cmd in ([*pip, "-r", str(HERE / "requirements.txt")], [*pip, "-e", f"{REPO}[codegen]"],
                [*pip, "--target", str(target), IQ050]):
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"benchmarks: `{' '.join(cmd)}` failed:\n{proc.stdout}{proc.stderr}")
    STAMP.write_text(want)


def in_bench_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


# ---------------------------------------------------------------- contenders

def rows(selected: list[str] | None) -> list[tuple[str, str]]:
    """(module, row label) of every contender, in report order."""
    sys.path.insert(0, str(HERE))
    import ast

    from contenders import CONTENDERS
    out = []
    for module in CONTENDERS:
        # read ROWS without importing the adapter (its library lives in the bench venv)
        tree = ast.parse((HERE / "contenders" / f"{module}.py").read_text())
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id == "ROWS"):
                labels = ast.literal_eval(node.value)
                for label, variant in labels.items():
                    if not selected or module in selected or label in selected:
                        out.append((module, label))
                        KIND[label] = ("ours" if module in OURS else
                                       "default" if variant == "default" else "tuned")
    return out


def worker(args: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    try:
        proc = subprocess.run([sys.executable, str(HERE / "worker.py"), *args], cwd=HERE,
                              capture_output=True, text=True, timeout=timeout, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if proc.returncode != 0 or not proc.stdout.strip():
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"crash": tail[:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# ---------------------------------------------------------------- runs

def run_cases(todo: list[tuple[str, str]], cases: list[str], quick: bool,
              jobs: int) -> tuple[dict[str, Any], dict[str, str]]:
    results: dict[str, Any] = {}
    versions: dict[str, str] = {}
    timeout = 120 if quick else 600

    def one(item: tuple[str, str]) -> tuple[str, dict[str, Any]]:
        module, label = item
        args = [module, label, "--cases", ",".join(cases)] + (["--quick"] if quick else [])
        return label, worker(args, timeout)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for label, res in pool.map(one, todo):
            if "cases" in res:
                results[label] = res["cases"]
                versions[label] = res["version"]
            else:
                why = (f"timeout after {res['timeout']} s" if "timeout" in res
                       else f"crash: {res.get('crash')}")
                results[label] = {c: {"error": why} for c in cases}
            print(f"  {label:32} {summary(results[label])}", flush=True)
    return results, versions


def summary(cells: dict[str, Any]) -> str:
    parts = []
    for case, cell in cells.items():
        if "median_ns" in cell:
            parts.append(f"{case}={cell['median_ns']:.0f}ns")
        else:
            parts.append(f"{case}=" + ("n/a" if "na" in cell else "ERR"))
    return " ".join(parts)


def graph_sets(quick: bool, cases: list[str]) -> list[tuple[str, str, int]]:
    """(case, module name, size) of the start-up graphs to build."""
    out = []
    if "g" in cases:
        out += [("g", f"dag_{n}", n) for n in ((100,) if quick else (100, 1000, 10_000))]
    if "h" in cases:
        out += [("h", f"grid_{n}", n) for n in ((6,) if quick else (6, 10, 20))]
    return out


def timed_subprocess(cmd: list[str], cwd: Path, timeout: float,
                     env: dict[str, str] | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return {"seconds": seconds, "stdout": proc.stdout}


def gen_build(folder: Path, name: str, timeout: float) -> dict[str, Any]:
    """``injectq-gen build`` as a user runs it (a real subprocess, wall clock), then the
    import time of the generated module alone: first import (compiles and writes the .pyc)
    and import from the cached .pyc."""
    out: dict[str, Any] = {}
    res = timed_subprocess([str(BIN / "injectq-gen"), "build", f"{name}_iq:GraphModule",
                            "-o", f"{name}_wiring.py"], folder, timeout)
    out["build"] = res
    if "seconds" not in res:
        return out
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = (f"import time, injectq.wiring, {name}, {name}_iq\n"
            f"t = time.perf_counter()\nimport {name}_wiring\n"
            f"print(time.perf_counter() - t)\n")
    for key in ("import_first", "import_cached"):
        r = timed_subprocess([sys.executable, "-c", code], folder, timeout, env)
        out[key] = ({"seconds": float(r["stdout"].strip().splitlines()[-1])}
                    if "stdout" in r else r)
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    return out


def run_startup(todo: list[tuple[str, str]], cases: list[str], quick: bool, jobs: int,
                timeout: float) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import graphs

    results: dict[str, Any] = {}
    gave_up: dict[tuple[str, str], dict[str, str]] = {}  # (case, row) -> cell of larger sizes
    work = Path(tempfile.mkdtemp(prefix="iqbench_graphs_"))
    try:
        for case, name, size in graph_sets(quick, cases):
            nodes = graphs.random_dag(size) if case == "g" else graphs.grid(size)
            graphs.write(work, name, nodes)
            entry: dict[str, Any] = {"case": case, "size": size, "bindings": len(nodes),
                                     "rows": {}}
            if any(module == "injectq_gen" for module, _ in todo):
                entry["gen"] = gen_build(work, name, timeout)
            spec = f"{work}:{name}"

            def one(item: tuple[str, str], spec: str = spec) -> tuple[str, dict[str, Any]]:
                module, label = item
                base = [module, label, "--startup", spec]
                if quick:  # one process: time and peak memory under tracemalloc together
                    res = worker([*base, "--mem"], timeout)
                    cell = res.get("startup", res)
                    if "seconds" in cell:
                        cell["note"] = "timed under tracemalloc"
                    return label, cell
                res = worker(base, timeout)
                cell = res.get("startup", res)
                if "seconds" in cell:
                    got = worker([*base, "--mem"], timeout)
                    mem = got.get("startup", got)
                    if "peak_mb" in mem:
                        cell["peak_mb"] = mem["peak_mb"]
                    else:  # tracemalloc slows the run several times: it may time out
                        cell["peak_error"] = (f"timeout (> {timeout:g} s under tracemalloc)"
                                              if "timeout" in mem else
                                              str(mem.get("error") or mem.get("crash")))
                return label, cell

            sel = [r for r in todo if r[1] not in STARTUP_SKIP_ROWS]
            for _module, label in sel:
                if (case, label) in gave_up:
                    entry["rows"][label] = gave_up[case, label]
            sel = [r for r in sel if (case, r[1]) not in gave_up]
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                for label, got in pool.map(one, sel):
                    cell = got
                    if "timeout" in got:
                        cell = {"error": f"timeout at {size} (> {timeout:g} s)"}
                        gave_up[case, label] = {"error": f"not run: timeout at {size} already"}
                    elif "crash" in got:
                        cell = {"error": f"crash: {got['crash']}"}
                    elif "na" in got and "not run above" in got["na"]:
                        gave_up[case, label] = got
                    entry["rows"][label] = cell
            results[name] = entry
            print(f"  {name:10} " + " ".join(
                f"{lbl.split()[0]}={c['seconds']:.2f}s" if "seconds" in c else
                f"{lbl.split()[0]}=" + ("n/a" if "na" in c else "ERR")
                for lbl, c in entry["rows"].items()), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


# ---------------------------------------------------------------- main

def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: short timings, small graphs; writes to benchmarks/.quick/")
    p.add_argument("--only", default="", help=f"comma-separated cases among {','.join(ALL_CASES)} (b: b3,b10)")
    p.add_argument("--contenders", default="",
                   help="comma-separated adapter modules or row labels (default: all)")
    p.add_argument("--out", default="", help="folder for RESULTS.md, results.png, results.json")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds allowed to one start-up measurement (default 60)")
    p.add_argument("--jobs", type=int, default=0,
                   help="parallel workers (default: 1 for a full run, 2 with --quick)")
    args = p.parse_args()

    if not in_bench_venv():
        ensure_venv()
        os.execv(str(VPY), [str(VPY), str(Path(__file__).resolve()), *sys.argv[1:]])

    t0 = time.perf_counter()
    asked = args.only.split(",") if args.only else ALL_CASES
    cases = [x for c in asked for x in (("b3", "b10") if c == "b" else (c,)) if x]
    unknown = sorted(set(cases) - set(ALL_CASES))
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; choose among {', '.join(ALL_CASES)}")
    selected = [s.strip() for s in args.contenders.split(",") if s.strip()] or None
    todo = rows(selected)
    if selected and not todo:
        p.error("no contender matches --contenders")
    jobs = args.jobs or (2 if args.quick else 1)
    out = Path(args.out) if args.out else (HERE / ".quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)

    print(f"Python {sys.version.split()[0]}, {len(todo)} contenders, cases {','.join(cases)}"
          f"{' (quick)' if args.quick else ''}", flush=True)
    timing_cases = [c for c in cases if c not in ("g", "h")]
    data: dict[str, Any] = {
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "platform": platform.platform(), "cpus": os.cpu_count(), "quick": args.quick,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python3 benchmarks/run.py " + " ".join(sys.argv[1:]),
        "rows": [label for _m, label in todo], "kind": KIND, "cases": {}, "versions": {}, "startup": {},
    }
    if timing_cases:
        data["cases"], data["versions"] = run_cases(todo, timing_cases, args.quick, jobs)
    if "g" in cases or "h" in cases:
        data["startup"] = run_startup(todo, cases, args.quick, jobs, args.timeout)
    data["versions"] = versions_of(todo, data["versions"])
    data["seconds"] = time.perf_counter() - t0

    import report
    (out / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    (out / "RESULTS.md").write_text(report.markdown(data))
    chart = report.chart(data, out / "results.png")
    print(f"wrote {out / 'RESULTS.md'}, {out / 'results.json'}"
          f"{', ' + str(chart) if chart else ''} in {data['seconds']:.0f} s")
    broken = own_errors(data)
    if broken:  # a failed setup check of injectq itself is a bug (peers' are reported only)
        sys.exit("injectq setup errors:\n  " + "\n  ".join(broken))


def own_errors(data: dict[str, Any]) -> list[str]:
    out = []
    for label, cells in data["cases"].items():
        if KIND.get(label) == "ours":
            out += [f"{label} {case}: {c['error']}" for case, c in cells.items() if "error" in c]
    for name, entry in data["startup"].items():
        for label, c in entry["rows"].items():
            if KIND.get(label) == "ours" and "error" in c:
                out.append(f"{label} {name}: {c['error']}")
        for key, c in entry.get("gen", {}).items():
            if "seconds" not in c:
                out.append(f"injectq-gen {key} {name}: {c.get('error') or c.get('timeout')}")
    return out


def versions_of(todo: list[tuple[str, str]], known: dict[str, str]) -> dict[str, str]:
    """Every library's version, by row label (asked of each worker's import)."""
    from importlib.metadata import PackageNotFoundError, version

    dist = {"dependency_injector": "dependency-injector", "that_depends": "that-depends",
            "modern_di": "modern-di", "injectq_runtime": "injectq", "injectq_gen": "injectq"}
    out = dict(known)
    for module, label in todo:
        if label in out:
            continue
        if module == "injectq050":
            out[label] = "0.5.0"
            continue
        try:
            out[label] = "-" if module == "hand" else version(dist.get(module, module))
        except PackageNotFoundError:
            out[label] = "?"
    return out


if __name__ == "__main__":
    main()
