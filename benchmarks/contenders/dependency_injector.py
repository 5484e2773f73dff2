"""dependency-injector: a ``DeclarativeContainer`` of ``Singleton`` / ``Factory`` /
``Coroutine`` providers with explicit dependencies; request-scoped services are
``ContextLocalSingleton`` providers reset at the end of the request; functions are
``@inject`` with ``Provide[...]`` markers and ``container.wire(modules=[...])``.
``check_dependencies()`` is its validation."""

from __future__ import annotations

import sys
from typing import Any

import model as m
from dependency_injector import containers, providers
from dependency_injector.wiring import Provide, inject
from harness import KeyedCases, Op

ROWS = {"dependency-injector": "default"}
PROVIDER_NAMES = {m.S: "s", m.C: "c", m.K9: "k9", m.Wide: "wide"}


def version() -> str:
    from importlib.metadata import version as v
    return v("dependency-injector")


class Deps(containers.DeclarativeContainer):
    s = providers.Singleton(m.S)
    a = providers.Factory(m.A)
    b = providers.Factory(m.B, a)
    c = providers.Factory(m.C, b)
    k0 = providers.Factory(m.K0)
    k1 = providers.Factory(m.K1, k0)
    k2 = providers.Factory(m.K2, k1)
    k3 = providers.Factory(m.K3, k2)
    k4 = providers.Factory(m.K4, k3)
    k5 = providers.Factory(m.K5, k4)
    k6 = providers.Factory(m.K6, k5)
    k7 = providers.Factory(m.K7, k6)
    k8 = providers.Factory(m.K8, k7)
    k9 = providers.Factory(m.K9, k8)
    t0, t1, t2, t3, t4 = (providers.Factory(cls) for cls in m.WIDE_TRANSIENT)
    w0, w1, w2, w3, w4 = (providers.Singleton(cls) for cls in m.WIDE_SINGLETON)
    wide = providers.Factory(m.Wide, t0, t1, t2, t3, t4, w0, w1, w2, w3, w4)
    config = providers.Singleton(m.Config)
    r1 = providers.ContextLocalSingleton(m.R1)
    r2 = providers.ContextLocalSingleton(m.R2, r1)
    r3 = providers.ContextLocalSingleton(m.R3, r1)
    r4 = providers.ContextLocalSingleton(m.R4, r2)
    r5 = providers.ContextLocalSingleton(m.R5)
    handler = providers.Factory(m.Handler, r1, r2, r3, r4, r5, config)
    ea = providers.Coroutine(m.make_ea)
    eb = providers.Factory(m.EB, ea)
    ec = providers.Factory(m.EC, eb)
    f1 = providers.Factory(m.F1)
    f2 = providers.Factory(m.F2)
    fs = providers.Singleton(m.FS)


@inject
def fn(f1: m.F1 = Provide[Deps.f1], f2: m.F2 = Provide[Deps.f2],
       fs: m.FS = Provide[Deps.fs]) -> tuple[Any, ...]:
    return (f1, f2, fs)


class DependencyInjector(KeyedCases):
    def __init__(self, variant: str) -> None:
        self.ct = Deps()
        self.ct.check_dependencies()
        self.ct.wire(modules=[sys.modules[__name__]])

    def _get(self, provider: Any) -> Op:
        return Op("get()", {"get": provider})

    def _key(self, cls: type) -> Any:
        return getattr(self.ct, PROVIDER_NAMES[cls])  # its keys are its providers

    def d(self) -> Op:
        ct = self.ct
        get, scoped = ct.handler, (ct.r1, ct.r2, ct.r3, ct.r4, ct.r5)

        def request() -> Any:
            try:
                return get()
            finally:
                for p in scoped:
                    p.reset()
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await get()", {"get": self.ct.ec}, is_async=True)

    def f(self) -> Op:
        return Op("handler()", {"handler": fn})

    def startup(self, g: Any) -> dict[int, Any]:
        ct = containers.DynamicContainer()
        made: list[Any] = []
        scoped: list[Any] = []
        for i, (cls, (lifetime, deps)) in enumerate(zip(g.CLASSES, g.NODES, strict=True)):
            args = [made[j] for j in deps]
            if lifetime == "singleton":
                prov = providers.Singleton(cls, *args)
            elif lifetime == "transient":
                prov = providers.Factory(cls, *args)
            else:
                prov = providers.ContextLocalSingleton(cls, *args)
                scoped.append(prov)
            made.append(prov)
            setattr(ct, f"c{i}", prov)
        ct.check_dependencies()
        try:
            return {i: prov() for i, prov in enumerate(made)}
        finally:
            for prov in scoped:
                prov.reset()


def make(variant: str) -> DependencyInjector:
    return DependencyInjector(variant)
