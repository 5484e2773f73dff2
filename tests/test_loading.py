"""load_container: the generated wiring when it exists, else the runtime container."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from injectq import GraphValidationError, InjectQ, InjectQError, load_container
from injectq.wiring import GeneratedContainer
from tests.codegen_support import make_project

APP = {
    "ldapp/services.py": """
        class Repo:
            pass

        class Service:
            def __init__(self, repo: Repo) -> None:
                self.repo = repo
        """,
    "ldapp/modules.py": """
        from injectq import Module
        from ldapp.services import Repo, Service

        class AppModule(Module):
            def configure(self) -> None:
                self.bind(Repo).singleton()
                self.bind(Service).transient()
        """,
}


def _modules() -> list[object]:
    from ldapp.modules import AppModule  # type: ignore[import-not-found]

    return [AppModule()]


def test_generated_wiring_is_used_when_present(codegen_env: Path) -> None:
    """With ldapp/_wiring.py built, its container is returned and no Module is made."""
    from injectq_codegen.build import generate

    make_project(codegen_env, APP)
    source, _ = generate(["ldapp.modules:AppModule"])
    (codegen_env / "ldapp" / "_wiring.py").write_text(source)

    def never() -> list[object]:
        raise AssertionError("the modules are not needed with a generated wiring")

    container = load_container("ldapp._wiring", never)
    assert isinstance(container, GeneratedContainer)
    from ldapp.services import Service  # type: ignore[import-not-found]

    assert isinstance(container.get(Service), Service)


def test_missing_wiring_falls_back_to_a_validated_runtime_container(
    codegen_env: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No wiring module: a runtime container with the modules, and a warning saying how to
    build the wiring."""
    make_project(codegen_env, APP)
    with caplog.at_level(logging.WARNING, logger="injectq"):
        container = load_container("ldapp._wiring", _modules)
    assert isinstance(container, InjectQ)
    assert "ldapp._wiring not found (build it with `injectq-gen build`)" in caplog.text
    from ldapp.services import Service

    assert container.get(Service).repo is container.get(Service).repo


def test_runtime_flag_skips_the_wiring(codegen_env: Path) -> None:
    """runtime=True: the runtime container even when a wiring exists."""
    from injectq_codegen.build import generate

    make_project(codegen_env, APP)
    source, _ = generate(["ldapp.modules:AppModule"])
    (codegen_env / "ldapp" / "_wiring.py").write_text(source)
    assert isinstance(load_container("ldapp._wiring", _modules(), runtime=True), InjectQ)


def test_runtime_fallback_reports_every_graph_problem(codegen_env: Path) -> None:
    """The fallback validates: a broken graph raises GraphValidationError, not later."""
    make_project(codegen_env, {
        **APP,
        "ldapp/broken.py": """
            from typing import Protocol
            from injectq import Module

            class Clock(Protocol):
                def now(self) -> float: ...

            class Uses:
                def __init__(self, clock: Clock) -> None:
                    self.clock = clock

            class BrokenModule(Module):
                def configure(self) -> None:
                    self.bind(Uses).transient()
            """,
    })
    from ldapp.broken import BrokenModule  # type: ignore[import-not-found]

    with pytest.raises(GraphValidationError, match="IQ001"):
        load_container("ldapp._wiring", [BrokenModule()])


def test_a_wiring_that_fails_to_import_is_not_hidden(codegen_env: Path) -> None:
    """An import error inside an existing wiring propagates; a module that is not a wiring
    is refused with the command to rebuild it."""
    make_project(codegen_env, {
        **APP,
        "ldapp/_wiring.py": "import ldapp.nothing_here\n",
        "ldapp/other.py": "container = 42\n",
    })
    with pytest.raises(ModuleNotFoundError, match=r"ldapp\.nothing_here"):
        load_container("ldapp._wiring", _modules)
    with pytest.raises(InjectQError, match="injectq-gen build"):
        load_container("ldapp.other", _modules)
