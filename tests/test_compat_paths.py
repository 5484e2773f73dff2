"""InjectQ 0.5.0's import paths work and give injectq's own objects: every path its
documentation and examples tell users to import from, its older decorator submodules,
its exception names, and ``logger``, the library's silent-by-default logger.
"""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import injectq
from injectq import InjectQError, ResourceCleanupError
from injectq.core import _concurrency, _registry, _scopes
from injectq.model import binding, markers, module
from injectq.model.registry import AlreadyRegisteredError
from injectq.runtime import container as runtime_container
from injectq.runtime import decorators, inject, resources
from injectq.utils import protocols, types

ROOT = Path(__file__).resolve().parent.parent

# what InjectQ 0.5.0's docs, examples and changelog import from paths other than `injectq`
DOCUMENTED = [
    "from injectq.modules import Module",
    "from injectq.modules import SimpleModule",
    "from injectq.modules import ConfigurationModule",
    "from injectq.modules import ProviderModule, provider",
    "from injectq.modules import Module, SimpleModule, ProviderModule, provider",
    "from injectq.utils import DependencyNotFoundError",
    "from injectq.utils import AlreadyRegisteredError",
    "from injectq.utils.exceptions import BindingError",
    "from injectq.utils.exceptions import DependencyNotFoundError",
    "from injectq.utils.logging import logger",
    "from injectq.decorators import inject",
    "from injectq.decorators.inject import Inject",
    "from injectq.decorators.resource import ResourceError",
]

# each compat module's names, and the injectq object each one is
SAME = {
    "injectq.core": {
        "InjectQ": runtime_container.InjectQ,
        "ContainerContext": runtime_container.ContainerContext,
        "ModuleBinder": module.ModuleBinder,
        "Scope": types.Scope,
        "ScopeType": binding.ScopeType,
        # 0.5.0's machinery, each name the object of the module that defines it
        **{n: getattr(m, n) for m in (_concurrency, _registry, _scopes) for n in m.__all__},
    },
    "injectq.modules": {
        "Module": module.Module,
        "SimpleModule": module.SimpleModule,
        "ProviderModule": module.ProviderModule,
        "ConfigurationModule": module.ConfigurationModule,
        "provider": module.provider,
    },
    "injectq.decorators": {
        "inject": inject.inject,
        "Inject": markers.Inject,
        "singleton": decorators.singleton,
        "transient": decorators.transient,
        "scoped": decorators.scoped,
        "register_as": decorators.register_as,
        "resource": resources.resource,
        "managed_resource": resources.managed_resource,
        "async_managed_resource": resources.async_managed_resource,
        "get_resource_manager": resources.get_resource_manager,
    },
    "injectq.utils.exceptions": {
        "InjectQError": injectq.InjectQError,
        "DependencyNotFoundError": injectq.DependencyNotFoundError,
        "CircularDependencyError": injectq.CircularDependencyError,
        "BindingError": injectq.BindingError,
        "InjectionError": injectq.InjectionError,
        "ScopeError": injectq.ScopeError,
        "AlreadyRegisteredError": AlreadyRegisteredError,
    },
}


@pytest.mark.parametrize("statement", DOCUMENTED)
def test_documented_import_paths_import(statement: str) -> None:
    """Each import statement of 0.5.0's documentation runs."""
    namespace: dict[str, object] = {}
    exec(statement, namespace)
    names = statement.split(" import ")[1].split(", ")
    assert all(namespace[n] is not None for n in names)


@pytest.mark.parametrize("path", sorted(SAME))
def test_compat_modules_export_injectq_objects(path: str) -> None:
    """Every name a compat module exports is injectq's own object, and it exports
    exactly those names."""
    compat = importlib.import_module(path)
    assert sorted(compat.__all__) == sorted(SAME[path])
    for name, obj in SAME[path].items():
        assert getattr(compat, name) is obj, name


def test_utils_exports_exceptions_protocols_types_and_logger() -> None:
    """``injectq.utils`` offers the exceptions, the protocols, the type aliases, the helpers
    and ``logger``, each the object its own submodule holds (0.5.0 left ``Scope`` and
    ``resolve_forward_ref`` to ``injectq.utils.types``)."""
    import injectq.utils as utils
    from injectq.utils import exceptions, helpers
    from injectq.utils import logging as injectq_logging

    sources = (exceptions, helpers, injectq_logging, protocols, types)
    only_in_types = ("Scope", "resolve_forward_ref")
    expected = {n: getattr(m, n) for m in sources for n in m.__all__ if n not in only_in_types}
    assert sorted(utils.__all__) == sorted(expected)
    for name, obj in expected.items():
        assert getattr(utils, name) is obj, name


