"""Celery: one scope per task run.

``setup_celery(container, app)`` attaches the container to a Celery app. A task decorated
with ``@inject_celery`` (under ``@app.task``) runs inside its own
``container.scope("request")``, with the container current (``@inject`` resolves from
it); the task's parameters that the caller does not pass are resolved by their
annotations in that scope, so ``svc: Service`` is a ``Service`` to a type checker.

The scope is the task's call itself: it closes when the task function returns or raises,
finalizing its resources newest first, before Celery stores the result (and before
``task_postrun``, which Celery sends after storing it). What the task raised (any error,
``Retry`` from ``self.retry()``, ``Reject``, ``Ignore``, ``SoftTimeLimitExceeded``) is
thrown into generator resources at their ``yield``, as in a ``with`` block, and then
reaches Celery unchanged, which stores the FAILURE or RETRY. A task called from another
decorated task's body (``other(...)``, ``other.run(...)``) runs in the caller's scope.

Celery checks a call's arguments against the task's signature (``typing=True``, the
default); there, a parameter the container may fill is optional: one annotated with a
class that is not a value Celery's serializers carry (``svc: Service``, an ABC, a
Protocol, ``InjectQ``, ``Lazy[T]``, ``Service | None``), a NewType, or a named binding
(``Annotated[T, Named("...")]``). The other parameters (unannotated, builtins such as
``int``, ``str``, ``list[str]``, enums, TypedDicts, dates, ``Decimal``, ``UUID``) are the
task's arguments, checked as declared; they come before the injected ones.

``setup_celery`` also closes the container when a worker shuts down, in the process that
created what it finalizes: in each prefork child as it exits (``worker_process_shutdown``)
and in the worker's main process (``worker_shutdown``). A forked child keeps the
singletons created before the fork but finalizes only those it created itself.

Works with the runtime ``InjectQ`` and a generated container alike. Needs Celery:
``pip install 'injectq[celery]'``.
"""

from __future__ import annotations

import builtins
import datetime
import decimal
import enum
import functools
import inspect
import types
import typing
import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_origin, is_typeddict

try:
    import celery._state as _celery_state  # type: ignore[import-untyped]  # pyright: ignore[reportMissingTypeStubs]
    from celery import signals as _celery_signals  # pyright: ignore[reportMissingTypeStubs]
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.celery needs Celery: pip install 'injectq[celery]' "
        "(or pip install celery)"
    ) from exc

from injectq.errors import InjectionError
from injectq.integrations._unit import Units
from injectq.model.graph import PRIMITIVES
from injectq.model.introspect import Edge, Param, describe
from injectq.model.markers import InjectMarker, split_key
from injectq.runtime.inject import inject

__all__ = ["get_container_celery", "inject_celery", "setup_celery"]

F = TypeVar("F", bound=Callable[..., Any])

# Celery ships no type hints: what this module uses of it, typed at this one place
signals: Any = _celery_signals
current_app: Callable[[], Any] = _celery_state.get_current_app
current_task: Callable[[], Any] = _celery_state.get_current_task

# app -> (container, scope name), for the apps setup_celery was given
_served: weakref.WeakKeyDictionary[Any, tuple[Any, str]] = weakref.WeakKeyDictionary()

# a scope per decorated task run, except one called from another's body
_units = Units("injectq_celery_container")

# values Celery's serializers carry (kombu's json: dates, times, Decimal, UUID): task
# arguments, never dependencies
_VALUES = frozenset({
    datetime.date, datetime.datetime, datetime.time, datetime.timedelta,
    decimal.Decimal, uuid.UUID,
})
_VALUE_MODULES = frozenset({"builtins", "collections.abc", "typing", "typing_extensions"})


class _Injected:
    """The default an injected parameter shows in the signature Celery checks calls with."""

    def __repr__(self) -> str:
        return "<injected>"


_INJECTED: Any = _Injected()


def get_container_celery(app: Any = None) -> Any:
    """The container ``setup_celery`` gave ``app`` (default: the current Celery app)."""
    if app is None:
        app = current_app()
    setup = _served.get(app)
    if setup is None:
        raise InjectionError(
            f"no InjectQ container serves the Celery app {app.main!r}: call "
            "setup_celery(container, app) where the app is made, before the worker starts"
        )
    return setup[0]


def _is_value(token: Any) -> bool:
    """Is ``token`` (an annotation's key) a value a caller passes, not a dependency?"""
    if isinstance(token, typing.NewType):
        return False  # a binding key by design (DatabaseUrl = NewType(..., str))
    origin = get_origin(token) or token
    if origin is types.UnionType or not inspect.isclass(origin):
        return True  # Any, a union of several, a TypeVar, a Literal: no binding's key
    if origin in PRIMITIVES or origin in _VALUES:
        return True
    if origin.__module__ in _VALUE_MODULES:
        return origin.__module__ != "builtins" or getattr(builtins, origin.__name__,
                                                          None) is origin
    return issubclass(origin, enum.Enum) or is_typeddict(origin)


def _may_inject(param: Param) -> bool:
    """May the container fill ``param`` when the caller leaves it out?"""
    if param.edge is not Edge.PLAIN:
        return True  # InjectQ, Lazy[T]
    if param.key is None:
        return False
    token, name = split_key(param.key)
    return name is not None or not _is_value(token)


