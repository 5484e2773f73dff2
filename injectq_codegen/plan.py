"""Graph -> WiringPlan: plain data the template turns into ``_wiring.py``.

Installs the loaded Modules into a runtime container (to record bindings and their bind
sites), builds the shared DependencyGraph, runs the shared checks plus IQ007
(not importable), and decides every name and expression of the generated module. Names
that come from user input are sanitized and de-duplicated; strings are written with repr.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import inspect
import json
import keyword
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from injectq import InjectQ
from injectq.binding import Lifetime, ProviderKind
from injectq.checks import check_graph
from injectq.errors import InjectQError, Problem
from injectq.graph import Dep, DependencyGraph, Node, Resolution
from injectq.introspect import Edge, describe
from injectq.markers import Key, split_key
from injectq.module import _takes_binder
from injectq_codegen.annotations import type_checking_fallback
from injectq_codegen.errors import GraphProblems, UsageError
from injectq_codegen.loader import LoadedModule, user_failure

__all__ = ["NodePlan", "WiringPlan", "build_plan"]

INLINE_BUDGET = 2  # constructor calls inlined into one function: C(B(A())) and no more
_RESERVED = {
    "container", "Any", "annotations", "cast", "v", "g", "s", "st", "fut", "mine", "e", "a",
    "lock", "contextvars", "MappingProxyType",  # locals and imports of the template
    *keyword.kwlist, *keyword.softkwlist, *dir(builtins),
}
# the template's own names: `_iq_*` helpers and one `_create_<base>` per binding
_TEMPLATE_PREFIXES = ("_iq_", "_create_")


def _plain(name: str) -> bool:
    """A name an import statement can spell: an identifier, not a keyword, and already in
    the NFKC form the parser reads it in (a black-letter H in source imports a plain H)."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
    )


class NotImportable(Exception):
    """An object the generated module could not import."""


@dataclass
class NodePlan:
    base: str
    fn: str
    afn: str | None
    key: str
    label: str
    site: str
    lifetime: str
    scope: str | None
    kind: str
    is_async: bool
    build: str  # construction expression, sync context (instance / call / generator call)
    abuild: str  # the same in async context (awaits inside)
    override_build: str  # lambda a: ... over the deps' values
    deps_meta: list[tuple[str, str]]
    value: str = ""  # singleton value slot (module global)
    slot: str = ""  # singleton lock/pending holder
    scope_attr: str = ""  # attribute in the generated scope class

    @property
    def lifetime_label(self) -> str:
        return f"scoped:{self.scope}" if self.lifetime == "scoped" else self.lifetime

    @property
    def resource(self) -> bool:
        return self.kind in ("generator", "async_generator")


@dataclass
class ScopeClass:
    name: str
    scope: str
    attrs: list[str]


@dataclass
class WiringPlan:
    version: str
    targets: list[str]
    roots: list[str]
    imports: list[tuple[str, str, str]]  # (module, name, alias)
    modules: list[tuple[str, str, bool, bool]]  # (var, expression, takes_binder, captured)
    constants: list[tuple[str, str]]
    scopes: dict[str, str | None]
    scope_classes: list[ScopeClass]
    nodes: list[NodePlan]
    explicit: list[str]
    singletons: list[str]
    awaitables: list[str]
    inputs_hash: str = ""
    warnings: list[Problem] = field(default_factory=list)
    bindings: int = 0

    def fingerprint(self) -> str:
        """A hash of everything the module is generated from (not of the hash itself)."""
        data = [
            self.version, self.targets, self.roots, self.imports, self.modules,
            self.constants, sorted(self.scopes.items()), self.explicit, self.singletons,
            self.awaitables, [[sc.name, sc.scope, sc.attrs] for sc in self.scope_classes],
            [list(vars(n).values()) for n in self.nodes],
        ]
        blob = json.dumps(data, default=str).encode()
        return hashlib.sha256(blob).hexdigest()


def identifier(text: str, fallback: str = "x") -> str:
    """A safe snake_case ASCII identifier for any text (unicode, quotes, newlines...)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    return text[:48]


def _natural(text: str) -> list[Any]:
    """Sort key comparing digit runs as numbers: ``x_2`` before ``x_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


