"""Click: one scope per command invocation.

``setup_click(container, cli)`` attaches the container to a command or group (found again
through the running command's context chain, so commands added to the group later are
served too). A command decorated with ``@inject_click`` (under ``@cli.command()``) runs
its callback inside its own ``container.scope("request")``, with the container current
(``@inject`` resolves from it); the callback's parameters that Click does not pass (its
options and arguments) are resolved by their annotations in that scope, so ``svc:
Service`` is a ``Service`` to a type checker and never an option.

A scope per callback, not per command line: Click runs a group's callback to completion
before it parses and runs the subcommand, so each is an invocation of its own, and a
chained group's commands are units of work of their own. A command invoked from another
decorated callback (``ctx.invoke``, ``ctx.forward``) runs in the caller's scope. The scope
closes when the callback returns or raises, finalizing its resources newest first; what
it raised (``click.exceptions.Exit`` from ``ctx.exit()``, ``Abort``, ``SystemExit``, any
error) is thrown into generator resources at their ``yield``, as in a ``with`` block, and
then reaches Click unchanged. (Click's root context closes with ``Exit(0)`` after every
successful command in standalone mode, so the scope is not tied to it.)

Works with the runtime ``InjectQ`` and a generated container alike. Needs Click:
``pip install 'injectq[click]'``. For Typer see ``injectq.integrations.typer``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

try:
    import click
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.click needs Click: pip install 'injectq[click]' "
        "(or pip install click)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._unit import Units
from injectq.runtime.inject import inject

__all__ = ["inject_click", "setup_click"]

F = TypeVar("F", bound=Callable[..., Any])

# on the command setup_click was given: (container, scope name)
ATTRIBUTE = "_injectq_container"

# a scope per decorated callback, except one invoked from another
_units = Units("injectq_click_container")


def _setup(what: str) -> tuple[Any, str]:
    """(container, scope name) serving the running command: its own or its nearest group's."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        raise InjectionError(
            f"no Click command is running: {what} resolves while Click invokes a command "
            "of a group that setup_click(container, cli) was called on"
        )
    walk: click.Context | None = ctx
    while walk is not None:
        setup = getattr(walk.command, ATTRIBUTE, None)
        if setup is not None:
            return cast("tuple[Any, str]", setup)
        walk = walk.parent
    raise InjectionError(
        f"no InjectQ container serves the Click command {ctx.command_path!r}: call "
        "setup_click(container, cli) on it or on a group it belongs to before the CLI runs"
    )


def inject_click(command: F) -> F:
    """Run the command's callback in a scope of its own and resolve its parameters that
    Click does not pass by their annotations. Put it under ``@cli.command()``::

        @cli.command()
        @click.argument("user_id")
        @inject_click
        def show(user_id: str, users: UserService) -> None: ...

    Parameters with a default keep it unless a binding is marked (``Inject[T]``,
    ``Annotated[T, Named(...)]``), as with ``@inject``. With ``@click.pass_context``, put
    ``@inject_click`` under it.
    """
    if inspect.iscoroutinefunction(command):
        raise InjectionError(
            f"@inject_click on async function {command.__qualname__}: Click calls a "
            "command's callback without awaiting it; make it a sync function"
        )
    injected = inject(command)  # resolves from the current container: the command's
    where = f"@inject_click on {command.__qualname__}"

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        container, scope_name = _setup(where)
        # invoked from a decorated callback: in its scope
        return _units.run(container, scope_name, lambda: injected(*args, **kwargs))

    return cast("F", run)


def setup_click(container: Any, cli: click.Command, *, scope_name: str = "request") -> None:
    """Serve ``cli`` (a command or a group) and every command under it from ``container``
    (``InjectQ`` or a generated container).

    Each invocation of an ``@inject_click`` command runs inside its own
    ``container.scope(scope_name)``. Call it once, before the CLI runs; an unknown scope
    name fails here. A group under ``cli`` set up with a container of its own keeps it.
    Closing the container when the program ends is the application's
    (``container.close()``, e.g. ``ctx.call_on_close(container.close)`` in the group).
    """
    if getattr(cli, ATTRIBUTE, None) is not None:
        raise InjectionError(
            f"setup_click was already called on the Click command {cli.name!r}: call it once"
        )
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    setattr(cli, ATTRIBUTE, (container, scope_name))
