"""injectq.integrations.typer: a scope per command invocation, markers hidden from Typer.

Commands run through Typer's ``CliRunner`` and, at the end, as a real program in a
subprocess, with both containers (the runtime one and the one injectq-gen generates from
the app of tests/test_click.py, whose resources log how their block ended).
"""

# no `from __future__ import annotations`: Typer reads the commands' annotations, and
# these commands are local functions using the app's classes, taken from a fixture

import subprocess
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest
import typer
from typer.testing import CliRunner

from injectq import BindingError, InjectionError, InjectQ, ScopeError, inject
from injectq.integrations.typer import InjectTyper, inject_typer, setup_typer
from tests import integration_support
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    write_cli_project,
)

APP = app_source("cli", name="tool_name", cli=True)  # the app of tests/test_click.py

# the program of test_the_real_cli_*: annotations are strings here and the services are
# imported after the commands are declared, so Typer reads them only when the CLI runs
CLI = """\
from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from injectq.integrations.typer import InjectTyper, inject_typer, setup_typer

app = typer.Typer()


@app.command()
@inject_typer
def greet(who: str, greeter: Annotated[Greeter, InjectTyper(Greeter)],
          audit: Annotated[Audit, InjectTyper(Audit)]) -> None:
    typer.echo(greeter.greet(who))


@app.command()
@inject_typer
def fail(audit: Annotated[Audit, InjectTyper(Audit)], code: int = 0) -> None:
    if code == 99:
        raise RuntimeError("boom")
    if code == 98:
        raise typer.Abort()
    if code == 97:
        sys.exit(7)
    raise typer.Exit(code)


from cliapp.services import EVENTS, Audit, Greeter  # noqa: E402

if os.environ["CLIAPP_CONTAINER"] == "generated":
    from cliapp._wiring import container
else:
    from injectq import InjectQ
    from cliapp.services import AppModule

    container = InjectQ()
    container.install(AppModule())

setup_typer(container, app)

if __name__ == "__main__":
    try:
        app(prog_name="cliapp")
    finally:
        print(" | ".join(EVENTS), file=sys.stderr)
"""


app, container = app_fixtures("cliapp", APP)


def greeter_app(container: Any, app: ModuleType) -> typer.Typer:
    """A Typer app whose commands take the app's services through InjectTyper."""
    Greeter, Audit, Session = app.Greeter, app.Audit, app.Session
    cli = typer.Typer()

    @inject
    def session_number(session: Session) -> int:  # resolved from the command's scope
        return session.number

    @cli.command()
    @inject_typer
    def greet(
        who: str,
        shout: bool = False,
        greeter: Greeter = InjectTyper(Greeter),
        audit: Annotated[Audit, InjectTyper(Audit)] = None,
        tool: str = InjectTyper(str, name="tool_name"),
    ) -> None:
        text = greeter.greet(who)
        typer.echo(text.upper() if shout else text)
        typer.echo(f"{tool}: one session {greeter.session is audit.session}, "
                   f"@inject sees it {session_number() == audit.session.number}")

    @cli.command()
    @inject_typer
    def fail(how: str, audit: Audit = InjectTyper(Audit)) -> None:
        if how == "error":
            raise ValueError("card declined")
        if how == "exit":
            raise typer.Exit(3)
        if how == "abort":
            raise typer.Abort()
        raise typer.BadParameter("no such thing")

    setup_typer(container, cli)
    return cli


def test_each_invocation_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType
) -> None:
    """Every command invocation gets fresh scoped instances, shared by its InjectTyper
    parameters and @inject functions it calls, finalized newest first when it returns."""
    cli = greeter_app(container, app)
    runner = CliRunner()
    first = runner.invoke(cli, ["greet", "Ada"])
    assert (first.exit_code, first.output) == (0, (
        "hello Ada (session 1)\ncli: one session True, @inject sees it True\n"))
    assert app.EVENTS == ["open session 1", "open audit 1", "close audit 1",
                          "session 1 committed", "close session 1"]
    app.EVENTS.clear()
    second = runner.invoke(cli, ["greet", "Grace", "--shout"])
    assert second.output.splitlines()[0] == "HELLO GRACE (SESSION 2)"
    assert app.EVENTS[-1] == "close session 2"


def test_injected_parameters_are_not_options(container: Any, app: ModuleType) -> None:
    """Typer never sees an InjectTyper parameter: --help lists only the command's own."""
    result = CliRunner().invoke(greeter_app(container, app), ["greet", "--help"])
    assert result.exit_code == 0, result.output
    assert "--shout" in result.output
    for name in ("greeter", "audit", "tool"):
        assert name not in result.output


