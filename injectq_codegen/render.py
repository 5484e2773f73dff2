"""WiringPlan -> source text, through the jinja2 template, checked by libcst.

The template lays out the module; this file supplies the few filters it needs and the
statements that construct one instance. Every rendered module is parsed by libcst
before anyone writes it: a template bug is an internal error, never a written file.
"""

from __future__ import annotations

import importlib.resources
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


def render(plan: WiringPlan) -> str:
    template = _environment().get_template("wiring.py.jinja")
    source = template.render(plan=plan, uses=_uses(plan))
    try:
        cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise InternalError(
            f"internal error: the generated module does not parse ({exc}); this is a bug in "
            "injectq-gen, please report it with the targets that caused it"
        ) from None
    return source
