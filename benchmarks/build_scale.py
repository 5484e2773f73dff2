"""Start-up at scale: injectq-gen build time, import time of the generated module, and the
runtime container's validate + first resolve, for a random layered DAG of N bindings.

    .venv/bin/python benchmarks/build_scale.py [N ...]      (default: 100 1000)

Each measurement runs in a fresh subprocess so that nothing is cached between them.
Reports seconds; asserts nothing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

LAYER = 50  # bindings per layer


def write_app(root: Path, n: int, seed: int = 7) -> None:
    """A layered DAG: each class depends on 0-3 classes of the layers below. Lower layers
    are singletons; the top layers mix transient and request-scoped services, the shape
    of an application (so that no singleton captures a scoped one)."""
    rng = random.Random(seed)
    lines = ["from injectq import Module", ""]
    lifetimes = []
    for i in range(n):
        layer = i // LAYER
        top = i >= n - 3 * LAYER
        lifetime = rng.choice(["transient()", "scoped()"]) if top else "singleton()"
        lifetimes.append(lifetime)
        below = range(max(0, (layer - 3) * LAYER), layer * LAYER)
        # a transient depends on singletons only: a tree of transients is exponential work
        pool = [j for j in below if lifetimes[j] == "singleton()" or lifetime == "scoped()"]
        deps = sorted(rng.sample(pool, min(len(pool), rng.randint(0, 3))))
        params = ", ".join(f"d{j}: C{j}" for j in deps)
        body = "".join(f"        self.d{j} = d{j}\n" for j in deps) or "        pass\n"
        lines.append(f"class C{i}:\n    def __init__(self{', ' if params else ''}{params}) -> None:\n"
                     f"{body}")
    lines.append("class BigModule(Module):\n    def configure(self) -> None:")
    lines += [f"        self.bind(C{i}).{lt}" for i, lt in enumerate(lifetimes)]
    (root / "bigapp").mkdir()
    (root / "bigapp" / "__init__.py").write_text("")
    (root / "bigapp" / "mods.py").write_text("\n".join(lines) + "\n")


def timed(code: str, cwd: Path) -> float:
    script = "import time\n_t = time.perf_counter()\n" + textwrap.dedent(code) + (
        "\nprint(time.perf_counter() - _t)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", script], cwd=cwd, check=True,
                         capture_output=True, text=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000]
    print(f"{'bindings':>9} {'gen build':>10} {'1st import':>11} {'import':>8} "
          f"{'runtime validate+resolve':>25}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_app(root, n)
            build = timed(
                """
                from injectq_codegen.build import generate
                src, _ = generate(["bigapp.mods:BigModule"])
                open("bigapp/_wiring.py", "w").write(src)
                """,
                root,
            )
            # the first import compiles the module to bytecode; later ones load the .pyc.
            # Both time the generated module alone (injectq and the user's classes preloaded)
            pre = "import injectq.wiring, bigapp.mods\n_t = time.perf_counter()\n"
            first = timed(pre + "import bigapp._wiring", root)
            imp = timed(pre + "import bigapp._wiring", root)
            runtime = timed(
                f"""
                from injectq import InjectQ
                from bigapp.mods import BigModule, C{n - 1}
                c = InjectQ()
                c.install(BigModule())
                c.validate()
                with c.scope():
                    c.get(C{n - 1})
                """,
                root,
            )
            print(f"{n:>9} {build:>9.2f}s {first:>10.3f}s {imp:>7.3f}s {runtime:>24.2f}s")


if __name__ == "__main__":
    main()
