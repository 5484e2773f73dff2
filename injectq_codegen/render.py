"""WiringPlan -> source text, through the jinja2 template, checked by libcst.

The template lays out the module; this file supplies the few filters it needs and the
statements that construct one instance. Every rendered module is parsed by libcst
before anyone writes it: a template bug is an internal error, never a written file.
"""

from __future__ import annotations

import ast
import gc
import importlib.resources
import itertools
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
# is parsed as runs of whole top-level statements, with the collector paused.
PIECE_BYTES = 20_000


def _pieces(source: str, size: int) -> list[str]:
    """Runs of whole top-level statements (found with ast) of about ``size`` characters;
    each is a valid module on its own when the whole one is."""
    lines = source.splitlines(keepends=True)
    offsets = list(itertools.accumulate((len(line) for line in lines), initial=0))
    cuts = [0]
    for node in ast.parse(source).body[1:]:
        decorators = getattr(node, "decorator_list", [])
        start = min([node.lineno, *(d.lineno for d in decorators)]) - 1
        if offsets[start] - offsets[cuts[-1]] >= size:
            cuts.append(start)
    cuts.append(len(lines))
    return ["".join(lines[a:b]) for a, b in itertools.pairwise(cuts) if a < b]


def check_syntax(source: str) -> None:
    """Parse ``source`` with libcst; a failure is an InternalError (a bug of ours)."""
    try:
        pieces = _pieces(source, PIECE_BYTES) if len(source) > PIECE_BYTES else [source]
        paused = gc.isenabled()
        gc.disable()
        try:
            for piece in pieces:
                cst.parse_module(piece)
        finally:
            if paused:
                gc.enable()
    except (SyntaxError, cst.ParserSyntaxError) as exc:
        raise InternalError(
            f"internal error: the generated module does not parse ({exc}); this is a bug "
            "in injectq-gen, please report it with the targets that caused it"
        ) from None


def render(plan: WiringPlan) -> str:
    template = _environment().get_template("wiring.py.jinja")
    source = template.render(plan=plan, uses=_uses(plan))
    check_syntax(source)
    return source
