"""``injectq-gen``: build, check, graph and explain, as a click command group.

Exit codes: 0 done; 1 the graph has problems, or ``--check`` found the output stale;
2 usage or import errors; 3 internal error (a bug in injectq-gen); 130 interrupted.
A user's mistake never shows a traceback.

Streams: stdout carries only what a command produces (a diff, JSON, a graph, an
explanation), so it stays parseable; problems, errors and the one-line summary that ends
every command go to stderr. Colour: ``--color/--no-color``, else none when ``NO_COLOR`` is
set, forced when ``FORCE_COLOR`` is, else only on a terminal (not ``TERM=dumb``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from injectq.errors import InjectQError, Problem
from injectq_codegen.build import (
    BuildConfig,
    diff,
    generate,
    probe_output,
    read_config,
    read_current,
    version,
    write_atomic,
)
from injectq_codegen.errors import CodegenError, GraphProblems, UsageError
from injectq_codegen.inspect_graph import Loaded, explain_key, graph_document, load_graph

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


# -- the terminal: colour, quiet, summary -------------------------------------------------


def color_choice(option: bool | None) -> bool | None:
    """True/False to force colour on or off; None lets click decide per stream (a TTY).

    ``--color/--no-color`` wins; then NO_COLOR (https://no-color.org: any non-empty value);
    then FORCE_COLOR (any non-empty value); then a dumb terminal has none.
    """
    if option is not None:
        return option
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def problem_counts(problems: Sequence[Problem]) -> str:
    """``0 problems`` or ``3 problems (1 error, 2 warnings)``."""
    if not problems:
        return "0 problems"
    errors = sum(1 for p in problems if p.severity == "error")
    return (
        f"{_plural(len(problems), 'problem')} ({_plural(errors, 'error')}, "
        f"{_plural(len(problems) - errors, 'warning')})"
    )


@dataclass
class Terminal:
    """What a command prints around its product: problems, errors and its summary line."""

    command: str
    quiet: bool
    started: float = field(default_factory=time.perf_counter)

    def problems(self, problems: Sequence[Problem]) -> None:
        """Compiler-style problems on stderr; with --quiet only the errors."""
        for problem in problems:
            if self.quiet and problem.severity != "error":
                continue
            text = problem.render()
            head, _, rest = text.partition("\n")
            fg = "red" if problem.severity == "error" else "yellow"
            click.echo(click.style(head, fg=fg, bold=True) + ("\n" + rest if rest else ""),
                       err=True)
            click.echo("", err=True)

    def summary(self, parts: list[str], outcome: str = "", *, ok: bool = True,
                warn: bool = False) -> None:
        """The last line: ``injectq-gen build: 4 bindings, ..., wrote X in 0.41 s``.
        A successful command under --quiet prints none."""
        if ok and self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        text = ", ".join(parts + ([outcome] if outcome else [])) + f" in {elapsed:.2f} s"
        fg = "red" if not ok else "yellow" if warn else "green"
        click.echo(click.style(f"injectq-gen {self.command}:", bold=True) + " "
                   + click.style(text, fg=fg), err=True)


def _output_options(fn: F) -> F:
    """``-q/--quiet`` and ``--color/--no-color``, on every command."""
    fn = click.option(
        "--color/--no-color", "color", default=None,
        help="Colour the output or not (default: on a terminal, unless NO_COLOR is set; "
        "FORCE_COLOR forces it).",
    )(fn)
    return click.option(
        "-q", "--quiet", is_flag=True,
        help="Print only errors: no warnings, no summary (the exit code still tells).",
    )(fn)


def _terminal(command: str, quiet: bool, color: bool | None) -> Terminal:
    click.get_current_context().color = color_choice(color)
    return Terminal(command, quiet)


def _error(message: str) -> None:
    click.echo(click.style("injectq-gen: error:", fg="red", bold=True) + f" {message}", err=True)


@contextmanager
def _user_errors(term: Terminal) -> Generator[None, None, None]:
    """Turn our errors into short messages and exit codes."""
    try:
        yield
    except GraphProblems as exc:
        term.problems(exc.problems)
        parts = [_plural(exc.bindings, "binding"), _plural(exc.roots, "root")] if (
            exc.bindings is not None) else []
        term.summary([*parts, problem_counts(exc.problems)], "wrote nothing", ok=False)
        sys.exit(1)
    except CodegenError as exc:
        _error(str(exc))
        sys.exit(exc.exit_code)
    except InjectQError as exc:  # raised by the user's configure(): a usage error
        _error(f"while installing the modules: {exc}")
        sys.exit(2)


@contextmanager
def _running_user_code() -> Generator[None, None, None]:
    """While the user's modules import and configure, what they print goes to stderr: stdout
    is for the command's product (JSON, a graph...) alone."""
    with redirect_stdout(sys.stderr):
        yield


def _diff_styled(text: str) -> str:
    def style(line: str) -> str:
        if line.startswith(("+++", "---")):
            return click.style(line, bold=True)
        if line.startswith("+"):
            return click.style(line, fg="green")
        if line.startswith("-"):
            return click.style(line, fg="red")
        if line.startswith("@@"):
            return click.style(line, fg="cyan")
        return line

    return "".join(style(line) for line in text.splitlines(True))


# -- the group ----------------------------------------------------------------------------


class _Group(click.Group):
    """Exit 3 with a bug report request for an exception we did not expect; exit 130 with
    one line when interrupted (click would say "Aborted!" and exit 1, our "problems" code)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("injectq-gen: interrupted (an existing output file is left whole)",
                       err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # `injectq-gen graph | head`: click ends quietly
            raise
        except Exception as exc:
            click.echo(traceback.format_exc(), err=True, nl=False)
            click.echo(
                f"injectq-gen: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in injectq-gen, not in your code: please report it with the "
                "command you ran and the traceback above.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


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
    if output:
        return BuildConfig(config.targets, list(roots) or config.roots, output)
    return BuildConfig(
        config.targets, list(roots) or config.roots, config.output, config.output_from
    )


@contextmanager
def _output_set_by(config: BuildConfig) -> Generator[None, None, None]:
    """An error about the output path says where the path was set, when not by -o."""
    try:
        yield
    except UsageError as exc:
        if config.output_from is None:
            raise
        raise UsageError(f"[tool.injectq] output in {config.output_from}: {exc}") from None


@click.group(
    "injectq-gen", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(version(), prog_name="injectq-gen")
def main() -> None:
    """Compile injectq Modules into a plain `_wiring.py`, and check the graph.

    \b
    Example:
      injectq-gen build app.modules:AppModule -o app/_wiring.py
      injectq-gen build --check          # CI: targets from [tool.injectq]
      injectq-gen check --format json    # problems for a script to read

    \b
    Exit codes: 0 done; 1 graph problems, or --check found the file stale;
    2 usage or import error; 3 internal error (a bug: please report it).
    stdout carries only a command's product (diff, JSON, graph, explanation);
    problems and the one-line summary go to stderr. NO_COLOR=1 turns colour
    off, FORCE_COLOR=1 on; every command takes -q/--quiet and --color/--no-color.
    """


@main.command()
@click.argument("targets", nargs=-1)
@click.option("-o", "--output", help="Where to write the generated module.")
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 with a diff when stale.")
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite a regular file injectq-gen did not write, or write through a "
    "symlink that leads out of the project.",
)
@_output_options
def build(
    targets: tuple[str, ...],
    output: str | None,
    roots: tuple[str, ...],
    check: bool,
    force: bool,
    quiet: bool,
    color: bool | None,
) -> None:
    """Check the graph and write the generated wiring module.

    The file is written through a temporary file and a rename: an interrupted
    build leaves the old file whole. A file injectq-gen did not write is
    replaced only with --force; anything but a regular file (a FIFO, a
    device) never is. A symlink is followed, and only with --force when it
    leads out of the project (the current directory).

    \b
    Example:
      injectq-gen build app.modules:AppModule -o app/_wiring.py --root app.main:run
      injectq-gen build --check -q     # CI: exit 1 with a diff when stale
    """
    term = _terminal("build --check" if check else "build", quiet, color)
    with _user_errors(term):
        config = _resolve_args(targets, roots, output)
        if not config.output:
            raise UsageError("no output: pass -o PATH, or set `output` under [tool.injectq]")
        path = Path(config.output)
        with _output_set_by(config):
            probe_output(path, writing=not check)
        with _running_user_code():
            source, plan = generate(config.targets, config.roots)
        term.problems(plan.warnings)
        parts = [
            _plural(plan.bindings, "binding"), _plural(len(plan.roots), "root"),
            problem_counts(plan.warnings),
        ]
        if check:
            with _output_set_by(config):
                current = read_current(path)
            if current == source:
                term.summary(parts, f"{path} is up to date, checked", warn=bool(plan.warnings))
                return
            click.echo(_diff_styled(diff(path, source)), nl=False)
            _error(f"{path} is stale: run `injectq-gen build` and commit it")
            term.summary(parts, f"{path} is stale, checked", ok=False)
            sys.exit(1)
        with _output_set_by(config):
            write_atomic(path, source, force=force)
        term.summary(parts, f"wrote {path}", warn=bool(plan.warnings))


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="text: compiler-style problems on stderr; json: a document on stdout.")
@_output_options
def check(
    targets: tuple[str, ...], roots: tuple[str, ...], fmt: str, quiet: bool,
    color: bool | None,
) -> None:
    """Run the graph checks alone; exit 1 when there are errors.

    \b
    Example:
      injectq-gen check app.modules:AppModule
      injectq-gen check --format json | jq '.problems[].code'
    """
    term = _terminal("check", quiet, color)
    with _user_errors(term):
        config = _resolve_args(targets, roots, None)
        with _running_user_code():
            data = load_graph(config.targets, config.roots)
        if fmt == "json":
            click.echo(json.dumps({"problems": [p.as_dict() for p in data.problems],
                                   "errors": len(data.errors)}, indent=2))
        else:
            term.problems(data.problems)
        term.summary(_counts(data), ok=not data.errors, warn=bool(data.problems))
        if data.errors:
            sys.exit(1)


def _counts(data: Loaded, *extra: str) -> list[str]:
    return [
        _plural(data.bindings, "binding"), _plural(len(data.roots), "root"), *extra,
        problem_counts(data.problems),
    ]


@main.command()
@click.argument("targets", nargs=-1)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid", "json"]), default="dot",
              help="dot (Graphviz), mermaid, or json.")
@_output_options
def graph(
    targets: tuple[str, ...], roots: tuple[str, ...], fmt: str, quiet: bool,
    color: bool | None,
) -> None:
    """Print the dependency graph with lifetimes; problems highlighted.

    \b
    Example:
      injectq-gen graph app.modules:AppModule --format mermaid
      injectq-gen graph app.modules:AppModule | dot -Tsvg > graph.svg
    """
    term = _terminal("graph", quiet, color)
    with _user_errors(term):
        config = _resolve_args(targets, roots, None)
        with _running_user_code():
            data = load_graph(config.targets, config.roots)
        click.echo(graph_document(data, fmt))
        term.summary(_counts(data, _plural(len(data.nodes), "node")),
                     warn=bool(data.problems))


@main.command()
@click.argument("args", nargs=-1, required=True)
@click.option("--root", "roots", multiple=True, help="Extra entry point MODULE:NAME.")
@_output_options
def explain(args: tuple[str, ...], roots: tuple[str, ...], quiet: bool,
            color: bool | None) -> None:
    """Explain one key: its binding, lifetimes, dependencies and paths to it.

    ARGS are the targets (none: from [tool.injectq]) followed by the key.

    \b
    Example:
      injectq-gen explain app.modules:AppModule UserService
      injectq-gen explain "Cache[primary]"     # the binding named primary
    """
    term = _terminal("explain", quiet, color)
    with _user_errors(term):
        *targets, key = args
        config = _resolve_args(tuple(targets), roots, None)
        with _running_user_code():
            data = load_graph(config.targets, config.roots)
        click.echo(explain_key(data, key))
        term.summary(_counts(data), warn=bool(data.problems))


if __name__ == "__main__":  # pragma: no cover
    main()
