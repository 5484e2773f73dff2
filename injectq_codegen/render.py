"""WiringPlan -> source text, through the jinja2 template, checked by compiling it.

The template lays out the module (the planner has laid out each statement in it). Every
rendered module is compiled before anyone writes it: a template bug is an internal
error, never a written file.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from injectq_codegen.errors import InternalError
from injectq_codegen.plan import WiringPlan, plain_str

__all__ = ["render", "template_dir"]


def template_dir() -> Path:
    """The wheel carries the template in injectq_codegen/templates/; in a checkout (and an
    editable install, which is the checkout on the path) it is the top-level templates/."""
    here = Path(__file__).resolve().parent
    packaged = here / "templates"
    if (packaged / "wiring.py.jinja").is_file():
        return packaged
    return here.parent / "templates"


def _comment(value: Any) -> str:
    """Text safe inside a comment or docstring: no newlines, quotes or backslashes raw."""
    text = plain_str(value) if isinstance(value, str) else plain_str(str.__str__(str(value)))
    return str.__repr__(text)[1:-1].replace('"', '\\"')


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    env.filters["comment"] = _comment
    return env


# A 10,000-binding module is several MB of a few dozen statement shapes repeated (the
# methods of each binding, the lines of its record), and compiling it whole takes seconds.
# So each distinct *shape* is compiled once: the module is cut into top-level statements
# (a blank line, then column 0) and the container class into its members (each dedented);
# a statement's shape is its text with every identifier that is not a keyword spelled
# ``x`` and every number ``1`` (punctuation, strings' quotes, keywords and indentation
# kept, so same shape means same token structure). Inside a large statement (a table), a
# self-contained line (brackets balanced, no string delimiters that could span lines)
# whose shape already occurred is left out. Should a reduced statement fail to compile,
# the whole module is compiled to decide.
_BOUNDARY = re.compile(r"\n\n(?=[A-Za-z_@#])")  # a blank line, then column 0
_MEMBER = re.compile(r"\n\n(?=    [A-Za-z_@#])")  # a blank line, then a class member
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
LARGE_STATEMENT = 2_000  # characters; smaller statements are kept whole
_OPEN = str.maketrans("", "", "([{")
_CLOSE = str.maketrans("", "", ")]}")


# an identifier that is not a keyword; a number (a literal replacement: no callback)
_NAME = re.compile(
    r"\b(?!(?:" + "|".join(sorted(_KEYWORDS, key=len, reverse=True)) + r")\b)[A-Za-z_]\w*"
)
_NUMBER = re.compile(r"\b\d\w*")


def shape(text: str) -> str:
    """``text`` with identifiers spelled ``x`` and numbers ``1``; keywords and all
    punctuation kept."""
    return _NUMBER.sub("1", _NAME.sub("x", text))


def _self_contained(line: str) -> bool:
    """Brackets balanced, and no string that could go on past the line."""
    if "\\" in line or line.count("'") % 2 or line.count('"') % 2:
        return False
    if '"""' in line or "'''" in line:
        return False
    return len(line.translate(_OPEN)) == len(line.translate(_CLOSE))


def _reduce(statement: str) -> str:
    """A large statement without the self-contained lines whose shape came earlier."""
    seen: set[str] = set()
    kept: list[str] = []
    dropped: set[str] = set()  # self-contained lines already seen: the same again is left out
    for line in statement.split("\n"):
        if line in dropped:
            continue
        if _self_contained(line):
            dropped.add(line)
            line_shape = shape(line)
            if line_shape in seen:
                continue
            seen.add(line_shape)
        kept.append(line)
    return "\n".join(kept)


def _statements(source: str) -> Iterator[str]:
    """The top-level statements of ``source``; a class is cut into its header and its
    members, each dedented to a top-level statement of its own."""
    for statement in _BOUNDARY.split(source):
        if not statement.startswith("class "):
            yield statement
            continue
        head, *members = _MEMBER.split(statement)
        yield head
        for member in members:
            yield "\n".join(line[4:] for line in member.split("\n"))


def representatives(source: str) -> list[str]:
    """One statement (reduced when large) per distinct statement shape of ``source``."""
    found: dict[str, str] = {}
    for statement in _statements(source):
        piece = _reduce(statement) if len(statement) > LARGE_STATEMENT else statement
        found.setdefault(shape(piece), piece)
    return list(found.values())


def _parses(piece: str) -> str | None:
    # the standard library's own compiler: a build never imports a parser library
    try:
        compile(piece, "<generated wiring>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL character in the source
        return str(exc)
    return None


def check_syntax(source: str) -> None:
    """Compile ``source``; a failure is an InternalError (a bug of ours)."""
    pieces = representatives(source)
    error = next((e for e in map(_parses, pieces) if e is not None), None)
    if error is not None and len(pieces) > 1:
        error = _parses(source)
    if error is not None:
        raise InternalError(
            f"internal error: the generated module does not parse ({error}); this is a bug "
            "in injectq-gen, please report it with the targets that caused it"
        )


def render(plan: WiringPlan) -> str:
    template = _environment().get_template("wiring.py.jinja")
    source = template.render(plan=plan)
    check_syntax(source)
    return source
