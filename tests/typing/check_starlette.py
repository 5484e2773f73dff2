# pyright: strict
"""Typing checks of the Starlette integration (see check_types.py): inside an
``@inject_starlette`` endpoint a parameter ``svc: Injected[Service]`` is a ``Service``,
``InjectStarlette(Key)`` is the key's instance type, for a Protocol too; the decorated
endpoint is what ``Route`` takes."""

from __future__ import annotations

from typing import Annotated, Any, Protocol, assert_type

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from injectq import InjectQ
from injectq.integrations.starlette import (
    Injected,
    InjectStarlette,
    get_container_starlette,
    inject_starlette,
    setup_starlette,
)


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


@inject_starlette
async def run(request: Request, svc: Injected[Service], clock: Injected[Clock]) -> PlainTextResponse:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    return PlainTextResponse(str(svc.run() + int(clock.now())))


@inject_starlette
def old(
    svc: Annotated[Service, InjectStarlette(Service)],
    clock: Clock = InjectStarlette(Clock),
    label: str = InjectStarlette(str, name="label"),
) -> PlainTextResponse:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    assert_type(label, str)
    return PlainTextResponse(label)


app = Starlette(routes=[Route("/run", run), Route("/old", old)])
setup_starlette(InjectQ(), app)
assert_type(get_container_starlette(), Any)
