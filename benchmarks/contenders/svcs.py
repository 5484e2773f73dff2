"""svcs: a ``Registry`` of factories (taking ``svcs_container`` to get their dependencies)
and values; a ``svcs.Container`` per unit of work caches every service it creates, so a
transient is a service of a fresh container: cases b and c create one container per
resolution, d one per request. Singletons are values registered at start-up. No function
injection; a graph with transient nodes inside one container is not expressible."""

from __future__ import annotations

from typing import Any

import model as m
import svcs
from harness import NotSupported, Op

ROWS = {"svcs": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("svcs")


def factory(cls: type, *deps: type) -> Any:
    def create(svcs_container: svcs.Container) -> Any:
        return cls(*[svcs_container.get(d) for d in deps])
    return create


async def make_eb(svcs_container: svcs.Container) -> m.EB:
    return m.EB(await svcs_container.aget(m.EA))


async def make_ec(svcs_container: svcs.Container) -> m.EC:
    return m.EC(await svcs_container.aget(m.EB))


class Svcs:
    def __init__(self, variant: str) -> None:
        reg = self.reg = svcs.Registry()
        for cls in (m.S, *m.WIDE_SINGLETON, m.Config):
            reg.register_value(cls, cls())
        for cls in (m.A, m.K0, *m.WIDE_TRANSIENT, m.R1, m.R5):
            reg.register_factory(cls, cls)
        reg.register_factory(m.B, factory(m.B, m.A))
        reg.register_factory(m.C, factory(m.C, m.B))
        for lower, upper in zip(m.CHAIN10, m.CHAIN10[1:], strict=False):
            reg.register_factory(upper, factory(upper, lower))
        reg.register_factory(m.Wide, factory(m.Wide, *m.WIDE_TRANSIENT, *m.WIDE_SINGLETON))
        reg.register_factory(m.R2, factory(m.R2, m.R1))
        reg.register_factory(m.R3, factory(m.R3, m.R1))
        reg.register_factory(m.R4, factory(m.R4, m.R2))
        reg.register_factory(m.Handler, factory(m.Handler, *m.SCOPED, m.Config))
        reg.register_factory(m.EA, m.make_ea)
        reg.register_factory(m.EB, make_eb)
        reg.register_factory(m.EC, make_ec)
        self.root = svcs.Container(reg)

    def a(self) -> Op:
        return Op("get(K)", {"get": self.root.get, "K": m.S})

    def _fresh(self, cls: type) -> Op:
        return Op("Container(reg).get(K)", {"Container": svcs.Container, "reg": self.reg, "K": cls})

    def b3(self) -> Op:
        return self._fresh(m.C)

    def b10(self) -> Op:
        return self._fresh(m.K9)

    def c(self) -> Op:
        return self._fresh(m.Wide)

    def d(self) -> Op:
        reg, container, handler = self.reg, svcs.Container, m.Handler

        def request() -> Any:
            with container(reg) as con:
                return con.get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await Container(reg).aget(EC)",
                  {"Container": svcs.Container, "reg": self.reg, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        raise NotSupported("no function injection")

    def startup(self, g: Any) -> dict[int, Any]:
        if any(lt == "transient" for lt, _d in g.NODES):
            raise NotSupported("no transient lifetime inside one container")
        reg = svcs.Registry()
        classes = g.CLASSES
        for cls, (lifetime, deps) in zip(classes, g.NODES, strict=True):
            create = factory(cls, *[classes[j] for j in deps])
            if lifetime == "singleton":
                holder: list[Any] = []

                def once(svcs_container: svcs.Container, create: Any = create,
                         holder: list[Any] = holder) -> Any:
                    if not holder:
                        holder.append(create(svcs_container))
                    return holder[0]
                reg.register_factory(cls, once)
            else:
                reg.register_factory(cls, create)
        with svcs.Container(reg) as con:
            return {i: con.get(cls) for i, cls in enumerate(classes)}


def make(variant: str) -> Svcs:
    return Svcs(variant)
