"""Recipes -> WiringPlan: plain data the template turns into ``_wiring.py``.

Installs the loaded Modules into a runtime container (to record bindings and their bind
sites), builds the shared DependencyGraph, runs the shared checks plus IQ007 (what the
generated module could not refer to), and prints each binding's recipe (recipe.py) as
source: how a binding is built is decided there, never here. This module only spells:
names (one reserved rule, see PREFIX) and references to the user's objects (imports,
values rebuilt from builtin data, what configure() makes taken from re-running it).
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import importlib
import inspect
import json
import keyword
import math
import operator
import re
import types
import typing
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from injectq import InjectQ
from injectq.errors import InjectQError, Problem
from injectq.model.binding import Lifetime
from injectq.model.checks import check_graph
from injectq.model.graph import DependencyGraph, Node, Resolution
from injectq.model.introspect import describe
from injectq.model.markers import Key, Named, split_key
from injectq.model.recipe import Arg, Call, Cookbook, Owner, Recipe, Source, build_source
from injectq_codegen.errors import GraphProblems, UsageError
from injectq_codegen.loader import LoadedModule, user_failure

__all__ = ["NodePlan", "WiringPlan", "build_plan"]

# Names the generated module defines. A name the template or the planner makes starts with
# PREFIX (``_iq_<role>_<base>``, roles below) or is a public accessor ``provide_<base>`` /
# ``aprovide_<base>``, or ``container``; a user's name (an import) never takes either form
# (it is imported as ``_iq_user_<name>`` instead). So no user name can shadow, or be
# shadowed by, a generated one.
PREFIX = "_iq_"
ACCESSORS = ("provide_", "aprovide_")
ROLES = ("v", "slot", "make", "amake", "k", "module", "user")
_RESERVED = {
    "container", "Any", "annotations", "contextvars", "MappingProxyType",  # the template's
    "v", "g", "st",  # locals of generated functions
    *keyword.kwlist, *keyword.softkwlist, *dir(builtins),
}


def _plain(name: str) -> bool:
    """A name an import statement can spell: an identifier, not a keyword, and already in
    the NFKC form the parser reads it in (a black-letter H in source imports a plain H)."""
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
    )


class NotImportable(Exception):
    """An object the generated module could not refer to."""


@dataclass
class NodePlan:
    fn: str
    afn: str | None
    key: str
    label: str
    site: str
    lifetime: str
    scope: str | None
    is_async: bool
    record: str  # the _iq_Record(...) expression
    make: list[str]  # sync creation statements (leave the instance in v)
    amake: list[str]  # async creation statements
    value: str = ""  # singleton value slot (module global)
    slot: str = ""  # singleton lock/pending holder
    make_fn: str = ""
    amake_fn: str = ""

    @property
    def lifetime_label(self) -> str:
        return f"scoped:{self.scope}" if self.lifetime == "scoped" else self.lifetime


@dataclass
class WiringPlan:
    version: str
    targets: list[str]
    roots: list[str]
    imports: list[tuple[str, str, str]]  # (module, name, alias)
    modules: list[tuple[str, str]]  # (var, expression)
    captured: bool  # some providers come from re-running configure() at import
    constants: list[tuple[str, str]]
    scopes: dict[str, str | None]
    nodes: list[NodePlan]
    explicit: list[str]
    helpers: list[str]  # names imported from injectq support modules
    inputs_hash: str = ""
    warnings: list[Problem] = field(default_factory=list)
    bindings: int = 0

    def fingerprint(self) -> str:
        """A hash of everything the module is generated from (not of the hash itself)."""
        data = [
            self.version, self.targets, self.roots, self.imports, self.modules, self.captured,
            self.constants, sorted(self.scopes.items()), self.explicit, self.helpers,
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


def plain_str(text: str) -> str:
    """The characters of a str (or str subclass) as a plain str, no method of it called."""
    return str.encode(text, "utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


def literal(value: Any) -> str | None:
    """Source for a value of a builtin type, rebuilt from its data (never the object's own
    repr); None when it is of no such type."""
    if value is None or value is True or value is False or value is Ellipsis:
        return repr(value)
    if isinstance(value, str):
        return str.__repr__(plain_str(value))
    if isinstance(value, bytes):
        return bytes.__repr__(bytes(value))
    if isinstance(value, bool):
        return repr(bool(value))
    if isinstance(value, int):
        number = int(value)
        try:
            return int.__repr__(number)
        except ValueError:  # more digits than int -> str allows: hex has no limit
            return hex(number)
    if isinstance(value, float):
        real = float(value)
        if not math.isfinite(real):
            return f"float({float.__repr__(real)!r})"  # `inf` / `nan` are names, not literals
        return float.__repr__(real)
    if type(value) is tuple:
        items = [literal(v) for v in value]
        if any(i is None for i in items):
            return None
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"  # type: ignore[arg-type]
    return None


class Names:
    """Every name in the generated module, unique (see PREFIX)."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)

    def ours(self, wanted: str) -> str:
        """A name the planner makes: ``_iq_<role>_...`` or an accessor."""
        assert wanted.startswith((PREFIX, *ACCESSORS)), wanted
        return self._unique(wanted)

    def user(self, wanted: str) -> str:
        """The name under which a user's object is imported."""
        dunder = len(wanted) > 4 and wanted.startswith("__") and wanted.endswith("__")
        if wanted.startswith((PREFIX, *ACCESSORS)) or wanted in _RESERVED or dunder:
            wanted = f"{PREFIX}user_{wanted.lstrip('_') or 'name'}"
        return self._unique(wanted)

    def _unique(self, wanted: str) -> str:
        name = wanted
        n = 2
        while name in self.used or keyword.iskeyword(name):
            name = f"{wanted}_{n}"
            n += 1
        self.used.add(name)
        return name


