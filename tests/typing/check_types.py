# pyright: strict
"""Typing checks, run by ``mypy --strict`` and pyright strict (``python3 dev.py lint`` and
tests/test_typing.py); not collected by pytest.

The container's lookups keep the types users write: a class, a Protocol or an ABC key
gives its instance type, ``try_get`` adds its default's type, any other key (a string,
``Annotated[...]``, a NewType) type-checks as ``Any`` or better; ``@inject`` and the class
decorators keep what they decorate; a seed-style ``configure(self)`` override type-checks.
"""

from __future__ import annotations

import abc
from typing import Annotated, Any, Generic, NewType, Protocol, TypeVar, assert_type

from injectq import InjectQ, Lazy, Module, ModuleBinder, Named, inject, singleton

T = TypeVar("T")


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


class Store(abc.ABC):
    @abc.abstractmethod
    def load(self) -> bytes: ...


class User:
    pass


class Repository(Generic[T]):
    pass


UserId = NewType("UserId", str)


class Handler:
    def __init__(self, service: Service, later: Lazy[Service]) -> None:
        self.service = service
        self.later = later


class SeedStyle(Module):
    def configure(self) -> None:
        self.bind(Service, Service).singleton()
        self.bind(Handler).transient()


class BinderStyle(Module):
    def configure(self, binder: ModuleBinder) -> None:
        binder.bind(Service, Service)


@inject
def handle(service: Service, count: int = 1) -> str:
    return f"{service}{count}"


@singleton
class Config:
    debug = False


def check_sync(c: InjectQ) -> None:
    c.install(SeedStyle())
    c.install(BinderStyle())
    assert_type(c.get(Service), Service)
    assert_type(c.get(Service, "primary"), Service)
    assert_type(c.get(Clock), Clock)
    assert_type(c.get(Store), Store)
    assert_type(c.get(Repository[User]), Repository[User])
    assert_type(c.get("db_url"), Any)
    assert_type(c.get(Annotated[Service, Named("primary")]), Any)
    user_id: UserId = c.get(UserId)  # Any (pyright) or UserId (mypy)
    assert_type(c[Service], Service)
    assert_type(c[Clock], Clock)
    assert_type(c["db_url"], Any)
    assert_type(c.try_get(Service), Service | None)
    assert_type(c.try_get(Clock, name="utc"), Clock | None)
    assert_type(c.try_get(Store, None), Store | None)
    assert_type(c.try_get(Service, 0), Service | int)
    assert_type(c.try_get("db_url", ""), Any)
    assert_type(c.get(Handler).later(), Service)
    assert_type(c.get(Config).debug, bool)
    assert_type(handle(Service()), str)
    assert_type(handle(Service(), count=2), str)  # the parameters are still the function's
    with c.scope() as state:
        assert_type(state.name, str)
    with c.override(Service, Service()):
        pass
    print(user_id)


async def check_async(c: InjectQ) -> None:
    assert_type(await c.aget(Handler), Handler)
    assert_type(await c.aget(Clock), Clock)
    assert_type(await c.aget(Store, "disk"), Store)
    assert_type(await c.aget("db_url"), Any)
    assert_type(await c.get(Handler).later.aget(), Service)
    assert_type(await c.atry_get(Clock), Clock | None)
    assert_type(await c.atry_get(Service, 0), Service | int)
    assert_type(await c.atry_get("db_url"), Any)
