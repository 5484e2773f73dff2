"""docs/compat.md is what docs/gen_compat.py makes now: every public name of InjectQ 0.5.0
imports from its 0.5.0 path here, and every test the page names exists."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

import injectq

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"


def _generator() -> object:
    sys.path.insert(0, str(DOCS))
    try:
        import gen_compat
    finally:
        sys.path.remove(str(DOCS))
    return gen_compat


def test_compat_md_is_fresh() -> None:
    proc = subprocess.run(
        [sys.executable, str(DOCS / "gen_compat.py"), "--stdout"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    committed = (DOCS / "compat.md").read_text(encoding="utf-8")
    if committed != proc.stdout:
        delta = "".join(list(difflib.unified_diff(
            committed.splitlines(keepends=True), proc.stdout.splitlines(keepends=True),
            "docs/compat.md (committed)", "docs/compat.md (generated)",
        ))[:60])
        pytest.fail(f"docs/compat.md is stale: run python docs/gen_compat.py\n{delta}")


def test_every_top_level_name_of_0_5_0_is_exported() -> None:
    gen = _generator()
    names = gen.NAMES["injectq"]  # type: ignore[attr-defined]
    assert len(names) == 50
    assert not [n for n in names if n not in injectq.__all__]


def test_the_page_cannot_list_a_name_that_does_not_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gen = _generator()
    monkeypatch.setitem(gen.NAMES, "injectq.modules", ("Module", "NoSuchModule"))  # type: ignore[attr-defined]
    with pytest.raises(gen.Stale, match=r"injectq\.modules\.NoSuchModule does not import"):  # type: ignore[attr-defined]
        gen.page()  # type: ignore[attr-defined]


def test_the_page_cannot_name_a_test_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gen = _generator()
    row = ("x", "y", "z", "test_compat_table.py::test_that_is_not_here")
    monkeypatch.setattr(gen, "BEHAVIOUR", (*gen.BEHAVIOUR, row))  # type: ignore[attr-defined]
    with pytest.raises(gen.Stale, match=r"no test test_compat_table\.py::test_that_is_not_here"):  # type: ignore[attr-defined]
        gen.page()  # type: ignore[attr-defined]


def test_importing_injectq_leaves_the_optional_parts_unimported() -> None:
    """The components, the diagnostics and the pytest helpers load on first use."""
    code = (
        "import sys, injectq\n"
        "print(sorted(m for m in ('injectq.components', 'injectq.diagnostics', "
        "'injectq.testing', 'pytest') if m in sys.modules))\n"
        "injectq.DependencyValidator, injectq.ComponentState, injectq.testing\n"
        "print(sorted(m for m in ('injectq.components', 'injectq.diagnostics', "
        "'injectq.testing') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    assert proc.stdout.splitlines() == [
        "[]", "['injectq.components', 'injectq.diagnostics', 'injectq.testing']",
    ]
