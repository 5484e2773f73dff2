"""injectq.testing: the pytest plugin (installed through the pytest11 entry point) and the
helpers kept from InjectQ 0.5.0.

The first tests use the plugin's fixtures directly, as any suite with injectq installed
can; the pytester ones run a user's suite (the example of docs/testing.md) in a real pytest
subprocess.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from injectq import InjectQ, Module, inject
from injectq.testing import (
    create_test_module,
    override_dependency,
    pytest_container_fixture,
    test_container,
)

pytest_plugins = ("pytester",)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A real pytest subprocess with warnings as errors, like this project's own runs."""
    return pytester.runpytest_subprocess(
        "-W", "error", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto",
        "-o", "asyncio_default_fixture_loop_scope=function", *args,
    )


class Clock:
    def now(self) -> str:
        return "real time"


class FixedClock(Clock):
    def now(self) -> str:
        return "12:00"


class Greeter:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def greet(self) -> str:
        return f"hello at {self.clock.now()}"


class ClockModule(Module):
    def configure(self) -> None:
        self.bind(Clock, Clock).singleton()
        self.bind(Greeter, Greeter).transient()


@pytest.mark.injectq_modules(ClockModule())
def test_marker_modules_are_installed(injectq_container: InjectQ) -> None:
    """The injectq_modules marker's Modules are installed in the test's fresh container,
    which is current for @inject."""

    @inject
    def greeting(greeter: Greeter) -> str:
        return greeter.greet()

    assert injectq_container.get(Greeter).greet() == "hello at real time"
    assert greeting() == "hello at real time"
    assert InjectQ.get_instance() is injectq_container


def test_without_modules_the_container_is_empty(injectq_container: InjectQ) -> None:
    """Without a marker (or an overriding fixture) the container has no bindings."""
    assert not injectq_container.has(Greeter)


@pytest.mark.injectq_modules(ClockModule())
def test_override_fixture_replaces_a_key_until_the_test_ends(
    injectq_container: InjectQ, injectq_override: Any
) -> None:
    """injectq_override(Key, value) replaces the key for what is resolved after it."""
    fixed = injectq_override(Clock, FixedClock())
    assert isinstance(fixed, FixedClock)
    assert injectq_container.get(Greeter).greet() == "hello at 12:00"


def test_0_5_0_helpers() -> None:
    """test_container(), override_dependency() and create_test_module() behave as in
    InjectQ 0.5.0: a temporary global container, a scoped override, instance bindings."""
    before = InjectQ.get_instance()
    with test_container([create_test_module({Clock: FixedClock()})]) as container:
        container.bind(Greeter, Greeter)
        assert InjectQ.get_instance() is container
        assert container.get(Greeter).greet() == "hello at 12:00"
        with override_dependency(Clock, Clock()):  # the current container by default
            assert container.get(Greeter).greet() == "hello at real time"
        assert container.get(Greeter).greet() == "hello at 12:00"
    assert InjectQ.get_instance() is before
    assert callable(pytest_container_fixture())


def test_users_suite_runs_with_the_plugin(pytester: pytest.Pytester) -> None:
    """The docs/testing.md example passes in a real pytest run with warnings as errors,
    and an imported ``test_container`` is not collected as a test."""
    doc = Path(__file__).resolve().parent.parent / "docs" / "testing.md"
    blocks = doc.read_text(encoding="utf-8").split("```python\n")
    files = {}
    for block in blocks[1:]:
        code = block.split("```", 1)[0]
        first = code.splitlines()[0]
        assert first.startswith("# "), f"every python block of docs/testing.md names its file: {first!r}"
        files[first[2:].strip()] = code
    assert set(files) == {"shop.py", "conftest.py", "test_shop.py"}
    for name, code in files.items():
        pytester.path.joinpath(name).write_text(code, encoding="utf-8")
    pytester.path.joinpath("test_imported_helpers.py").write_text(textwrap.dedent("""
        from injectq.testing import test_container

        def test_uses_it():
            with test_container() as c:
                assert not c.has(int)
    """), encoding="utf-8")
    result = run(pytester, "-q")
    result.assert_outcomes(passed=5)


def test_each_test_gets_a_fresh_container_closed_after_it(pytester: pytest.Pytester) -> None:
    """The container of one test is closed after it (resources finalized, sync and async;
    an override left open by an async test ends cleanly); the next test gets a new one,
    without the earlier test's overrides or bindings."""
    pytester.makepyfile(textwrap.dedent("""
        import pytest
        from injectq import Module

        log = []

        def sync_resource():
            yield "sync"
            log.append("sync closed")

        async def async_resource():
            try:
                yield b"async"
            finally:  # closed by the test loop's shutdown, or by the fixture
                log.append("async closed")

        class Resources(Module):
            def configure(self):
                self.bind_factory(str, sync_resource).singleton()
                self.bind_factory(bytes, async_resource).singleton()

        seen = []

        @pytest.mark.injectq_modules(Resources())
        async def test_first(injectq_container, injectq_override):
            seen.append(injectq_container)
            assert injectq_container.get(str) == "sync"
            assert await injectq_container.aget(bytes) == b"async"
            injectq_override(int, 5)
            injectq_container.bind_instance(float, 1.5)

        def test_second(injectq_container):
            assert sorted(log) == ["async closed", "sync closed"]
            assert injectq_container is not seen[0]
            assert not injectq_container.has(int) and not injectq_container.has(float)
    """))
    result = run(pytester)
    result.assert_outcomes(passed=2)


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    """``-p no:injectq`` turns the plugin off: its fixtures are then unknown."""
    pytester.makepyfile("def test_x(injectq_container):\n    pass\n")
    result = run(pytester, "-p", "no:injectq")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'injectq_container' not found*"])
