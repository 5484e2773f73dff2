"""InjectQ 0.5.0 from PyPI (installed with ``pip install --target`` into
``benchmarks/.peers/injectq050``, first on ``sys.path`` in its own worker process): a
``Module`` whose ``configure(binder)`` binds each class with its scope, installed with
``InjectQ(modules=[...])``; ``@inject(container=...)`` for functions."""

from __future__ import annotations

from typing import Any

import model as m
from harness import KeyedCases, Op

import injectq
from injectq import InjectQ, Module, inject

ROWS = {"InjectQ 0.5.0": "default"}


def version() -> str:
    return str(injectq.__version__)


SCOPE = {"singleton": "singleton", "transient": "transient", "scoped": "request"}


class CaseModule(Module):
    def configure(self, binder: Any) -> None:
        binder.bind(m.S, m.S, scope="singleton")
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.Handler,
                    m.F1, m.F2, m.EB, m.EC):
            binder.bind(cls, cls, scope="transient")
        for cls in (*m.WIDE_SINGLETON, m.Config, m.FS):
            binder.bind(cls, cls, scope="singleton")
        for cls in m.SCOPED:
            binder.bind(cls, cls, scope="request")
        binder.bind_factory(m.EA, m.make_ea)


class GraphModule(Module):
    def __init__(self, g: Any) -> None:
        self.g = g

    def configure(self, binder: Any) -> None:
        for cls, (lifetime, _d) in zip(self.g.CLASSES, self.g.NODES, strict=True):
            binder.bind(cls, cls, scope=SCOPE[lifetime])


class InjectQ050(KeyedCases):
    def __init__(self, variant: str) -> None:
        self.ct = InjectQ(modules=[CaseModule()])

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.get, "K": cls})

    def d(self) -> Op:
        scope, get, handler = self.ct.scope, self.ct.get, m.Handler

        def request() -> Any:
            with scope("request"):
                return get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await aget(EC)", {"aget": self.ct.aget, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        return Op("handler()", {"handler": inject(container=self.ct)(m.target)})

    def startup(self, g: Any) -> dict[int, Any]:
        ct = InjectQ(modules=[GraphModule(g)])
        ct.validate()
        with ct.scope("request"):
            return {i: ct.get(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> InjectQ050:
    return InjectQ050(variant)
