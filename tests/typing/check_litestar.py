# pyright: strict
"""Typing checks of the Litestar integration (see check_types.py): a handler parameter
``svc: Injected[Service]`` is a ``Service`` inside the handler, for a Protocol too;
``InjectLitestar(Key)`` is a Litestar ``Provide`` and ``InjectQPlugin`` a plugin the app
takes."""

from __future__ import annotations

from typing import Any, Protocol, assert_type

from litestar import Litestar, get
from litestar.di import Provide

from injectq import InjectQ
from injectq.integrations.litestar import (
    Injected,
    InjectLitestar,
    InjectQPlugin,
    get_container_litestar,
)


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


@get("/run")
async def run(svc: Injected[Service], clock: Injected[Clock]) -> int:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    return svc.run() + int(clock.now())


provider = InjectLitestar(Service)
assert_type(provider, Provide)
app = Litestar(
    [run],
    dependencies={"svc": provider, "clock": InjectLitestar(Clock, name="wall")},
    plugins=[InjectQPlugin(InjectQ())],
)
assert_type(get_container_litestar(), Any)
