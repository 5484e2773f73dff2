"""Generated graphs for the start-up cases: random layered DAGs (g) and dense grids (h).

Each graph is written as an importable module ``<name>.py`` holding classes ``C0..Cn-1``
(typed ``__init__``, dependency ``Cj`` stored as ``self.dj``), ``CLASSES`` and ``NODES``
(``(lifetime, deps)`` per class, lifetime in singleton/scoped/transient), plus
``<name>_iq.py`` with the injectq ``Module`` of the same graph, one ``bind`` line per class
as a user would write it (injectq-gen needs an importable Module).
"""

from __future__ import annotations

import random
from pathlib import Path

Node = tuple[str, tuple[int, ...]]


def random_dag(n: int, seed: int = 7) -> list[Node]:
    """An application-shaped layered DAG: 20 layers, each class depending on 0-3 classes of
    the 3 layers below. The lower layers are singletons; the top 3 layers mix transient and
    scoped services; a transient depends on singletons only (no captive lifetimes, and no
    exponential tree of transients)."""
    rng = random.Random(seed)
    layer_size = max(5, n // 20)
    nodes: list[Node] = []
    for i in range(n):
        layer = i // layer_size
        top = i >= n - 3 * layer_size
        lifetime = rng.choice(["transient", "scoped"]) if top else "singleton"
        below = range(max(0, (layer - 3) * layer_size), layer * layer_size)
        pool = [j for j in below if nodes[j][0] == "singleton" or lifetime == "scoped"]
        deps = tuple(sorted(rng.sample(pool, min(len(pool), rng.randint(0, 3)))))
        nodes.append((lifetime, deps))
    return nodes


def grid(n: int, tops: int = 6) -> list[Node]:
    """``tops`` singletons, then n layers of n scoped nodes, each depending on every node of
    the layer above (the first layer on every top)."""
    nodes: list[Node] = [("singleton", ()) for _ in range(tops)]
    above = tuple(range(tops))
    for _layer in range(n):
        start = len(nodes)
        nodes.extend(("scoped", above) for _ in range(n))
        above = tuple(range(start, start + n))
    return nodes


def write(folder: Path, name: str, nodes: list[Node]) -> None:
    lines = ['"""Generated benchmark graph."""', ""]
    for i, (_lt, deps) in enumerate(nodes):
        params = "".join(f", d{j}: C{j}" for j in deps)
        body = "".join(f"        self.d{j} = d{j}\n" for j in deps) or "        pass\n"
        lines.append(f"class C{i}:\n    def __init__(self{params}) -> None:\n{body}")
    lines.append("CLASSES = [" + ", ".join(f"C{i}" for i in range(len(nodes))) + "]")
    lines.append(f"NODES = {nodes!r}")
    (folder / f"{name}.py").write_text("\n".join(lines) + "\n")
    iq = [f'"""injectq Module of {name}."""', "from injectq import Module",
          f"from {name} import " + ", ".join(f"C{i}" for i in range(len(nodes))), "",
          "class GraphModule(Module):", "    def configure(self) -> None:"]
    iq += [f"        self.bind(C{i}).{lt}()" for i, (lt, _d) in enumerate(nodes)]
    (folder / f"{name}_iq.py").write_text("\n".join(iq) + "\n")
