# pyright: strict
"""Typing checks of the Click and Typer integrations (see check_types.py): a command's
injected parameter is its annotation's type, ``@inject_click`` / ``@inject_typer`` keep the
function's type under Click's and Typer's decorators, and ``InjectTyper(Key)`` is the key's
instance type, as a default or in ``Annotated``, for a Protocol too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol, assert_type

import click
import typer

from injectq import InjectQ
from injectq.integrations.click import inject_click, setup_click
from injectq.integrations.typer import InjectTyper, inject_typer, setup_typer


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


@click.group()
def cli() -> None:
    pass


@inject_click
def _plain(who: str, svc: Service) -> int:
    return svc.run()


_kept: Callable[[str, Service], int] = _plain  # the same function type
assert_type(_plain("ada", Service()), int)


@cli.command()
@click.argument("who")
@inject_click
def greet(who: str, svc: Service) -> None:
    assert_type(svc, Service)
    click.echo(f"{who} {svc.run()}")


assert_type(greet, click.Command)
setup_click(InjectQ(), cli)
setup_click(InjectQ(), greet, scope_name="request")

app = typer.Typer()


@app.command()
@inject_typer
def run(
    who: str,
    clock: Annotated[Clock, InjectTyper(Clock)],
    svc: Service = InjectTyper(Service),
) -> int:
    assert_type(svc, Service)
    assert_type(clock, Clock)
    assert_type(InjectTyper(Service, name="primary"), Service)
    return svc.run() + int(clock.now())


class _Wall:
    def now(self) -> float:
        return 0.0


_typer_kept: Callable[[str, Clock, Service], int] = run
assert_type(run("ada", _Wall(), Service()), int)
setup_typer(InjectQ(), app)
