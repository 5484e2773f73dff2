"""The typing tests in tests/typing pass ``mypy --strict`` and pyright strict, and both
checkers really check: a call of a method the resolved class lacks is an error to each."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the checkers the dev extras installed
CHECKERS = {
    "mypy": [str(BIN / "mypy"), "--strict", "--no-error-summary"],
    "pyright": [str(BIN / "pyright"), "--pythonpath", sys.executable],
}

WRONG = '''\
# pyright: strict
from injectq import InjectQ


class Service:
    def run(self) -> int:
        return 1


def use(container: InjectQ) -> None:
    container.get(Service).no_such_method()
'''


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    """Each checker's exit code and output for tests/typing and a file that misuses get()
    (one run per checker, both at once)."""
    for name, cmd in CHECKERS.items():
        if not Path(cmd[0]).exists():
            pytest.skip(f"{name} is not installed next to {sys.executable} (dev extras)")
    folder = tmp_path_factory.mktemp("typing")
    wrong = folder / "wrong_use.py"
    wrong.write_text(WRONG, encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(ROOT)}  # this checkout's injectq, whatever is installed
    cache = ["--cache-dir", str(folder / ".mypy_cache")]
    runs = {
        name: subprocess.Popen(
            [*cmd, *(cache if name == "mypy" else []), "tests/typing", str(wrong)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for name, cmd in CHECKERS.items()
    }
    out = {}
    for name, proc in runs.items():
        stdout, _ = proc.communicate(timeout=100)
        out[name] = (proc.returncode, stdout)
    return out


ERROR = re.compile(r"(?::\d+: | - )error: ")  # mypy's "f.py:3: error: ", pyright's " - error: "


def _errors(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if ERROR.search(line)]


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_typing_folder_passes(checker: str, reports: dict[str, tuple[int, str]]) -> None:
    """Every assert_type in tests/typing holds: the checker's only errors are the misuse's."""
    _, output = reports[checker]
    errors = _errors(output)
    assert errors, output  # it ran and checked
    assert [e for e in errors if "wrong_use.py" not in e] == [], output


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_checker_rejects_a_missing_method(
    checker: str, reports: dict[str, tuple[int, str]]
) -> None:
    """``container.get(Service).no_such_method()`` is an error, so get() is typed for real."""
    code, output = reports[checker]
    assert code != 0, output
    errors = [e for e in _errors(output) if "wrong_use.py" in e]
    assert errors, output
    assert all("no_such_method" in e for e in errors), output
