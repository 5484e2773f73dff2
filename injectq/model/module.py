"""Modules: where users describe their graph.

Two styles install the same way:

* seed style: ``class M(Module): def configure(self): self.bind(K, Impl).singleton()``
* InjectQ 0.5.0 style: ``def configure(self, binder): binder.bind(K, Impl)``

Plus ``SimpleModule`` (fluent), ``ProviderModule`` with ``@provider`` methods, and
``ConfigurationModule`` (a dict of instances).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from injectq.errors import BindingError
from injectq.model.binding import UNSET, BindingBuilder, ScopeType, bind_site, format_site
from injectq.model.introspect import return_key

if TYPE_CHECKING:
    from injectq.model.registrar import Registrar
    from injectq.runtime.container import InjectQ

__all__ = [
    "ConfigurationModule",
    "Module",
    "ModuleBinder",
    "ProviderModule",
    "SimpleModule",
    "install_into",
    "provider",
]

F = TypeVar("F", bound=Callable[..., Any])


class ModuleBinder:
    """What ``configure(self, binder)`` receives: binds into the installing container."""

    def __init__(self, container: Registrar) -> None:
        self.registrar = container  # InjectQ, or the recorder while a generated module imports

    @property
    def container(self) -> InjectQ:
        """The container being configured (a recorder while a generated module imports)."""
        return cast("InjectQ", self.registrar)

    def bind(
        self,
        service_type: Any,
        implementation: Any = UNSET,
        scope: str | ScopeType = ScopeType.SINGLETON,
        to: Any = None,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> BindingBuilder:
        return self.registrar.bind(
            service_type, implementation, scope, to, allow_none, allow_concrete,
            name=name, override=override, _site=bind_site(),
        )

    def bind_instance(
        self,
        service_type: Any,
        instance: Any,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> BindingBuilder:
        return self.registrar.bind_instance(
            service_type, instance, allow_none, allow_concrete,
            name=name, override=override, _site=bind_site(),
        )

    def bind_factory(
        self,
        service_type: Any,
        factory: Callable[..., Any],
        name: str | None = None,
        *,
        override: bool = False,
    ) -> BindingBuilder:
        return self.registrar.bind_factory(
            service_type, factory, name=name, override=override, _site=bind_site()
        )

    def declare_scope(self, name: str, parent: str = "request") -> None:
        self.registrar.declare_scope(name, parent)


class Module:
    """Subclass and override ``configure``; call ``self.bind(...)`` inside it."""

    # the binder of the install() under way: a dunder name, as every other name belongs to
    # the user's subclass
    __injectq_binder__: ModuleBinder | None = None

    def configure(self, *args: Any, **kwargs: Any) -> None:
        """Declare bindings. Either style: ``def configure(self)`` calling ``self.bind(...)``,
        or ``def configure(self, binder)`` calling ``binder.bind(...)``. (Typed loosely so
        that both overrides pass ``mypy --strict``.)"""

    def _active_binder(self, what: str) -> ModuleBinder:
        binder = self.__injectq_binder__
        if binder is None:
            raise BindingError(
                f"{type(self).__name__}.{what}() can only be called inside configure(), while "
                "the module is being installed: container.install(module)"
            )
        return binder

    def bind(
        self,
        service_type: Any,
        implementation: Any = UNSET,
        scope: str | ScopeType = ScopeType.SINGLETON,
        to: Any = None,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> BindingBuilder:
        """Bind a key to a class (constructed with injection) or an instance (also bound
        under its own class unless ``allow_concrete=False``)."""
        return self._active_binder("bind").registrar.bind(
            service_type, implementation, scope, to, allow_none, allow_concrete,
            name=name, override=override, _site=bind_site(),
        )

    def bind_instance(
        self,
        service_type: Any,
        instance: Any,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> BindingBuilder:
        return self._active_binder("bind_instance").registrar.bind_instance(
            service_type, instance, allow_none, allow_concrete,
            name=name, override=override, _site=bind_site(),
        )

    def bind_factory(
        self,
        service_type: Any,
        factory: Callable[..., Any],
        name: str | None = None,
        *,
        override: bool = False,
    ) -> BindingBuilder:
        """Bind a factory whose parameters are injected (transient unless told)."""
        return self._active_binder("bind_factory").registrar.bind_factory(
            service_type, factory, name=name, override=override, _site=bind_site()
        )

    def declare_scope(self, name: str, parent: str = "request") -> None:
        self._active_binder("declare_scope").declare_scope(name, parent)

    def install(self, module: Module) -> None:
        """Install another module from inside ``configure``."""
        install_into(self._active_binder("install").registrar, module)


def _takes_binder(configure: Callable[..., Any]) -> bool:
    # read the code object when there is one: a generated module re-runs configure() (and
    # nested install()s) at import, where no signature may be read
    fn = getattr(configure, "__func__", configure)
    code = getattr(fn, "__code__", None)
    if code is not None and not hasattr(fn, "__wrapped__"):
        return bool(code.co_argcount > (1 if hasattr(configure, "__self__") else 0))
    try:
        params = [
            p
            for p in inspect.signature(configure).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return True
    return bool(params)


def install_into(container: Registrar, module: Any) -> None:
    """Run a module's ``configure`` against ``container`` (either style)."""
    if inspect.isclass(module) and issubclass(module, Module):
        module = module()
    configure = getattr(module, "configure", None)
    if configure is None or not callable(configure):
        raise BindingError(
            f"{module!r} is not a module: it has no configure() method "
            "(subclass injectq.Module and override configure)"
        )
    binder = ModuleBinder(container)
    previous = getattr(module, "__injectq_binder__", None)
    if isinstance(module, Module):
        module.__injectq_binder__ = binder
    try:
        if _takes_binder(configure):
            configure(binder)
        else:
            configure()
    finally:
        if isinstance(module, Module):
            module.__injectq_binder__ = previous


