"""injector: a module function binding singletons with ``scope=singleton`` and transients
unscoped, ``@inject`` on constructors, ``Injector.get(X)``; functions through
``call_with_injection``. It has no request scope and no async resolution."""

from __future__ import annotations

from typing import Any

import injector
import model as m
from harness import KeyedCases, NotSupported, Op

ROWS = {"injector": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("injector")


@injector.inject
def fn(f1: m.F1, f2: m.F2, fs: m.FS) -> tuple[Any, ...]:
    return (f1, f2, fs)


class Injector(KeyedCases):
    def __init__(self, variant: str) -> None:
        for cls in (m.B, m.C, *m.CHAIN10[1:], m.Wide):
            injector.inject(cls)

        def configure(binder: injector.Binder) -> None:
            for cls in (m.S, *m.WIDE_SINGLETON, m.FS):
                binder.bind(cls, scope=injector.singleton)
            for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.F1, m.F2):
                binder.bind(cls)
        self.inj = injector.Injector([configure], auto_bind=False)

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.inj.get, "K": cls})

    def d(self) -> Op:
        raise NotSupported("no request scope")

    def e(self) -> Op:
        raise NotSupported("no async")

    def f(self) -> Op:
        return Op("call(fn)", {"call": self.inj.call_with_injection, "fn": fn})

    def startup(self, g: Any) -> dict[int, Any]:
        raise NotSupported("no request scope")


def make(variant: str) -> Injector:
    return Injector(variant)
