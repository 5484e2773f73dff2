"""InjectQ 0.5.0's ``ServiceRegistry`` and ``ServiceBinding``, as a view of a container's
own bindings, and ``DependencyResolver``, its resolution: no second registry, no second
resolver.

The mapping, one binding of ours to one ``ServiceBinding``:

- ``service_type`` is the key as bound (``name`` holds a binding name, if any);
- ``implementation`` is the class, factory or instance bound;
- ``scope`` is ``"singleton"``, ``"transient"`` or the name of the scope it lives in;
- ``is_factory`` is True for a function bound with ``bind_factory`` (sync or async, a
  generator too): 0.5.0 kept those in a second table, ``get_factory`` reads them here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, overload

from injectq.errors import BindingError, ScopeError
from injectq.model.binding import UNSET, Binding, ScopeType
from injectq.model.markers import ClassKey, Key, display_key, split_key
from injectq.model.registry import AlreadyRegisteredError
from injectq.runtime.container import InjectQ
from injectq.runtime.interface import FACTORY_KINDS, ContainerInterface
from injectq.wiring import GeneratedContainer

if TYPE_CHECKING:
    from injectq.core._scopes import BaseScopeManager

__all__ = ["DependencyResolver", "ServiceBinding", "ServiceRegistry"]

T = TypeVar("T")
Container: TypeAlias = InjectQ | GeneratedContainer


def container_arg(container: object, call: str) -> Container:
    """``container`` if it is one of ours (a runtime or a generated container)."""
    if not isinstance(container, InjectQ | GeneratedContainer):
        raise TypeError(
            f"{call} takes an injectq container (InjectQ, or a generated Container), "
            f"got {container!r}"
        )
    return container


class _BindingLike(Protocol):
    """What a runtime ``Binding`` and a generated container's ``Record`` both hold."""

    @property
    def key(self) -> Key: ...
    @property
    def provider(self) -> Any: ...
    @property
    def kind(self) -> str: ...
    @property
    def lifetime(self) -> str: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def site(self) -> str: ...


@dataclass(frozen=True)
class ServiceBinding:
    """One binding of a container, as InjectQ 0.5.0 described it (see the module
    docstring for how each field is read from ours).

    A snapshot: changing a binding is binding again (``ServiceRegistry.bind``,
    ``container.bind``). ``implementation`` None without ``allow_none`` is a
    ``BindingError``, as in 0.5.0.
    """

    service_type: Any
    implementation: Any
    scope: str = ScopeType.SINGLETON.value
    is_factory: bool = False
    allow_none: bool = False
    name: str | None = None
    site: str = "<unknown>"

    def __post_init__(self) -> None:
        if self.implementation is None and not self.allow_none:
            raise BindingError(
                f"the implementation of {display_key(self.service_type)} is None; pass "
                "allow_none=True to bind None on purpose"
            )

    @classmethod
    def from_binding(cls, binding: Binding | _BindingLike) -> ServiceBinding:
        """The ``ServiceBinding`` of one of our bindings (a runtime container's
        ``Binding``, or a generated container's record of one)."""
        token, name = split_key(binding.key)
        kind = str(binding.kind)
        scope = binding.scope if str(binding.lifetime) == "scoped" else str(binding.lifetime)
        return cls(
            service_type=token,
            implementation=binding.provider,
            scope=scope or "request",
            is_factory=kind in FACTORY_KINDS and kind != "class",
            allow_none=getattr(binding, "allow_none", binding.provider is None),
            name=name,
            site=binding.site,
        )


