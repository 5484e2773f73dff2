"""Resolve overhead of injectq (runtime and generated) against hand-written wiring.

    .venv/bin/python benchmarks/resolve_overhead.py

Measures, in one run, min-of-7 timeit repeats of: a 3-deep transient chain C(B(A())) and a
cached singleton, hand-written, through the runtime container, and through a generated
_wiring.py (both ``container.get`` and the generated accessor function). Prints ns per
operation and the ratio to hand-written. Reports numbers; asserts nothing.
"""

from __future__ import annotations

import importlib
import sys
import tempfile
import textwrap
import timeit
from pathlib import Path

APP = '''
from injectq import Module

class A:
    pass

class B:
    def __init__(self, a: A) -> None:
        self.a = a

class C:
    def __init__(self, b: B) -> None:
        self.b = b

class S:
    pass

class BenchModule(Module):
    def configure(self) -> None:
        self.bind(C).transient()
        self.bind(S).singleton()
'''


def measure(stmt: str, env: dict[str, object], number: int = 200_000) -> float:
    times = timeit.repeat(stmt, globals=env, number=number, repeat=7)
    return min(times) / number * 1e9


def main() -> None:
    from injectq import InjectQ
    from injectq_codegen.build import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench_app").mkdir()
        (root / "bench_app" / "__init__.py").write_text("")
        (root / "bench_app" / "mods.py").write_text(textwrap.dedent(APP))
        sys.path.insert(0, tmp)
        source, _ = generate(["bench_app.mods:BenchModule"])
        (root / "bench_app" / "_wiring.py").write_text(source)
        mods = importlib.import_module("bench_app.mods")
        wiring = importlib.import_module("bench_app._wiring")

        runtime = InjectQ()
        runtime.install(mods.BenchModule())
        generated = wiring.container
        a_cls, b_cls, c_cls, s_cls = mods.A, mods.B, mods.C, mods.S
        env: dict[str, object] = {
            "A": a_cls, "B": b_cls, "C": c_cls, "S": s_cls, "rt": runtime, "gen": generated,
            "provide_c": wiring.provide_c, "provide_s": wiring.provide_s,
        }
        # a hand-written lazily cached accessor, as it would stand in a module
        exec(  # defines the hand-written baseline in the benchmark's namespace
            "_s = None\ndef hand_singleton():\n    global _s\n    if _s is None:\n"
            "        _s = S()\n    return _s\n",
            env,
        )
        for stmt in ("rt.get(C)", "gen.get(C)", "rt.get(S)", "gen.get(S)"):
            eval(stmt, env)  # warm up: compile resolvers, create singletons
        assert runtime.get(c_cls) is not runtime.get(c_cls)
        assert runtime.get(s_cls) is runtime.get(s_cls)

        print(f"Python {sys.version.split()[0]}")
        hand = hand_s = 1.0
        print(f"{'3-deep transient chain':28} {'ns/op':>8} {'ratio':>7}")
        for label, stmt in (("hand-written C(B(A()))", "C(B(A()))"),
                            ("runtime  container.get(C)", "rt.get(C)"),
                            ("generated container.get(C)", "gen.get(C)"),
                            ("generated provide_c()", "provide_c()")):
            ns = measure(stmt, env)
            hand = hand if stmt != "C(B(A()))" else ns
            print(f"{label:28} {ns:8.0f} {ns / hand:7.2f}")
        print(f"{'cached singleton':28} {'ns/op':>8} {'ratio':>7}")
        for label, stmt in (("hand-written lazy accessor", "hand_singleton()"),
                            ("runtime  container.get(S)", "rt.get(S)"),
                            ("generated container.get(S)", "gen.get(S)"),
                            ("generated provide_s()", "provide_s()")):
            ns = measure(stmt, env)
            hand_s = hand_s if stmt != "hand_singleton()" else ns
            print(f"{label:28} {ns:8.0f} {ns / hand_s:7.2f}")


if __name__ == "__main__":
    main()