class Refs:
    """Expressions for the user's objects: imports by name, values rebuilt from builtin
    data, and what only configure() can make, taken from re-running it at import."""

    def __init__(self, names: Names, modules: dict[int, str]) -> None:
        self.names = names
        self.imports: dict[tuple[str, str], str] = {}
        self.module_vars = modules  # id(module object) -> variable
        self.constants: list[tuple[str, str]] = []
        self.captured = False
        self._const_cache: dict[str, str] = {}
        self._obj_cache: dict[int, tuple[Any, str]] = {}  # id -> (object, expression)

    def obj(self, obj: Any) -> str:
        """An expression that evaluates to ``obj`` itself in the generated module."""
        cached = self._obj_cache.get(id(obj))
        if cached is not None and cached[0] is obj:
            return cached[1]  # each key is referred to ~7 times: look it up once
        expr = self._obj(obj)
        self._obj_cache[id(obj)] = (obj, expr)
        return expr

    def _obj(self, obj: Any) -> str:
        owner = getattr(obj, "__self__", None)
        if inspect.ismethod(obj) and id(owner) in self.module_vars:
            return f"{self.module_vars[id(owner)]}.{self._attr(obj.__name__)}"
        if inspect.ismethod(obj) and inspect.isclass(owner):  # a classmethod
            name = obj.__name__
            if isinstance(name, str) and _plain(name) and getattr(owner, name, None) == obj:
                return f"{self.obj(owner)}.{name}"
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if qualname is None and not inspect.isclass(obj):
            qualname = getattr(obj, "__name__", None)  # a TypeAliasType has no qualname
        if not isinstance(module, str) or not isinstance(qualname, str) or not module or not (
            qualname
        ):
            raise NotImportable("it has no module and name to import it by")
        if "<lambda>" in qualname:
            raise NotImportable(
                "it is a lambda, which cannot be imported; define a module-level function"
            )
        if "<locals>" in qualname:
            outer = qualname.split(".<locals>")[0]
            raise NotImportable(
                f"{qualname} is defined inside the function {outer}(), so it cannot be "
                "imported; define it at module level"
            )
        if module == "__main__":
            raise NotImportable(
                f"{qualname} is defined in __main__ (the script being run), which the "
                "generated module cannot import; move it into a module"
            )
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
                f"its name {plain_str(odd)!r} is not a plain Python identifier, so no import "
                "statement can name it; give it one"
            )
        top, _, rest = qualname.partition(".")
        alias = self.imports.get((module, top))
        if alias is None:
            alias = self.names.user(top)
            self.imports[(module, top)] = alias
        return f"{alias}.{rest}" if rest else alias

    @staticmethod
    def _attr(name: Any) -> str:
        if not isinstance(name, str) or not _plain(name):
            raise NotImportable("its method name is not a plain identifier")
        return name

    def captured_provider(self, key_expr: str, label: str) -> str:
        """The provider configure() bound to a key, taken from re-running it at import."""
        self.captured = True
        return self.const(f"{PREFIX}provided[{key_expr}]", f"{label}_provider")

    def const(self, expr: str, hint: str) -> str:
        if expr in self._const_cache:
            return self._const_cache[expr]
        name = self.names.ours(f"{PREFIX}k_{identifier(hint, 'k')}")
        self.constants.append((name, expr))
        self._const_cache[expr] = name
        return name

    def key(self, key: Key) -> str:
        token, name = split_key(key)
        token_expr = self.value(token)
        if name is None:
            return token_expr
        name_expr = literal(name)
        assert name_expr is not None  # names are checked to be strings when bound
        return self.const(f"{PREFIX}key({token_expr}, {name_expr})", f"{token_expr}_key")

    def value(self, value: Any) -> str:
        """An expression equal to ``value``: a key's token, Annotated metadata, ..."""
        text = literal(value)
        if text is not None:
            return text
        if isinstance(value, Named):
            return f"{PREFIX}Named({literal(value.name)})"
        origin = typing.get_origin(value)
        if origin is not None:
            return self._generic(value, origin)
        if isinstance(value, (type, types.FunctionType)) or (
            getattr(value, "__module__", None) and (
                getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
            )
        ):
            return self.obj(value)
        raise NotImportable(
            f"the key of type {type(value).__qualname__} cannot be written in generated code; "
            "use a class, a string or another importable object"
        )

    def _generic(self, value: Any, origin: Any) -> str:
        args = typing.get_args(value)
        if origin is typing.Annotated:
            base = value.__origin__
            meta = list(value.__metadata__)
            parts = [self.value(base), *(self.value(m) for m in meta)]
            expr = f"{PREFIX}Annotated[{', '.join(parts)}]"
            rebuilt: Any = typing.Annotated[(base, *meta)]
        elif origin in (typing.Union, types.UnionType):
            expr = " | ".join(self.value(a) for a in args)
            rebuilt = functools.reduce(operator.or_, args)
        else:
            params = ", ".join(self.value(a) for a in args) or "()"
            expr = f"{self.value(origin)}[{params}]"
            try:
                rebuilt = origin[args if len(args) != 1 else args[0]]
            except TypeError:
                rebuilt = None
        if rebuilt != value:
            raise NotImportable(
                f"the key {plain_str(typing._type_repr(value))} cannot be rebuilt from its "
                "parts in generated code; bind it under a class or a string"
            )
        return f"({expr})"


