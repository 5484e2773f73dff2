#!/usr/bin/env python3
"""Developer entry point: needs only Python 3.11+ on the machine.

    python3 dev.py demo    build the example's wiring with injectq-gen and run the app
    python3 dev.py test    run the test suite
    python3 dev.py lint    ruff, mypy --strict and pyright strict (library, typing tests and
                           generated wiring)

The first run creates .venv and installs the project with its codegen and dev extras.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
EXAMPLE = ROOT / "examples" / "production"


def run(*cmd: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, check=False, env={**os.environ, **(env or {})}
    )
    if result.returncode:
        sys.exit(result.returncode)


def ensure_env() -> None:
    """Create .venv and (re)install the project when pyproject.toml changed."""
    stamp = VENV / ".installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if not PY.exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "--quiet", "-e", ".[codegen,dev]")
    stamp.write_text(digest)


def demo() -> None:
    run(BIN / "injectq-gen", "build", cwd=EXAMPLE)
    run(PY, "-m", "app.main", cwd=EXAMPLE)


def test(args: list[str]) -> None:
    run(PY, "-m", "pytest", *args)


def lint() -> None:
    run(BIN / "ruff", "check", "injectq", "injectq_codegen", "tests", "examples", "benchmarks")
    run(BIN / "mypy", "injectq", "injectq_codegen")
    run(BIN / "pyright")
    run(BIN / "mypy", "--strict", "tests/typing")
    run(BIN / "pyright", "tests/typing")
    for example, wiring in (
        ("production", "app/_wiring.py"),
        ("webapp", "webapp/_wiring.py"),
        ("celery", "billing/_wiring.py"),
    ):
        folder = ROOT / "examples" / example
        run(BIN / "mypy", "--strict", "--follow-imports=silent", wiring, cwd=folder)
        run(BIN / "pyright", wiring, cwd=folder)


def main() -> None:
    command, *rest = sys.argv[1:] or ["help"]
    if command not in ("demo", "test", "lint"):
        print(__doc__)
        sys.exit(0 if command == "help" else 2)
    ensure_env()
    if command == "demo":
        demo()
    elif command == "test":
        test(rest)
    else:
        lint()


if __name__ == "__main__":
    main()
