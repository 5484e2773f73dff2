"""Typing checks, run by mypy --strict in `python3 dev.py lint` (not collected by pytest).

The container's public methods keep the types users write: ``get(Service)`` is a
``Service``, ``aget`` too, ``@inject`` keeps a function's signature, and a seed-style
``configure(self)`` override type-checks.
"""

from __future__ import annotations

from typing import assert_type

from injectq import InjectQ, Lazy, Module, inject


class Service:
    pass


class Handler:
    def __init__(self, service: Service, later: Lazy[Service]) -> None:
        self.service = service
        self.later = later


class SeedStyle(Module):
    def configure(self) -> None:
        self.bind(Service, Service).singleton()
        self.bind(Handler).transient()


class BinderStyle(Module):
    def configure(self, binder: object) -> None:
        return None


@inject
def handle(service: Service, count: int = 1) -> str:
    return f"{service}{count}"


async def check() -> None:
    c = InjectQ()
    c.install(SeedStyle())
    assert_type(c.get(Service), Service)
    assert_type(c[Service], Service)
    assert_type(await c.aget(Handler), Handler)
    assert_type(c.get(Handler).later(), Service)
    assert_type(await c.get(Handler).later.aget(), Service)
    assert_type(handle(Service()), str)
    with c.scope() as state:
        assert_type(state.name, str)
    with c.override(Service, Service()):
        pass
