"""wireup: classes registered with ``wireup.injectable(..., lifetime=...)``,
``create_sync_container`` / ``create_async_container``. wireup resolves transient and
scoped injectables only inside a scope, so cases b and c resolve from one scope opened
before timing (as a request handler would); d opens and closes a scope per request.
Its build time explodes on dense graphs: the grid is capped at 7x7."""

from __future__ import annotations

import asyncio
from typing import Any

import model as m
import wireup
from harness import NotSupported, Op
from wireup import Injected

ROWS = {"wireup": "default"}
GRID_CAP = 7


def version() -> str:
    from importlib.metadata import version as v
    return v("wireup")


def fn(f1: Injected[m.F1], f2: Injected[m.F2], fs: Injected[m.FS]) -> tuple[Any, ...]:
    return (f1, f2, fs)


def _reg(obj: Any, lifetime: str) -> Any:
    return wireup.injectable(obj, lifetime=lifetime)  # type: ignore[call-overload]


class Wireup:
    def __init__(self, variant: str) -> None:
        regs = [_reg(m.S, "singleton")]
        regs += [_reg(c, "transient") for c in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT,
                                                 m.Wide, m.Handler, m.F1, m.F2)]
        regs += [_reg(c, "singleton") for c in (*m.WIDE_SINGLETON, m.Config, m.FS)]
        regs += [_reg(c, "scoped") for c in m.SCOPED]
        self.regs = regs
        self.ct = wireup.create_sync_container(injectables=regs)
        self.scope_cm = self.ct.enter_scope()
        self.sc = self.scope_cm.__enter__()

    def a(self) -> Op:
        return Op("get(K)", {"get": self.ct.get, "K": m.S})

    def _scoped_get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.sc.get, "K": cls})

    def b3(self) -> Op:
        return self._scoped_get(m.C)

    def b10(self) -> Op:
        return self._scoped_get(m.K9)

    def c(self) -> Op:
        return self._scoped_get(m.Wide)

    def d(self) -> Op:
        enter, handler = self.ct.enter_scope, m.Handler

        def request() -> Any:
            with enter() as sc:
                return sc.get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        regs = [*self.regs, _reg(m.make_ea, "transient"), _reg(m.EB, "transient"),
                _reg(m.EC, "transient")]
        act = wireup.create_async_container(injectables=regs)
        holder: dict[str, Any] = {}

        async def enter() -> None:
            holder["cm"] = act.enter_scope()
            holder["sc"] = await holder["cm"].__aenter__()
        asyncio.get_event_loop().run_until_complete(enter())
        return Op("await get(EC)", {"get": holder["sc"].get, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        return Op("handler()", {"handler": wireup.inject_from_container(self.ct)(fn)})

    def startup(self, g: Any) -> dict[int, Any]:
        if g.__name__.startswith("grid") and int(g.__name__.split("_")[1]) > GRID_CAP:
            raise NotSupported(f"not run above {GRID_CAP}x{GRID_CAP}: its build time explodes past it")
        regs = [_reg(cls, lt) for cls, (lt, _d) in zip(g.CLASSES, g.NODES, strict=True)]
        ct = wireup.create_sync_container(injectables=regs)
        with ct.enter_scope() as sc:
            return {i: sc.get(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Wireup:
    return Wireup(variant)
