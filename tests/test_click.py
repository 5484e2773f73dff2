"""injectq.integrations.click: a scope per command invocation.

Commands run through Click's ``CliRunner`` and, at the end, as a real program in a
subprocess. Both containers serve the same app (tests/integration_support.py): the runtime
one, and the one injectq-gen generates from the same Module. Its two request-scoped
resources log when they open, how their block ended (the exception they saw) and when
they close, so the order of finalization can be read off.
"""

# no `from __future__ import annotations`: @inject_click reads the commands' annotations,
# and these commands are local functions using the app's classes, taken from a fixture

import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import click
import pytest
from click.testing import CliRunner

from injectq import InjectionError, Named, ScopeError, inject
from injectq.integrations.click import inject_click, setup_click
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    job_scope,
    run_cli,
    run_docs_example,
    scope_events,
    write_cli_project,
)

APP = app_source("cli", name="tool_name", cli=True)

# the program of test_the_real_cli_*: its container is the runtime one or the generated
# one, as CLIAPP_CONTAINER says
CLI = """\
from __future__ import annotations

import os
import sys

import click

from cliapp.services import EVENTS, Audit, Greeter
from injectq.integrations.click import inject_click, setup_click

if os.environ["CLIAPP_CONTAINER"] == "generated":
    from cliapp._wiring import container
else:
    from injectq import InjectQ
    from cliapp.services import AppModule

    container = InjectQ()
    container.install(AppModule())


@click.group()
def cli() -> None:
    pass


@cli.command()
@click.argument("who")
@inject_click
def greet(who: str, greeter: Greeter, audit: Audit) -> None:
    click.echo(greeter.greet(who))


@cli.command()
@click.option("--code", type=int, default=0)
@inject_click
def fail(code: int, audit: Audit) -> None:
    if code == 99:
        raise RuntimeError("boom")
    if code == 98:
        raise click.Abort()
    if code == 97:
        sys.exit(7)
    click.get_current_context().exit(code)


setup_click(container, cli)

if __name__ == "__main__":
    try:
        cli()
    finally:
        print(" | ".join(EVENTS), file=sys.stderr)
"""


app, container = app_fixtures("cliapp", APP)


def greeter_cli(container: Any, app: ModuleType) -> click.Group:
    """A group whose commands take the app's services by annotation."""
    Greeter, Audit, Session = app.Greeter, app.Audit, app.Session

    @inject
    def session_number(session: Session) -> int:  # resolved from the command's scope
        return session.number

    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    @click.argument("who")
    @click.option("--shout", is_flag=True)
    @inject_click
    def greet(
        who: str, shout: bool, greeter: Greeter, audit: Audit,
        tool: Annotated[str, Named("tool_name")],
    ) -> None:
        text = greeter.greet(who)
        click.echo(text.upper() if shout else text)
        click.echo(f"{tool}: one session {greeter.session is audit.session}, "
                   f"@inject sees it {session_number() == audit.session.number}")

    @cli.command()
    @click.option("--how", type=click.Choice(["error", "exit", "abort", "sysexit", "usage"]))
    @inject_click
    def fail(how: str, audit: Audit) -> None:
        if how == "error":
            raise ValueError("card declined")
        if how == "exit":
            click.get_current_context().exit(3)
        if how == "abort":
            raise click.Abort()
        if how == "sysexit":
            sys.exit(4)
        raise click.UsageError("no such thing")

    setup_click(container, cli)
    return cli


def test_each_invocation_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType
) -> None:
    """Every command invocation gets fresh scoped instances, shared by its parameters and
    by @inject functions it calls; when it returns they are finalized, newest first."""
    cli = greeter_cli(container, app)
    runner = CliRunner()
    first = runner.invoke(cli, ["greet", "Ada"])
    assert (first.exit_code, first.output) == (0, (
        "hello Ada (session 1)\ncli: one session True, @inject sees it True\n"))
    assert app.EVENTS == scope_events(1, [
        "close audit 1", "session 1 committed", "close session 1"])
    app.EVENTS.clear()
    second = runner.invoke(cli, ["greet", "Grace", "--shout"])
    assert second.output.splitlines()[0] == "HELLO GRACE (SESSION 2)"
    assert app.EVENTS == scope_events(2, [
        "close audit 2", "session 2 committed", "close session 2"])


def test_injected_parameters_are_not_options(container: Any, app: ModuleType) -> None:
    """--help shows only the command's own options and arguments."""
    result = CliRunner().invoke(greeter_cli(container, app), ["greet", "--help"])
    assert result.exit_code == 0
    assert "Usage: cli greet [OPTIONS] WHO" in result.output
    assert "--shout" in result.output
    for name in ("greeter", "audit", "tool"):
        assert name not in result.output
    assert app.EVENTS == []  # --help ran no command: no scope