def _marked(task: Callable[..., Any]) -> set[str]:
    """The parameters annotated ``Inject[T]`` (which says nothing of ``T``'s kind)."""
    try:
        hints = typing.get_type_hints(task)
    except Exception:  # names only a type checker sees: describe() read them, no marker
        return set()
    return {name for name, hint in hints.items() if isinstance(hint, InjectMarker)}


def _celery_signature(task: Callable[..., Any], where: str) -> inspect.Signature:
    """``task``'s signature with its injected parameters optional: what Celery checks a
    call's arguments against."""
    signature = inspect.signature(task)
    described = {p.name: p for p in describe(task).params}
    marked = _marked(task)
    params: list[inspect.Parameter] = []
    injected: str | None = None
    for param in signature.parameters.values():
        info = described.get(param.name)
        if info is None or param.default is not param.empty:
            pass  # *args, **kwargs, a default: already optional to Celery
        elif info.error is not None:
            raise InjectionError(
                f"{where}: cannot read the annotation of parameter {param.name!r}: "
                f"{info.error}; it must be importable where the task is declared, as Celery "
                "checks a call's arguments against it (or give the parameter a default)"
            )
        elif param.name in marked or _may_inject(info):
            if param.kind is not param.KEYWORD_ONLY and injected is None:
                injected = param.name
            param = param.replace(default=_INJECTED)  # noqa: PLW2901 (the one Celery sees)
        elif injected is not None and param.kind is not param.KEYWORD_ONLY:
            raise InjectionError(
                f"{where}: the task argument {param.name!r} comes after the injected "
                f"parameter {injected!r}; put the task's arguments first, so that a caller "
                "passes them by position as declared (or make the injected ones keyword-only)"
            )
        params.append(param)
    return signature.replace(parameters=params)


def _setup(where: str) -> tuple[Any, str]:
    """(container, scope name) serving the running task's app."""
    task = current_task()
    if task is None:
        raise InjectionError(
            f"no Celery task is running: {where} resolves while Celery runs it as a task "
            "(in a worker, through apply(), or called as task(...)) of an app that "
            "setup_celery(container, app) was called on"
        )
    setup = _served.get(task.app)
    if setup is None:
        raise InjectionError(
            f"no InjectQ container serves the Celery app {task.app.main!r} of task "
            f"{task.name!r}: call setup_celery(container, app) where the app is made, "
            "before the worker starts"
        )
    return setup


def inject_celery(task: F) -> F:
    """Run the task in a scope of its own and resolve its parameters that the caller does
    not pass by their annotations. Put it under ``@app.task``::

        @app.task
        @inject_celery
        def send_invoice(order_id: int, mailer: Mailer) -> None: ...

        send_invoice.delay(42)

    Parameters with a default keep it unless a binding is marked (``Inject[T]``,
    ``Annotated[T, Named(...)]``), as with ``@inject``. With ``@app.task(bind=True)`` the
    first parameter is the task, as usual.
    """
    if inspect.iscoroutinefunction(task):
        raise InjectionError(
            f"@inject_celery on async function {task.__qualname__}: Celery calls a task's "
            "function without awaiting it; make it a sync function"
        )
    where = f"@inject_celery on {task.__qualname__}"
    signature = _celery_signature(task, where)
    injected = inject(task)  # resolves from the current container: the task's

    @functools.wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        container, scope_name = _setup(where)
        # called from a decorated task: in its scope
        return _units.run(container, scope_name, lambda: injected(*args, **kwargs))

    # what Celery's argument check reads (it does not follow __wrapped__)
    run.__signature__ = signature  # type: ignore[attr-defined]
    return cast("F", run)


def setup_celery(container: Any, app: Any, *, scope_name: str = "request") -> None:
    """Serve ``app``'s ``@inject_celery`` tasks from ``container`` (``InjectQ`` or a
    generated container), and close it when a worker of ``app`` shuts down.

    Each task run is inside its own ``container.scope(scope_name)``. Call it once, where
    the app is made (the module ``celery -A`` imports); an unknown scope name fails here.
    The container is closed in each prefork child as it exits and in the worker's main
    process at its shutdown, finalizing the singletons' resources in the process that
    created them.
    """
    if app in _served:
        raise InjectionError(
            f"setup_celery was already called on the Celery app {app.main!r}: call it once"
        )
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    _served[app] = (container, scope_name)


def _close_in_child(sender: Any = None, **extra: Any) -> None:
    """A prefork pool process exits: close the container of the app its worker runs (the
    current one there)."""
    setup = _served.get(current_app())
    if setup is not None:
        setup[0].close()


def _close_in_worker(sender: Any = None, **extra: Any) -> None:
    """A worker shuts down: close its app's container in the worker's own process."""
    setup = _served.get(getattr(sender, "app", None))
    if setup is not None:
        setup[0].close()


# one pair of receivers for every app set up (strong references: module functions)
signals.worker_process_shutdown.connect(_close_in_child, weak=False)
signals.worker_shutdown.connect(_close_in_worker, weak=False)
