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
import re
import types
import typing
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from injectq import InjectQ
from injectq.errors import InjectQError, Problem
from injectq.model.binding import Lifetime
from injectq.model.checks import check_graph
from injectq.model.graph import DependencyGraph, Node, Resolution
from injectq.model.introspect import describe
from injectq.model.markers import Key, Named, split_key
from injectq.model.recipe import (
    Arg,
    Call,
    Cookbook,
    Owner,
    Recipe,
    Source,
    build_source,
    call_parts,
)
from injectq.runtime import deep
from injectq_codegen import pyformat
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
# module level: k (key constants), user (imports), records, modules; methods and
# attributes of the container class: v (a singleton's value), make / amake (create a
# singleton or scoped instance), s / as (a scoped instance), t / at (a transient that
# needs the open scopes)
ROLES = ("v", "make", "amake", "s", "as", "t", "at", "k", "user", "records", "modules")
_RESERVED = {
    "container", "Container", "Any", "annotations",  # the template's
    "self", "v", "g", "o", "st", "sc",  # parameters and locals of generated methods
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
    label: str
    site: str
    lifetime: str
    scope: str | None
    is_async: bool
    accessor: str  # provide_<base> or aprovide_<base> (a method of the container class)
    attr: str  # a singleton's fast-path attribute (typed attr_type), else ""
    attr_type: str
    functions: list[list[str]]  # the binding's methods, laid out at one indent
    record: list[str]  # its line(s) in the records table

    @property
    def lifetime_label(self) -> str:
        return f"scoped:{self.scope}" if self.lifetime == "scoped" else self.lifetime


@dataclass
class WiringPlan:
    version: str
    targets: list[str]
    roots: list[str]
    imports: list[str]  # import statements, laid out
    modules: list[str]  # the body of _iq_modules(), laid out ([]: nothing is captured)
    constants: list[str]  # module-level key constants, laid out
    class_line: list[str]  # the container class statement, laid out
    slots: list[str]  # its __slots__ statement, laid out
    nodes: list[NodePlan]
    records: list[str]  # the records table's lines, in bind order
    helpers: list[tuple[str, str, str]]  # (module, attribute, name) of support imports
    inputs_hash: str = ""
    warnings: list[Problem] = field(default_factory=list[Problem])
    bindings: int = 0

    def fingerprint(self) -> str:
        """A hash of everything the module is generated from (not of the hash itself)."""
        data = [
            self.version, self.targets, self.roots, self.imports, self.modules,
            self.constants, self.class_line, self.slots, self.records, self.helpers,
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
        return pyformat.string(plain_str(value))
    if isinstance(value, bytes):
        return pyformat.bytes_literal(bytes(value))
    if isinstance(value, bool):
        return repr(bool(value))
    if isinstance(value, int):
        number = int(value)
        try:
            return int.__repr__(number)
        except ValueError:  # more digits than int -> str allows: hex has no limit
            return pyformat.number(hex(number))
    if isinstance(value, float):
        real = float(value)
        if not math.isfinite(real):
            # `inf` / `nan` are names, not literals
            return f"float({pyformat.string(float.__repr__(real))})"
        return float.__repr__(real)
    if type(value) is tuple:
        items = [literal(v) for v in typing.cast(tuple[object, ...], value)]
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

    def __init__(self, names: Names) -> None:
        self.names = names
        self.imports: dict[tuple[str, str], str] = {}
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
        if inspect.ismethod(obj) and inspect.isclass(owner):  # a classmethod
            name: Any = obj.__name__  # a str subclass, or whatever the class set
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

    def captured_provider(self, key_expr: str) -> str:
        """The provider configure() bound to a key: each container runs configure() again
        (its own instances, a fresh coroutine) and keeps what it bound."""
        self.captured = True
        return f"self.{PREFIX}provided[{key_expr}]"

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
            rebuilt = functools.reduce(_union, args)
        else:
            params = ", ".join(self.value(a) for a in args) or "()"
            expr = f"{self.value(origin)}[{params}]"
            try:
                rebuilt = origin[args if len(args) != 1 else args[0]]
            except TypeError:
                rebuilt = None
        if rebuilt != value:
            raise NotImportable(
                f"the key {plain_str(repr(value))} cannot be rebuilt from its "
                "parts in generated code; bind it under a class or a string"
            )
        return expr


def _union(left: Any, right: Any) -> Any:
    return left | right


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


def default_path(provider: Any, default: Any) -> tuple[str, int]:
    """Where ``provider`` keeps ``default`` (the default of one of its parameters): the
    attribute path from it to the function holding it, and its index in that function's
    ``__defaults__``. The generated module passes that very object."""
    holders = [("", provider), (".__init__", getattr(provider, "__init__", None)),
               (".__new__", getattr(provider, "__new__", None)),
               (".func", getattr(provider, "func", None))]
    if not inspect.isclass(provider):
        holders = [h for h in holders if h[0] in ("", ".func")]
    for path, holder in holders:
        defaults = getattr(holder, "__defaults__", None) if holder is not None else None
        if isinstance(defaults, tuple):
            for i, value in enumerate(typing.cast(tuple[object, ...], defaults)):
                if value is default:
                    return path, i
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
                for d in (graph.dep(p) for p in describe(root).params)
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
    # an instance's class bound for it (allow_concrete) that generated code cannot name (a
    # class defined in a function): no one wrote that binding, so it is left out, not an error
    probe = Refs(Names())
    for binding in container.registry:
        if binding.implied_by is not None:
            try:
                probe.key(binding.key)
            except NotImportable:
                container.registry.remove(binding.key)
    return container


# support names a generated module may use: its name there -> (module, attribute)
HELPERS = {
    f"{PREFIX}Annotated": ("typing", "Annotated"),
    f"{PREFIX}CAPTURED": ("injectq.wiring", "CAPTURED"),
    f"{PREFIX}DefaultOf": ("injectq.wiring", "DefaultOf"),
    f"{PREFIX}GeneratedContainer": ("injectq.wiring", "GeneratedContainer"),
    f"{PREFIX}Lazy": ("injectq.wiring", "Lazy"),
    f"{PREFIX}MISSING": ("injectq.wiring", "MISSING"),
    f"{PREFIX}Named": ("injectq.wiring", "Named"),
    f"{PREFIX}Record": ("injectq.wiring", "Record"),
    f"{PREFIX}record": ("injectq.wiring", "record"),
    f"{PREFIX}Scopes": ("injectq.wiring", "Scopes"),
    f"{PREFIX}aenter": ("injectq.wiring", "aenter_resource"),
    f"{PREFIX}akeyed": ("injectq.wiring", "acreate_keyed"),
    f"{PREFIX}await_instance": ("injectq.wiring", "await_instance"),
    f"{PREFIX}check_making": ("injectq.wiring", "check_making"),
    f"{PREFIX}default": ("injectq.wiring", "default_of"),
    f"{PREFIX}enter": ("injectq.wiring", "enter_resource"),
    f"{PREFIX}ident": ("_thread", "get_ident"),
    f"{PREFIX}key": ("injectq.wiring", "make_key"),
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
    refs = Refs(names)
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

    # every binding and what it (and the roots) reach; dependencies first, like hand-written
    nodes = graph.topological(graph.all_nodes(root_keys(graph, roots)))
    order = {b.key: i for i, b in enumerate(registry)}  # bind order: what warm() follows
    builder = _Builder(graph, book, refs, names)
    plans = [builder.node(n, n.key in order) for n in nodes]
    records = [line for _, plan_ in sorted(
        enumerate(plans), key=lambda p: (order.get(nodes[p[0]].key, len(order)), p[0])
    ) for line in plan_.record]
    modules = []
    if refs.captured:
        exprs: list[str] = []
        for m in loaded:
            alias = _module_import(refs, m)
            expr = alias if m.index is None else f"{alias}[{m.index}]"
            exprs.append(f"{expr}()" if m.instantiate else expr)
        items = ", ".join(exprs) + ("," if len(exprs) == 1 else "")
        modules = pyformat.layout("    ", "return ", f"({items})")
    scopes = {name: registry.scopes.parent(name) for name in registry.scopes.names()}
    params: list[tuple[str, str | None]] = [
        (f"{PREFIX}GeneratedContainer", None),
        ("records=", f"{PREFIX}records"),
        ("scopes=", _dict_literal(scopes)),
        ("targets=", pyformat.string(" ".join(plain_str(t) for t in targets))),
    ]
    if modules:
        params.append(("modules=", f"{PREFIX}modules"))
    class_line = pyformat.signature("", "class Container", params, ":")
    attrs = [pyformat.string(a) for a in sorted((n.attr for n in plans if n.attr), key=_natural)]
    slots = pyformat.layout(
        "    ", "__slots__ = ", f"({', '.join(attrs)}{',' if len(attrs) == 1 else ''})"
    ) if attrs else []
    constants = [line for name, expr in refs.constants for line in
                 pyformat.layout("", f"{name} = ", expr)]
    text = "\n".join(
        "\n".join([*(line for f in n.functions for line in f), *n.record]) for n in plans
    ) + "\n".join(constants)
    used = set(_HELPER_USE.findall(text))
    helpers = [
        (*HELPERS[name], name)
        for name in sorted(
            used - {f"{PREFIX}GeneratedContainer", f"{PREFIX}Record", f"{PREFIX}record"}
        )
    ]
    plan = WiringPlan(
        version=version,
        targets=targets,
        roots=list(root_names),
        imports=_imports(refs),
        modules=modules,
        constants=constants,
        class_line=class_line,
        slots=slots,
        nodes=plans,
        records=records,
        helpers=helpers,
        warnings=[p for p in problems if p.severity != "error"],
        bindings=len(registry),
    )
    plan.inputs_hash = plan.fingerprint()
    container.close()
    return plan


def _natural(text: str) -> list[Any]:
    """The order ruff's RUF023 wants ``__slots__`` in (numbers by value)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _dict_literal(mapping: dict[str, str | None]) -> str:
    return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in mapping.items()) + "}"


def _imports(refs: Refs) -> list[str]:
    lines: list[str] = []
    for (module, top), alias in sorted(refs.imports.items()):
        name = top if top == alias else f"{top} as {alias}"
        line = f"from {module} import {name}"
        if len(line) > pyformat.LINE_LENGTH:
            lines += [f"from {module} import (", f"    {name},", ")"]
        else:
            lines.append(line)
    return lines


def _module_import(refs: Refs, m: LoadedModule) -> str:
    top = m.import_name.split(".")[0]
    alias = refs.imports.get((m.import_module, top))
    if alias is None:
        alias = refs.names.user(top)
        refs.imports[(m.import_module, top)] = alias
    rest = m.import_name[len(top):]
    return alias + rest


_INDENT = "        "  # a method's body
_OV = "if self._iq_ov and self._iq_frame.get() is not None:"  # an override block is open


class _Builder:
    """Prints recipes into the generated module (the Spelling of recipe.py): one method
    (or a few) per binding on the container class."""

    container = "self._iq_self"  # the container typed Any: a parameter is annotated InjectQ

    def __init__(self, graph: DependencyGraph, book: Cookbook, refs: Refs, names: Names):
        self.graph = graph
        self.book = book
        self.refs = refs
        self.names = names
        self.base: dict[Key, str] = {}
        self.providers: dict[Key, str] = {}
        # does building it read the open scopes (it, or what it builds, is scoped)?
        self.needs_scopes: dict[Key, bool] = {}
        self.has_scopes = False  # the method being printed has the open scopes in ``sc``
        self.depths: dict[Key, int] = {}  # frames resolving it takes (injectq.runtime.deep)
        self.scope_expr = ""  # the scope of the scoped binding being printed

    # -- names ---------------------------------------------------------------------------
    def _base(self, key: Key) -> str:
        base = self.base.get(key)
        if base is None:
            node = self.graph.node(key)
            assert node is not None
            label = identifier(node.label, "binding")
            while True:
                taken = self.names.ours(f"provide_{label}")
                base = taken[len("provide_"):]
                if f"aprovide_{base}" not in self.names.used:
                    break
            self.names.used.add(f"aprovide_{base}")
            self.base[node.key] = self.base[key] = base
        return base

    # -- the Spelling --------------------------------------------------------------------
    def provider(self, node: Node) -> str:
        expr = self.providers.get(node.key)
        if expr is None:
            b = node.binding
            if not b.kind.takes_parameters or _capturable(b.provider):
                expr = self.refs.captured_provider(self.refs.key(b.key))
            else:
                expr = self.refs.obj(b.provider)
            self.providers[node.key] = expr
        return expr

    def key(self, key: Key) -> str:
        return self.refs.key(key)

    def resolve(self, key: Key, awaited: bool) -> str:
        node = self.graph.node(key)
        assert node is not None
        base = self._base(node.key)
        a = "a" if awaited else ""
        if self.has_scopes and self.needs_scopes[node.key]:
            role = "s" if node.binding.lifetime is Lifetime.SCOPED else "t"
            call = f"self.{PREFIX}{a}{role}_{base}(sc)"
        else:
            call = f"self.{a}provide_{base}()"
        return f"await {call}" if awaited else call

    def lazy(self, key: Key) -> str:
        node = self.graph.node(key)
        assert node is not None
        return f"{PREFIX}Lazy({self.refs.key(node.key)}, self)"

    def default(self, call: Call, arg: Arg) -> str:
        text = literal(arg.default)
        if text is not None:
            return text
        path, index = default_path(call.node.binding.provider, arg.default)
        return f"{PREFIX}default({self.provider(call.node)}{path}, {index})"

    enter = f"{PREFIX}enter"
    aenter = f"{PREFIX}aenter"
    await_instance = f"{PREFIX}await_instance"

    def owner(self, owner: Owner) -> str:
        if owner is Owner.CONTAINER:
            return "self.finalizers.add(g)"
        if owner is Owner.SCOPE:
            return f"sc[{self.scope_expr}].finalizers.add(g)"
        return "self.own(g)"

    # -- types ---------------------------------------------------------------------------
    def annotation(self, key: Key) -> str:
        """The type a key's accessor returns, as the generated module spells it."""
        try:
            return self._annotation(split_key(key)[0])
        except NotImportable:
            return "Any"

    def _annotation(self, token: Any) -> str:
        origin = typing.get_origin(token)
        if origin is typing.Annotated:
            return self._annotation(token.__origin__)
        if origin in (typing.Union, types.UnionType):
            parts = [self._annotation(a) for a in typing.get_args(token)]
            return "Any" if "Any" in parts else " | ".join(parts)
        if origin is not None:
            return self.refs.value(token)
        if isinstance(token, type):
            expr = self.refs.obj(token)
            params = getattr(token, "__parameters__", ())
            if isinstance(params, tuple) and params:
                count = len(typing.cast(tuple[object, ...], params))
                return f"{expr}[{', '.join(['Any'] * count)}]"
            return expr
        if isinstance(token, typing.NewType) or type(token).__name__ == "TypeAliasType":
            return self.refs.obj(token)
        return "Any"

    # -- one binding ---------------------------------------------------------------------
    def _record(
        self, recipe: Recipe, base: str, explicit: bool
    ) -> list[str | pyformat.Items]:
        b = recipe.node.binding
        captured = not b.kind.takes_parameters or _capturable(b.provider)
        if captured:  # the container runs configure() to find it
            self.refs.captured = True
        layout: list[str] = []
        for arg in recipe.layout:
            if arg.source is Source.DEFAULT:
                what = literal(arg.default)
                if what is None:
                    path, index = default_path(b.provider, arg.default)
                    what = f"{PREFIX}DefaultOf({literal(path.lstrip('.'))}, {index})"
            elif arg.target is not None:
                what = self.refs.key(arg.target)
            else:
                what = "None"
            layout.append(f"({literal(arg.name)}, {arg.keyword}, {literal(str(arg.source))}, "
                          f"{what})")
        fields: list[str | pyformat.Items] = [
            self.refs.key(recipe.key),
            pyformat.string(plain_str(f"{recipe.kind} {recipe.lifetime_label}")),
            pyformat.string(plain_str(recipe.site)),
            f"{PREFIX}CAPTURED" if captured else self.refs.obj(b.provider),
            pyformat.Items("(", layout, ")", single_comma=True),
            pyformat.string(base),
        ]
        if recipe.is_async:
            fields.append("is_async=True")
        if not explicit:
            fields.append("explicit=False")
        return fields

    def _needs(self, recipe: Recipe) -> bool:
        if recipe.lifetime is Lifetime.SCOPED:
            return True
        if recipe.lifetime is Lifetime.SINGLETON:
            return False

        def dep_needs(arg: Arg) -> bool:
            if arg.source is not Source.DEP or arg.target is None:
                return False
            dep = self.graph.node(arg.target)
            return dep is not None and self.needs_scopes.get(dep.key, False)

        return any(dep_needs(a) for a in recipe.layout)

    def _def(self, name: str, params: list[str], ann: str, is_async: bool) -> list[str]:
        head = f"{'async ' if is_async else ''}def {name}"
        return pyformat.signature("    ", head, [(p, None) for p in params], f" -> {ann}:")

    def _build(self, recipe: Recipe, ann: str, in_async: bool) -> list[str]:
        """The creation statements at a method's indent, then ``return v``."""
        out: list[str] = []
        provider, parts = (
            call_parts(recipe.call, self, in_async) if recipe.call is not None else ("", [])
        )
        call = f"{provider}({', '.join(parts)})"
        for line in build_source(recipe, self, in_async):
            name, sep, expr = line.partition(" = ")
            if not sep or name not in ("v", "g"):
                out += pyformat.layout(_INDENT, "", line)
                continue
            head = f"v: {ann} = " if name == "v" else "g = "
            if expr in (call, f"await {call}"):  # laid out from its parts: nothing to parse
                aw = "await " if expr.startswith("await ") else ""
                out += pyformat.call(_INDENT, head + aw, provider, parts)
            else:
                out += pyformat.layout(_INDENT, head, expr)
        return [*out, f"{_INDENT}return v"]

    def _opener_path(self, key: str, make: str) -> list[str]:
        """The thread that opened the scope creates without a lock while no other thread
        has used it (ScopeState.create is the same protocol, for every other case)."""
        i = _INDENT + "    "
        k = pyformat.expression(key)
        return [
            f"{i}if st.opener == {PREFIX}ident():",
            f"{i}    outer = st.making",
            f"{i}    if outer is not None:",
            f"{i}        {PREFIX}check_making({k}, outer)",
            f"{i}    st.making = ({k}, outer)",
            f"{i}    try:",
            f"{i}        if not st.shared:",
            f"{i}            v = self.{make}(sc)",
            f"{i}            st.cache[{k}] = v",
            f"{i}            return v",
            f"{i}    finally:",
            f"{i}        st.making = outer",
        ]

    def _call(self, head: str, expr: str) -> list[str]:
        return pyformat.layout(_INDENT, head, expr)

    def node(self, node: Node, explicit: bool) -> NodePlan:
        recipe = self.book.recipe(node.key)
        base = self._base(node.key)
        key = self.refs.key(recipe.key)
        ann = self.annotation(recipe.key)
        is_async = recipe.is_async
        needs = self.needs_scopes[node.key] = self._needs(recipe)
        self.scope_expr = literal(recipe.scope) or ""
        aw, a, asy = ("await ", "a", True) if is_async else ("", "", False)
        accessor = f"{a}provide_{base}"
        functions: list[list[str]] = []
        override = [
            f"{_INDENT}{_OV}",
            *pyformat.layout(_INDENT + "    ", f"o: {ann} = ", f"{aw}self.{PREFIX}ov{a}get({key})"),
            f"{_INDENT}    return o",
        ]
        self.has_scopes = needs
        if deep.graph_depth(self.graph, node.key, self.depths) > deep.DEPTH:
            # deeper than the call stack allows: built by an explicit stack (deep.py)
            built = f"{aw}self.{PREFIX}{a}deep({key})"
            if recipe.lifetime is Lifetime.SINGLETON:
                body = [
                    f"{_INDENT}v = self.{PREFIX}v_{base}",
                    f"{_INDENT}if v is None:",
                    *pyformat.layout(_INDENT + "    ", "v = ", built),
                ]
            else:
                body = pyformat.layout(_INDENT, f"v: {ann} = ", built)
            functions.append([
                *self._def(accessor, ["self"], ann, asy),
                f"{_INDENT}# deeper than the call stack allows: built by an explicit stack",
                *body,
                f"{_INDENT}return v",
            ])
        elif recipe.lifetime is Lifetime.SINGLETON:
            make = f"{PREFIX}{a}make_{base}"
            functions.append([
                *self._def(accessor, ["self"], ann, asy),
                f"{_INDENT}v = self.{PREFIX}v_{base}",
                f"{_INDENT}if v is None:",
                *pyformat.layout(_INDENT + "    ", "v = ",
                                 f"{aw}self.{PREFIX}{a}singleton({key}, self.{make})"),
                f"{_INDENT}return v",
            ])
            functions.append([*self._def(make, ["self"], ann, asy),
                              *self._build(recipe, ann, is_async)])
        elif recipe.lifetime is Lifetime.SCOPED:
            inner = f"{PREFIX}{a}s_{base}"
            make = f"{PREFIX}{a}make_{base}"
            create = (
                f"{aw}{PREFIX}akeyed(st.lock, st.cache, st.pending, {key}, self.{make}, sc, "
                f"{key}, self.reentry)" if is_async else
                f"st.create({key}, self.{make}, sc)"
            )
            functions.append([
                *self._def(accessor, ["self"], ann, asy),
                *override,
                *self._call("return ", f"{aw}self.{inner}(self.scopes.get())"),
            ])
            functions.append([
                *self._def(inner, ["self", f"sc: {PREFIX}Scopes"], ann, asy),
                *self._call("st = ", f"sc.get({self.scope_expr})"),
                f"{_INDENT}if st is None:",
                *pyformat.layout(_INDENT + "    ", "", f"self.noscope({key})"),
                *self._call(f"v: {ann} = ", f"st.cache.get({key}, {PREFIX}MISSING)"),
                f"{_INDENT}if v is {PREFIX}MISSING:",
                *([] if is_async else self._opener_path(key, make)),
                *pyformat.layout(_INDENT + "    ", "v = ", create),
                f"{_INDENT}return v",
            ])
            functions.append([*self._def(make, ["self", f"sc: {PREFIX}Scopes"], ann, asy),
                              *self._build(recipe, ann, is_async)])
        elif needs:
            inner = f"{PREFIX}{a}t_{base}"
            functions.append([
                *self._def(accessor, ["self"], ann, asy),
                *override,
                *self._call("return ", f"{aw}self.{inner}(self.scopes.get())"),
            ])
            functions.append([*self._def(inner, ["self", f"sc: {PREFIX}Scopes"], ann, asy),
                              *self._build(recipe, ann, is_async)])
        else:
            functions.append([*self._def(accessor, ["self"], ann, asy), *override,
                              *self._build(recipe, ann, is_async)])
        self.has_scopes = False
        singleton = recipe.lifetime is Lifetime.SINGLETON
        return NodePlan(
            label=recipe.label,
            site=recipe.site,
            lifetime=str(recipe.lifetime),
            scope=recipe.scope,
            is_async=is_async,
            accessor=accessor,
            attr=f"{PREFIX}v_{base}" if singleton else "",
            attr_type=(ann if ann == "Any" else f"{ann} | None") if singleton else "",
            functions=functions,
            record=pyformat.call("    ", f"{key}: ", f"{PREFIX}record",
                                 self._record(recipe, base, explicit), ","),
        )
