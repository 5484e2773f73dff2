"""``injectq.integrations``: every integration's public names, loaded on first use."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import injectq.integrations as integrations
from tests.codegen_support import REPO

# the integrations whose names the package itself lists (the others are reached by
# their module: injectq.integrations.<name>)
MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(integrations.__path__)
    if not info.name.startswith("_")
)


def test_every_integration_is_listed_with_all_its_names() -> None:
    """The package's names are exactly the union of its integrations' ``__all__``, each
    the very object its module defines; a name several define (``Injected``) is
    FastAPI's, as in InjectQ 0.5.0."""
    owners: dict[str, list[str]] = {}
    for name in MODULES:
        module = importlib.import_module(f"injectq.integrations.{name}")
        for exported in module.__all__:
            owners.setdefault(exported, []).append(name)
    assert sorted(integrations.__all__) == sorted(owners)
    for exported, where in owners.items():
        owner = where[0] if len(where) == 1 else "fastapi"
        module = importlib.import_module(f"injectq.integrations.{owner}")
        assert getattr(integrations, exported) is getattr(module, exported), exported
    for name in MODULES:
        assert f"``injectq.integrations.{name}`` needs ``pip install 'injectq[{name}]'``" in (
            integrations.__doc__ or ""
        ), name


def test_the_package_imports_no_framework() -> None:
    """Importing ``injectq.integrations`` loads none of the frameworks; a name loads only
    its own integration's."""
    code = (
        "import sys, injectq.integrations as i\n"
        f"frameworks = {MODULES!r}\n"
        "print(sorted(m for m in frameworks if m in sys.modules))\n"
        "i.setup_flask\n"
        "print(sorted(m for m in frameworks if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    before, after = proc.stdout.splitlines()
    assert before == "[]"
    assert "'django'" not in after and "'celery'" not in after and "'flask'" in after


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        integrations.setup_nothing  # type: ignore[attr-defined]
    except AttributeError as exc:
        assert "setup_nothing" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
