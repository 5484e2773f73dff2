"""WiringPlan -> source text, through the jinja2 template, checked by libcst.

The template lays out the module; this file supplies the few filters it needs and the
statements that construct one instance. Every rendered module is parsed by libcst
before anyone writes it: a template bug is an internal error, never a written file.
"""

from __future__ import annotations

import gc
import importlib.resources
import itertools
import re
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import libcst as cst

from injectq_codegen.errors import InternalError
from injectq_codegen.plan import WiringPlan

__all__ = ["render", "template_dir"]


def template_dir() -> Path:
    """Templates ship inside the wheel as injectq_codegen.templates; in a checkout they are
    the top-level templates/ folder."""
    try:
        packaged = importlib.resources.files("injectq_codegen.templates")
        if packaged.joinpath("wiring.py.jinja").is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "templates"


def _comment(value: Any) -> str:
    """Text safe inside a comment or docstring: no newlines, quotes or backslashes raw."""
    return repr(str(value))[1:-1].replace('"', '\\"')


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
    env.filters["pyrepr"] = repr
    env.filters["comment"] = _comment
    return env


def _uses(plan: WiringPlan) -> dict[str, bool]:
    text = " ".join(
        f"{n.build} {n.abuild} {n.override_build}" for n in plan.nodes
    ) + " ".join(expr for _, expr in plan.constants)
    return {
        "Lazy": "_iq_Lazy(" in text,
        "enter": any(n.kind == "generator" and n.lifetime == "transient" for n in plan.nodes),
        "aenter": any(
            n.kind == "async_generator" and n.lifetime == "transient" for n in plan.nodes
        ),
        "await_instance": any(n.kind == "awaitable" for n in plan.nodes),
        "capture": any(captured for *_, captured in plan.modules),
        "key": "_iq_key(" in text,
    }


# libcst's parse time grows faster than the module (a 650 kB module: 3.2 s whole, 0.7 s
# for each half), mostly in garbage collection of the nodes it builds. So a large module
# is parsed in runs of about PIECE_BYTES, with the collector paused. Modules that parse
# one after the other make a module that parses; when a run fails (a cut fell inside a
# statement), the whole module is parsed to decide.
PIECE_BYTES = 20_000
_BOUNDARY = re.compile(r"\n\n(?=[A-Za-z_@#])")  # a blank line, then column 0


def _pieces(source: str, size: int) -> list[str]:
    """Cut ``source`` after blank lines followed by a line at column 0, every ``size``."""
    cuts = [0]
    for match in _BOUNDARY.finditer(source):
        if match.end() - cuts[-1] >= size:
            cuts.append(match.end())
    cuts.append(len(source))
    return [source[a:b] for a, b in itertools.pairwise(cuts) if a < b]


def _parses(piece: str) -> str | None:
    try:
        cst.parse_module(piece)
    except cst.ParserSyntaxError as exc:
        return str(exc)
    return None


def check_syntax(source: str) -> None:
    """Parse ``source`` with libcst; a failure is an InternalError (a bug of ours)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        pieces = _pieces(source, PIECE_BYTES)
        error = next((e for e in map(_parses, pieces) if e is not None), None)
        if error is not None and len(pieces) > 1:
            error = _parses(source)
    finally:
        if paused:
            gc.enable()
    if error is not None:
        raise InternalError(
            f"internal error: the generated module does not parse ({error}); this is a bug "
            "in injectq-gen, please report it with the targets that caused it"
        )


def render(plan: WiringPlan) -> str:
    template = _environment().get_template("wiring.py.jinja")
    source = template.render(plan=plan, uses=_uses(plan))
    check_syntax(source)
    return source
