"""render.check_syntax: every generated module is parsed by libcst before it is written,
each distinct statement shape once."""

from __future__ import annotations

import pytest

from injectq_codegen.errors import InternalError
from injectq_codegen.render import check_syntax, representatives, shape

BIG = "\n\n".join(
    f"@staticmethod\ndef provide_{i}() -> int:\n    return {i}\n" for i in range(4000)
)
TABLE = "nodes = {\n" + "".join(f"    C{i}: info(C{i}, 'C{i}', {i}),\n" for i in range(3000)) + "}\n"


def test_shape_keeps_keywords_and_punctuation() -> None:
    """Identifiers become x and numbers 1; keywords, quotes and brackets stay."""
    assert shape("async def provide_c9(a: A1) -> Any:\n    return await f(a, 'k', 12)") == (
        "async def x(x: x) -> x:\n    return await x(x, 'x', 1)"
    )
    assert shape("x = y") == shape("abc = d9") != shape("x = 1")


def test_repeated_statements_are_parsed_once() -> None:
    """4,000 functions of one shape give one representative; a table one reduced line."""
    assert representatives(BIG) == ["@staticmethod\ndef provide_0() -> int:\n    return 0\n"]
    (table,) = representatives(TABLE)
    assert table == "nodes = {\n    C0: info(C0, 'C0', 0),\n}\n"
    check_syntax(BIG + "\n\n" + TABLE)


def test_lines_that_may_continue_past_themselves_are_kept() -> None:
    """Lines with unbalanced brackets or string delimiters are never left out."""
    items = "    f(\n        'a',\n    ),\n" * 300
    text = "x = [\n" + items + "]\n" + 'doc = """\nline\n"""\n' * 3
    (reduced,) = representatives(text)
    assert reduced.count("    f(") == reduced.count("    ),") == 300
    assert reduced.count("        'a',") == 1
    assert reduced.count('"""') == 6
    check_syntax(text)


def test_a_cut_inside_a_statement_does_not_fail_a_valid_module() -> None:
    """A blank line inside brackets can look like a cut; the whole module then decides."""
    tricky = "x = [\n\n" + ",\n\n".join(f"v{i}" for i in range(5000)) + ",\n]\n"
    assert len(representatives(tricky)) > 1
    check_syntax(tricky)


def test_syntax_error_deep_in_a_large_module_is_an_internal_error() -> None:
    """A template bug anywhere in a large module is caught, never written."""
    broken = BIG.replace("def provide_3500() -> int:", "def provide_3500( -> int:")
    with pytest.raises(InternalError, match="does not parse"):
        check_syntax(broken)


def test_syntax_error_in_one_table_line_is_an_internal_error() -> None:
    """One malformed line among thousands of well-formed ones has a shape of its own."""
    broken = TABLE.replace("    C2500: info(C2500, 'C2500', 2500),", "    C2500: info(C2500,, 'C2500'),")
    with pytest.raises(InternalError, match="does not parse"):
        check_syntax(broken)


def test_libcst_only_error_is_caught() -> None:
    """What libcst rejects is an internal error too."""
    with pytest.raises(InternalError):
        check_syntax("x = (\n")


def test_a_long_call_with_keyword_arguments_is_laid_out_without_parsing_the_names() -> None:
    """A keyword argument too long for its line is split after ``name=`` (its value is
    the expression laid out), as black and ruff format split it."""
    from injectq_codegen.pyformat import call

    inner = "C7(_iq_Lazy(_iq_k_c0_key, self), _iq_Lazy(_iq_k_c8_key, self), _iq_Lazy(k, self))"
    assert call("        ", "v: C8 = ", "C8", [f"d1={inner}", "x=1"]) == [
        "        v: C8 = C8(",
        "            d1=C7(",
        "                _iq_Lazy(_iq_k_c0_key, self),",
        "                _iq_Lazy(_iq_k_c8_key, self),",
        "                _iq_Lazy(k, self),",
        "            ),",
        "            x=1,",
        "        )",
    ]