def _capturable(provider: Any) -> bool:
    """A provider configure() makes (or reaches) that has no import path of its own: a
    method bound to an object, a functools.partial, a callable object."""
    if inspect.ismethod(provider):
        return not inspect.isclass(provider.__self__)
    if isinstance(provider, functools.partial):
        return True
    return callable(provider) and not (
        inspect.isclass(provider) or inspect.isfunction(provider) or inspect.isbuiltin(provider)
    )


def default_path(provider: Any, default: Any) -> str:
    """Where ``provider`` keeps ``default`` (the default of one of its parameters), as an
    attribute path from it: the generated module passes that very object."""
    holders = [("", provider), (".__init__", getattr(provider, "__init__", None)),
               (".__new__", getattr(provider, "__new__", None)),
               (".func", getattr(provider, "func", None))]
    if not inspect.isclass(provider):
        holders = [h for h in holders if h[0] in ("", ".func")]
    for path, holder in holders:
        defaults = getattr(holder, "__defaults__", None) if holder is not None else None
        if isinstance(defaults, tuple):
            for i, value in enumerate(defaults):
                if value is default:
                    return f"{path}.__defaults__[{i}]"
    raise NotImportable(
        "a parameter's default object is needed (a positional-only parameter after it is "
        "injected) and the generated module cannot refer to it; make the defaulted "
        "parameter keyword-only or give it a literal default"
    )


def _importable_check(refs: Refs, book: Cookbook) -> Any:
    def check(node: Node) -> str | None:
        b = node.binding
        try:
            refs.key(b.key)
            if b.kind.takes_parameters and not _capturable(b.provider):
                refs.obj(b.provider)
            if b.kind.takes_parameters:
                for arg in book.recipe(b.key).layout:
                    if arg.source is Source.DEFAULT and literal(arg.default) is None:
                        default_path(b.provider, arg.default)
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


def _install(loaded: list[LoadedModule]) -> InjectQ:
    """A runtime container holding every binding."""
    container = InjectQ()
    for module in loaded:
        try:
            container.install_module(module.obj)
        except InjectQError:
            raise
        except (Exception, SystemExit) as exc:  # any error raised by the user's configure()
            raise UsageError(user_failure(f"{module.label}: configure()", exc)) from None
    return container


