"""dishka: a Provider with APP (singleton), REQUEST (scoped) and ``cache=False``
(transient) sources; a request is ``with container() as request``. Its default
``lock_factory`` is ``threading.Lock``; the tuned row passes ``lock_factory=None`` (no
locking: one thread per container, as its docs allow)."""

from __future__ import annotations

from typing import Any

import model as m
from dishka import FromDishka
from harness import KeyedCases, Op

ROWS = {"dishka": "default", "dishka (lock_factory=None)": "nolock"}


def version() -> str:
    from importlib.metadata import version as v
    return v("dishka")




def fn(f1: FromDishka[m.F1], f2: FromDishka[m.F2], fs: FromDishka[m.FS]) -> tuple[Any, ...]:
    return (f1, f2, fs)


class Dishka(KeyedCases):
    def __init__(self, variant: str) -> None:
        from threading import Lock

        from dishka import make_container
        self.lock: Any = None if variant == "nolock" else Lock
        self.ct = make_container(self._provider(), lock_factory=self.lock)

    @staticmethod
    def _provider(with_async: bool = False) -> Any:
        from dishka import Provider, Scope
        p = Provider()
        p.provide(m.S, scope=Scope.APP)
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.F1, m.F2):
            p.provide(cls, scope=Scope.APP, cache=False)
        for cls in (*m.WIDE_SINGLETON, m.Config, m.FS):
            p.provide(cls, scope=Scope.APP)
        for cls in m.SCOPED:
            p.provide(cls, scope=Scope.REQUEST)
        p.provide(m.Handler, scope=Scope.REQUEST, cache=False)
        if with_async:
            p.provide(m.make_ea, scope=Scope.APP, cache=False)
            p.provide(m.EB, scope=Scope.APP, cache=False)
            p.provide(m.EC, scope=Scope.APP, cache=False)
        return p

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.get, "K": cls})

    def d(self) -> Op:
        ct, handler = self.ct, m.Handler

        def request() -> Any:
            with ct() as req:
                return req.get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        from asyncio import Lock

        from dishka import make_async_container
        lock = None if self.lock is None else Lock
        act = make_async_container(self._provider(with_async=True), lock_factory=lock)
        return Op("await get(EC)", {"get": act.get, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        from dishka.integrations.base import wrap_injection

        ct = self.ct
        handler = wrap_injection(func=fn, container_getter=lambda _a, _k: ct)
        return Op("handler()", {"handler": handler})

    def startup(self, g: Any) -> dict[int, Any]:
        from dishka import Provider, Scope, make_container
        p = Provider()
        for cls, (lifetime, _deps) in zip(g.CLASSES, g.NODES, strict=True):
            if lifetime == "singleton":
                p.provide(cls, scope=Scope.APP)
            elif lifetime == "scoped":
                p.provide(cls, scope=Scope.REQUEST)
            else:
                p.provide(cls, scope=Scope.APP, cache=False)
        ct = make_container(p, lock_factory=self.lock)
        with ct() as req:
            return {i: req.get(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Dishka:
    return Dishka(variant)
