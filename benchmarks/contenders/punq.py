"""punq: ``Container.register(X, scope=Scope.singleton)`` / ``register(X)`` (transient),
``resolve(X)``. punq has no request scope, no async and no function injection."""

from __future__ import annotations

from typing import Any

import model as m
import punq
from harness import KeyedCases, NotSupported, Op

ROWS = {"punq": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("punq")


class Punq(KeyedCases):
    def __init__(self, variant: str) -> None:
        ct = self.ct = punq.Container()
        for cls in (m.S, *m.WIDE_SINGLETON):
            ct.register(cls, scope=punq.Scope.singleton)
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide):
            ct.register(cls)

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.resolve, "K": cls})

    def d(self) -> Op:
        raise NotSupported("no request scope")

    def e(self) -> Op:
        raise NotSupported("no async")

    def f(self) -> Op:
        raise NotSupported("no function injection")

    def startup(self, g: Any) -> dict[int, Any]:
        raise NotSupported("no request scope")


def make(variant: str) -> Punq:
    return Punq(variant)