class SimpleModule(Module):
    """A module built fluently: ``SimpleModule().bind(A, AImpl).bind_instance(B, b)``."""

    def __init__(self) -> None:
        self._calls: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = []

    def bind(  # type: ignore[override]
        self,
        service_type: Any,
        implementation: Any = UNSET,
        scope: str | ScopeType = ScopeType.SINGLETON,
        to: Any = None,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> SimpleModule:
        self._calls.append(
            ("bind", (service_type, implementation, scope, to, allow_none, allow_concrete),
             {"name": name, "override": override}, bind_site())
        )
        return self

    def bind_instance(  # type: ignore[override]
        self,
        service_type: Any,
        instance: Any,
        *,
        name: str | None = None,
        override: bool = False,
        allow_none: bool = False,
        allow_concrete: bool = True,
    ) -> SimpleModule:
        self._calls.append(
            ("bind_instance", (service_type, instance, allow_none, allow_concrete),
             {"name": name, "override": override}, bind_site())
        )
        return self

    def bind_factory(  # type: ignore[override]
        self,
        service_type: Any,
        factory: Callable[..., Any],
        name: str | None = None,
        *,
        override: bool = False,
        scope: str | ScopeType | None = None,
    ) -> SimpleModule:
        self._calls.append(
            ("bind_factory", (service_type, factory),
             {"name": name, "override": override, "scope": scope}, bind_site())
        )
        return self

    def configure(self, binder: ModuleBinder | None = None) -> None:
        assert binder is not None
        container = binder.container
        for method, args, kwargs, site in self._calls:
            getattr(container, method)(*args, **kwargs, _site=site)


@overload
def provider(fn: F) -> F: ...
@overload
def provider(
    fn: None = None, *, scope: str | ScopeType = "transient", name: str | None = None
) -> Callable[[F], F]: ...


def provider(
    fn: Any = None, *, scope: str | ScopeType = "transient", name: str | None = None
) -> Any:
    """Mark a ``ProviderModule`` method as a factory for its return annotation.

    ``@provider`` (transient) or ``@provider(scope="singleton", name="x")``.
    """

    def mark(f: Any) -> Any:
        f._is_provider = True
        f._provider_scope = scope
        f._provider_name = name
        return f

    return mark(fn) if fn is not None else mark


class ProviderModule(Module):
    """A module whose ``@provider`` methods are factories keyed by their return type."""

    def configure(self, binder: ModuleBinder | None = None) -> None:
        assert binder is not None
        for attr in sorted(dir(type(self))):
            raw = getattr(type(self), attr, None)
            if not getattr(raw, "_is_provider", False):
                continue
            method = getattr(self, attr)
            key = return_key(method)
            if key is None:
                raise BindingError(
                    f"@provider {type(self).__name__}.{attr} needs a return type annotation: "
                    "it is the key the provider is bound to"
                )
            assert raw is not None
            code = getattr(inspect.unwrap(raw), "__code__", None)
            site = format_site(code.co_filename, code.co_firstlineno) if code else bind_site()
            binder.container.bind_factory(
                key, method, name=raw._provider_name, scope=raw._provider_scope, _site=site
            )


class ConfigurationModule(Module):
    """Bind each item of a mapping as an instance: ``ConfigurationModule({"db_url": ...})``."""

    def __init__(self, config: Mapping[Any, Any]) -> None:
        self.config = dict(config)

    def configure(self, binder: ModuleBinder | None = None) -> None:
        assert binder is not None
        site = bind_site()
        for key, value in self.config.items():
            k = key if isinstance(key, (str, type)) else str(key)
            binder.container.bind_instance(k, value, allow_none=value is None, _site=site)
