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


SAME_ERRORS = {
    "samerr/__init__.py": "",
    "samerr/mods.py": """
        from injectq import Module

        class Pool:
            pass

        async def open_pool() -> Pool:
            return Pool()

        class Repo:
            def __init__(self, pool: Pool) -> None:
                self.pool = pool

        class Handler:
            def __init__(self, repo: Repo) -> None:
                self.repo = repo

        class Request:
            pass

        class Mod(Module):
            def configure(self) -> None:
                self.bind_factory(Pool, open_pool).singleton()
                self.bind(Repo).transient()
                self.bind(Handler).transient()
                self.bind(Request).scoped()
    """,
}


def test_resolve_time_errors_read_the_same_in_both_containers(codegen_env: Path) -> None:
    """get() of something that needs an await, and of a scoped binding with no open scope,
    raise the same error type with the same text in the runtime and generated containers."""
    from injectq import AsyncResolutionError, ScopeError

    make_project(codegen_env, SAME_ERRORS)
    import samerr.mods as mods

    runtime = InjectQ()
    runtime.install(mods.Mod())
    generated = build_wiring(["samerr.mods:Mod"]).container
    rendered = {}
    for key, error in ((mods.Handler, AsyncResolutionError), (mods.Request, ScopeError)):
        texts = []
        for c in (runtime, generated):
            with pytest.raises(error) as info:
                c.get(key)
            texts.append(str(info.value))
        assert texts[0] == texts[1]
        rendered[error] = texts[0]
    assert "chain: Handler [transient] -> Repo [transient] -> Pool [singleton]" in (
        rendered[AsyncResolutionError]
    )
    assert "no 'request' scope is open" in rendered[ScopeError]
