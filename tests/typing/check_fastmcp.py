# pyright: strict
"""Typing checks of the FastMCP integration (see check_types.py): ``InjectMCP(Key)`` is the
key's instance type, as a default or in ``Annotated``, for a Protocol too."""

from __future__ import annotations

from typing import Annotated, Protocol, assert_type

from fastmcp import FastMCP

from injectq import InjectQ
from injectq.integrations.fastmcp import InjectMCP, setup_mcp


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


mcp = FastMCP("Typed")
setup_mcp(InjectQ(), mcp)


@mcp.tool
async def run(
    clock: Annotated[Clock, InjectMCP(Clock)],
    svc: Service = InjectMCP(Service),
) -> int:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    assert_type(InjectMCP(Service, name="primary"), Service)
    return svc.run() + int(clock.now())
