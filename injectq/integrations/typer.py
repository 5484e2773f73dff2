"""Typer: one scope per command invocation.

``setup_typer(container, app)`` serves a Typer app, its commands and the apps added under
it (``app.add_typer``), registered before or after the call. A command decorated with
``@inject_typer`` (under ``@app.command()`` or ``@app.callback()``) runs inside its own
``container.scope("request")``, with the container current (``@inject`` resolves from
it). Its parameters marked ``InjectTyper(T)``, as a default (``svc: Service =
InjectTyper(Service)``) or in ``Annotated[Service, InjectTyper(Service)]``, are resolved
in that scope and typed as ``Service``; Typer never sees them, so they are no options.

A scope per callback, as in ``injectq.integrations.click`` (whose reasons hold here: a
group's callback returns before its subcommand runs). The scope closes when the callback
returns or raises, finalizing its resources newest first; what it raised
(``typer.Exit``, ``typer.Abort``, ``SystemExit``, any error) is thrown into generator
resources at their ``yield``, as in a ``with`` block, and then reaches Typer unchanged.

Works with the runtime ``InjectQ`` and a generated container alike. Needs Typer:
``pip install 'injectq[typer]'`` (recent Typer carries its own Click: nothing here
imports the ``click`` package).
"""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

try:
    import typer
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.typer needs Typer: pip install 'injectq[typer]' "
        "(or pip install typer)"
    ) from exc

from injectq.errors import DependencyNotFoundError, InjectionError
from injectq.integrations._markers import Marker, marker_of
from injectq.integrations._unit import Units
from injectq.model.arguments import check_marker
from injectq.model.markers import ClassKey

__all__ = ["InjectTyper", "inject_typer", "setup_typer"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

# app -> (container, scope name), for the apps setup_typer was given
_served: weakref.WeakKeyDictionary[typer.Typer, tuple[Any, str]] = (
    weakref.WeakKeyDictionary()
)
# a scope per decorated callback, except one invoked from another
_units = Units("injectq_typer_container")


class _Marker(Marker):
    """What ``InjectTyper(T)`` returns: the key and binding name to resolve."""

    __slots__ = ()
    label = "InjectTyper"


@overload
def InjectTyper(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def InjectTyper(service_type: Any, name: str | None = None) -> Any: ...


def InjectTyper(service_type: Any, name: str | None = None) -> Any:
    """Mark a parameter of an ``@inject_typer`` command to be resolved from the container:
    ``svc: Service = InjectTyper(Service)`` or ``svc: Annotated[Service,
    InjectTyper(Service)]``; ``name=`` picks a named binding. Typer does not see it."""
    check_marker("InjectTyper()", service_type, name)  # told where the command is declared
    return _Marker(service_type, name)


def _depth(app: typer.Typer, command: object, depth: int = 0) -> int | None:
    """How deep under ``app`` ``command`` is registered (0: one of its own), or None."""
    callbacks = [info.callback for info in app.registered_commands]
    if app.registered_callback is not None:
        callbacks.append(app.registered_callback.callback)
    callbacks.append(app.info.callback)
    if any(callback is command for callback in callbacks):
        return depth
    found: list[int] = []
    for group in app.registered_groups:
        if group.callback is command:
            return depth
        if group.typer_instance is not None:
            below = _depth(group.typer_instance, command, depth + 1)
            if below is not None:
                found.append(below)
    return min(found, default=None)


def _setup(command: object, what: str) -> tuple[Any, str]:
    """(container, scope name) of the nearest app served that ``command`` is registered in."""
    nearest: dict[int, list[tuple[Any, str]]] = {}
    for app, setup in list(_served.items()):
        depth = _depth(app, command)
        if depth is not None:
            nearest.setdefault(depth, []).append(setup)
    if not nearest:
        raise InjectionError(
            f"no InjectQ container serves {what}: call setup_typer(container, app) on the "
            "Typer app it is registered in (or on one that app is added to) before it runs"
        )
    candidates = nearest[min(nearest)]
    if any(other[0] is not candidates[0][0] for other in candidates[1:]):
        raise InjectionError(
            f"{what} is registered in Typer apps served by different containers: "
            "register it in one of them"
        )
    return candidates[0]


# a command's signature without its InjectTyper parameters, its annotations without them,
# and (parameter name, marker) of each
_Plan = tuple[inspect.Signature, dict[str, Any], tuple[tuple[str, _Marker], ...]]


class _Command:
    """The command Typer registers: the function without its ``InjectTyper`` parameters
    (read from the signature on first use, when Typer builds the CLI, so annotations may
    name classes defined after the function), which it resolves in a scope per call."""

    def __init__(self, func: Callable[..., Any]) -> None:
        functools.update_wrapper(
            self, func, assigned=("__module__", "__name__", "__qualname__", "__doc__")
        )
        self._func = func
        self._where = f"@inject_typer on {func.__qualname__}"
        self._plan: _Plan | None = None  # made on first use

    def _planned(self) -> _Plan:
        plan = self._plan
        if plan is None:
            signature = inspect.signature(self._func, eval_str=True)
            kept: list[inspect.Parameter] = []
            marked: list[tuple[str, _Marker]] = []
            for param in signature.parameters.values():
                marker = marker_of(param, _Marker)
                if marker is None:
                    kept.append(param)
                else:
                    marked.append((param.name, marker))
            names = {name for name, _ in marked}
            annotations = {
                k: v for k, v in self._func.__annotations__.items() if k not in names
            }
            plan = (signature.replace(parameters=kept), annotations, tuple(marked))
            self._plan = plan
        return plan

    @property
    def __signature__(self) -> inspect.Signature:
        return self._planned()[0]

    @property  # what typing.get_type_hints reads (it finds the globals through __wrapped__)
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return self._planned()[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        marked = self._planned()[2]
        container, scope_name = _setup(self, self._where)
        # invoked from a decorated callback: in its scope
        return _units.run(
            container,
            scope_name,
            lambda: self._func(*args, **self._resolve(container, marked, kwargs)),
        )

    def _resolve(
        self, container: Any, marked: tuple[tuple[str, _Marker], ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        for name, marker in marked:
            try:
                kwargs[name] = container.get(marker.key, marker.name)
            except DependencyNotFoundError as exc:
                raise InjectionError(
                    f"cannot inject parameter {name!r} of {self._func.__qualname__}:\n{exc}"
                ) from exc
        return kwargs


def inject_typer(command: F) -> F:
    """Run the command in a scope of its own and resolve its ``InjectTyper`` parameters
    there, hidden from Typer. Put it under ``@app.command()`` (or ``@app.callback()``)::

        @app.command()
        @inject_typer
        def show(user_id: str, users: UserService = InjectTyper(UserService)) -> None: ...
    """
    if inspect.iscoroutinefunction(command):
        raise InjectionError(
            f"@inject_typer on async function {command.__qualname__}: make it a sync "
            "function (Click, under Typer, calls commands without awaiting them)"
        )
    return cast("F", _Command(command))


def setup_typer(container: Any, app: typer.Typer, *, scope_name: str = "request") -> None:
    """Serve ``app``'s ``@inject_typer`` commands, and those of the apps added under it,
    from ``container`` (``InjectQ`` or a generated container).

    Each invocation runs inside its own ``container.scope(scope_name)``. Call it once,
    before the app runs; an unknown scope name fails here. An app under ``app`` set up
    with a container of its own keeps it. Closing the container when the program ends is
    the application's (``container.close()``).
    """
    if app in _served:
        raise InjectionError("setup_typer was already called on this Typer app: call it once")
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    _served[app] = (container, scope_name)
