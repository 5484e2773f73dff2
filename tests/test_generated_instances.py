"""A generated module defines a container class: each ``Container()`` is independent.

``container`` is the module's default instance; another instance has its own singletons,
scopes, override blocks and finalizers, and runs the Modules' configure() again, so a
coroutine bound as an instance is a fresh one and can be awaited again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from injectq import ScopeError
from tests.codegen_support import build_wiring, make_project

pytest_plugins = ("pytester",)

APP = """\
from __future__ import annotations

from collections.abc import Iterator

from injectq import Module

EVENTS: list[str] = []
POOLS: list[object] = []


class Pool:
    def __init__(self) -> None:
        POOLS.append(self)


class Settings:
    def __init__(self) -> None:
        self.name = "default"


class Conn:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


def open_conn(settings: Settings) -> Iterator[Conn]:
    conn = Conn(settings)
    EVENTS.append(f"open {id(conn)}")
    yield conn
    EVENTS.append(f"close {id(conn)}")


class PerRequest:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Pool, self._create_pool())
        self.bind(Settings, Settings).singleton()
        self.bind_factory(Conn, open_conn).singleton()
        self.bind(PerRequest, PerRequest).scoped("request")

    async def _create_pool(self) -> Pool:
        return Pool()
"""


@pytest.fixture
def wiring(codegen_env: Path):
    make_project(codegen_env, {"inst/__init__.py": "", "inst/app.py": APP})
    return build_wiring(["inst.app:AppModule"])


def test_two_containers_of_one_module_are_independent(wiring) -> None:
    import inst.app as app

    a, b = wiring.container, wiring.Container()
    assert type(a) is type(b) is wiring.Container
    assert a.get(app.Settings) is a.get(app.Settings)
    assert a.get(app.Settings) is not b.get(app.Settings)
    assert b.provide_conn() is b.get(app.Conn) is not a.provide_conn()
    # the module's provide_x functions are the default instance's
    assert wiring.provide_settings() is a.get(app.Settings)
    # a scope opened on one is not open on the other
    with a.scope():
        r = a.get(app.PerRequest)
        assert r is a.get(app.PerRequest) and r.conn is a.get(app.Conn)
        with pytest.raises(ScopeError, match="PerRequest"):
            b.get(app.PerRequest)
    # an override block on one leaves the other alone
    replacement = app.Settings()
    with b.override(app.Settings, replacement):
        assert b.get(app.Settings) is replacement
        assert a.get(app.Settings) is not replacement
    # closing one finalizes only its own resources
    conn_a, conn_b = a.get(app.Conn), b.get(app.Conn)
    b.close()
    assert f"close {id(conn_b)}" in app.EVENTS
    assert f"close {id(conn_a)}" not in app.EVENTS
    assert a.get(app.Conn) is conn_a
    a.close()
    assert f"close {id(conn_a)}" in app.EVENTS


async def test_a_bound_coroutine_is_fresh_in_each_container(wiring) -> None:
    """The seed's ``self.bind(Pool, self._create_pool())``: each container runs configure()
    again, so each has its own coroutine to await, also after another was closed."""
    import inst.app as app

    first = wiring.Container()
    pool = await first.aget(app.Pool)
    assert await first.aget(app.Pool) is pool
    await first.aclose()
    second = wiring.Container()
    other = await second.aget(app.Pool)
    assert other is not pool and app.POOLS == [pool, other]
    await second.aclose()
    await wiring.container.aclose()  # the default instance's coroutine, never awaited


def test_each_container_keeps_its_own_singletons_after_the_other_closes(wiring) -> None:
    import inst.app as app

    a, b = wiring.Container(), wiring.Container()
    settings = a.get(app.Settings)
    b.close()
    assert a.get(app.Settings) is settings
    a.close()
    assert a.get(app.Settings) is not settings  # a closed container forgets its singletons


PLUGIN_SUITE = """\
import pytest

import inst._wiring as wiring
from inst.app import Settings

SEEN = []


@pytest.mark.injectq_wiring(wiring)
def test_first(injectq_generated):
    assert injectq_generated is not wiring.container
    SEEN.append(injectq_generated.get(Settings))


@pytest.mark.injectq_wiring("inst._wiring")
def test_second(injectq_generated):
    settings = injectq_generated.get(Settings)
    assert settings is not SEEN[0]
    assert injectq_generated.get(Settings) is settings


def test_unmarked_test_is_told_what_to_do(injectq_generated):
    pass
"""


def test_pytest_plugin_hands_each_test_a_fresh_generated_container(
    pytester: pytest.Pytester, codegen_env: Path, wiring
) -> None:
    package = pytester.path / "inst"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "app.py").write_text(APP)
    (package / "_wiring.py").write_text(Path(wiring.__file__).read_text())
    pytester.makepyfile(test_suite=PLUGIN_SUITE)
    pytester.chdir()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*injectq_generated needs a generated module*"])