@pytest.mark.parametrize(("how", "code", "seen", "output"), [
    ("error", 1, "rolled back: ValueError(card declined)", ""),
    ("exit", 3, "rolled back: Exit(3)", ""),
    ("abort", 1, "rolled back: Abort()", "Aborted!\n"),
    ("sysexit", 4, "interrupted: SystemExit", ""),
    ("usage", 2, "rolled back: UsageError(no such thing)", "Error: no such thing\n"),
])
def test_a_command_that_raises_still_closes_its_scope(
    container: Any, app: ModuleType, how: str, code: int, seen: str, output: str
) -> None:
    """Whatever leaves the command (an error, ctx.exit(), Abort, sys.exit(), a UsageError)
    is what the scope's generator resources see at their yield, every one is closed, and
    Click then handles it as it does without injectq (exit code, message)."""
    cli = greeter_cli(container, app)
    result = CliRunner().invoke(cli, ["fail", "--how", how])
    assert result.exit_code == code
    assert result.output.endswith(output)
    assert app.EVENTS == scope_events(1, ["close audit 1", f"session 1 {seen}",
                                          "close session 1"])
    if how == "error":
        assert isinstance(result.exception, ValueError)
    app.EVENTS.clear()
    assert CliRunner().invoke(cli, ["greet", "Ada"]).output.startswith(
        "hello Ada (session 2)")


def test_a_group_callback_and_its_subcommand_each_get_a_scope(
    container: Any, app: ModuleType
) -> None:
    """The group's callback returns before Click runs the subcommand: its scope is closed
    by then, and the subcommand opens its own; a chained group's commands get one each."""
    Session = app.Session

    @click.group(chain=True)
    @inject_click
    def cli(session: Session) -> None:
        click.echo(f"group: session {session.number}")

    @cli.command()
    @inject_click
    def one(session: Session) -> None:
        click.echo(f"one: session {session.number}")

    @cli.command()
    @inject_click
    def two(session: Session) -> None:
        click.echo(f"two: session {session.number}")

    setup_click(container, cli)
    result = CliRunner().invoke(cli, ["one", "two"])
    assert result.output == "group: session 1\none: session 2\ntwo: session 3\n"
    assert app.EVENTS == [
        "open session 1", "session 1 committed", "close session 1",
        "open session 2", "session 2 committed", "close session 2",
        "open session 3", "session 3 committed", "close session 3",
    ]


def test_a_command_invoked_by_another_shares_its_scope(
    container: Any, app: ModuleType
) -> None:
    """ctx.invoke() of a decorated command from a decorated command runs in the caller's
    scope: one unit of work, closed once, after the caller."""
    Session = app.Session

    @click.group()
    def cli() -> None:
        pass

    @cli.command()
    @inject_click
    def inner(session: Session) -> None:
        click.echo(f"inner: session {session.number}")

    @cli.command()
    @click.pass_context
    @inject_click
    def outer(ctx: click.Context, session: Session) -> None:
        ctx.invoke(inner)
        click.echo(f"outer: session {session.number}")

    setup_click(container, cli)
    result = CliRunner().invoke(cli, ["outer"])
    assert result.output == "inner: session 1\nouter: session 1\n"
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


def test_a_subgroup_added_later_is_served_by_its_parents_container(
    container: Any, app: ModuleType
) -> None:
    """setup_click on the top group serves commands added under it afterwards, in nested
    groups too."""
    Greeter = app.Greeter

    @click.group()
    def cli() -> None:
        pass

    setup_click(container, cli)

    @cli.group()
    def users() -> None:
        pass

    @users.command()
    @inject_click
    def hello(greeter: Greeter) -> None:
        click.echo(greeter.greet("nested"))

    assert CliRunner().invoke(cli, ["users", "hello"]).output == (
        "hello nested (session 1)\n")


def test_setup_on_a_single_command(container: Any, app: ModuleType) -> None:
    """A plain command (no group) can be set up and run on its own."""
    Greeter = app.Greeter

    @click.command()
    @inject_click
    def hello(greeter: Greeter) -> None:
        click.echo(greeter.greet("solo"))

    setup_click(container, hello)
    assert CliRunner().invoke(hello, []).output == "hello solo (session 1)\n"


def test_a_command_without_setup_says_what_to_call(app: ModuleType) -> None:
    """Run under no group setup_click saw, an injected command fails naming the command
    and the call to add."""
    Greeter = app.Greeter

    @click.group()
    def tool() -> None:
        pass

    @tool.command()
    @inject_click
    def hello(greeter: Greeter) -> None:
        pass

    result = CliRunner().invoke(tool, ["hello"])
    assert isinstance(result.exception, InjectionError)
    assert str(result.exception) == (
        "no InjectQ container serves the Click command 'tool hello': call "
        "setup_click(container, cli) on it or on a group it belongs to before the CLI runs"
    )


