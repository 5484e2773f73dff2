"""Hand-written wiring: plain constructor calls, a lazy module global per singleton, and a
slotted scope object (no dict, no contextvar) for the request scope."""

from __future__ import annotations

from typing import Any

import model as m
from harness import Op

ROWS = {"hand-written": "default"}


def version() -> str:
    return "-"


def _lazy(cls: type) -> Any:
    src = ("_inst = None\ndef get():\n    global _inst\n    if _inst is None:\n"
           "        _inst = cls()\n    return _inst\n")
    ns: dict[str, Any] = {"cls": cls}
    exec(src, ns)
    return ns["get"]


class RequestScope:
    """What a careful human writes: one slot per scoped service, created on first use."""

    __slots__ = ("r1", "r2", "r3", "r4", "r5")

    def __init__(self) -> None:
        self.r1 = self.r2 = self.r3 = self.r4 = self.r5 = None

    def __enter__(self) -> RequestScope:
        return self

    def __exit__(self, *exc: object) -> None:
        self.r1 = self.r2 = self.r3 = self.r4 = self.r5 = None

    def get_r1(self) -> Any:
        r = self.r1
        if r is None:
            r = self.r1 = m.R1()
        return r

    def get_r2(self) -> Any:
        r = self.r2
        if r is None:
            r = self.r2 = m.R2(self.get_r1())
        return r

    def get_r3(self) -> Any:
        r = self.r3
        if r is None:
            r = self.r3 = m.R3(self.get_r1())
        return r

    def get_r4(self) -> Any:
        r = self.r4
        if r is None:
            r = self.r4 = m.R4(self.get_r2())
        return r

    def get_r5(self) -> Any:
        r = self.r5
        if r is None:
            r = self.r5 = m.R5()
        return r


class Hand:
    def __init__(self, variant: str) -> None:
        self.get_s = _lazy(m.S)
        self.get_w = [_lazy(c) for c in m.WIDE_SINGLETON]
        self.get_config = _lazy(m.Config)
        self.get_fs = _lazy(m.FS)

    def a(self) -> Op:
        return Op("get_s()", {"get_s": self.get_s})

    def b3(self) -> Op:
        return Op("C(B(A()))", {"A": m.A, "B": m.B, "C": m.C})

    def b10(self) -> Op:
        expr = "K0()"
        for i in range(1, 10):
            expr = f"K{i}({expr})"
        return Op(expr, {c.__name__: c for c in m.CHAIN10})

    def c(self) -> Op:
        ns: dict[str, Any] = {c.__name__: c for c in m.WIDE_TRANSIENT}
        ns.update({f"get_w{i}": g for i, g in enumerate(self.get_w)})
        ns["Wide"] = m.Wide
        args = [f"T{i}()" for i in range(5)] + [f"get_w{i}()" for i in range(5)]
        return Op(f"Wide({', '.join(args)})", ns)

    def d(self) -> Op:
        get_config, handler = self.get_config, m.Handler

        def request() -> Any:
            with RequestScope() as s:
                return handler(s.get_r1(), s.get_r2(), s.get_r3(), s.get_r4(), s.get_r5(),
                               get_config())
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("EC(EB(await make_ea()))", {"EC": m.EC, "EB": m.EB, "make_ea": m.make_ea},
                  is_async=True)

    def f(self) -> Op:
        return Op("target(F1(), F2(), get_fs())",
                  {"target": m.target, "F1": m.F1, "F2": m.F2, "get_fs": self.get_fs})

    def startup(self, g: Any) -> dict[int, Any]:
        """No registration or validation exists by hand: only the objects are built, in
        dependency order, shared where the lifetime says (the floor of the others)."""
        shared: dict[int, Any] = {}
        classes, nodes = g.CLASSES, g.NODES

        def make(i: int) -> Any:
            lifetime, deps = nodes[i]
            if lifetime != "transient" and i in shared:
                return shared[i]
            obj = classes[i](*[make(j) for j in deps])
            if lifetime != "transient":
                shared[i] = obj
            return obj
        return {i: make(i) for i in range(len(nodes))}


def make(variant: str) -> Hand:
    return Hand(variant)
