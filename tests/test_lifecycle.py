"""Lifecycle edges, checked in both containers: close() forgets singletons, and an
awaitable bound as an instance that failed gives a clear error on the next aget."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from injectq import InjectQ, InjectQError
from tests.codegen_support import build_wiring, make_project

FILES = {
    "lifeapp/__init__.py": "",
    "lifeapp/mods.py": """
        from collections.abc import Iterator
        from injectq import Module

        EVENTS: list[str] = []

        class Resource:
            def __init__(self) -> None:
                self.closed = False

        def open_resource() -> Iterator[Resource]:
            r = Resource()
            EVENTS.append("open")
            yield r
            r.closed = True
            EVENTS.append("close")

        class Token:
            pass

        async def failing() -> Token:
            raise ValueError("first await fails")

        class Mod(Module):
            def configure(self) -> None:
                self.bind_factory(Resource, open_resource).singleton()

        class FailingMod(Module):
            def configure(self) -> None:
                self.bind(Token, failing()).singleton()
    """,
}


def _runtime(module: str) -> Any:
    import lifeapp.mods as mods

    c = InjectQ()
    c.install(getattr(mods, module)())
    return c


def _generated(module: str) -> Any:
    return build_wiring([f"lifeapp.mods:{module}"]).container


@pytest.fixture(params=["runtime", "generated"])
def make(request: pytest.FixtureRequest, codegen_env: Path) -> Callable[[str], Any]:
    make_project(codegen_env, FILES)
    return _runtime if request.param == "runtime" else _generated


def test_close_forgets_finalized_singletons(make: Callable[[str], Any]) -> None:
    """After close(), get() never hands out a finalized resource: it creates a new one."""
    import lifeapp.mods as mods

    c = make("Mod")
    first = c.get(mods.Resource)
    c.close()
    assert first.closed
    second = c.get(mods.Resource)
    assert second is not first and not second.closed
    assert mods.EVENTS == ["open", "close", "open"]
    c.close()


async def test_failed_awaitable_instance_is_a_clear_error(make: Callable[[str], Any]) -> None:
    """A coroutine bound as an instance that raised cannot be awaited again: the next aget
    says so and what to bind instead, not Python's 'cannot reuse' RuntimeError."""
    import lifeapp.mods as mods

    c = make("FailingMod")
    with pytest.raises(ValueError, match="first await fails"):
        await c.aget(mods.Token)
    with pytest.raises(InjectQError, match="bind_factory"):
        await c.aget(mods.Token)
