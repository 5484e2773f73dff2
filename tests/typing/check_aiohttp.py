# pyright: strict
"""Typing checks of the aiohttp integration (see check_types.py): in an ``@inject_aiohttp``
handler an injected ``svc: Service`` is a ``Service``, and the decorated handler takes the
request alone, as aiohttp's router expects; ``aget_aiohttp(request, Key)`` awaits to the
key's instance type, for a Protocol too."""

from __future__ import annotations

from typing import Protocol, assert_type

from aiohttp import web

from injectq import InjectQ
from injectq.integrations.aiohttp import (
    aget_aiohttp,
    get_container_aiohttp,
    inject_aiohttp,
    setup_aiohttp,
)


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


routes = web.RouteTableDef()


@routes.get("/run")
@inject_aiohttp
async def run(request: web.Request, svc: Service) -> web.Response:
    assert_type(svc, Service)
    clock = await aget_aiohttp(request, Clock)
    assert_type(clock, Clock)
    assert_type(await aget_aiohttp(request, Service, name="primary"), Service)
    get_container_aiohttp(request)
    return web.Response(text=str(svc.run() + int(clock.now())))


async def plain(request: web.Request, svc: Service) -> web.Response:
    return web.Response(text=str(svc.run()))


async def call(request: web.Request) -> None:
    assert_type(await inject_aiohttp(plain)(request), web.Response)


app = web.Application()
app.add_routes(routes)
setup_aiohttp(InjectQ(), app, close_on_shutdown=False)
