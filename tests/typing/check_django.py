# pyright: strict
"""Typing checks of the Django integration (see check_types.py): ``@inject_django`` and
``@inject_command`` leave a view's and a command's type as written, so an injected ``svc:
Service`` is a ``Service``; ``get_django(Key)`` is the key's instance type, for a Protocol
too. Django ships no type hints: its objects here are ``Any``."""

from __future__ import annotations

from typing import Any, Protocol, assert_type

from injectq import InjectQ
from injectq.integrations.django import (
    InjectQMiddleware,
    get_container_django,
    get_django,
    inject_command,
    inject_django,
    setup_django,
)


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


setup_django(InjectQ(), scope_name="request")


@inject_django
def run(request: Any, n: int, svc: Service) -> str:
    assert_type(svc, Service)
    clock = get_django(Clock)
    assert_type(clock, Clock)
    assert_type(get_django(Service, name="primary"), Service)
    return str(n + svc.run() + int(clock.now()))


@inject_django
async def arun(request: Any, svc: Service) -> int:
    assert_type(svc, Service)
    return svc.run()


class Command:
    @inject_command
    def handle(self, *args: Any, svc: Service, **options: Any) -> str:
        assert_type(svc, Service)
        return str(svc.run())


def plain(request: Any, n: int, svc: Service) -> str:
    return str(n + svc.run())


assert_type(inject_django(plain)(None, 1, Service()), str)
assert_type(Command().handle(svc=Service()), str)
middleware: type[InjectQMiddleware] = InjectQMiddleware
get_container_django()