# support names a generated module may use: its name there -> (module, attribute)
HELPERS = {
    f"{PREFIX}Annotated": ("typing", "Annotated"),
    f"{PREFIX}Lazy": ("injectq.wiring", "Lazy"),
    f"{PREFIX}Named": ("injectq.wiring", "Named"),
    f"{PREFIX}key": ("injectq.wiring", "make_key"),
    f"{PREFIX}enter": ("injectq.wiring", "enter_resource"),
    f"{PREFIX}aenter": ("injectq.wiring", "aenter_resource"),
    f"{PREFIX}await_instance": ("injectq.wiring", "await_instance"),
    f"{PREFIX}keyed": ("injectq.wiring", "create_keyed"),
    f"{PREFIX}akeyed": ("injectq.wiring", "acreate_keyed"),
    f"{PREFIX}capture": ("injectq.wiring", "capture"),
}
_HELPER_USE = re.compile(rf"\b({'|'.join(map(re.escape, HELPERS))})\b")


@dataclass
class Checked:
    """The loaded Modules installed, their graph, its recipes and every problem."""

    container: InjectQ
    graph: DependencyGraph
    book: Cookbook
    refs: Refs
    names: Names
    problems: list[Problem]


def check_loaded(loaded: list[LoadedModule], roots: list[Any]) -> Checked:
    """Install the Modules and check the graph, the generated module's own check included
    (IQ007: what it could not refer to)."""
    container = _install(loaded)
    graph = DependencyGraph(container.registry)
    book = Cookbook(graph)
    names = Names()
    refs = Refs(names, {})
    for i, m in enumerate(loaded):
        refs.module_vars[id(m.obj)] = names.ours(f"{PREFIX}module_{i}")
    problems = check_graph(graph, roots, importable=_importable_check(refs, book))
    return Checked(container, graph, book, refs, names, problems)


