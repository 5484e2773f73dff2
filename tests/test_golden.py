"""Golden files: small cases of what injectq-gen writes, each with its committed expected
``_wiring.py`` (``tests/golden/<case>/want/_wiring.py``), regenerated and diffed.

After an intended change of the generated code, rewrite them with
``INJECTQ_UPDATE_GOLDEN=1 python3 dev.py test tests/test_golden.py`` and review the diff.

The same files are held to what a team's CI does with a ``_wiring.py``: black and
``ruff format`` leave it byte-identical (so a format hook never makes ``build --check``
fail), ``ruff check``, ``mypy --strict`` and pyright strict pass on it, and each case runs.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from injectq.model.introspect import forget_type_checking_names
from injectq_codegen.build import generate

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = {
    "singletons": "golden_singletons.app:AppModule",
    "scopes": "golden_scopes.app:ScopesModule",
    "asyncs": "golden_asyncs.app:AsyncModule",
    "keys": "golden_keys.app:KeysModule",
    "captured": "golden_captured.app:CapturedModule",
}
BIN = Path(sys.executable).parent


def _generate(case: str, monkeypatch: pytest.MonkeyPatch) -> str:
    folder = GOLDEN / case
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    package = CASES[case].split(".")[0]
    try:
        source, _ = generate([CASES[case]])
    finally:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        forget_type_checking_names()
    return source


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_module_matches_its_golden_file(case: str, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    want = GOLDEN / case / "want" / "_wiring.py"
    got = _generate(case, monkeypatch)
    if os.environ.get("INJECTQ_UPDATE_GOLDEN") == "1":
        want.parent.mkdir(exist_ok=True)
        want.write_text(got, encoding="utf-8")
    expected = want.read_text(encoding="utf-8") if want.exists() else ""
    diff = "".join(difflib.unified_diff(
        expected.splitlines(keepends=True), got.splitlines(keepends=True),
        f"{case}/want/_wiring.py", f"{case} (generated now)",
    ))
    assert not diff, f"the generated module changed; if that is intended, rerun with " \
                     f"INJECTQ_UPDATE_GOLDEN=1 and review:\n{diff}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case's package with its golden ``_wiring.py`` where injectq-gen writes it."""
    root = tmp_path_factory.mktemp("golden")
    for case, target in CASES.items():
        package = target.split(".")[0]
        shutil.copytree(GOLDEN / case / package, root / package)
        shutil.copy(GOLDEN / case / "want" / "_wiring.py", root / package / "_wiring.py")
    return root


def _wirings(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("*/_wiring.py"))


# what a user's code sees of a generated module, for both type checkers
CHECK_TYPES = """\
from __future__ import annotations

from typing import Any, assert_type

import golden_asyncs._wiring as a
import golden_keys._wiring as k
import golden_singletons._wiring as s
from golden_asyncs.app import Handler
from golden_keys.app import Clock, Repository, Report, User, UserId
from golden_singletons.app import C, Engine


async def check() -> None:
    assert_type(s.provide_c(), C)
    assert_type(s.provide_engine(), Engine)
    assert_type(s.container.get(Engine), Engine)
    assert_type(s.container[C], C)
    assert_type(s.container.try_get(Engine), Engine | None)
    assert_type(s.Container().provide_engine(), Engine)
    assert_type(await a.aprovide_handler(), Handler)
    assert_type(await a.container.aget(Handler), Handler)
    assert_type(k.provide_clock(), Clock)
    assert_type(k.container.get(Clock), Clock)
    assert_type(k.provide_repository(), Repository[User])
    assert_type(k.provide_user_id(), UserId)
    assert_type(k.provide_report(), Report)
    assert_type(k.provide_title(), Any)
"""


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False, env=env)


def test_formatters_leave_generated_modules_unchanged(installed: Path) -> None:
    """black and ruff format (their default style, no project configuration) change nothing."""
    files = _wirings(installed)
    ruff = _run([str(BIN / "ruff"), "format", "--isolated", "--check", "--diff", *files],
                installed)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    if not (BIN / "black").exists():
        pytest.skip("black is not installed")
    black = _run([str(BIN / "black"), "--check", "--diff", "-q", *files], installed)
    assert black.returncode == 0, black.stdout + black.stderr