class ServiceRegistry:
    """InjectQ 0.5.0's registry API over a container's bindings: ``ServiceRegistry(c)`` is
    a live view of ``c`` (what it binds, ``c`` binds; what ``c`` binds, it shows), and
    ``ServiceRegistry()`` one of a new ``InjectQ()`` of its own (``.container``).

    ``get_binding`` / ``has_binding`` / ``get_all_bindings`` see every binding, factories
    included (``is_factory`` tells them apart); ``get_factory`` / ``has_factory`` /
    ``get_all_factories`` see the factories only. A generated container's view is
    read-only: its bindings were fixed when it was built, and the calls that would
    change them raise ``BindingError``.
    """

    __slots__ = ("container",)

    def __init__(self, container: ContainerInterface | None = None) -> None:
        self.container: Container = (
            container_arg(container, "ServiceRegistry()") if container is not None else InjectQ()
        )

    # -- what is bound -----------------------------------------------------------------
    def _bindings(self) -> dict[Any, _BindingLike | Binding]:
        c = self.container
        if isinstance(c, InjectQ):
            return {b.key: b for b in c.registry}
        out: dict[Any, _BindingLike | Binding] = {}
        keys = c.keys()  # a generated container's: those only a root reaches too
        for key in keys:
            record = c.node_info(key)
            if record is not None and c.has(key):
                out[key] = record
        return out

    def _one(self, service_type: Any) -> _BindingLike | Binding | None:
        c = self.container
        if isinstance(c, InjectQ):
            return c.registry.get(service_type) if c.has(service_type) else None
        if not c.has(service_type):
            return None
        return c.node_info(service_type)

    def get_binding(self, service_type: Any) -> ServiceBinding | None:
        """The binding of ``service_type``, or None."""
        found = self._one(service_type)
        return ServiceBinding.from_binding(found) if found is not None else None

    def has_binding(self, service_type: Any) -> bool:
        return self.container.has(service_type)

    def get_all_bindings(self) -> dict[Any, ServiceBinding]:
        """Every binding by key, in the order they were made."""
        return {k: ServiceBinding.from_binding(b) for k, b in self._bindings().items()}

    def get_factory(self, service_type: Any) -> Callable[..., Any] | None:
        """The function bound with ``bind_factory`` to ``service_type``, or None."""
        found = self.get_binding(service_type)
        return found.implementation if found is not None and found.is_factory else None

    def has_factory(self, service_type: Any) -> bool:
        return self.get_factory(service_type) is not None

    def get_all_factories(self) -> dict[Any, Callable[..., Any]]:
        return {k: b.implementation for k, b in self.get_all_bindings().items() if b.is_factory}

    def __contains__(self, service_type: object) -> bool:
        return self.container.has(service_type)

    def __len__(self) -> int:
        return len(self._bindings())

    def __repr__(self) -> str:
        return f"ServiceRegistry({self.container!r}: {len(self)} bindings)"

    # -- changing it -------------------------------------------------------------------
    def _runtime(self, call: str) -> InjectQ:
        c = self.container
        if not isinstance(c, InjectQ):
            raise BindingError(
                f"ServiceRegistry.{call}: a generated container's bindings were fixed when "
                "`injectq-gen build` wrote it; bind in a Module and build again (to replace "
                "what get() returns for a block, use container.override())"
            )
        return c

    def _may_bind(self, c: InjectQ, service_type: Any, allow_override: bool) -> None:
        if (not allow_override or not c.registry.allow_override) and c.has(service_type):
            raise AlreadyRegisteredError(service_type)

    def bind(
        self,
        service_type: Any,
        implementation: Any = UNSET,
        scope: str | ScopeType = ScopeType.SINGLETON,
        to: Any = None,
        allow_none: bool = False,
        allow_concrete: bool = True,
        allow_override: bool = True,
    ) -> None:
        """``container.bind(...)``, replacing a binding of ``service_type`` (as 0.5.0's
        registry did) unless ``allow_override`` is False or the container refuses
        overrides: then a bound key is an ``AlreadyRegisteredError``."""
        c = self._runtime("bind()")
        self._may_bind(c, service_type, allow_override)
        c.bind(
            service_type, implementation, scope, to, allow_none, allow_concrete, override=True
        )

    def bind_factory(
        self, service_type: Any, factory: Callable[..., Any], allow_override: bool = True
    ) -> None:
        """``container.bind_factory(...)``: a transient factory, its parameters injected."""
        c = self._runtime("bind_factory()")
        self._may_bind(c, service_type, allow_override)
        c.bind_factory(service_type, factory, override=True)

    def bind_instance(
        self,
        service_type: Any,
        instance: Any,
        allow_none: bool = False,
        allow_concrete: bool = True,
        allow_override: bool = True,
    ) -> None:
        c = self._runtime("bind_instance()")
        self._may_bind(c, service_type, allow_override)
        c.bind_instance(service_type, instance, allow_none, allow_concrete, override=True)

    def remove_binding(self, service_type: Any) -> bool:
        """Unbind ``service_type``; True when it was bound."""
        c = self._runtime("remove_binding()")
        if not c.has(service_type):
            return False
        del c[service_type]
        return True

    def remove_factory(self, service_type: Any) -> bool:
        """Unbind ``service_type`` if a factory is bound to it; True when one was."""
        c = self._runtime("remove_factory()")
        if not self.has_factory(service_type):
            return False
        del c[service_type]
        return True

    def clear(self) -> None:
        """Forget every binding (``container.clear()``)."""
        self._runtime("clear()").clear()

    def validate(self) -> None:
        """Check the whole graph: ``GraphValidationError`` listing every problem."""
        self.container.validate()



