"""Registration: the API ``configure()`` calls (``bind``, ``bind_instance``, ``bind_factory``,
``declare_scope``, ``install``, ``container[key] = value``, ``has``), written once.

``InjectQ`` is a Registrar with a resolver; ``Recorder`` is a Registrar and nothing more. A
generated module re-runs ``configure()`` against a Recorder at import to take the objects
it cannot import by name (instances, bound methods, partials), so any ``configure()`` that
builds also imports: both run the same registration code.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, Self

from injectq.errors import BindingError
from injectq.model.arguments import check_key, refuse_lookup
from injectq.model.binding import (
    UNSET,
    Binding,
    BindingBuilder,
    Lifetime,
    ProviderKind,
    ScopeType,
    bind_site,
    classify_factory,
    classify_implementation,
    key_for,
    lifetime_from_scope,
)
from injectq.model.markers import display_key, make_key, split_key
from injectq.model.registry import Registry

__all__ = ["Recorder", "Registrar"]


def implied_class(binding: Binding) -> type[object] | None:
    """The class an instance binding also serves under (InjectQ 0.5.0's ``allow_concrete``):
    ``bind_instance(Animal, dog)`` binds ``Dog`` too. None for what no one would ask for by
    its class, or what would capture keys meant for others: a builtin value (binding
    ``"port"`` to 5432 must not bind ``int``), a function, method or partial, a container;
    an instance of the key's own class; a named or ``Annotated`` key (qualified on purpose)."""
    if binding.kind is not ProviderKind.INSTANCE or binding.provider is None:
        return None
    token, name = split_key(binding.key)
    if name is not None or typing.get_origin(token) is typing.Annotated:
        return None
    value: object = binding.provider
    cls: type[object] = type(value)
    if cls is token or getattr(cls, "__module__", None) in ("builtins", "typing"):
        return None
    if inspect.isroutine(value) or isinstance(value, functools.partial):
        return None
    if getattr(cls, "__injectq_container__", False):
        return None
    return cls


class Registrar:
    """The registration half of a container, over a Registry."""

    _registry: Registry

    @property
    def registry(self) -> Registry:
        return self._registry

    def _changed(self) -> None:
        """Bindings changed (a container drops what it derived from them)."""

    def _add(self, binding: Binding, replace: bool = False) -> BindingBuilder:
        self._added(binding)
        self._registry.add(binding, replace=replace)
        return BindingBuilder(binding, self._registry.changed)

    def _add_concrete(self, binding: Binding) -> None:
        """``allow_concrete``: the instance of ``binding`` also under its class, unless that
        class is bound otherwise (either order: a binding of it made later replaces this
        one, and an instance bound under it later too)."""
        cls = implied_class(binding)
        if cls is not None:
            self._registry.add(Binding(
                key=cls, provider=binding.provider, kind=ProviderKind.INSTANCE,
                lifetime=Lifetime.SINGLETON, site=binding.site, implied_by=binding.key,
            ))

    def bind(
        self,
        service_type: Any,
        implementation: Any = UNSET,
        scope: str | ScopeType = ScopeType.SINGLETON,
        to: Any = None,
        allow_none: bool = False,
        allow_concrete: bool = True,
        *,
        name: str | None = None,
        override: bool = False,
        _site: str | None = None,
    ) -> BindingBuilder:
        """Bind ``service_type`` to a class (constructed with injection) or an instance.

        A class is constructed with its dependencies injected; anything else is bound as
        that instance (an awaitable is awaited once, on the first ``aget``). With no
        implementation a class is bound to itself. Returns a builder: ``.singleton()``,
        ``.scoped(name="request")``, ``.transient()``. With ``allow_concrete`` (the
        default, as in InjectQ 0.5.0) an instance is also bound under its own class, as
        ``bind_instance`` says.
        """
        site = _site or bind_site()
        key = key_for(service_type, name, "bind()", site)
        lifetime, scope_name = lifetime_from_scope(scope, "bind()", site)
        if to is not None:
            implementation = to
        if implementation is UNSET:
            if not inspect.isclass(service_type):
                raise BindingError(
                    f"bind({display_key(service_type)}) at {site} needs an implementation: "
                    "only a class can be bound to itself"
                )
            implementation = service_type
        if implementation is None and not allow_none:
            raise BindingError(
                f"bind({display_key(service_type)}, None) at {site}: pass allow_none=True to "
                "bind None on purpose"
            )
        kind = classify_implementation(implementation)
        if kind is ProviderKind.CLASS and inspect.isabstract(implementation):
            raise BindingError(
                f"cannot bind {display_key(service_type)} to abstract class "
                f"{display_key(implementation)} at {site}: bind a concrete subclass"
            )
        if kind is not ProviderKind.CLASS:
            lifetime, scope_name = Lifetime.SINGLETON, None
        binding = Binding(
            key=key,
            provider=implementation,
            kind=kind,
            lifetime=lifetime,
            scope=scope_name,
            site=site,
            override=override,
            allow_none=allow_none,
        )
        builder = self._add(binding)
        if allow_concrete:
            self._add_concrete(binding)
        return builder

    def bind_instance(
        self,
        service_type: Any,
        instance: Any,
        allow_none: bool = False,
        allow_concrete: bool = True,
        *,
        name: str | None = None,
        override: bool = False,
        _site: str | None = None,
    ) -> BindingBuilder:
        """Bind ``service_type`` to this very object (a singleton).

        With ``allow_concrete`` (the default, as in InjectQ 0.5.0) the object is also bound
        under its own class: ``bind_instance(Animal, dog)`` makes ``get(Dog)`` that dog too.
        That binding gives way to any binding of the class itself, made before or after,
        and is never made for a builtin value (``bind_instance("port", 5432)`` does not
        bind ``int``), a function, a named or ``Annotated`` key, or a container.
        ``allow_concrete=False`` binds the key alone.
        """
        site = _site or bind_site()
        key = key_for(service_type, name, "bind_instance()", site)
        if inspect.isclass(instance):
            raise BindingError(
                f"bind_instance({display_key(service_type)}, {instance.__qualname__}) at {site}: "
                "that is a class, not an instance; use bind() to have it constructed"
            )
        if instance is None and not allow_none:
            raise BindingError(
                f"bind_instance({display_key(service_type)}, None) at {site}: pass "
                "allow_none=True to bind None on purpose"
            )
        kind = classify_implementation(instance)
        binding = Binding(
            key=key,
            provider=instance,
            kind=kind,
            lifetime=Lifetime.SINGLETON,
            site=site,
            override=override,
            allow_none=allow_none,
        )
        builder = self._add(binding)
        if allow_concrete:
            self._add_concrete(binding)
        return builder

    def bind_factory(
        self,
        service_type: Any,
        factory: Callable[..., Any],
        *,
        name: str | None = None,
        override: bool = False,
        scope: str | ScopeType | None = None,
        _site: str | None = None,
    ) -> BindingBuilder:
        """Bind a factory (sync, async, generator or async generator); its parameters are
        injected. Transient unless ``scope=`` or ``.singleton()`` / ``.scoped()`` says
        otherwise; a ``@resource("request")`` factory takes the scope it was declared
        with."""
        site = _site or bind_site()
        key = key_for(service_type, name, "bind_factory()", site)
        if scope is None:
            scope = getattr(factory, "_resource_scope", None) or ScopeType.TRANSIENT
        lifetime, scope_name = lifetime_from_scope(scope, "bind_factory()", site)
        if not callable(factory):
            raise BindingError(
                f"bind_factory({display_key(service_type)}, {factory!r}) at {site}: "
                "the factory is not callable"
            )
        binding = Binding(
            key=key,
            provider=factory,
            kind=classify_factory(factory),
            lifetime=lifetime,
            scope=scope_name,
            site=site,
            override=override,
        )
        return self._add(binding)

    def declare_scope(self, name: str, parent: str = "request") -> None:
        """Declare a custom scope name and the scope it nests in (app, request, ...)."""
        self._registry.scopes.declare(name, parent)
        self._changed()

    def _added(self, binding: Binding) -> None:
        """A binding was made (before it is registered)."""

    def install(self, module: Any) -> Self:
        """Install a Module (seed style ``configure(self)`` or binder style)."""
        self.install_module(module)
        return self

    def install_module(self, module: Any) -> None:
        from injectq.model.module import install_into

        install_into(self, module)

    def __setitem__(self, key: Any, value: Any) -> None:
        # dict semantics: assignment replaces silently
        site = bind_site()
        check_key(key, "container[key] = value", site)
        if inspect.isclass(value):
            self.bind(key, value, override=True, _site=site)
        else:
            self.bind_instance(key, value, allow_none=value is None, override=True, _site=site)

    def __delitem__(self, key: Any) -> None:
        try:
            self._registry.remove(check_key(key, "del container[key]"))
        except KeyError:
            raise KeyError(key) from None

    def has(self, service_type: Any, name: str | None = None) -> bool:
        """True when the key is explicitly bound (auto-wirable classes do not count)."""
        try:
            return make_key(service_type, name) in self._registry
        except TypeError:
            refuse_lookup("has()", service_type, name)
            raise


class Recorder(Registrar):
    """A container that only records bindings (what a generated module's import uses)."""

    def __init__(self) -> None:
        self._registry = Registry(on_change=self._changed)

    def recorded(self) -> dict[Any, Binding]:
        """Each key's binding, as the last registration left it."""
        return {b.key: b for b in self._registry}
