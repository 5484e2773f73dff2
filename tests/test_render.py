"""render.check_syntax: every generated module is parsed by libcst before it is written,
a large one in runs of whole top-level statements."""

from __future__ import annotations

import pytest

from injectq_codegen.errors import InternalError
from injectq_codegen.render import PIECE_BYTES, _pieces, check_syntax

BIG = "\n\n".join(
    f"@staticmethod\ndef provide_{i}() -> int:\n    return {i}\n" for i in range(4000)
)


def test_large_module_is_split_at_statement_boundaries() -> None:
    """The pieces of a large module rejoin to it, and each is a whole statement run."""
    assert len(BIG) > 2 * PIECE_BYTES
    pieces = _pieces(BIG, PIECE_BYTES)
    assert len(pieces) > 2
    assert "".join(pieces) == BIG
    assert all(p.startswith("@staticmethod") for p in pieces)
    check_syntax(BIG)


def test_a_cut_inside_a_statement_does_not_fail_a_valid_module() -> None:
    """A blank line inside brackets can look like a cut; the whole module then decides."""
    tricky = "x = [\n\n" + ",\n\n".join(f"v{i}" for i in range(5000)) + ",\n]\n"
    assert len(_pieces(tricky, PIECE_BYTES)) > 1
    check_syntax(tricky)


def test_syntax_error_deep_in_a_large_module_is_an_internal_error() -> None:
    """A template bug anywhere in a large module is caught, never written."""
    broken = BIG.replace("def provide_3500() -> int:", "def provide_3500( -> int:")
    with pytest.raises(InternalError, match="does not parse"):
        check_syntax(broken)


def test_libcst_only_error_is_caught_in_a_piece() -> None:
    """What libcst rejects in one piece is an internal error too."""
    with pytest.raises(InternalError):
        check_syntax("x = (\n")
