"""The build recipe: how each binding is built, decided once, printed by both back ends.

``Cookbook(graph).recipe(key)`` turns a graph node into plain data: the real object to
call (never a text for it), the provider kind, lifetime and scope, the argument layout
(each argument positional or keyword, with the real default object where a default has
to be passed), which dependencies are built in place (one inlining budget), which need
an await, and who owns a resource. The runtime compiler prints a recipe as source for
``exec``; injectq-gen prints it into ``_wiring.py``; the override engine builds from the
``Record`` a recipe derives (a generated module writes the same records out). A printer
decides nothing about how a binding is built.
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from injectq.model.binding import Lifetime, ProviderKind
from injectq.model.graph import Dep, DependencyGraph, Node, Resolution
from injectq.model.introspect import Edge
from injectq.model.markers import Key

__all__ = [
    "INLINE_BUDGET",
    "Arg",
    "Call",
    "Cookbook",
    "Owner",
    "Recipe",
    "Record",
    "Source",
    "Spelling",
    "build_source",
    "call_parts",
    "call_source",
    "invoke",
]

INLINE_BUDGET = 4  # constructor calls built in place inside one creation: C(B(A())) and one more


class Source(enum.StrEnum):
    """What an argument receives."""

    DEP = "plain"  # the instance of another binding
    LAZY = "lazy"  # a Lazy handle of another binding
    CONTAINER = "container"  # the resolving container
    NONE = "none"  # None: an Optional parameter with nothing bound
    DEFAULT = "default"  # the parameter's own default object, passed positionally
    MISSING = "missing"  # nothing can supply it (the graph check reports it)
    UNRESOLVABLE = "unresolvable"  # its annotation cannot be evaluated


class Owner(enum.StrEnum):
    """Who finalizes a resource (a generator factory's instance)."""

    NONE = "none"  # not a resource
    CONTAINER = "container"  # a singleton: the container
    SCOPE = "scope"  # a scoped binding: its scope
    INNERMOST = "innermost"  # a transient: the innermost open scope, else the container


@dataclass(frozen=True, eq=False)
class Arg:
    """One argument of a provider call."""

    name: str  # the parameter's name
    keyword: bool  # passed as ``name=value``
    source: Source
    target: Key | None = None  # DEP, LAZY, MISSING: the key
    default: Any = None  # DEFAULT: the default object itself
    inline: Call | None = None  # DEP built in place (a transient class or factory)
    awaits: bool = False  # DEP whose resolution needs an await


@dataclass(frozen=True, eq=False)
class Call:
    """A provider called with arguments: a recipe's own call, or one built in place."""

    node: Node  # the binding whose provider is called
    args: tuple[Arg, ...]


class Record:
    """What a container needs of one binding besides its resolver: for messages, for the
    override engine (rebuild it from its dependencies' values) and for error paths.

    ``layout`` holds one ``(name, keyword, source, target_or_default)`` per argument, in
    call order; the runtime derives it from a recipe, a generated module writes it out.
    ``base`` names a generated module's methods of the binding (``provide_<base>``, ...);
    ``explicit`` is False for a class only a root reaches (not bound itself).
    """

    __slots__ = (
        "base", "deps", "explicit", "is_async", "key", "kind", "label", "layout", "lifetime",
        "provider", "scope", "site",
    )

    def __init__(
        self,
        key: Key,
        label: str,
        kind: str,
        lifetime: str,
        scope: str | None,
        site: str,
        provider: Any,
        layout: tuple[tuple[str, bool, str, Any], ...],
        is_async: bool,
        base: str = "",
        explicit: bool = True,
    ) -> None:
        self.key = key
        self.label = label
        self.kind = kind
        self.lifetime = lifetime
        self.scope = scope
        self.site = site
        self.provider = provider
        self.layout = layout
        self.is_async = is_async
        self.base = base
        self.explicit = explicit
        # (edge, key) per injected argument, in the order ``build`` takes their values
        self.deps: tuple[tuple[str, Any], ...] = tuple(
            (source, what) for _, _, source, what in layout if source != Source.DEFAULT
        )

    @property
    def lifetime_label(self) -> str:
        return f"scoped:{self.scope}" if self.lifetime == "scoped" else self.lifetime

    def copy(self, provider: Any, layout: tuple[tuple[str, bool, str, Any], ...]) -> Record:
        """This record with another provider and argument layout."""
        return Record(
            self.key, self.label, self.kind, self.lifetime, self.scope, self.site, provider,
            layout, self.is_async, self.base, self.explicit,
        )

    def build(self, values: Sequence[Any]) -> Any:
        """What the provider returns for these dependency values (a resource's generator,
        an async factory's coroutine); the instance itself for an instance binding."""
        if self.kind in (ProviderKind.INSTANCE, ProviderKind.AWAITABLE):
            return self.provider
        return invoke(self.provider, self.layout, values)


def invoke(provider: Any, layout: tuple[tuple[str, bool, str, Any], ...], values: Sequence[Any]
           ) -> Any:
    """Call ``provider`` as ``layout`` says, with ``values`` for the injected arguments."""
    it = iter(values)
    pos: list[Any] = []
    kw: dict[str, Any] = {}
    for name, keyword, source, what in layout:
        value = what if source == Source.DEFAULT else next(it)
        if keyword:
            kw[name] = value
        else:
            pos.append(value)
    return provider(*pos, **kw)


@dataclass(eq=False)
class Recipe:
    """How one binding is built."""

    key: Key
    label: str
    site: str
    kind: ProviderKind
    lifetime: Lifetime
    scope: str | None
    provider: Any  # the class or callable to call; the instance for an instance binding
    layout: tuple[Arg, ...]  # the arguments, without building decisions
    call: Call | None  # the provider call with what is built in place; None: an instance
    is_async: bool  # resolving it needs an await (itself or something it reaches)
    owner: Owner
    node: Node

    @property
    def lifetime_label(self) -> str:
        return f"scoped:{self.scope}" if self.lifetime is Lifetime.SCOPED else str(self.lifetime)

    def record(self) -> Record:
        return Record(
            self.key, self.label, str(self.kind), str(self.lifetime), self.scope, self.site,
            self.provider,
            tuple(
                (a.name, a.keyword, str(a.source),
                 a.default if a.source is Source.DEFAULT else a.target)
                for a in self.layout
            ),
            self.is_async,
        )


_SOURCES = {
    Resolution.CONTAINER: Source.CONTAINER,
    Resolution.NONE: Source.NONE,
    Resolution.MISSING: Source.MISSING,
    Resolution.UNRESOLVABLE: Source.UNRESOLVABLE,
}


def _layout(deps: tuple[Dep, ...]) -> list[tuple[Dep, bool]]:
    """The parameters that are passed, each with whether it goes by keyword.

    A parameter left to its default is not passed, so the positional-or-keyword ones after
    it go by keyword; a default followed by a positional-only parameter that is injected
    must be passed itself (positionally), as its default object."""
    out: list[tuple[Dep, bool]] = []
    keywords = False
    default = Resolution.DEFAULT
    for i, dep in enumerate(deps):
        kind = dep.param.kind
        if dep.resolution is default:
            later_positional_only = any(
                d.param.kind is _POSITIONAL_ONLY and d.resolution is not default
                for d in deps[i + 1:]
            )
            if later_positional_only:
                out.append((dep, False))
            else:
                keywords = True
            continue
        keyword = kind is _KEYWORD_ONLY or (keywords and kind is _POSITIONAL_OR_KEYWORD)
        out.append((dep, keyword))
    return out


_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY
_POSITIONAL_OR_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY


_INLINED_KINDS = (ProviderKind.CLASS, ProviderKind.FACTORY)  # built in place when transient


class Cookbook:
    """The recipes of one graph, made on demand and memoized."""

    def __init__(self, graph: DependencyGraph) -> None:
        self.graph = graph
        self._recipes: dict[Key, Recipe] = {}

    def recipe(self, key: Key) -> Recipe:
        recipe = self._recipes.get(key)
        if recipe is None:
            node = self.graph.node(key)
            if node is None:
                raise KeyError(key)
            recipe = self._recipes.get(node.key) or self._make(node)
            self._recipes[key] = recipe
        return recipe

    def take(self, key: Key) -> Recipe:
        """The recipe of ``key``, not kept: for a printer that reads each recipe once (the
        runtime compiler), so that a large graph's recipes do not stay alive after it."""
        recipe = self.recipe(key)
        self._recipes.pop(key, None)
        self._recipes.pop(recipe.key, None)
        return recipe

    def _make(self, node: Node) -> Recipe:
        b = node.binding
        if b.kind.is_resource:
            owner = {
                Lifetime.SINGLETON: Owner.CONTAINER,
                Lifetime.SCOPED: Owner.SCOPE,
            }.get(b.lifetime, Owner.INNERMOST)
        else:
            owner = Owner.NONE
        recipe = Recipe(
            key=b.key, label=b.label, site=b.site, kind=b.kind, lifetime=b.lifetime,
            scope=b.scope, provider=b.provider, layout=(), call=None,
            is_async=self.graph.needs_async(b.key), owner=owner, node=node,
        )
        self._recipes[b.key] = recipe  # first: a cycle (reported elsewhere) ends here
        if b.kind.takes_parameters:
            args = self._args(node, [INLINE_BUDGET])
            recipe.call = Call(node, args)
            # the layout is the same arguments with nothing built in place
            recipe.layout = args if all(a.inline is None for a in args) else tuple(
                a if a.inline is None else Arg(a.name, a.keyword, a.source, a.target,
                                               awaits=a.awaits)
                for a in args
            )
        return recipe

    def _args(self, node: Node, budget: list[int] | None) -> tuple[Arg, ...]:
        """The arguments of ``node``'s provider; with a budget, transient classes and
        factories that need no await are built in place while the budget lasts (one budget
        for the whole call, spent depth first)."""
        if not node.deps:
            return ()
        args: list[Arg] = []
        graph = self.graph
        for dep, keyword in _layout(node.deps):
            name = dep.param.name
            resolution = dep.resolution
            if resolution is Resolution.DEFAULT:
                args.append(Arg(name, keyword, Source.DEFAULT, default=dep.param.default))
                continue
            if resolution is not Resolution.BINDING:
                args.append(Arg(name, keyword, _SOURCES[resolution], dep.target))
                continue
            if dep.edge is Edge.LAZY:
                args.append(Arg(name, keyword, Source.LAZY, dep.target))
                continue
            inline = None
            target = graph.node(dep.target)
            awaits = graph.needs_async(dep.target)
            if (
                budget is not None and budget[0] > 0 and target is not None and not awaits
                and target.binding.lifetime is Lifetime.TRANSIENT
                and target.binding.kind in _INLINED_KINDS
            ):
                budget[0] -= 1
                inline = Call(target, self._args(target, budget))
            args.append(Arg(name, keyword, Source.DEP, dep.target, inline=inline, awaits=awaits))
        return tuple(args)


# -- printing -------------------------------------------------------------------------------
class Spelling(Protocol):
    """How a printer spells the parts of a recipe in its source (names, never decisions)."""

    container: str  # the resolving container
    enter: str  # enter_resource(gen, key)
    aenter: str  # aenter_resource(gen, key), awaited
    await_instance: str  # await_instance(awaitable, key), awaited

    def owner(self, owner: Owner) -> str: ...  # a statement handing ``g`` to its owner
    def provider(self, node: Node) -> str: ...
    def key(self, key: Key) -> str: ...
    def resolve(self, key: Key, awaited: bool) -> str: ...  # a call of a binding's resolver
    def lazy(self, key: Key) -> str: ...  # a Lazy handle of a key
    def default(self, call: Call, arg: Arg) -> str: ...  # the default object of ``arg``


def call_source(call: Call, spell: Spelling, in_async: bool) -> str:
    """``provider(arg, name=arg, ...)``: a recipe's call, with what it builds in place."""
    provider, parts = call_parts(call, spell, in_async)
    return f"{provider}({', '.join(parts)})"


def call_parts(call: Call, spell: Spelling, in_async: bool) -> tuple[str, list[str]]:
    """The provider and the arguments of ``call_source`` (a printer that lays out long
    calls takes them apart)."""
    parts: list[str] = []
    for arg in call.args:
        text = _argument(call, arg, spell, in_async)
        parts.append(f"{arg.name}={text}" if arg.keyword else text)
    return spell.provider(call.node), parts


def _argument(call: Call, arg: Arg, spell: Spelling, in_async: bool) -> str:
    source = arg.source
    if source is Source.CONTAINER:
        return spell.container
    if source is Source.NONE:
        return "None"
    if source is Source.DEFAULT:
        return spell.default(call, arg)
    if source is Source.LAZY:
        return spell.lazy(arg.target)
    if source is not Source.DEP:
        raise AssertionError(f"{arg.name}: {source} is reported before anything is built")
    if arg.inline is not None:
        return call_source(arg.inline, spell, in_async)
    return spell.resolve(arg.target, in_async and arg.awaits)


def build_source(recipe: Recipe, spell: Spelling, in_async: bool) -> list[str]:
    """Statements that leave the new instance in ``v``; a resource's generator is ``g``,
    handed to its owner."""
    kind = recipe.kind
    key = spell.key(recipe.key)
    if kind is ProviderKind.INSTANCE:
        return [f"v = {spell.provider(recipe.node)}"]
    if kind is ProviderKind.AWAITABLE:
        return [f"v = await {spell.await_instance}({spell.provider(recipe.node)}, {key})"]
    assert recipe.call is not None
    call = call_source(recipe.call, spell, in_async)
    if kind in (ProviderKind.CLASS, ProviderKind.FACTORY):
        return [f"v = {call}"]
    if kind is ProviderKind.ASYNC_FACTORY:
        return [f"v = await {call}"]
    owner = spell.owner(recipe.owner)
    if kind is ProviderKind.GENERATOR:
        return [f"g = {call}", f"v = {spell.enter}(g, {key})", owner]
    return [f"g = {call}", f"v = await {spell.aenter}(g, {key})", owner]
