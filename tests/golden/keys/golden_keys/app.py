"""Keys of every shape: a Protocol, a generic alias, a NewType, Annotated, names, strings."""

from __future__ import annotations

from typing import Annotated, Generic, NewType, Protocol, TypeVar

from injectq import Module

T = TypeVar("T")
UserId = NewType("UserId", int)


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return 0.0


class User:
    pass


class Repository(Generic[T]):
    pass


class UserRepository(Repository[User]):
    pass


class Cache:
    def __init__(self, name: str = "cache") -> None:
        self.name = name


class Report:
    def __init__(
        self, clock: Clock, users: Repository[User], user_id: UserId, title: str
    ) -> None:
        self.clock = clock
        self.users = users
        self.user_id = user_id
        self.title = title


def make_user_id() -> UserId:
    return UserId(7)


class KeysModule(Module):
    def configure(self) -> None:
        self.bind(Clock, SystemClock).singleton()
        self.bind(Repository[User], UserRepository).singleton()
        self.bind_factory(UserId, make_user_id).transient()
        self.bind("title", "Monthly report")
        self.bind(Annotated[Cache, "primary"], Cache).singleton()
        self.bind(Cache, Cache, name="secondary").singleton()
        self.bind(Report, Report).transient()