@pytest.mark.parametrize(("how", "code", "seen"), [
    ("error", 1, "rolled back: ValueError(card declined)"),
    ("exit", 3, "rolled back: Exit(3)"),
    ("abort", 1, "rolled back: Abort()"),
    ("usage", 2, "rolled back: BadParameter(no such thing)"),
])
def test_a_command_that_raises_still_closes_its_scope(
    container: Any, app: ModuleType, how: str, code: int, seen: str
) -> None:
    """What leaves the command (an error, typer.Exit, Abort, BadParameter) is what the
    scope's resources see at their yield; all close; Typer reports it as usual."""
    cli = greeter_app(container, app)
    result = CliRunner().invoke(cli, ["fail", how])
    assert result.exit_code == code, result.output
    assert app.EVENTS == ["open session 1", "open audit 1", "close audit 1",
                          f"session 1 {seen}", "close session 1"]


def test_a_command_invoked_by_another_shares_its_scope(
    container: Any, app: ModuleType
) -> None:
    """ctx.invoke() of a decorated command from a decorated command runs in the caller's
    scope: one unit of work, closed once, after the caller."""
    Session = app.Session
    cli = typer.Typer()

    @cli.command()
    @inject_typer
    def inner(session: Session = InjectTyper(Session)) -> None:
        typer.echo(f"inner: session {session.number}")

    @cli.command()
    @inject_typer
    def outer(ctx: typer.Context, session: Session = InjectTyper(Session)) -> None:
        ctx.invoke(inner)
        typer.echo(f"outer: session {session.number}")

    setup_typer(container, cli)
    result = CliRunner().invoke(cli, ["outer"])
    assert result.exit_code == 0, result.output
    assert result.output == "inner: session 1\nouter: session 1\n"
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_a_callback_and_a_subapp_command_each_get_a_scope(
    container: Any, app: ModuleType
) -> None:
    """The app's callback runs, and its scope closes, before the subcommand's opens; a
    command of an app added with add_typer (after setup) is served by the parent's
    container."""
    Session = app.Session
    cli, users = typer.Typer(), typer.Typer()
    setup_typer(container, cli)

    @cli.callback()
    @inject_typer
    def main(verbose: bool = False, session: Session = InjectTyper(Session)) -> None:
        typer.echo(f"callback: session {session.number}")

    @users.command()
    @inject_typer
    def show(name: str, session: Session = InjectTyper(Session)) -> None:
        typer.echo(f"{name}: session {session.number}")

    cli.add_typer(users, name="users")
    result = CliRunner().invoke(cli, ["users", "show", "ada"])
    assert result.output == "callback: session 1\nada: session 2\n", result.output
    assert app.EVENTS == [
        "open session 1", "session 1 committed", "close session 1",
        "open session 2", "session 2 committed", "close session 2",
    ]


def test_a_subapp_with_its_own_container_keeps_it(app: ModuleType) -> None:
    """An app added under a served one, set up with a container of its own, uses that."""
    Session = app.Session
    outer, inner = InjectQ(), InjectQ()
    outer.install(app.AppModule())
    inner.install(app.AppModule())
    cli, users = typer.Typer(), typer.Typer()
    setup_typer(outer, cli)
    setup_typer(inner, users)

    @cli.command()
    def noop() -> None: ...

    @users.command()
    @inject_typer
    def which(session: Session = InjectTyper(Session)) -> None:
        typer.echo(f"inner: {inner.current_scope('request') is not None}, "
                   f"outer: {outer.current_scope('request') is not None}")

    cli.add_typer(users, name="users")
    assert CliRunner().invoke(cli, ["users", "which"]).output == (
        "inner: True, outer: False\n")


def test_a_command_without_setup_says_what_to_call(app: ModuleType) -> None:
    """A command of an app setup_typer never saw fails naming the call to add."""
    Greeter = app.Greeter
    cli = typer.Typer()

    @cli.command()
    @inject_typer
    def hello(greeter: Greeter = InjectTyper(Greeter)) -> None:
        pass

    result = CliRunner().invoke(cli, [])
    assert isinstance(result.exception, InjectionError)
    assert str(result.exception) == (
        "no InjectQ container serves @inject_typer on "
        "test_a_command_without_setup_says_what_to_call.<locals>.hello: call "
        "setup_typer(container, app) on the Typer app it is registered in (or on one that "
        "app is added to) before it runs"
    )


