"""injectq's runtime container, default configuration, wired by ``iq_cases.CaseModule``."""

from __future__ import annotations

import importlib
from typing import Any

import model as m
from harness import KeyedCases, Op

ROWS = {"injectq (runtime)": "default"}


def version() -> str:
    import injectq
    return injectq.__version__


class Runtime(KeyedCases):
    def __init__(self, variant: str) -> None:
        from iq_cases import CaseModule

        from injectq import InjectQ

        self.ct = InjectQ()
        self.ct.install(CaseModule())

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.get, "K": cls})

    def d(self) -> Op:
        scope, get, handler = self.ct.scope, self.ct.get, m.Handler

        def request() -> Any:
            with scope():
                return get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await aget(EC)", {"aget": self.ct.aget, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        from injectq import inject
        return Op("handler()", {"handler": inject(container=self.ct)(m.target)})

    def startup(self, g: Any) -> dict[int, Any]:
        from injectq import InjectQ

        module = importlib.import_module(g.__name__ + "_iq").GraphModule
        c = InjectQ()
        c.install(module())
        c.validate()
        with c.scope():
            return {i: c.get(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Runtime:
    return Runtime(variant)