def test_outside_click_the_command_says_so(app: ModuleType) -> None:
    """Calling a decorated callback outside any Click invocation is an InjectionError
    saying where it works."""
    @inject_click
    def hello(greeter: app.Greeter) -> None:  # type: ignore[name-defined]
        pass

    with pytest.raises(InjectionError, match=r"^no Click command is running: "
                       r"@inject_click on .*hello resolves while Click invokes"):
        hello()


def test_a_missing_binding_names_the_parameter(container: Any) -> None:
    """A parameter nothing is bound to fails naming it and the command."""
    class Unbound:
        def __init__(self, value: int) -> None: ...

    @click.command()
    @inject_click
    def hello(thing: Unbound) -> None:
        pass

    setup_click(container, hello)
    result = CliRunner().invoke(hello, [])
    assert isinstance(result.exception, InjectionError)
    assert "cannot inject parameter 'thing' of " in str(result.exception)


def test_setup_opens_the_scope_it_is_told() -> None:
    """setup_click(..., scope_name=) opens that scope for each invocation."""
    container, Job, log = job_scope()

    @click.command()
    @inject_click
    def run(job: Job) -> None:
        click.echo(container.current_scope("job") is not None)

    setup_click(container, run, scope_name="job")
    assert CliRunner().invoke(run, []).output == "True\n"
    assert CliRunner().invoke(run, []).output == "True\n"
    assert log == ["open job", "close job", "open job", "close job"]


def test_setup_refuses_an_unknown_scope_name_and_a_second_call(container: Any) -> None:
    """An unknown scope name fails at setup, not at the first invocation; so does setting
    up the same command twice."""
    cli = click.Group("cli")
    with pytest.raises(ScopeError, match="nightly"):
        setup_click(container, cli, scope_name="nightly")
    setup_click(container, cli)
    with pytest.raises(InjectionError, match="setup_click was already called on the Click "
                       "command 'cli': call it once"):
        setup_click(container, cli)


def test_an_async_callback_is_refused() -> None:
    """Click never awaits a callback: @inject_click on an async function fails at once."""
    async def hello() -> None: ...

    with pytest.raises(InjectionError, match=r"@inject_click on async function .*hello: "
                       r"Click calls a command's callback without awaiting it"):
        inject_click(hello)


def test_importing_injectq_does_not_import_click() -> None:
    """Click loads only with injectq.integrations.click itself."""
    check_import_needs("click", "click", "click")


# -- the real program --------------------------------------------------------------------


@pytest.fixture
def cli_project(codegen_env: Path) -> Path:
    """The app and its CLI as a package in tmp_path, with a generated cliapp/_wiring.py."""
    return write_cli_project(codegen_env, APP, CLI)


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_the_real_cli_runs_a_scope_per_command(cli_project: Path, which: str) -> None:
    """`python -m cliapp.cli`, with either container: the command's output, exit code 0,
    and its scope finalized newest first before the program ends."""
    proc = run_cli(cli_project, which, "greet", "Ada")
    assert (proc.returncode, proc.stdout) == (0, "hello Ada (session 1)\n"), proc.stderr
    assert proc.stderr == (
        "open session 1 | open audit 1 | close audit 1 | session 1 committed | "
        "close session 1\n")


@pytest.mark.parametrize("which", ["runtime", "generated"])
@pytest.mark.parametrize(("code", "status", "seen", "stderr_has"), [
    ("0", 0, "rolled back: Exit(0)", ""),
    ("5", 5, "rolled back: Exit(5)", ""),
    ("98", 1, "rolled back: Abort()", "Aborted!\n"),
    ("97", 7, "interrupted: SystemExit", ""),
    ("99", 1, "rolled back: RuntimeError(boom)", "RuntimeError: boom\n"),
])
def test_the_real_cli_closes_the_scope_however_the_command_ends(
    cli_project: Path, which: str, code: str, status: int, seen: str, stderr_has: str
) -> None:
    """ctx.exit(N), Abort, sys.exit(N) and an error each give the program's usual exit
    status and message, after the scope's resources saw that exception and closed."""
    proc = run_cli(cli_project, which, "fail", "--code", code)
    assert proc.returncode == status, proc.stderr
    assert stderr_has in proc.stderr
    assert (f"open session 1 | open audit 1 | close audit 1 | session 1 {seen} | "
            "close session 1\n") in proc.stderr, proc.stderr


# -- the docs example --------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Click section of docs/integrations.md runs as written and prints what it shows."""
    run_docs_example("Click", tmp_path)
