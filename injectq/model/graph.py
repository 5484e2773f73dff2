"""The dependency graph: nodes are bindings (explicit or auto-wired), edges are parameters.

Built lazily from a Registry: ``node(key)`` introspects a provider the first time it is
asked for and decides, parameter by parameter, what satisfies it. Both back ends and the
checks read this one model.
"""

from __future__ import annotations

import builtins
import enum
import inspect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, is_typeddict

from injectq.errors import PathLink
from injectq.model.binding import Binding, Lifetime, ProviderKind, format_site
from injectq.model.introspect import Edge, Fallback, Param, ProviderInfo, describe
from injectq.model.markers import Key, split_key
from injectq.model.registry import APP_SCOPE, Registry

__all__ = ["Dep", "DependencyGraph", "Node", "Resolution", "is_autowirable"]

PRIMITIVES = frozenset({str, int, float, bool, bytes, complex, type(None)})
_PRIMITIVES = PRIMITIVES


class Resolution(enum.Enum):
    BINDING = "binding"  # satisfied by another node
    CONTAINER = "container"  # the resolving container itself
    DEFAULT = "default"  # nothing bound: the parameter's default applies
    NONE = "none"  # Optional[T] with nothing bound and no default: None
    MISSING = "missing"
    UNRESOLVABLE = "unresolvable"  # the annotation cannot be evaluated


@dataclass(frozen=True)
class Dep:
    """One parameter of a node and what satisfies it."""

    param: Param
    resolution: Resolution
    target: Key | None = None  # the node key for BINDING; the wanted key for MISSING
    edge: Edge = Edge.PLAIN

    @property
    def is_lazy(self) -> bool:
        return self.edge is Edge.LAZY


@dataclass(eq=False)
class Node:
    """One binding in the graph, with its provider's parameters and what satisfies each."""

    binding: Binding
    info: ProviderInfo
    deps: tuple[Dep, ...]
    key: Key = field(init=False)  # the binding's key: read on every walk of the graph

    def __post_init__(self) -> None:
        self.key = self.binding.key

    @property
    def label(self) -> str:
        return self.binding.label

    def via(self, param: Param) -> str:
        """How this node asks for a parameter, for messages: ``Svc.__init__(db)  file:line``."""
        where = f"   {format_site(self.info.file, self.info.line)}" if self.info.line else ""
        return f"{self.info.qualname}({param.name}){where}"

    def link(self, via: str = "") -> PathLink:
        return PathLink(self.label, self.binding.lifetime_label, self.binding.site, via)


def is_autowirable(token: Any) -> bool:
    """A concrete class that may be built from its constructor annotations when unbound."""
    if not inspect.isclass(token):
        return False
    if token in _PRIMITIVES or getattr(builtins, token.__name__, None) is token:
        return False
    if inspect.isabstract(token) or getattr(token, "_is_protocol", False):
        return False
    if Protocol in getattr(token, "__mro__", ()) or issubclass(token, enum.Enum):
        return False
    if is_typeddict(token):
        return False
    return not getattr(token, "__injectq_container__", False)


def _class_site(cls: type) -> str:
    try:
        file = inspect.getsourcefile(cls) or "<unknown>"
        _, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return f"{getattr(cls, '__module__', '?')}.{cls.__qualname__} (auto-wired)"
    return format_site(file, line)


