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
from collections.abc import Callable
from typing import Any, TypeVar, overload

from injectq.errors import DependencyNotFoundError, InjectionError, InjectQError
from injectq.graph import Resolution
from injectq.introspect import Param, describe

__all__ = ["current_container", "inject"]

F = TypeVar("F", bound=Callable[..., Any])


def current_container() -> Any:
    from injectq.container import InjectQ
    from injectq.interface import _current

    return _current.get() or InjectQ.get_instance()


@overload
def inject(func: F) -> F: ...
@overload
def inject(func: None = None, *, container: Any = None) -> Callable[[F], F]: ...


def inject(func: Any = None, *, container: Any = None) -> Any:
    """Decorate a function, method, async function or ``__init__`` for injection.

    ``@inject`` or ``@inject(container=c)``. On a class, its ``__init__`` is decorated.
    """
    if func is None:
        return lambda f: inject(f, container=container)
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


def _wrap(func: Callable[..., Any], fixed: Any) -> Callable[..., Any]:
    params: list[Param] | None = None

    def plan(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, list[Param]]:
        nonlocal params
        if params is None:
            params = list(describe(func).params)
        missing = [
            p
            for i, p in enumerate(params)
            if not (p.positional and i < len(args)) and p.name not in kwargs
        ]
        return (fixed if fixed is not None else current_container()), missing

    def fill(container: Any, p: Param) -> tuple[bool, Any]:
        dep = container.dep_for(p)
        if dep.resolution is Resolution.DEFAULT:
            return False, None
        if dep.resolution in (Resolution.MISSING, Resolution.UNRESOLVABLE):
            reason = p.error or f"nothing is bound to {dep.target!r}"
            raise InjectionError(
                f"cannot inject parameter {p.name!r} of {func.__qualname__}: {reason}; bind it, "
                "pass it explicitly, or give it a default"
            )
        return True, dep

    def explain(exc: InjectQError, p: Param) -> InjectionError:
        err = InjectionError(
            f"cannot inject parameter {p.name!r} of {func.__qualname__}:\n{exc}"
        )
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
                container, missing = plan(args, kwargs)
                for p in missing:
                    use, dep = fill(container, p)
                    if use:
                        try:
                            kwargs[p.name] = await container.aresolve_dep(dep)
                        except DependencyNotFoundError as exc:
                            raise explain(exc, p) from exc
            return await func(*args, **kwargs)

        async_wrapper.__injectq_inject__ = True  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) + len(kwargs) < n_params:
            container, missing = plan(args, kwargs)
            for p in missing:
                use, dep = fill(container, p)
                if use:
                    try:
                        kwargs[p.name] = container.resolve_dep(dep)
                    except DependencyNotFoundError as exc:
                        raise explain(exc, p) from exc
        return func(*args, **kwargs)

    wrapper.__injectq_inject__ = True  # type: ignore[attr-defined]
    return wrapper
