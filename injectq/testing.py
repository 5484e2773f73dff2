"""Test helpers, and the pytest plugin (loaded through the ``pytest11`` entry point).

Fixtures the plugin gives every test:

- ``injectq_modules``: the Modules ``injectq_container`` installs. By default the
  arguments of the test's ``@pytest.mark.injectq_modules(...)`` marker (closest wins), or
  none; override the fixture in a ``conftest.py`` to install your application's Modules.
- ``injectq_container``: a fresh ``InjectQ`` per test, with those Modules installed, made
  the current container (``@inject`` and ``InjectQ.get_instance()`` see it), closed after
  the test (async resources too).
- ``injectq_override``: ``injectq_override(Key, value)`` replaces a key in
  ``injectq_container`` until the test ends (``name=`` for a named binding).

Functions kept from InjectQ 0.5.0: ``test_container()``, ``override_dependency()``,
``create_test_module()``, ``pytest_container_fixture()``. pytest is optional here: without
it the helpers work and the fixtures stay plain functions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from injectq.model.module import SimpleModule
from injectq.runtime.container import InjectQ
from injectq.runtime.interface import current

if TYPE_CHECKING:
    import pytest

__all__ = [
    "close_container",
    "create_test_module",
    "override_dependency",
    "pytest_container_fixture",  # served by __getattr__ below
    "test_container",
    "injectq_container",
    "injectq_modules",
    "injectq_override",
]

MARKER = "injectq_modules"


def close_container(container: Any) -> None:
    """Close ``container`` from sync code, finishing async resources on a private loop.

    Call ``await container.aclose()`` in the test instead when an async resource is bound
    to the test's own event loop (a connection, a lock): this then finds nothing left.
    """
    if container.finalizers.has_async():
        asyncio.run(container.aclose())
    else:
        container.close()


@contextlib.contextmanager
def test_container(modules: Iterable[Any] = ()) -> Generator[InjectQ, None, None]:
    """A fresh ``InjectQ`` for the block, made the global and current container, closed
    after; the previous global container comes back. ``modules`` are installed first."""
    with InjectQ.test_mode() as container:
        try:
            for module in modules:
                container.install(module)
            yield container
        finally:
            close_container(container)


test_container.__test__ = False  # type: ignore[attr-defined]  # not a test when imported


@contextlib.contextmanager
def override_dependency(
    service_type: Any,
    override_value: Any,
    container: Any = None,
    *,
    name: str | None = None,
) -> Generator[Any, None, None]:
    """Replace ``service_type`` with ``override_value`` in ``container`` for the block.

    ``container`` defaults to the current one (``InjectQ.get_instance()``); a generated
    container works the same way. Yields the value.
    """
    target = container if container is not None else (current() or InjectQ.get_instance())
    with target.override(service_type, override_value, name) as value:
        yield value


def create_test_module(bindings: Mapping[Any, Any]) -> SimpleModule:
    """A Module binding each key of ``bindings`` to its value (as an instance)."""
    module = SimpleModule()
    for service_type, value in bindings.items():
        module.bind_instance(service_type, value)
    return module


def _container_fixture() -> Callable[..., Any]:
    """A fixture function named ``container`` giving a fresh ``InjectQ`` per test:
    ``container = pytest_container_fixture()`` in a conftest.py (InjectQ 0.5.0 style)."""
    import pytest

    @pytest.fixture
    def container() -> Iterator[InjectQ]:
        with test_container() as fresh:
            yield fresh

    return container


if TYPE_CHECKING:
    pytest_container_fixture = _container_fixture
else:

    def __getattr__(name: str) -> Any:
        # pytest takes every module attribute named pytest_* for a hook and rejects unknown
        # ones: the 0.5.0 name is served from here, where pytest's plugin scan does not look
        if name == "pytest_container_fixture":
            return _container_fixture
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the pytest plugin ---------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*modules): the Modules the injectq_container fixture installs",
    )


def _fixture(func: Callable[..., Any]) -> Any:
    try:
        import pytest
    except ImportError:  # used outside pytest: the helpers above still work
        return func
    return pytest.fixture(func)


@_fixture
def injectq_modules(request: pytest.FixtureRequest) -> list[Any]:
    """The Modules ``injectq_container`` installs: the closest ``injectq_modules`` marker's
    arguments, else none. Override this fixture in a conftest.py for a whole suite."""
    marker = request.node.get_closest_marker(MARKER)
    return list(marker.args) if marker is not None else []


@_fixture
def injectq_container(injectq_modules: Iterable[Any]) -> Iterator[InjectQ]:
    """A fresh runtime container per test, with ``injectq_modules`` installed."""
    with test_container(injectq_modules) as container:
        yield container


@_fixture
def injectq_override(injectq_container: Any) -> Iterator[Callable[..., Any]]:
    """``injectq_override(Key, value, name=None)``: replace a key until the test ends."""
    with contextlib.ExitStack() as stack:

        def override(service_type: Any, value: Any, name: str | None = None) -> Any:
            return stack.enter_context(injectq_container.override(service_type, value, name))

        yield override
