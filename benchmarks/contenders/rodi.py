"""rodi: ``Container`` with ``add_singleton`` / ``add_transient`` / ``add_scoped``, then
``build_provider()``. By default ``provider.get(X)`` creates an activation scope per call;
the tuned row passes an explicit scope (``provider.get(X, scope)``, one scope opened before
timing for the singleton/transient cases). rodi has no async factories (case e)."""

from __future__ import annotations

from typing import Any

import model as m
from harness import KeyedCases, NotSupported, Op
from rodi import Container, inject

ROWS = {"rodi": "default", "rodi (explicit scope)": "scope"}


def version() -> str:
    from importlib.metadata import version as v
    return v("rodi")


@inject()
def fn(f1: m.F1, f2: m.F2, fs: m.FS) -> tuple[Any, ...]:
    return (f1, f2, fs)


ADD = {"singleton": "add_singleton", "transient": "add_transient", "scoped": "add_scoped"}


class Rodi(KeyedCases):
    def __init__(self, variant: str) -> None:
        self.explicit = variant == "scope"
        ct = Container()
        ct.add_singleton(m.S)
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.Handler,
                    m.F1, m.F2):
            ct.add_transient(cls)
        for cls in (*m.WIDE_SINGLETON, m.Config, m.FS):
            ct.add_singleton(cls)
        for cls in m.SCOPED:
            ct.add_scoped(cls)
        self.provider = ct.build_provider()
        self.scope = self.provider.create_scope()

    def _get(self, cls: type) -> Op:
        if self.explicit:
            return Op("get(K, scope)", {"get": self.provider.get, "K": cls, "scope": self.scope})
        return Op("get(K)", {"get": self.provider.get, "K": cls})

    def d(self) -> Op:
        provider, handler = self.provider, m.Handler
        if self.explicit:
            def request() -> Any:
                with provider.create_scope() as scope:
                    return provider.get(handler, scope)
        else:
            def request() -> Any:
                return provider.get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        raise NotSupported("no async factories")

    def f(self) -> Op:
        return Op("handler()", {"handler": self.provider.get_executor(fn)})

    def startup(self, g: Any) -> dict[int, Any]:
        ct = Container()
        for cls, (lifetime, _d) in zip(g.CLASSES, g.NODES, strict=True):
            getattr(ct, ADD[lifetime])(cls)
        provider = ct.build_provider()
        with provider.create_scope() as scope:
            return {i: provider.get(cls, scope) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Rodi:
    return Rodi(variant)
