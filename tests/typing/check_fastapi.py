# pyright: strict
"""Typing checks of the FastAPI integration (see check_types.py): a handler parameter
``svc: Injected[Service]`` is a ``Service`` inside the handler, ``InjectFastAPI(Key)`` is
the key's instance type, for a Protocol too."""

from __future__ import annotations

from typing import Annotated, Protocol, assert_type

from fastapi import FastAPI

from injectq.integrations.fastapi import Injected, InjectFastAPI


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


app = FastAPI()


@app.get("/run")
async def run(svc: Injected[Service], clock: Injected[Clock]) -> int:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    return svc.run() + int(clock.now())


@app.get("/old")
async def old(
    svc: Annotated[Service, InjectFastAPI(Service)],
    clock: Clock = InjectFastAPI(Clock),
) -> int:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    return svc.run()