class Names:
    """Every name in the generated module, unique."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)

    def take(self, wanted: str) -> str:
        # a dunder such as __annotations__ or __builtins__ would change how the generated
        # module itself runs: never bind one
        dunder = len(wanted) > 4 and wanted.startswith("__") and wanted.endswith("__")
        if wanted.startswith(_TEMPLATE_PREFIXES) or dunder:
            wanted = f"_u{wanted}"
        name = wanted
        n = 2
        while name in self.used or keyword.iskeyword(name):
            name = f"{wanted}_{n}"
            n += 1
        self.used.add(name)
        return name


class Refs:
    """Imports of the user's classes and functions, and expressions for keys."""

    def __init__(self, names: Names, modules: dict[int, str]) -> None:
        self.names = names
        self.imports: dict[tuple[str, str], str] = {}
        self.module_vars = modules  # id(module object) -> variable
        self.constants: list[tuple[str, str]] = []
        self._const_cache: dict[Any, str] = {}
        self._obj_cache: dict[int, tuple[Any, str]] = {}  # id -> (object, expression)

    def obj(self, obj: Any) -> str:
        """An expression that evaluates to ``obj`` in the generated module."""
        cached = self._obj_cache.get(id(obj))
        if cached is not None and cached[0] is obj:
            return cached[1]  # each key is referred to ~7 times: look it up once
        expr = self._obj(obj)
        self._obj_cache[id(obj)] = (obj, expr)
        return expr

    def _obj(self, obj: Any) -> str:
        owner = getattr(obj, "__self__", None)
        if inspect.ismethod(obj) and id(owner) in self.module_vars:
            return f"{self.module_vars[id(owner)]}.{obj.__name__}"
        if inspect.ismethod(obj):
            raise NotImportable(
                f"{obj.__qualname__} is a method bound to an object the generated module "
                "cannot import"
            )
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if not isinstance(module, str) or not isinstance(qualname, str) or not module or not (
            qualname
        ):
            raise NotImportable(f"{obj!r} has no module and name to import it by")
        if "<lambda>" in qualname:
            raise NotImportable("a lambda cannot be imported; use a module-level function")
        if "<locals>" in qualname:
            outer = qualname.split(".<locals>")[0]
            raise NotImportable(
                f"{qualname} is defined inside the function {outer}(); it cannot be imported"
            )
        if module == "__main__":
            raise NotImportable(f"{qualname} is defined in __main__ (the script being run)")
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except Exception:  # ImportError, AttributeError, or whatever the user's module raises
            found = None
        if found is not obj:
            raise NotImportable(f"{module}.{qualname} does not name this object on import")
        odd = next((p for p in [*module.split("."), *qualname.split(".")] if not _plain(p)), None)
        if odd is not None:
            raise NotImportable(
                f"its name {odd!r} is not a plain Python identifier, so no import statement "
                "can name it; give it one"
            )
        top, _, rest = qualname.partition(".")
        alias = self.imports.get((module, top))
        if alias is None:
            alias = self.names.take(top if top.isidentifier() and top.isascii() else
                                    identifier(top, "imported"))
            self.imports[(module, top)] = alias
        return f"{alias}.{rest}" if rest else alias

    def const(self, expr: str, hint: str) -> str:
        if expr in self._const_cache:
            return self._const_cache[expr]
        name = self.names.take(f"_{identifier(hint, 'k')}")
        self.constants.append((name, expr))
        self._const_cache[expr] = name
        return name

    def key(self, key: Key) -> str:
        token, name = split_key(key)
        token_expr = self.token(token)
        if name is None:
            return token_expr
        return self.const(f"_iq_key({token_expr}, {name!r})", f"{token_expr}_{name}_key")

    def token(self, token: Any) -> str:
        if isinstance(token, float) and not math.isfinite(token):
            return f"float({str(token)!r})"  # repr gives `inf` / `nan`: names, not literals
        if isinstance(token, bool | int | float | str | bytes) or token is None:
            return repr(token)
        if inspect.isclass(token) or inspect.isfunction(token):
            return self.obj(token)
        raise NotImportable(
            f"the key {token!r} cannot be written in generated code; use a class or a string"
        )


def _importable_check(refs: Refs) -> Any:
    def check(node: Node) -> str | None:
        b = node.binding
        try:
            refs.key(b.key)
            if b.kind.takes_parameters:
                refs.obj(b.provider)
        except NotImportable as exc:
            return str(exc)
        return None

    return check


def root_keys(graph: DependencyGraph, roots: Iterable[Any]) -> list[Key]:
    """Keys the roots add: a class is a key; a function adds what its parameters need."""
    keys: list[Key] = []
    for root in roots:
        if callable(root) and not inspect.isclass(root):
            keys += [
                d.target
                for d in (graph._dep(p) for p in describe(root).params)
                if d.resolution is Resolution.BINDING
            ]
        else:
            keys.append(root)
    return keys


