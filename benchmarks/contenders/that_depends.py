"""that-depends: a ``BaseContainer`` of providers with explicit dependencies (``Singleton``,
``Factory``, ``AsyncFactory``; request-scoped services are ``ContextResource`` with
``scope=ContextScopes.REQUEST``, entered with ``container_context``). Function injection
is ``@inject`` with ``Provide[...]`` defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import model as m
from harness import KeyedCases, Op
from that_depends import BaseContainer, ContextScopes, Provide, container_context, inject
from that_depends import providers as p

PROVIDER_NAMES = {m.S: "s", m.C: "c", m.K9: "k9", m.Wide: "wide"}
ROWS = {"that-depends": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("that-depends")


def scoped(cls: Callable[..., Any]) -> Callable[..., Iterator[Any]]:
    def create(*args: Any) -> Iterator[Any]:
        yield cls(*args)
    create.__name__ = f"create_{getattr(cls, '__name__', 'x')}"
    return create


def request_resource(cls: Callable[..., Any], *deps: Any) -> Any:
    return p.ContextResource(scoped(cls), *deps).with_config(scope=ContextScopes.REQUEST)


class Deps(BaseContainer):
    s = p.Singleton(m.S)
    a = p.Factory(m.A)
    b = p.Factory(m.B, a)
    c = p.Factory(m.C, b)
    k0 = p.Factory(m.K0)
    k1 = p.Factory(m.K1, k0)
    k2 = p.Factory(m.K2, k1)
    k3 = p.Factory(m.K3, k2)
    k4 = p.Factory(m.K4, k3)
    k5 = p.Factory(m.K5, k4)
    k6 = p.Factory(m.K6, k5)
    k7 = p.Factory(m.K7, k6)
    k8 = p.Factory(m.K8, k7)
    k9 = p.Factory(m.K9, k8)
    t0, t1, t2, t3, t4 = (p.Factory(cls) for cls in m.WIDE_TRANSIENT)
    w0, w1, w2, w3, w4 = (p.Singleton(cls) for cls in m.WIDE_SINGLETON)
    wide = p.Factory(m.Wide, t0, t1, t2, t3, t4, w0, w1, w2, w3, w4)
    config = p.Singleton(m.Config)
    r1 = request_resource(m.R1)
    r2 = request_resource(m.R2, r1)
    r3 = request_resource(m.R3, r1)
    r4 = request_resource(m.R4, r2)
    r5 = request_resource(m.R5)
    handler = p.Factory(m.Handler, r1, r2, r3, r4, r5, config)
    ea = p.AsyncFactory(m.make_ea)
    eb = p.Factory(m.EB, ea)
    ec = p.Factory(m.EC, eb)
    f1 = p.Factory(m.F1)
    f2 = p.Factory(m.F2)
    fs = p.Singleton(m.FS)


@inject
def fn(f1: m.F1 = Provide[Deps.f1], f2: m.F2 = Provide[Deps.f2],
       fs: m.FS = Provide[Deps.fs]) -> tuple[Any, ...]:
    return (f1, f2, fs)


class ThatDepends(KeyedCases):
    def __init__(self, variant: str) -> None:
        pass

    def _get(self, provider: Any) -> Op:
        return Op("get()", {"get": provider.resolve_sync})

    def _key(self, cls: type) -> Any:
        return getattr(Deps, PROVIDER_NAMES[cls])  # its keys are its providers

    def d(self) -> Op:
        get = Deps.handler.resolve_sync

        def request() -> Any:
            with container_context(scope=ContextScopes.REQUEST):
                return get()
        return Op("request()", {"request": request})

    def e(self) -> Op:
        return Op("await get()", {"get": Deps.ec.resolve}, is_async=True)

    def f(self) -> Op:
        return Op("handler()", {"handler": fn})

    def startup(self, g: Any) -> dict[int, Any]:
        made: list[Any] = []
        for cls, (lifetime, deps) in zip(g.CLASSES, g.NODES, strict=True):
            args = [made[j] for j in deps]
            if lifetime == "singleton":
                made.append(p.Singleton(cls, *args))
            elif lifetime == "transient":
                made.append(p.Factory(cls, *args))
            else:
                made.append(request_resource(cls, *args))
        container = type("GraphDeps", (BaseContainer,),
                         {f"c{i}": prov for i, prov in enumerate(made)})
        with container_context(container, scope=ContextScopes.REQUEST):
            return {i: prov.resolve_sync() for i, prov in enumerate(made)}


def make(variant: str) -> ThatDepends:
    return ThatDepends(variant)
