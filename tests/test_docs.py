"""The docs: docs/errors.md is what docs/gen_errors.py makes now, and every snippet runs.

Snippets: each ```python block of a page in ``PAGES`` runs in a fresh module, in order, in
a folder of its own (the page's project). A block after ``<!-- file: PATH -->`` is not run
but written to PATH in that folder; a ```console block after ``<!-- run -->`` (or
``<!-- run: STATUS -->``) has its ``$ ...`` lines run there by bash, each expected to exit
0 (or STATUS); a block after ``<!-- output -->`` must equal what the block before it
printed (stdout); a block after ``<!-- not-run -->`` is skipped (kept for
the few that need a network or a CI runner). docs/errors.md is checked by
regeneration instead: its examples run when it is generated.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from injectq import InjectQError
from injectq.model.checks import CODES

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = ["getting-started.md", "concepts.md", "ci.md"]

_BLOCK = re.compile(
    r"(?:<!--\s*(?P<mark>[\w-]+)(?::\s*(?P<arg>\S+))?\s*-->\s*\n)?"
    r"^```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    body: str
    mark: str | None
    arg: str | None


def blocks(page: str) -> list[Block]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [
        Block(page, text.count("\n", 0, m.start("body")), m["lang"], m["body"], m["mark"], m["arg"])
        for m in _BLOCK.finditer(text)
    ]


def _forget(folder: Path) -> None:
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(folder)):
            del sys.modules[name]


BIN = Path(sys.executable).parent  # where pip put the injectq-gen script


def run_command(command: str, folder: Path, expected: int, where: str) -> str:
    """Run a console line in bash, with this environment's scripts first on PATH."""
    assert (BIN / "injectq-gen").exists(), f"no injectq-gen next to {sys.executable}"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        ["bash", "-c", command], cwd=folder, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == expected, (
        f"{where}: `{command}` exited {proc.returncode}, not {expected}\n"
        f"{proc.stdout}{proc.stderr}"
    )
    return proc.stdout


def run_page(page: str, folder: Path) -> int:
    """Run a page's blocks in ``folder``; the number of blocks run or compared."""
    ran = 0
    printed: str | None = None
    for block in blocks(page):
        where = f"{page}:{block.line}"
        if block.mark == "not-run":
            continue
        if block.mark == "file":
            assert block.arg, f"{where}: <!-- file: PATH --> needs a path"
            path = folder / block.arg
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.body, encoding="utf-8")
            continue
        if block.lang == "console" and block.mark == "run":
            expected = int(block.arg or 0)
            for line in block.body.splitlines():
                if line.startswith("$ "):
                    printed = run_command(line.removeprefix("$ "), folder, expected, where)
            ran += 1
            continue
        if block.mark == "output":
            assert printed is not None, f"{where}: <!-- output --> follows no python block"
            assert block.body.rstrip("\n") == printed.rstrip("\n"), (
                f"{where}: the output shown differs from what the snippet printed:\n{printed}"
            )
            ran += 1
            continue
        if block.lang != "python":
            continue
        module = types.ModuleType(f"docs_snippet_{block.line}")
        module.__file__ = str(folder / f"docs_snippet_{block.line}.py")
        sys.modules[module.__name__] = module
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(block.body, where, "exec"), module.__dict__)
        except BaseException as exc:
            raise AssertionError(f"snippet at {where} failed: {exc!r}") from exc
        finally:
            del sys.modules[module.__name__]
        printed = out.getvalue()
        ran += 1
    return ran


@pytest.mark.parametrize("page", PAGES)
def test_page_snippets_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every python block of the page runs (files and injectq-gen commands set up first)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        monkeypatch.delitem(sys.modules, name)  # another test's `app` package; restored after
    try:
        assert run_page(page, tmp_path) > 0
    finally:
        _forget(tmp_path)


def test_not_run_blocks_are_few() -> None:
    """Only a few blocks are exempt from running, each marked explicitly."""
    skipped = [b for page in PAGES for b in blocks(page) if b.mark == "not-run"]
    assert len(skipped) <= 6, [f"{b.page}:{b.line}" for b in skipped]


def test_markers_are_known() -> None:
    """Every marker before a block is one the runner understands (no silent typos)."""
    for page in PAGES:
        for b in blocks(page):
            assert b.mark in (None, "not-run", "file", "run", "output"), f"{b.page}:{b.line}: {b.mark}"


# -- docs/errors.md ----------------------------------------------------------------------


def _generated() -> str:
    proc = subprocess.run(
        [sys.executable, str(DOCS / "gen_errors.py"), "--stdout"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_errors_md_is_fresh() -> None:
    """docs/errors.md is byte-identical to what docs/gen_errors.py generates now."""
    committed = (DOCS / "errors.md").read_text(encoding="utf-8")
    fresh = _generated()
    if committed != fresh:
        delta = "".join(
            list(difflib.unified_diff(
                committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
                "docs/errors.md (committed)", "docs/errors.md (generated)",
            ))[:60]
        )
        pytest.fail(f"docs/errors.md is stale: run python docs/gen_errors.py\n{delta}")


def test_every_code_has_a_section() -> None:
    """Every IQ code defined in injectq/model/checks.py has its own section in docs/errors.md."""
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    assert CODES, "injectq.model.checks.CODES is empty"
    for code, name in CODES.items():
        assert re.search(rf"^## {code} {re.escape(name)}\b", text, re.MULTILINE), (
            f"docs/errors.md has no section '## {code} {name}': add an example to "
            "docs/gen_errors.py and run it"
        )


def test_every_public_error_is_documented() -> None:
    """Every exception class injectq exports is named in docs/errors.md."""
    import injectq

    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    errors = [
        name for name in injectq.__all__
        if isinstance(getattr(injectq, name), type) and issubclass(getattr(injectq, name), InjectQError)
    ]
    assert "GraphValidationError" in errors
    missing = [name for name in errors if f"`{name}`" not in text and f".{name}:" not in text]
    assert not missing, f"docs/errors.md never names {missing}"


def test_generator_refuses_a_code_without_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """gen_errors stops with a clear message when a code in CODES has no example."""
    sys.path.insert(0, str(DOCS))
    try:
        import gen_errors
    finally:
        sys.path.remove(str(DOCS))
    monkeypatch.setitem(CODES, "IQ999", "new-check")
    assert gen_errors.missing_codes() == ["IQ999"]
    with pytest.raises(SystemExit, match="no example for IQ999"):
        gen_errors.generate()


def test_pre_commit_hooks_definition() -> None:
    """.pre-commit-hooks.yaml defines the injectq-gen hooks CI docs tell users to use."""
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    hooks = text.split("- id: ")[1:]
    by_id = {chunk.split("\n", 1)[0].strip(): chunk for chunk in hooks}
    assert set(by_id) == {"injectq-gen", "injectq-gen-build"}
    check = by_id["injectq-gen"]
    assert "entry: injectq-gen build --check" in check
    assert "language: python" in check
    assert "pass_filenames: false" in check
    assert "entry: injectq-gen build\n" in by_id["injectq-gen-build"]
    assert "id: injectq-gen" in (DOCS / "ci.md").read_text(encoding="utf-8")