def _install(loaded: list[LoadedModule]) -> tuple[InjectQ, dict[int, int]]:
    """A runtime container holding every binding; binding id -> index of its module."""
    container = InjectQ()
    origin: dict[int, int] = {}
    for index, module in enumerate(loaded):
        before = {id(b) for b in container.registry}
        try:
            container.install_module(module.obj)
        except InjectQError:
            raise
        except (Exception, SystemExit) as exc:  # any error raised by the user's configure()
            raise UsageError(user_failure(f"{module.label}: configure()", exc)) from None
        for b in container.registry:
            if id(b) not in before:
                origin[id(b)] = index
    return container, origin


def build_plan(
    loaded: list[LoadedModule],
    roots: Iterable[Any] = (),
    *,
    version: str,
    targets: list[str],
    root_names: Iterable[str] = (),
) -> WiringPlan:
    roots = list(roots)
    container, origin = _install(loaded)
    registry = container.registry
    graph = DependencyGraph(registry, fallback=type_checking_fallback)

    names = Names()
    module_vars: dict[int, str] = {}
    module_rows: list[tuple[str, str, bool, bool]] = []
    refs = Refs(names, module_vars)
    for i, m in enumerate(loaded):
        module_vars[id(m.obj)] = names.take(f"_module_{i}")

    problems = check_graph(graph, roots, importable=_importable_check(refs))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise GraphProblems(problems, bindings=len(registry), roots=len(roots))

    # every binding and what it (and the roots) reach; dependencies first, like hand-written
    nodes = graph.topological(graph.all_nodes(root_keys(graph, roots)))

    # module objects: captured if they bind instances, referenced by bound-method providers
    captured = {origin[id(n.binding)] for n in nodes if n.binding.kind in (
        ProviderKind.INSTANCE, ProviderKind.AWAITABLE) and id(n.binding) in origin}
    for i, m in enumerate(loaded):
        var = module_vars[id(m.obj)]
        alias = _module_import(refs, m)
        expr = alias if m.index is None else f"{alias}[{m.index}]"
        if m.instantiate:
            expr = f"{expr}()"
        module_rows.append((var, expr, _takes_binder(m.obj.configure), i in captured))

    builder = _Builder(graph, refs, names)
    plans = [builder.node(n) for n in nodes]

    scope_classes = []
    for scope in registry.scopes.names():
        attrs = sorted(
            (p.scope_attr for p in plans if p.lifetime == "scoped" and p.scope == scope),
            key=_natural,  # the order ruff's RUF023 expects of __slots__
        )
        if attrs:
            cls = names.take(f"_{identifier(scope, 'scope').title().replace('_', '')}Scope")
            scope_classes.append(ScopeClass(cls, scope, attrs))

    explicit = [refs.key(b.key) for b in registry]
    singletons = [refs.key(b.key) for b in registry if b.lifetime is Lifetime.SINGLETON]
    awaitables = [p.build for p in plans if p.kind == "awaitable"]
    plan = WiringPlan(
        version=version,
        targets=targets,
        roots=list(root_names),
        imports=sorted((mod, top, alias) for (mod, top), alias in refs.imports.items()),
        modules=module_rows,
        constants=refs.constants,
        scopes={name: registry.scopes.parent(name) for name in registry.scopes.names()},
        scope_classes=scope_classes,
        nodes=plans,
        explicit=explicit,
        singletons=singletons,
        awaitables=awaitables,
        warnings=[p for p in problems if p.severity != "error"],
        bindings=len(registry),
    )
    plan.inputs_hash = plan.fingerprint()
    container.close()
    return plan


def _module_import(refs: Refs, m: LoadedModule) -> str:
    top = m.import_name.split(".")[0]
    alias = refs.imports.get((m.import_module, top))
    if alias is None:
        alias = refs.names.take(top)
        refs.imports[(m.import_module, top)] = alias
    rest = m.import_name[len(top):]
    return alias + rest