def test_names_injectq_exports_too_are_the_same_objects() -> None:
    """A name both a compat module and ``injectq`` export is one object."""
    import injectq.utils as utils

    for compat in ("injectq.core", "injectq.modules", "injectq.decorators", "injectq.utils"):
        mod = importlib.import_module(compat)
        for name in mod.__all__:
            if hasattr(injectq, name):
                assert getattr(mod, name) is getattr(injectq, name), (compat, name)
    assert utils.DependencyNotFoundError is injectq.DependencyNotFoundError


def test_old_decorator_submodules_keep_the_package_functions() -> None:
    """``from injectq.decorators.inject import ...`` (and ``.resource``, ``.singleton``)
    work, first thing in a fresh interpreter, while the package's ``inject``,
    ``resource`` and ``singleton`` stay the decorators."""
    code = """
import injectq.decorators.inject
from injectq.decorators.inject import Inject, inject
from injectq.decorators.resource import ResourceError, ResourceManager, get_resource_manager
from injectq.decorators.resource import resource
from injectq.decorators.singleton import register_as, scoped, singleton, transient
import injectq, injectq.decorators as d
assert d.inject is inject is injectq.inject and callable(d.inject)
assert d.resource is resource and d.singleton is singleton is injectq.singleton
assert d.scoped is scoped and d.transient is transient and d.register_as is register_as
assert Inject is injectq.Inject and ResourceError is injectq.errors.ResourceError
assert isinstance(get_resource_manager(), ResourceManager)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=60,
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_every_0_5_0_exception_is_an_injectq_error() -> None:
    """0.5.0's exception names are injectq's classes, all under InjectQError, and
    ResourceError (0.5.0's resource failure) covers failed finalizers too."""
    from injectq.decorators.resource import ResourceError
    from injectq.utils import exceptions

    for name in exceptions.__all__:
        assert issubclass(getattr(exceptions, name), InjectQError), name
    assert issubclass(ResourceError, InjectQError)
    assert issubclass(ResourceCleanupError, ResourceError)


def test_scope_type_from_core_sets_a_binding_scope() -> None:
    """``ScopeType.REQUEST`` from ``injectq.core`` binds a request-scoped service."""
    from injectq.core import InjectQ, ScopeType

    class Ctx:
        pass

    c = InjectQ()
    c.bind(Ctx, scope=ScopeType.REQUEST)
    with c.scope("request"):
        first = c.get(Ctx)
        assert c.get(Ctx) is first
    with c.scope("request"):
        assert c.get(Ctx) is not first


# -- logger -----------------------------------------------------------------------------------


def test_logger_is_the_injectq_logger() -> None:
    """``logger`` is the standard library logger named ``injectq``, with a NullHandler."""
    from injectq.utils.logging import logger

    assert isinstance(logger, logging.Logger)
    assert logger is logging.getLogger("injectq")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_logger_is_silent_until_configured() -> None:
    """With no logging configured, a warning of the injectq logger prints nothing (the
    standard library's last-resort handler would write it to stderr)."""
    code = "from injectq.utils.logging import logger; logger.warning('should not show')"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_logger_shows_records_once_a_handler_is_added() -> None:
    """0.5.0's documented set-up: a handler and a level, and records appear."""
    code = """
import logging
from injectq.utils.logging import logger
handler = logging.StreamHandler()
handler.setFormatter(logging.Formatter('[%(levelname)s] %(name)s: %(message)s'))
logger.addHandler(handler)
logger.setLevel(logging.INFO)
logger.info("InjectQ log message")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False,
        timeout=60,
    )
    assert result.stderr == "[INFO] injectq: InjectQ log message\n"


def test_library_records_go_to_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    """What the library logs (load_container falling back to the runtime container) is a
    record of that logger."""
    from injectq.utils.logging import logger

    with caplog.at_level(logging.WARNING, logger=logger.name):
        injectq.load_container("no_such_wiring_module_here", [])
    records = [r for r in caplog.records if "no_such_wiring_module_here" in r.getMessage()]
    assert [r.name for r in records] == [logger.name]
