"""``@inject``: give a function its dependencies when the caller leaves them out.

Called by a container (as a constructor or factory), the function receives every argument
and the wrapper only passes them on. Called directly with arguments missing, it resolves
them from ``container=`` if given, else the current container (``with c.context():``),
else ``InjectQ.get_instance()``. Works with the runtime and the generated container.
"""

from __future__ import annotations

import functools
import inspect
import sys
import weakref
from collections.abc import Callable, Container, Sequence
from typing import Any, TypeVar, overload

from injectq.errors import DependencyNotFoundError, InjectionError, InjectQError
from injectq.model.graph import Dep, Resolution
from injectq.model.introspect import Edge, Param, describe
from injectq.model.markers import Lazy
from injectq.runtime import errorpath
from injectq.runtime.interface import current_var

__all__ = ["current_container", "inject"]

F = TypeVar("F", bound=Callable[..., Any])


def current_container() -> Any:
    """The container ``@inject`` resolves from when none is given: the current context's
    (``with c.context():``), else ``InjectQ.get_instance()``."""
    container = current_var.get()
    if container is not None:
        return container
    from injectq.runtime.container import InjectQ

    return InjectQ.get_instance()


@overload
def inject(func: F) -> F: ...
@overload
def inject(func: None = None, *, container: Any = None) -> Callable[[F], F]: ...


def inject(func: Any = None, *, container: Any = None) -> Any:
    """Decorate a function, method, async function or ``__init__`` for injection.

    ``@inject`` or ``@inject(container=c)``. On a class, its ``__init__`` is decorated.
    """
    if func is None:

        def decorate(f: Any) -> Any:
            return _decorate(f, container)

        return decorate
    return _decorate(func, container)


def _decorate(func: Any, container: Any) -> Any:
    if inspect.isclass(func):
        init = func.__dict__.get("__init__")
        if init is None:
            raise InjectionError(
                f"@inject on class {func.__qualname__}: it defines no __init__ to inject into"
            )
        func.__init__ = _wrap(init, container)  # type: ignore[method-assign]
        return func
    if not callable(func):
        raise InjectionError(f"@inject needs a function, got {func!r}")
    return _wrap(func, container)


# how a planned parameter gets its value
_GET, _CONTAINER, _NONE, _LAZY = 0, 1, 2, 3

CallPlan = list[tuple[str, int, Any]]  # (parameter name, how, key) of what to fill


def plan_call(
    container: Any,
    params: Sequence[Param],
    n_args: int,
    passed: Container[str],
    missing: Callable[[Param, Dep], Exception],
) -> CallPlan:
    """What ``container`` fills of ``params`` when a call passes ``n_args`` positional
    arguments and the keywords ``passed`` (``@inject`` and ``invoke``). A parameter
    nothing satisfies raises ``missing(param, dep)``."""
    todo: CallPlan = []
    for i, p in enumerate(params):
        if (p.positional and i < n_args) or p.name in passed:
            continue
        dep = container.dep_for(p)
        if dep.resolution is Resolution.DEFAULT:
            continue
        if dep.resolution in (Resolution.MISSING, Resolution.UNRESOLVABLE):
            raise missing(p, dep)
        if dep.resolution is Resolution.CONTAINER:
            todo.append((p.name, _CONTAINER, None))
        elif dep.resolution is Resolution.NONE:
            todo.append((p.name, _NONE, None))
        elif dep.edge is Edge.LAZY:
            todo.append((p.name, _LAZY, dep.target))
        else:
            todo.append((p.name, _GET, dep.target))
    return todo


Explain = Callable[[DependencyNotFoundError, str], Exception] | None


def fill(container: Any, plan: CallPlan, kwargs: dict[str, Any], explain: Explain = None) -> None:
    """Put the planned values into ``kwargs``; ``explain`` rewraps a missing dependency
    with the parameter's name."""
    get = container.get
    for name, how, target in plan:
        if how == _GET:
            try:
                kwargs[name] = get(target)
            except DependencyNotFoundError as exc:
                if explain is None:
                    raise
                raise explain(exc, name) from exc
        else:
            kwargs[name] = _special(container, how, target)