class _Builder:
    """Expressions for each node."""

    def __init__(self, graph: DependencyGraph, refs: Refs, names: Names) -> None:
        self.graph = graph
        self.refs = refs
        self.names = names
        self.fn: dict[Key, str] = {}
        self.afn: dict[Key, str] = {}
        self.provider: dict[Key, str] = {}

    def _names_for(self, node: Node) -> str:
        base = self.fn.get(node.key)
        if base is None:
            base = identifier(node.label, "binding")
            taken = self.names.take(f"provide_{base}")
            base = taken[len("provide_"):]
            self.fn[node.key] = taken
        return self.fn[node.key][len("provide_"):]

    def fn_name(self, node: Node) -> str:
        self._names_for(node)
        return self.fn[node.key]

    def afn_name(self, node: Node) -> str:
        name = self.afn.get(node.key)
        if name is None:
            name = self.names.take(f"aprovide_{self._names_for(node)}")
            self.afn[node.key] = name
        return name

    def provider_expr(self, node: Node) -> str:
        expr = self.provider.get(node.key)
        if expr is None:
            b = node.binding
            if b.kind in (ProviderKind.INSTANCE, ProviderKind.AWAITABLE):
                key = self.refs.key(b.key)
                expr = self.refs.const(f"_iq_instances[{key}]", f"{node.label}_instance")
            else:
                expr = self.refs.obj(b.provider)
            self.provider[node.key] = expr
        return expr

    def args(self, node: Node, value: Any) -> str:
        """The argument list of a node's provider call, ``value(dep, index)`` per dep."""
        parts: list[str] = []
        keywords = False
        deps = node.deps
        index = 0
        for i, dep in enumerate(deps):
            p = dep.param
            if dep.resolution is Resolution.DEFAULT:
                later_positional_only = any(
                    d.param.kind is inspect.Parameter.POSITIONAL_ONLY
                    and d.resolution is not Resolution.DEFAULT
                    for d in deps[i + 1:]
                )
                if later_positional_only:
                    parts.append(repr(p.default))
                else:
                    keywords = True
                continue
            expr = value(dep, index)
            index += 1
            if p.kind is inspect.Parameter.KEYWORD_ONLY or (
                keywords and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            ):
                parts.append(f"{p.name}={expr}")
            else:
                parts.append(expr)
        return ", ".join(parts)

    def dep_expr(self, dep: Dep, in_async: bool, budget: list[int]) -> str:
        if dep.resolution is Resolution.CONTAINER:
            return "_iq_C"  # the container typed Any: the parameter is annotated InjectQ
        if dep.resolution is Resolution.NONE:
            return "None"
        target = self.graph.node(dep.target)
        assert target is not None
        if dep.edge is Edge.LAZY:
            return f"_iq_Lazy({self.refs.key(target.key)}, container)"
        if in_async and self.graph.needs_async(target.key):
            return f"await {self.afn_name(target)}()"
        b = target.binding
        if (
            b.lifetime is Lifetime.TRANSIENT
            and b.kind in (ProviderKind.CLASS, ProviderKind.FACTORY)
            and budget[0] > 0
        ):
            budget[0] -= 1
            inner = self.args(target, lambda d, _i: self.dep_expr(d, in_async, budget))
            return f"{self.provider_expr(target)}({inner})"
        return f"{self.fn_name(target)}()"

    def node(self, node: Node) -> NodePlan:
        b = node.binding
        base = self._names_for(node)
        is_async = self.graph.needs_async(node.key)
        prov = self.provider_expr(node)
        key = self.refs.key(b.key)
        if b.kind.takes_parameters:
            budget = [INLINE_BUDGET]  # one budget for the whole call, not per argument
            sync_args = (
                "" if is_async
                else self.args(node, lambda d, _i: self.dep_expr(d, False, budget))
            )
            build = f"{prov}({sync_args})"
            abuild = build
            if is_async:
                abudget = [INLINE_BUDGET]
                abuild = f"{prov}({self.args(node, lambda d, _i: self.dep_expr(d, True, abudget))})"
            override = f"lambda a: {prov}({self.args(node, lambda _d, i: f'a[{i}]')})"
        else:
            build = abuild = prov
            override = f"lambda a: {prov}"
        deps_meta = []
        for dep in node.deps:
            if dep.resolution is Resolution.DEFAULT:
                continue
            if dep.resolution is Resolution.CONTAINER:
                deps_meta.append(("container", "None"))
            elif dep.resolution is Resolution.NONE:
                deps_meta.append(("none", "None"))
            else:
                edge = "lazy" if dep.edge is Edge.LAZY else "plain"
                deps_meta.append((edge, self.refs.key(dep.target)))
        plan = NodePlan(
            base=base,
            fn=self.fn_name(node),
            afn=self.afn_name(node) if is_async else None,
            key=key,
            label=b.label,
            site=b.site,
            lifetime=b.lifetime.value,
            scope=b.scope,
            kind=b.kind.value,
            is_async=is_async,
            build=build,
            abuild=abuild,
            override_build=override,
            deps_meta=deps_meta,
        )
        if b.lifetime is Lifetime.SINGLETON:
            plan.value = self.names.take(f"_{base}")
            plan.slot = self.names.take(f"_{base}_slot")
        elif b.lifetime is Lifetime.SCOPED:
            plan.scope_attr = self.names.take(f"{base}_instance")
        return plan