def test_type_checkers_pass_on_generated_modules(installed: Path) -> None:
    """mypy --strict and pyright strict check the generated constructions (no error), and
    see each accessor, ``get``, ``[]`` and ``try_get`` return the key's type."""
    (installed / "check_generated.py").write_text(CHECK_TYPES, encoding="utf-8")
    files = [*_wirings(installed), "check_generated.py"]
    mypy = _run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                 "--follow-imports=silent", *files], installed)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    if not (BIN / "pyright").exists():
        pytest.skip("pyright is not installed")
    (installed / "pyrightconfig.json").write_text(
        '{"typeCheckingMode": "strict", "pythonVersion": "3.11"}', encoding="utf-8")
    pyright = _run([str(BIN / "pyright"), "--pythonpath", sys.executable, *files], installed)
    assert pyright.returncode == 0, pyright.stdout + pyright.stderr


def test_ruff_check_passes_on_generated_modules(installed: Path) -> None:
    files = _wirings(installed)
    ruff = _run([str(BIN / "ruff"), "check", "--isolated", "--select", "E,F,W,B,UP,RUF",
                 *files], installed)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


GOLDEN_RUN = """\
import asyncio
import golden_singletons._wiring as s
import golden_scopes._wiring as sc
import golden_asyncs._wiring as a
import golden_keys._wiring as k
import golden_captured._wiring as c
from golden_keys.app import Cache, Repository, User, UserId
from typing import Annotated

assert s.provide_c().engine is s.provide_engine()
with sc.container.scope():
    svc = sc.provide_service()
    assert svc.repo.unit is sc.provide_unit_of_work() and svc.context is svc.repo.context

async def main() -> None:
    async with a.container.scope():
        h = await a.aprovide_handler()
        assert h.client is await a.aprovide_client() and h.session.client is h.client
    await a.container.aclose()

asyncio.run(main())
r = k.provide_report()
assert (r.title, r.user_id, r.clock.now()) == ("Monthly report", UserId(7), 0.0)
assert k.container.get(Repository[User]) is r.users
assert k.container.get(Annotated[Cache, "primary"]) is not k.container.get(Cache, "secondary")
rep = c.provide_reporter()
assert rep.container is c.container and rep.metrics() is c.container.get(type(rep.metrics()))
assert (rep.mailer.host, rep.mailer.port) == ("smtp.local", 25)
print("ok")
"""


def test_golden_modules_run(installed: Path) -> None:
    proc = _run([sys.executable, "-c", GOLDEN_RUN], installed)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


WRONG = """\
from __future__ import annotations

from injectq import Module


class Engine:
    pass


class Settings:
    pass


def make_engine(settings: Settings) -> Settings:
    return settings


class WrongModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings).singleton()
        self.bind_factory(Engine, make_engine).singleton()
"""


def test_a_wrong_type_in_a_module_is_a_type_error_in_its_wiring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A factory that returns a Settings for the Engine key: the generated construction is
    ``v: Engine = make_engine(...)``, which both checkers reject."""
    (tmp_path / "wrongtype").mkdir()
    (tmp_path / "wrongtype" / "__init__.py").write_text("")
    (tmp_path / "wrongtype" / "app.py").write_text(WRONG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        source, _ = generate(["wrongtype.app:WrongModule"])
    finally:
        for name in [m for m in sys.modules if m.startswith("wrongtype")]:
            del sys.modules[name]
    (tmp_path / "wrongtype" / "_wiring.py").write_text(source)
    mypy = _run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                 "wrongtype/_wiring.py"], tmp_path)
    assert mypy.returncode == 1
    assert 'Incompatible types in assignment (expression has type "Settings", variable ' \
           'has type "Engine")' in mypy.stdout, mypy.stdout
    if (BIN / "pyright").exists():
        pyright = _run([str(BIN / "pyright"), "--pythonpath", sys.executable,
                        "wrongtype/_wiring.py"], tmp_path)
        assert pyright.returncode == 1 and '"Settings" is not assignable to "Engine"' in \
            pyright.stdout, pyright.stdout