def test_a_missing_binding_names_the_parameter(container: Any) -> None:
    """A marked parameter nothing is bound to fails naming it and the command."""
    class Unbound:
        def __init__(self, value: int) -> None: ...

    cli = typer.Typer()

    @cli.command()
    @inject_typer
    def hello(thing: Unbound = InjectTyper(Unbound)) -> None:
        pass

    setup_typer(container, cli)
    result = CliRunner().invoke(cli, [])
    assert isinstance(result.exception, InjectionError)
    assert str(result.exception).startswith(
        "cannot inject parameter 'thing' of "
        "test_a_missing_binding_names_the_parameter.<locals>.hello:\n")


def test_setup_refuses_an_unknown_scope_name_and_a_second_call(container: Any) -> None:
    """An unknown scope name fails at setup; so does setting up the same app twice."""
    cli = typer.Typer()
    with pytest.raises(ScopeError, match="nightly"):
        setup_typer(container, cli, scope_name="nightly")
    setup_typer(container, cli)
    with pytest.raises(InjectionError, match="setup_typer was already called"):
        setup_typer(container, cli)


def test_an_async_command_is_refused() -> None:
    """@inject_typer on an async function fails at once."""
    async def hello() -> None: ...

    with pytest.raises(InjectionError, match=r"@inject_typer on async function .*hello"):
        inject_typer(hello)


def test_a_marker_with_an_unhashable_key_fails_where_it_is_written() -> None:
    """InjectTyper() checks its key when the command is defined, naming that line."""
    with pytest.raises(BindingError, match=r"^InjectTyper\(\) at tests/test_typer\.py:\d+: "
                       r"the key \['not'\] is a list, which is not hashable"):
        InjectTyper(["not"])


def test_importing_injectq_does_not_import_typer() -> None:
    """Typer loads only with injectq.integrations.typer itself."""
    check_import_needs("typer", "typer", "typer")


# -- the real program --------------------------------------------------------------------


@pytest.fixture
def cli_project(codegen_env: Path) -> Path:
    """The app and its Typer CLI in tmp_path, with a generated cliapp/_wiring.py."""
    return write_cli_project(codegen_env, APP, CLI)


def run_cli(project: Path, which: str, *args: str) -> subprocess.CompletedProcess[str]:
    """integration_support's run_cli, Typer's output plain: no colours, 100 columns,
    standard tracebacks."""
    return integration_support.run_cli(
        project, which, *args,
        env={"NO_COLOR": "1", "COLUMNS": "100", "_TYPER_STANDARD_TRACEBACK": "1",
             "FORCE_COLOR": None})


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_the_real_cli_runs_a_scope_per_command(cli_project: Path, which: str) -> None:
    """`python -m cliapp.cli`, with either container: output, exit code 0, and the
    command's scope finalized newest first; --help shows no injected parameter."""
    proc = run_cli(cli_project, which, "greet", "Ada")
    assert (proc.returncode, proc.stdout) == (0, "hello Ada (session 1)\n"), proc.stderr
    assert proc.stderr == (
        "open session 1 | open audit 1 | close audit 1 | session 1 committed | "
        "close session 1\n")
    shown = run_cli(cli_project, which, "greet", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "Usage: cliapp greet [OPTIONS]" in shown.stdout and "who" in shown.stdout
    assert "greeter" not in shown.stdout and "audit" not in shown.stdout


@pytest.mark.parametrize("which", ["runtime", "generated"])
@pytest.mark.parametrize(("code", "status", "seen", "stderr_has"), [
    ("5", 5, "rolled back: Exit(5)", ""),
    ("98", 1, "rolled back: Abort()", "Aborted"),
    ("97", 7, "interrupted: SystemExit", ""),
    ("99", 1, "rolled back: RuntimeError(boom)", "RuntimeError: boom"),
])
def test_the_real_cli_closes_the_scope_however_the_command_ends(
    cli_project: Path, which: str, code: str, status: int, seen: str, stderr_has: str
) -> None:
    """typer.Exit(N), Abort, sys.exit(N) and an error give the program's usual exit status
    and message, after the scope's resources saw that exception and closed."""
    proc = run_cli(cli_project, which, "fail", "--code", code)
    assert proc.returncode == status, proc.stderr
    assert stderr_has in proc.stderr
    assert (f"open session 1 | open audit 1 | close audit 1 | session 1 {seen} | "
            "close session 1\n") in proc.stderr, proc.stderr
