# pyright: strict
"""Typing checks of InjectQ 0.5.0's factory API (see check_types.py), in both containers:
``call_factory`` / ``acall_factory`` of a class key give its instance type,
``get_factory`` a callable, ``factories`` a mutable mapping of callables; clearing
scopes returns nothing."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, assert_type

from injectq import InjectQ
from injectq.wiring import GeneratedContainer


class Pool:
    def __init__(self, name: str) -> None:
        self.name = name


def check(c: InjectQ | GeneratedContainer) -> None:
    assert_type(c.call_factory(Pool, "users"), Pool)
    assert_type(c.call_factory("pool", "users", size=3), Any)
    assert_type(c.get_factory(Pool), Callable[..., Any])
    factories: MutableMapping[Any, Callable[..., Any]] = c.factories
    assert_type(factories[Pool], Callable[..., Any])
    c.clear_scope("request")
    c.clear_all_scopes()


async def acheck(c: InjectQ | GeneratedContainer) -> None:
    assert_type(await c.acall_factory(Pool, "users"), Pool)
    assert_type(await c.aget_factory(Pool), Callable[..., Any])
    await c.aclear_scope("request")
    await c.aclear_all_scopes()


def runtime_only() -> None:
    c = InjectQ(use_async_scopes=False, thread_safe=False)
    c.factories["pool"] = Pool
    c.bind_instance("pool", Pool("x"), allow_concrete=False)