async def afill(
    container: Any, plan: CallPlan, kwargs: dict[str, Any], explain: Explain = None
) -> None:
    for name, how, target in plan:
        if how == _GET:
            try:
                kwargs[name] = await container.aget(target)
            except DependencyNotFoundError as exc:
                if explain is None:
                    raise
                raise explain(exc, name) from exc
        else:
            kwargs[name] = _special(container, how, target)


def _special(container: Any, how: int, target: Any) -> Any:
    if how == _CONTAINER:
        return container
    if how == _LAZY:
        return Lazy[Any](target, container)
    return None


def _direct(container: Any, todo: CallPlan) -> tuple[tuple[str, Any, Any], ...] | None:
    """(parameter, key, resolver) of a plan that only gets bindings, when the container
    gives resolvers and each can be made now (else the plan's own path reports it)."""
    resolver = getattr(container, "resolver", None)
    if resolver is None or any(how != _GET for _, how, _ in todo):
        return None
    try:
        return tuple((name, target, resolver(target)) for name, _how, target in todo)
    except InjectQError:
        return None


def _dead() -> None:
    """A weak reference to no container (before the first call)."""


def _wrap(func: Callable[..., Any], fixed: Any) -> Callable[..., Any]:
    params: list[Param] | None = None
    # container -> {call shape: (container generation, plan)}. Planned once per call shape,
    # so a call reads no signature and no graph.
    plans: weakref.WeakKeyDictionary[Any, dict[Any, tuple[int, CallPlan]]]
    plans = weakref.WeakKeyDictionary()

    def missing(p: Param, dep: Dep) -> InjectionError:
        reason = p.error or f"nothing is bound to {dep.target!r}"
        return InjectionError(
            f"cannot inject parameter {p.name!r} of {func.__qualname__}: {reason}; "
            "bind it, pass it explicitly, or give it a default"
        )

    # the plan of the last call without keywords: (container, generation, number of
    # positional arguments, plan); the container is held weakly
    last: list[Any] = [_dead, -1, -1, (), None]

    def plan(container: Any, n_args: int, kwargs: dict[str, Any]) -> CallPlan:
        nonlocal params
        shape = (n_args, tuple(kwargs)) if kwargs else n_args
        generation = container._generation
        try:
            by_shape = plans[container]
        except KeyError:
            by_shape = plans.setdefault(container, {})
        cached = by_shape.get(shape)
        if cached is not None and cached[0] == generation:
            todo = cached[1]
        else:
            if params is None:
                params = list(describe(func).params)
            todo = plan_call(container, params, n_args, kwargs, missing)
            by_shape[shape] = (generation, todo)
        if not kwargs:
            last[:] = [weakref.ref(container), generation, n_args, todo, _direct(container, todo)]
        return todo

    def explain(exc: InjectQError, name: str) -> InjectionError:
        err = InjectionError(f"cannot inject parameter {name!r} of {func.__qualname__}:\n{exc}")
        err.__cause__ = exc
        return err

    sig_params = inspect.signature(func).parameters.values()
    # fast path: every parameter passed. Not decidable by counting with *args/**kwargs.
    var_kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    n_params = (
        sys.maxsize if any(p.kind in var_kinds for p in sig_params) else len(sig_params)
    )

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) + len(kwargs) < n_params:
                container = fixed if fixed is not None else current_container()
                await afill(container, plan(container, len(args), kwargs), kwargs, explain)
            return await func(*args, **kwargs)

        async_wrapper.__injectq_inject__ = True  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) + len(kwargs) < n_params:
            container = fixed if fixed is not None else current_container()
            ref, generation, n_args, _todo, fast = last
            if not kwargs and n_args == len(args) and ref() is container and (
                generation == container._generation and fast is not None
            ):
                # the same call as the last: each value from its binding's own resolver
                name, target = "", None
                try:
                    for name, target, resolve in fast:  # noqa: B007 (target: for the error)
                        kwargs[name] = resolve()
                except DependencyNotFoundError as exc:
                    raise explain(exc, name) from exc
                except Exception as exc:
                    errorpath.note_path(container, target, exc)
                    raise
                return func(*args, **kwargs)
            fill(container, plan(container, len(args), kwargs), kwargs, explain)
        return func(*args, **kwargs)

    wrapper.__injectq_inject__ = True  # type: ignore[attr-defined]
    return wrapper