def build_plan(
    loaded: list[LoadedModule],
    roots: Iterable[Any] = (),
    *,
    version: str,
    targets: list[str],
    root_names: Iterable[str] = (),
) -> WiringPlan:
    roots = list(roots)
    checked = check_loaded(loaded, roots)
    container, graph, book, refs, names = (
        checked.container, checked.graph, checked.book, checked.refs, checked.names
    )
    registry = container.registry
    problems = checked.problems
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise GraphProblems(problems, bindings=len(registry), roots=len(roots))
    module_vars = refs.module_vars

    # every binding and what it (and the roots) reach; dependencies first, like hand-written
    nodes = graph.topological(graph.all_nodes(root_keys(graph, roots)))
    module_rows = []
    for m in loaded:
        alias = _module_import(refs, m)
        expr = alias if m.index is None else f"{alias}[{m.index}]"
        module_rows.append((module_vars[id(m.obj)], f"{expr}()" if m.instantiate else expr))

    builder = _Builder(graph, book, refs, names)
    plans = [builder.node(n) for n in nodes]
    explicit = [refs.key(b.key) for b in registry]
    text = " ".join(
        " ".join([*n.make, *n.amake, n.record]) for n in plans
    ) + " ".join(expr for _, expr in refs.constants)
    used = set(_HELPER_USE.findall(text))
    if refs.captured:
        used.add(f"{PREFIX}capture")
    for n in plans:  # what the template's scoped accessors call
        if n.lifetime == "scoped":
            used.add(f"{PREFIX}akeyed" if n.is_async else f"{PREFIX}keyed")
    helpers = sorted(used)
    plan = WiringPlan(
        version=version,
        targets=targets,
        roots=list(root_names),
        imports=sorted((mod, top, alias) for (mod, top), alias in refs.imports.items()),
        modules=module_rows,
        captured=refs.captured,
        constants=refs.constants,
        scopes={name: registry.scopes.parent(name) for name in registry.scopes.names()},
        nodes=plans,
        explicit=explicit,
        helpers=helpers,
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
        alias = refs.names.user(top)
        refs.imports[(m.import_module, top)] = alias
    rest = m.import_name[len(top):]
    return alias + rest


def _body(lines: list[str]) -> list[str]:
    """Creation statements as a function body: one expression returns directly."""
    if len(lines) == 1 and lines[0].startswith("v = "):
        return [f"return {lines[0][4:]}"]
    return [*lines, "return v"]


class _Builder:
    """Prints recipes into the generated module (the Spelling of recipe.py)."""

    container = f"{PREFIX}C"  # the container typed Any: the parameter is annotated InjectQ

    def __init__(self, graph: DependencyGraph, book: Cookbook, refs: Refs, names: Names):
        self.graph = graph
        self.book = book
        self.refs = refs
        self.names = names
        self.base: dict[Key, str] = {}
        self.fn: dict[Key, str] = {}
        self.afn: dict[Key, str] = {}
        self.providers: dict[Key, str] = {}

    # -- names ---------------------------------------------------------------------------
    def _base(self, key: Key) -> str:
        base = self.base.get(key)
        if base is None:
            node = self.graph.node(key)
            assert node is not None
            taken = self.names.ours(f"provide_{identifier(node.label, 'binding')}")
            self.fn[node.key] = self.fn[key] = taken
            base = self.base[node.key] = self.base[key] = taken[len("provide_"):]
        return base

    def fn_name(self, key: Key) -> str:
        self._base(key)
        return self.fn[key]

    def afn_name(self, key: Key) -> str:
        name = self.afn.get(key)
        if name is None:
            name = self.afn[key] = self.names.ours(f"aprovide_{self._base(key)}")
        return name

    # -- the Spelling --------------------------------------------------------------------
    def provider(self, node: Node) -> str:
        expr = self.providers.get(node.key)
        if expr is None:
            b = node.binding
            if not b.kind.takes_parameters or _capturable(b.provider):
                expr = self.refs.captured_provider(self.refs.key(b.key), node.label)
            else:
                expr = self.refs.obj(b.provider)
            self.providers[node.key] = expr
        return expr

    def key(self, key: Key) -> str:
        return self.refs.key(key)

    def resolve(self, key: Key, awaited: bool) -> str:
        return f"await {self.afn_name(key)}()" if awaited else f"{self.fn_name(key)}()"

    def lazy(self, key: Key) -> str:
        node = self.graph.node(key)
        assert node is not None
        return f"{PREFIX}Lazy({self.refs.key(node.key)}, container)"

    def default(self, call: Call, arg: Arg) -> str:
        text = literal(arg.default)
        if text is not None:
            return text
        return self.provider(call.node) + default_path(call.node.binding.provider, arg.default)

    # -- one binding ---------------------------------------------------------------------
    enter = f"{PREFIX}enter"
    aenter = f"{PREFIX}aenter"
    await_instance = f"{PREFIX}await_instance"
    _OWNERS: ClassVar[dict[Owner, str]] = {
        Owner.CONTAINER: "container.finalizers.add(g)", Owner.SCOPE: "st.finalizers.add(g)",
        Owner.INNERMOST: "container.own(g)",
    }

    def owner(self, owner: Owner) -> str:
        return self._OWNERS[owner]

    def _lines(self, recipe: Recipe, in_async: bool) -> list[str]:
        return _body(build_source(recipe, self, in_async))

    def _record(self, recipe: Recipe) -> str:
        layout = []
        for arg in recipe.layout:
            if arg.source is Source.DEFAULT:
                what = self.default(recipe.call, arg)  # type: ignore[arg-type]
            elif arg.target is not None:
                what = self.refs.key(arg.target)
            else:
                what = "None"
            layout.append(f"({literal(arg.name)}, {arg.keyword}, {literal(str(arg.source))}, "
                          f"{what})")
        fields = [
            self.refs.key(recipe.key), literal(recipe.label), literal(str(recipe.kind)),
            literal(str(recipe.lifetime)), literal(recipe.scope), literal(recipe.site),
            self.provider(recipe.node), literal(()) if not layout else
            f"({', '.join(layout)}{',' if len(layout) == 1 else ''})",
            str(recipe.is_async),
        ]
        return f"{PREFIX}Record({', '.join(str(f) for f in fields)})"

    def node(self, node: Node) -> NodePlan:
        recipe = self.book.recipe(node.key)
        base = self._base(node.key)
        is_async = recipe.is_async
        plan = NodePlan(
            fn=self.fn_name(node.key),
            afn=self.afn_name(node.key) if is_async else None,
            key=self.refs.key(recipe.key),
            label=recipe.label,
            site=recipe.site,
            lifetime=str(recipe.lifetime),
            scope=recipe.scope,
            is_async=is_async,
            record=self._record(recipe),
            make=[] if is_async else self._lines(recipe, False),
            amake=self._lines(recipe, True) if is_async else [],
        )
        if recipe.lifetime is not Lifetime.TRANSIENT:
            if not is_async:
                plan.make_fn = self.names.ours(f"{PREFIX}make_{base}")
            else:
                plan.amake_fn = self.names.ours(f"{PREFIX}amake_{base}")
        if recipe.lifetime is Lifetime.SINGLETON:
            plan.value = self.names.ours(f"{PREFIX}v_{base}")
            plan.slot = self.names.ours(f"{PREFIX}slot_{base}")
        return plan