class DependencyResolver:
    """InjectQ 0.5.0's resolver of a registry: ``DependencyResolver(registry)`` (a
    ``ServiceRegistry``, or a container) resolves through that container's own
    resolution, with everything ``container.get`` does (scopes, overrides, cycles,
    error paths).

    ``scope_manager``, when given, must be a scope manager of that same container
    (``ScopeError`` otherwise): a container's scopes are its own.
    """

    __slots__ = ("container", "registry", "scope_manager")

    def __init__(
        self,
        registry: ServiceRegistry | ContainerInterface,
        scope_manager: BaseScopeManager | None = None,
    ) -> None:
        from injectq.core._scopes import ScopeManager, get_scope_manager

        if isinstance(registry, ServiceRegistry):
            self.registry = registry
        else:
            self.registry = ServiceRegistry(container_arg(registry, "DependencyResolver()"))
        container = self.container = self.registry.container
        if scope_manager is None:
            scope_manager = get_scope_manager(container)
        elif not isinstance(scope_manager, ScopeManager) or (
            scope_manager.container is not container
        ):
            raise ScopeError(
                f"DependencyResolver: {scope_manager!r} does not manage the scopes of "
                f"{container!r}; pass get_scope_manager(container), or none"
            )
        self.scope_manager: BaseScopeManager = scope_manager

    @overload
    def resolve(self, service_type: ClassKey[T]) -> T: ...
    @overload
    def resolve(self, service_type: Any) -> Any: ...

    def resolve(self, service_type: Any) -> Any:
        """``container.get(service_type)``."""
        return self.container.get(service_type)

    @overload
    async def aresolve(self, service_type: ClassKey[T]) -> T: ...
    @overload
    async def aresolve(self, service_type: Any) -> Any: ...

    async def aresolve(self, service_type: Any) -> Any:
        """``await container.aget(service_type)``."""
        return await self.container.aget(service_type)

    @overload
    async def resolve_async(self, service_type: ClassKey[T]) -> T: ...
    @overload
    async def resolve_async(self, service_type: Any) -> Any: ...

    async def resolve_async(self, service_type: Any) -> Any:
        """``aresolve`` under InjectQ 0.5.0's name."""
        return await self.container.aget(service_type)

    def validate_dependencies(self) -> None:
        """Check the whole graph: ``GraphValidationError`` listing every problem."""
        self.registry.validate()

    def get_dependency_graph(self) -> dict[Any, list[Any]]:
        """Each bound key with the keys it depends on (``container.get_dependency_graph``)."""
        return self.container.get_dependency_graph()

    def compile_resolution_plans(self) -> None:
        """``container.compile()``: validate, then build every resolver now."""
        self.container.compile()
