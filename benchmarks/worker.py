"""Runs one contender in this process and prints its results as JSON (called by run.py).

    python worker.py MODULE ROW --cases a,b3,... [--quick]
    python worker.py MODULE ROW --startup FOLDER:GRAPH [--mem]

Setup problems are reported per cell (``{"error": ...}``), never as a crash of the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("module")
    p.add_argument("row")
    p.add_argument("--cases", default="")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--startup", default="")
    p.add_argument("--mem", action="store_true")
    p.add_argument("-v", action="store_true", help="print tracebacks of failing cells")
    args = p.parse_args()

    from contenders import CONTENDERS
    extra = CONTENDERS[args.module]
    if extra:
        sys.path.insert(0, str(HERE / extra))
    adapter = importlib.import_module(f"contenders.{args.module}")
    variant = adapter.ROWS[args.row]
    out: dict[str, Any] = {"row": args.row, "module": args.module,
                           "version": adapter.version(), "python": sys.version.split()[0]}
    if args.startup:
        out["startup"] = run_startup(adapter, variant, args.startup, args.mem)
    else:
        out["cases"] = run_cases(adapter, variant, args.cases.split(","), args.quick)
    print(json.dumps(out))


def run_cases(adapter: Any, variant: str, cases: list[str], quick: bool) -> dict[str, Any]:
    from harness import CHECKS, NotSupported, Runner

    runner = Runner(quick)
    results: dict[str, Any] = {}
    hand = None
    if adapter.__name__ != "contenders.hand":  # the baseline, timed alongside in this process
        from contenders import hand as hand_adapter
        hand = hand_adapter.make("default")
    try:
        contender = adapter.make(variant)
    except Exception as exc:  # reported in every cell
        err = "setup error: " + _describe(exc)
        return {case: {"error": err} for case in cases}
    for case in cases:
        try:
            op = getattr(contender, case)()
            one = runner.once(op)
            first, second = one(), one()
            CHECKS[case](first, second)
            results[case] = runner.measure(op, getattr(hand, case)() if hand else None)
        except NotSupported as exc:
            results[case] = {"na": str(exc)}
        except Exception as exc:  # one failing cell must not stop the run
            results[case] = {"error": "setup error: " + _describe(exc)}
            if "-v" in sys.argv:
                traceback.print_exc()
    runner.close()
    return results


def run_startup(adapter: Any, variant: str, spec: str, mem: bool) -> dict[str, Any]:
    import tracemalloc

    from harness import NotSupported, check_graph

    folder, name = spec.split(":")
    sys.path.insert(0, folder)
    g = importlib.import_module(name)
    try:
        contender = adapter.make(variant)
        if mem:
            tracemalloc.start()
        t0 = time.perf_counter()
        instances = contender.startup(g)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] if mem else None
        if mem:
            tracemalloc.stop()
        check_graph(g, instances)
    except NotSupported as exc:
        return {"na": str(exc)}
    except Exception as exc:
        if "-v" in sys.argv:
            traceback.print_exc()
        return {"error": "setup error: " + _describe(exc)}
    res: dict[str, Any] = {"seconds": seconds}
    if peak is not None:
        res["peak_mb"] = peak / 2**20
    return res


if __name__ == "__main__":
    main()
