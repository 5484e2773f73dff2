"""diwire: ``Container()`` with ``add(cls, lifetime=...)`` (singletons are SCOPED on the
root scope, request services SCOPED on ``Scope.REQUEST``). Default: auto-wiring mode with
the resolver context (its default). Tuned: its documented strict mode
(``MissingPolicy.ERROR``, ``DependencyRegistrationPolicy.IGNORE``),
``use_resolver_context=False`` and ``compile()`` after registration, which rebinds
``resolve`` to the compiled resolver."""

from __future__ import annotations

from typing import Any

import model as m
from diwire import (
    Container,
    DependencyRegistrationPolicy,
    Injected,
    Lifetime,
    MissingPolicy,
    Scope,
    resolver_context,
)
from harness import KeyedCases, Op

ROWS = {"diwire": "default", "diwire (strict, compiled)": "strict"}


def version() -> str:
    from importlib.metadata import version as v
    return v("diwire")


def fn(f1: Injected[m.F1], f2: Injected[m.F2], fs: Injected[m.FS]) -> tuple[Any, ...]:
    return (f1, f2, fs)


LIFETIMES = {"singleton": (Lifetime.SCOPED, None), "transient": (Lifetime.TRANSIENT, None),
             "scoped": (Lifetime.SCOPED, Scope.REQUEST)}


class Diwire(KeyedCases):
    def __init__(self, variant: str) -> None:
        self.strict = variant == "strict"
        ct = self.ct = self._container()
        self._add(ct, m.S, "singleton")
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.F1, m.F2):
            self._add(ct, cls, "transient")
        for cls in (*m.WIDE_SINGLETON, m.Config, m.FS):
            self._add(ct, cls, "singleton")
        for cls in m.SCOPED:
            self._add(ct, cls, "scoped")
        ct.add(m.Handler, lifetime=Lifetime.TRANSIENT, scope=Scope.REQUEST)
        ct.add_factory(m.make_ea, lifetime=Lifetime.TRANSIENT)
        self._add(ct, m.EB, "transient")
        self._add(ct, m.EC, "transient")
        self.f_handler = resolver_context.inject(fn) if not self.strict else None
        if self.strict:
            ct.compile()

    def _container(self) -> Container:
        if self.strict:
            return Container(missing_policy=MissingPolicy.ERROR,
                             dependency_registration_policy=DependencyRegistrationPolicy.IGNORE,
                             use_resolver_context=False)
        return Container()

    @staticmethod
    def _add(ct: Container, cls: type, lifetime: str) -> None:
        lt, scope = LIFETIMES[lifetime]
        if scope is None:
            ct.add(cls, lifetime=lt)
        else:
            ct.add(cls, lifetime=lt, scope=scope)

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.resolve, "K": cls})

    def d(self) -> Op:
        enter, handler = self.ct.enter_scope, m.Handler

        def request() -> Any:
            with enter(Scope.REQUEST) as r:
                return r.resolve(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await aget(EC)", {"aget": self.ct.aresolve, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        if self.f_handler is None:
            from harness import NotSupported
            raise NotSupported("@resolver_context.inject needs use_resolver_context=True")
        return Op("handler()", {"handler": self.f_handler})

    def startup(self, g: Any) -> dict[int, Any]:
        ct = self._container()
        for cls, (lifetime, _d) in zip(g.CLASSES, g.NODES, strict=True):
            self._add(ct, cls, lifetime)
        ct.compile()
        with ct.enter_scope(Scope.REQUEST) as r:
            return {i: r.resolve(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Diwire:
    return Diwire(variant)
