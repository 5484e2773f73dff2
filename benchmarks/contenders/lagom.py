"""lagom: ``Container`` with ``container[X] = Singleton(X)`` for singletons, reflection
auto-wiring for transients, ``ContextContainer(..., context_singletons=[...])`` for a
request and ``bind_to_container`` with ``injectable`` defaults for functions. Async
dependencies are only available as ``Awaitable[T]``, not through a chain (case e)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ContextManager  # noqa: UP035 - lagom keys context managers by it

import model as m
from harness import KeyedCases, NotSupported, Op
from lagom import Container, Singleton, bind_to_container, injectable
from lagom.context_based import ContextContainer

ROWS = {"lagom": "default"}


def version() -> str:
    from importlib.metadata import version as v
    return v("lagom")


def fn(f1: m.F1 = injectable, f2: m.F2 = injectable, fs: m.FS = injectable) -> tuple[Any, ...]:
    return (f1, f2, fs)


def register_scoped(ct: Container, cls: type) -> None:
    """lagom's context singletons need a ContextManager[T] definition each."""
    @contextmanager
    def create(c: Any) -> Iterator[Any]:
        yield c.reflect(cls) if hasattr(c, "reflect") else c.resolve(cls, skip_definitions=True)
    ct[ContextManager[cls]] = create  # type: ignore[valid-type]


class Lagom(KeyedCases):
    def __init__(self, variant: str) -> None:
        ct = self.ct = Container()
        for cls in (m.S, *m.WIDE_SINGLETON, m.Config, m.FS):
            ct[cls] = Singleton(cls)
        for cls in m.SCOPED:
            register_scoped(ct, cls)

    def _get(self, cls: type) -> Op:
        return Op("get(K)", {"get": self.ct.resolve, "K": cls})

    def d(self) -> Op:
        ct, handler, scoped = self.ct, m.Handler, m.SCOPED

        def request() -> Any:
            with ContextContainer(ct, context_types=[], context_singletons=scoped) as req:
                return req.resolve(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        raise NotSupported("async dependencies only as Awaitable[T], no async chain")

    def f(self) -> Op:
        return Op("handler()", {"handler": bind_to_container(self.ct)(fn)})

    def startup(self, g: Any) -> dict[int, Any]:
        ct = Container()
        scoped = []
        for cls, (lifetime, _d) in zip(g.CLASSES, g.NODES, strict=True):
            if lifetime == "singleton":
                ct[cls] = Singleton(cls)
            elif lifetime == "scoped":
                scoped.append(cls)
                register_scoped(ct, cls)
        with ContextContainer(ct, context_types=[], context_singletons=scoped) as req:
            return {i: req.resolve(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Lagom:
    return Lagom(variant)
