"""``injectq-gen``: build, check, graph and explain, as a click command group.

Exit codes: 0 done; 1 the graph has problems, or ``--check`` found the output stale;
2 usage or import errors; 3 internal error. A user's mistake never shows a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from injectq.errors import InjectQError, Problem
from injectq_codegen.build import BuildConfig, diff, generate, read_config, version, write_atomic
from injectq_codegen.errors import CodegenError, GraphProblems, UsageError
from injectq_codegen.inspect_graph import explain_key, graph_document, graph_problems

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _echo_problems(problems: tuple[Problem, ...] | list[Problem]) -> None:
    color = _color()
    for problem in problems:
        text = problem.render()
        if color:
            head, _, rest = text.partition("\n")
            fg = "red" if problem.severity == "error" else "yellow"
            text = click.style(head, fg=fg, bold=True) + ("\n" + rest if rest else "")
        click.echo(text, err=True)
        click.echo("", err=True)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn our errors into short messages and exit codes."""
    try:
        yield
    except GraphProblems as exc:
        _echo_problems(exc.problems)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        click.echo(f"injectq-gen: {errors} error(s); nothing written", err=True)
        sys.exit(1)
    except CodegenError as exc:
        click.echo(f"injectq-gen: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except InjectQError as exc:  # raised by the user's configure(): a usage error
        click.echo(f"injectq-gen: error while installing the modules: {exc}", err=True)
        sys.exit(2)


def _resolve_args(
    targets: tuple[str, ...], roots: tuple[str, ...], output: str | None
) -> BuildConfig:
    if targets:
        return BuildConfig(list(targets), list(roots), output)
    config = read_config()
    if config is None or not config.targets:
        raise UsageError(
            "no targets given: pass package.module:Module, or set `targets` under "
            "[tool.injectq] in ./pyproject.toml"
        )
    return BuildConfig(config.targets, list(roots) or config.roots, output or config.output)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), prog_name="injectq-gen")
def main() -> None:
    """Compile injectq Modules into a plain `_wiring.py`, and check the graph.

    \b
    Example:
      injectq-gen build app.modules:AppModule -o app/_wiring.py
      injectq-gen build --check          # CI: targets from [tool.injectq]
    """


@main.command()
@click.argument("targets", nargs=-1)
@click.option("-o", "--output", help="Where to write the generated module.")
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff when stale.")
@click.option("--force", is_flag=True, help="Overwrite a file injectq-gen did not write.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
def build(
    targets: tuple[str, ...],
    output: str | None,
    roots: tuple[str, ...],
    check: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Check the graph and write the generated wiring module.

    \b
    Example:
      injectq-gen build app.modules:AppModule -o app/_wiring.py --root app.main:run
    """
    started = time.perf_counter()
    with _user_errors():
        config = _resolve_args(targets, roots, output)
        if not config.output:
            raise UsageError("no output: pass -o PATH, or set `output` under [tool.injectq]")
        source, plan = generate(config.targets, config.roots)
        path = Path(config.output)
        if plan.warnings and not quiet:
            _echo_problems(plan.warnings)
        elapsed = time.perf_counter() - started
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == source:
                if not quiet:
                    click.echo(f"{path} is up to date ({plan.bindings} bindings, "
                               f"{len(plan.nodes)} nodes, {elapsed:.2f}s)")
                return
            click.echo(diff(path, source), nl=False)
            click.echo(f"injectq-gen: {path} is stale: run `injectq-gen build` and commit it",
                       err=True)
            sys.exit(1)
        write_atomic(path, source, force=force)
        if not quiet:
            click.echo(
                f"wrote {path}: {plan.bindings} bindings, {len(plan.roots)} roots, "
                f"{len(plan.nodes)} nodes, {len(plan.warnings)} warnings, {elapsed:.2f}s"
            )


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def check(targets: tuple[str, ...], roots: tuple[str, ...], fmt: str) -> None:
    """Run the graph checks alone; exit 1 when there are errors.

    \b
    Example:
      injectq-gen check app.modules:AppModule --format json
    """
    with _user_errors():
        config = _resolve_args(targets, roots, None)
        problems = graph_problems(config.targets, config.roots)
        errors = [p for p in problems if p.severity == "error"]
        if fmt == "json":
            click.echo(json.dumps({"problems": [p.as_dict() for p in problems],
                                   "errors": len(errors)}, indent=2))
        else:
            _echo_problems(problems)
            click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
        if errors:
            sys.exit(1)


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot")
def graph(targets: tuple[str, ...], roots: tuple[str, ...], fmt: str) -> None:
    """Print the dependency graph with lifetimes; problems highlighted.

    \b
    Example:
      injectq-gen graph app.modules:AppModule --format mermaid
    """
    with _user_errors():
        config = _resolve_args(targets, roots, None)
        click.echo(graph_document(config.targets, config.roots, fmt))


@main.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
def explain(args: tuple[str, ...], roots: tuple[str, ...]) -> None:
    """Explain one key: its binding, lifetimes, dependencies and paths to it.

    \b
    Example:
      injectq-gen explain app.modules:AppModule UserService
    """
    with _user_errors():
        *targets, key = args
        config = _resolve_args(tuple(targets), roots, None)
        click.echo(explain_key(config.targets, config.roots, key))


if __name__ == "__main__":  # pragma: no cover
    main()
