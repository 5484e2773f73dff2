"""modern-di: a ``Group`` of ``providers.Factory`` (``scope=Scope.APP, cache=True`` for a
singleton, ``scope=Scope.REQUEST, cache=True`` for a request-scoped service, uncached for
a transient), ``Container(groups=[...])`` validated with ``validate()``; a request is a
child container. It has no async creators and no function injection outside its
framework integrations."""

from __future__ import annotations

from typing import Any

import model as m
from harness import KeyedCases, NotSupported, Op
from modern_di import Container, Group, Scope, providers

ROWS = {"modern-di": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("modern-di")


def factory(cls: type, lifetime: str) -> Any:
    if lifetime == "singleton":
        return providers.Factory(cls, scope=Scope.APP, cache=True)
    if lifetime == "scoped":
        return providers.Factory(cls, scope=Scope.REQUEST, cache=True)
    if lifetime == "transient@request":  # uncached, needs request-scoped dependencies
        return providers.Factory(cls, scope=Scope.REQUEST)
    return providers.Factory(cls)


def group(items: list[tuple[type, str]]) -> type[Group]:
    attrs = {f"p{i}": factory(cls, lt) for i, (cls, lt) in enumerate(items)}
    return type("Deps", (Group,), attrs)


class ModernDi(KeyedCases):
    def __init__(self, variant: str) -> None:
        items = [(m.S, "singleton")]
        items += [(c, "transient") for c in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT,
                                             m.Wide)]
        items += [(c, "singleton") for c in (*m.WIDE_SINGLETON, m.Config)]
        items += [(c, "scoped") for c in m.SCOPED]
        items.append((m.Handler, "transient@request"))
        self.ct = Container(groups=[group(items)])
        self.ct.validate()

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.resolve, "K": cls})

    def d(self) -> Op:
        child, handler, request_scope = self.ct.build_child_container, m.Handler, Scope.REQUEST

        def request() -> Any:
            with child(scope=request_scope) as req:
                return req.resolve(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        raise NotSupported("no async creators")

    def f(self) -> Op:
        raise NotSupported("no function injection outside framework integrations")

    def startup(self, g: Any) -> dict[int, Any]:
        ct = Container(groups=[group([(cls, lt) for cls, (lt, _d)
                                      in zip(g.CLASSES, g.NODES, strict=True)])])
        ct.validate()
        with ct.build_child_container(scope=Scope.REQUEST) as req:
            return {i: req.resolve(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> ModernDi:
    return ModernDi(variant)