class DependencyGraph:
    """Nodes for every key asked for, built on demand and memoized."""

    def __init__(self, registry: Registry, fallback: Fallback | None = None) -> None:
        self.registry = registry
        self.fallback = fallback
        self._nodes: dict[Key, Node | None] = {}
        self._async: dict[Key, bool] = {}

    # -- nodes ---------------------------------------------------------------------------
    def binding_for(self, key: Key) -> Binding | None:
        """The explicit binding of ``key``, or an auto-wired one for a concrete class."""
        binding = self.registry.get(key)
        if binding is not None:
            return binding
        token, name = split_key(key)
        if name is None and is_autowirable(token):
            return Binding(
                key=token,
                provider=token,
                kind=ProviderKind.CLASS,
                lifetime=Lifetime.TRANSIENT,
                site=_class_site(token),
                autowired=True,
            )
        return None

    def node(self, key: Key) -> Node | None:
        try:
            return self._nodes[key]
        except KeyError:
            pass
        binding = self.binding_for(key)
        node = None if binding is None else self._build(binding)
        self._nodes[key] = node
        return node

    def has_node(self, key: Key) -> bool:
        return self.node(key) is not None

    def _build(self, binding: Binding) -> Node:
        if not binding.kind.takes_parameters:
            return Node(binding, ProviderInfo((), binding.provider_name, "", 0), ())
        info = describe(binding.provider, self.fallback)
        dep = self.dep
        return Node(binding, info, tuple([dep(p) for p in info.params]))

    def _bound_or_wired(self, key: Key) -> bool:
        return key in self.registry or (
            split_key(key)[1] is None and is_autowirable(split_key(key)[0])
        )

    def dep(self, p: Param) -> Dep:
        """What satisfies one parameter of a provider (or of an ``@inject`` function)."""
        if p.error is not None:
            if p.has_default:
                return Dep(p, Resolution.DEFAULT)
            by_name = self._by_name(p)
            if by_name is not None:
                return Dep(p, Resolution.BINDING, by_name)
            return Dep(p, Resolution.UNRESOLVABLE)
        if p.edge is Edge.CONTAINER:
            return Dep(p, Resolution.CONTAINER, edge=Edge.CONTAINER)
        key = p.key
        token, name = split_key(key) if key is not None else (None, None)
        if key is None or (name is None and token in _PRIMITIVES):
            # 0.5.0: a string key equal to the parameter name satisfies it
            by_name = self._by_name(p)
            if by_name is not None:
                return Dep(p, Resolution.BINDING, by_name, p.edge)
            if key is not None and key in self.registry:
                return Dep(p, Resolution.BINDING, key, p.edge)
            return self._fallback(p, key)
        if key in self.registry:
            return Dep(p, Resolution.BINDING, key, p.edge)
        by_name = self._by_name(p)
        if by_name is not None:
            return Dep(p, Resolution.BINDING, by_name, p.edge)
        if name is None and is_autowirable(token) and not p.has_default:
            return Dep(p, Resolution.BINDING, key, p.edge)
        return self._fallback(p, key)

    _dep = dep  # the spelling injectq_codegen/plan.py reads

    def _by_name(self, p: Param) -> Key | None:
        return p.name if p.name in self.registry else None

    @staticmethod
    def _fallback(p: Param, key: Key | None) -> Dep:
        if p.has_default:
            return Dep(p, Resolution.DEFAULT)
        if p.optional:
            return Dep(p, Resolution.NONE)
        return Dep(p, Resolution.MISSING, key if key is not None else p.name, p.edge)

    # -- whole-graph views ---------------------------------------------------------------
    def closure(self, roots: Iterable[Key]) -> list[Node]:
        """Every node reachable from ``roots`` (through all edges), in discovery order."""
        seen: dict[Key, Node] = {}
        stack = list(roots)
        node_of = self.node
        binding = Resolution.BINDING
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            node = node_of(key)
            if node is None:
                continue
            seen[key] = node
            deps = node.deps
            if deps:
                stack.extend([d.target for d in reversed(deps) if d.resolution is binding])
        return list(seen.values())

    def all_nodes(self, extra_roots: Iterable[Key] = ()) -> list[Node]:
        """Every explicit binding plus whatever they (and ``extra_roots``) reach."""
        return self.closure([*self.registry.keys(), *extra_roots])

    def needs_async(self, key: Key) -> bool:
        """True when resolving ``key`` needs an ``await`` somewhere (not behind Lazy).
        (An explicit stack: a graph can be deeper than the call stack.)"""
        memo = self._async
        found = memo.get(key)
        if found is not None:
            return found
        memo[key] = False  # on the stack: a cycle does not make itself async
        stack: list[tuple[Key, int]] = [(key, 0)]
        binding, plain = Resolution.BINDING, Edge.PLAIN
        while stack:
            k, i = stack.pop()
            node = self.node(k)
            deps = node.deps if node is not None else ()
            pushed = False
            while i < len(deps):
                d = deps[i]
                i += 1
                if d.resolution is binding and d.edge is plain and d.target not in memo:
                    memo[d.target] = False
                    stack.append((k, i))
                    stack.append((d.target, 0))
                    pushed = True
                    break
            if not pushed:
                memo[k] = node is not None and (node.binding.kind.is_async or any(
                    memo.get(d.target, False) for d in deps
                    if d.resolution is binding and d.edge is plain
                ))
        return memo[key]

    def scope_of(self, binding: Binding) -> str | None:
        """The scope an instance lives in: app for singletons, its name for scoped ones."""
        if binding.lifetime is Lifetime.SINGLETON:
            return APP_SCOPE
        if binding.lifetime is Lifetime.SCOPED:
            return binding.scope
        return None

    def dependents(self, nodes: Iterable[Node]) -> dict[Key, list[tuple[Node, Dep]]]:
        out: dict[Key, list[tuple[Node, Dep]]] = {}
        for node in nodes:
            for dep in node.deps:
                if dep.resolution is Resolution.BINDING:
                    out.setdefault(dep.target, []).append((node, dep))
        return out

    def topological(self, nodes: Iterable[Node]) -> list[Node]:
        """Dependencies before dependents (plain edges); cycles broken arbitrarily."""
        order: list[Node] = []
        state: dict[Key, int] = {}
        index = {n.key: n for n in nodes}
        for start in index.values():
            if start.key in state:
                continue
            stack: list[tuple[Node, int]] = [(start, 0)]
            state[start.key] = 1
            while stack:
                node, i = stack.pop()
                deps = [
                    d.target
                    for d in node.deps
                    if d.resolution is Resolution.BINDING and d.edge is Edge.PLAIN
                ]
                while i < len(deps) and (deps[i] in state or deps[i] not in index):
                    i += 1
                if i < len(deps):
                    stack.append((node, i + 1))
                    child = index[deps[i]]
                    state[child.key] = 1
                    stack.append((child, 0))
                else:
                    state[node.key] = 2
                    order.append(node)
        return order
