"""The runtime back end: one compiled resolver function per binding.

``ResolverCompiler.compile(key)`` plans the nodes a key needs (dependencies first,
detecting cycles and missing bindings on the way, with the whole path), then writes Python
source for each node's resolver and executes it once. Transient dependencies are inlined
as direct calls; singletons read their slot inline and lock only to create; scoped ones
read the open scope from a ContextVar. The source is registered in ``linecache`` so
tracebacks show real lines. After compilation nothing on the resolve path reads a
signature or a type hint.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import linecache
import re
import threading
import types
import weakref
from _thread import get_ident
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from injectq.errors import (
    CircularDependencyError,
    DependencyNotFoundError,
    InjectQError,
    Problem,
)
from injectq.model.binding import Lifetime
from injectq.model.checks import (
    cycle_problem,
    missing_problem,
    unknown_key_problem,
    unresolvable_problem,
)
from injectq.model.graph import Dep, DependencyGraph, Node, Resolution
from injectq.model.introspect import Edge
from injectq.model.markers import Key, Lazy
from injectq.model.recipe import Arg, Call, Cookbook, Owner, Recipe, build_source
from injectq.runtime import deep
from injectq.runtime.creation import (
    MISSING,
    Slot,
    acreate_keyed,
    acreate_once,
    aenter_resource,
    await_instance,
    create_once,
    enter_resource,
)
from injectq.runtime.scopes import Finalizers, ScopeMap, check_making

__all__ = ["CompiledEntry", "ResolverCompiler", "RuntimeHooks"]


_counter = itertools.count()

_MAX_SHAPES = 4096
_shapes: dict[str, types.CodeType] = {}  # shape source -> code of its maker (any container)
# code of a function a maker defines -> the placeholder holding its binding's key (a free
# variable: error paths read it from the failing frame)
key_placeholder: dict[types.CodeType, str] = {}


@dataclass
class CompiledEntry:
    """The compiled resolvers of one key: sync, and async where an await is needed."""

    sync: Callable[[], Any]
    is_async: bool
    asyncfn: Callable[[], Any] | None = None


@dataclass
class RuntimeHooks:
    """What compiled resolvers reach in their container."""

    container: Any
    slots: dict[Any, Slot]
    finalizers: Finalizers
    overrides: list[int]
    scopes: contextvars.ContextVar[ScopeMap]
    frame: contextvars.ContextVar[Any]  # the open override block of this context, or None
    ovget: Callable[[Key], Any]
    ovaget: Callable[[Key], Any]


def _ident(label: str) -> str:
    if label.isidentifier() and label.isascii():
        return label.strip("_")[:40] or "key"
    return re.sub(r"\W+", "_", label).strip("_")[:40] or "key"


def _with_defaults(shape: str, params: list[str]) -> list[str]:
    """The lines of ``shape``, each function taking the maker's objects and the functions
    defined before it as defaults (``def create(st, _1=_1, _2=_2):``)."""
    lines = shape.split("\n")
    before: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith(("def ", "async def ")):  # a header printed by _sync_source...
            head, _, rest = line.partition("(")
            own = rest[:-2]  # its own parameters, before "):"
            extra = ", ".join(f"{x}={x}" for x in [*params, *before])
            lines[i] = f"{head}({own}{', ' if own and extra else ''}{extra}):"
            before.append(head.rpartition(" ")[2])
    return lines


class ResolverCompiler:
    """Compiles resolvers for one container generation (rebuilt when bindings change)."""

    def __init__(self, graph: DependencyGraph, hooks: RuntimeHooks) -> None:
        self.graph = graph
        self.cookbook = Cookbook(graph)
        self.reached: set[Key] | None = None  # what the explicit bindings reach (warnings)
        self.hooks = hooks
        self.entries: dict[Key, CompiledEntry] = {}
        self.names: dict[Key, str] = {}
        self.keys: dict[str, Key] = {}  # names -> key: error paths read it
        self.depths: dict[Key, int] = {}  # frames its resolution takes (deep.py)
        self.placeholders: dict[Key, tuple[str, ...]] = {}  # node -> real name of _0, _1, ...
        # the node being printed: its per-binding names -> placeholders, its own functions
        self._local: dict[str, str] = {}
        self._roles: dict[str, str] = {}
        self.lock = threading.RLock()
        self.ns: dict[str, Any] = {
            "_MISSING": MISSING,
            "_c": hooks.container,
            "_ov": hooks.overrides,
            "_ovget": hooks.ovget,
            "_ovaget": hooks.ovaget,
            "_frame": hooks.frame,
            "_var": hooks.scopes,
            "_publish": hooks.container.publish,
            "_cfin": hooks.finalizers,
            "_Lazy": Lazy,
            "_enter": enter_resource,
            "_aenter": aenter_resource,
            "_await_instance": await_instance,
            "_once": create_once,
            "_aonce": acreate_once,
            "_ident": get_ident,
            "_akeyed": acreate_keyed,
            "_own": self._own,
            "_noscope": hooks.container.noscope,
            "_needs_async": hooks.container.needs_async,
            "_reentry": hooks.container.reentry,
            "_check_making": check_making,
        }
        resolution = deep.Direct(hooks.container)
        self.ns["_deep"] = functools.partial(deep.build, resolution)
        self.ns["_adeep"] = functools.partial(deep.abuild, resolution)

    # -- helpers called from compiled code ------------------------------------------------
    def _own(self, gen: Any) -> None:
        """A transient resource belongs to the innermost open scope, else the container."""
        state = self.hooks.scopes.get().get(None)
        (state.finalizers if state is not None else self.hooks.finalizers).add(gen)

    # -- planning -------------------------------------------------------------------------
    def plan(self, key: Key) -> list[Node]:
        """Nodes not yet compiled that ``key`` needs, dependencies first.

        Raises the problem (missing binding, unresolvable annotation, cycle) with the path
        from ``key``.
        """
        root = self.graph.node(key)
        if root is None:
            raise self._unknown(key)
        order: list[Node] = []
        entries = self.entries
        if root.key in entries:
            return order
        binding, plain = Resolution.BINDING, Edge.PLAIN
        for dep in root.deps:
            if dep.resolution is not binding or dep.edge is not plain or dep.target not in entries:
                break
        else:
            return [root]  # what it needs is compiled (the common case): nothing to walk
        done: set[Key] = set()  # planned here; with entries, what needs no more planning
        # iterative DFS; the stack holds the current path
        path: list[tuple[Node, Dep | None]] = [(root, None)]
        on_path = {root.key}
        iters = [iter(root.deps)]
        while iters:
            node = path[-1][0]
            for dep in iters[-1]:
                if dep.resolution is Resolution.MISSING:
                    raise self._error(missing_problem(path, dep))
                if dep.resolution is Resolution.UNRESOLVABLE:
                    raise self._error(unresolvable_problem(path, dep))
                if dep.resolution is not Resolution.BINDING or dep.edge is not Edge.PLAIN:
                    continue
                if dep.target in entries or dep.target in done:
                    continue
                target = self.graph.node(dep.target)
                if target is None:
                    raise self._error(missing_problem(path, dep))
                if dep.target in on_path:
                    start = next(i for i, (n, _) in enumerate(path) if n.key == dep.target)
                    cycle = [*path[start:], (target, dep)]
                    cycle[0] = (cycle[0][0], None)
                    raise self._error(cycle_problem(cycle))
                path.append((target, dep))
                on_path.add(target.key)
                iters.append(iter(target.deps))
                break
            else:
                iters.pop()
                path.pop()
                on_path.discard(node.key)
                done.add(node.key)
                order.append(node)
        return order

    def _unknown(self, key: Key) -> InjectQError:
        err = DependencyNotFoundError(unknown_key_problem(key))
        err.dependency_type = key
        return err

    @staticmethod
    def _error(problem: Problem) -> InjectQError:
        from injectq.errors import problem_error

        err = problem_error(problem)
        if isinstance(err, DependencyNotFoundError):
            err.dependency_type = problem.key
        if isinstance(err, CircularDependencyError):
            err.dependency_chain = [link.label for link in problem.chain]
        return err

    # -- compiling ------------------------------------------------------------------------
    def compile(self, key: Key) -> CompiledEntry:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                return entry
            nodes = self.plan(key)
            self._emit(nodes)
            return self.entries[self.graph.node(key).key]  # type: ignore[union-attr]

    def _name(self, node: Node) -> str:
        name = self.names.get(node.key)
        if name is None:
            name = f"{next(_counter)}_{_ident(node.label)}"
            self.names[node.key] = name
            self.keys[name] = node.key
        return name

    def _const(self, value: Any, prefix: str = "_q") -> str:
        name = f"{prefix}{next(_counter)}"
        self.ns[name] = value
        return self._ph(name)

    def _ph(self, real: str) -> str:
        """The placeholder that stands for a per-binding name in the shape being printed:
        ``_0``, ``_1``, ... by first use (its index in ``placeholders``), or the role of
        one of the node's own functions."""
        local = self._local
        ph = local.get(real)
        if ph is None:
            ph = local[real] = self._roles.get(real) or f"_{len(local)}"
        return ph

    def _emit(self, nodes: list[Node]) -> None:
        for node in nodes:  # dependencies first: each one's functions exist for the next
            n = self._name(node)
            # the functions it defines keep a name saying what they do (tracebacks show it)
            self._roles = {f"_r{n}": "resolve", f"_n{n}": "create", f"_a{n}": "aresolve",
                           f"_an{n}": "acreate"}
            self._local = {}
            shape = "\n".join(self._node_source(node, n))
            self._instantiate(node, n, shape)
            is_async = self.graph.needs_async(node.key)
            self.entries[node.key] = CompiledEntry(
                sync=self.ns[f"_r{n}"],
                is_async=is_async,
                asyncfn=self.ns.get(f"_a{n}") if is_async else None,
            )

    def _instantiate(self, node: Node, n: str, shape: str) -> None:
        """Define the functions of ``shape`` (one node's resolvers) in the namespace.

        Most bindings' resolvers differ only in the names they use (``_p12_Repo`` for the
        provider, ``_r7_Db`` for a dependency's resolver, ...), and compiling costs about
        100 us a node: 1 s at 10,000 bindings. So the source is printed as its *shape*
        (those names spelled ``_0``, ``_1``, ... by ``_ph``), each shape is compiled once
        per process into a maker ``def _mk(_0, _1, ...)`` returning the functions, and a
        node's functions are the maker called with its objects (each function takes them
        as defaults: locals, faster to read than globals, and no closure cell per name).
        Their ``__name__`` is the real one; their code, line text and traceback names are
        the shape's. Error paths find the binding of a frame from the local holding its
        key (``key_placeholder``) and read ``_3`` in a line through ``placeholders``.
        """
        local, roles = self._local, self._roles
        names = tuple(local)
        defined = [f for f in roles if f in local]
        free = [real for real in names if real not in roles]
        code = _shapes.get(shape)
        if code is None:
            params = [local[real] for real in free]
            returns = "".join(f"{local[real]}, " for real in defined)
            body = "".join(
                f"    {line}\n" if line else "\n" for line in _with_defaults(shape, params)
            )
            text = f"def _mk({', '.join(params)}):\n{body}    return ({returns})\n"
            filename = f"<injectq resolvers {next(_counter)}>"
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
            module = compile(text, filename, "exec")
            code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
            # its source lines live as long as its code does (tracebacks of live
            # resolvers show them), not as long as the process once the shape is evicted
            weakref.finalize(code, linecache.cache.pop, filename, None)
            if len(_shapes) >= _MAX_SHAPES:
                _shapes.clear()
                key_placeholder.clear()
            _shapes[shape] = code
            own_key = local[f"_k{n}"]
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    key_placeholder[const] = own_key
        ns = self.ns
        made = types.FunctionType(code, ns)(*[ns[real] for real in free])
        for real, fn in zip(defined, made, strict=True):
            # the code (and so a traceback's function name) is the shape's: resolve_3...
            fn.__name__ = fn.__qualname__ = real
            ns[real] = fn
        self.placeholders[node.key] = names

    # -- printing a recipe (the Spelling of recipe.py) ----------------------------------
    container = "_c"

    def provider(self, node: Node) -> str:
        return self._ph(f"_p{self._name(node)}")

    def key(self, key: Key) -> str:
        node = self.graph.node(key)
        assert node is not None
        return self._ph(f"_k{self._name(node)}")

    def resolve(self, key: Key, awaited: bool) -> str:
        node = self.graph.node(key)
        assert node is not None
        if awaited:
            return f"(await {self._ph(f'_a{self._name(node)}')}())"
        return f"{self._ph(f'_r{self._name(node)}')}()"

    def lazy(self, key: Key) -> str:
        node = self.graph.node(key)
        assert node is not None
        return f"_Lazy({self._const(node.key, '_k')}, _c)"

    def default(self, call: Call, arg: Arg) -> str:
        return self._const(arg.default)

    enter = "_enter"
    aenter = "_aenter"
    await_instance = "_await_instance"
    _OWNERS: ClassVar[dict[Owner, str]] = {
        Owner.CONTAINER: "_cfin.add(g)", Owner.SCOPE: "st.finalizers.add(g)",
        Owner.INNERMOST: "_own(g)",
    }

    def owner(self, owner: Owner) -> str:
        return self._OWNERS[owner]

    def _build(self, r: Recipe, in_async: bool, indent: str) -> list[str]:
        return [indent + line for line in build_source(r, self, in_async)]

    def _node_source(self, node: Node, n: str) -> list[str]:
        r = self.cookbook.take(node.key)
        self.ns[f"_p{n}"] = r.provider
        self.ns[f"_k{n}"] = r.key
        if r.lifetime is Lifetime.SINGLETON:
            slot = self.hooks.slots.get(node.binding)
            if slot is None:
                slot = self.hooks.slots[node.binding] = Slot()
            self.ns[f"_s{n}"] = slot
        if r.lifetime is Lifetime.SCOPED:
            self.ns[f"_sc{n}"] = r.scope
        if self._depth(node) > deep.DEPTH:
            return self._deep_source(r, n)
        lines = self._sync_source(r, n)
        if r.is_async:
            lines += self._async_source(r, n)
        return lines

    # Both print the shape: a per-binding name is spelled by ``_ph`` where it is written
    # (so every name numbered is one the text uses).
    def _depth(self, node: Node) -> int:
        return deep.graph_depth(self.graph, node.key, self.depths)

    def _deep_source(self, r: Recipe, n: str) -> list[str]:
        """Deeper than the call stack allows: built by deep.py's explicit stack."""
        k = self._ph(f"_k{n}")
        out = [
            f"def {self._ph(f'_r{n}')}():",
            f"    if _ov[0] and _frame.get() is not None: return _ovget({k})",
            f"    return _deep({k})",
        ]
        if r.is_async:
            out += [
                f"async def {self._ph(f'_a{n}')}():",
                f"    if _ov[0] and _frame.get() is not None: return await _ovaget({k})",
                f"    return await _adeep({k})",
            ]
        return out

    def _sync_source(self, r: Recipe, n: str) -> list[str]:
        # an override block open in this context takes over (the engine resolves what is
        # not overridden with the frame cleared, so this very function serves it too)
        ph = self._ph
        k = ph(f"_k{n}")
        out = [f"def {ph(f'_r{n}')}():",
               f"    if _ov[0] and _frame.get() is not None: return _ovget({k})"]
        if r.lifetime is Lifetime.SINGLETON:
            s = ph(f"_s{n}")
            out += [f"    v = {s}.value", "    if v is not _MISSING: return v"]
            if r.is_async:
                return [*out, f"    _needs_async({k})"]
            create = ph(f"_n{n}")
            make = [f"def {create}():", *self._build(r, False, "    "), "    return v", ""]
            return [
                *make, *out,
                f"    v = _once({s}, {create}, {k}, _reentry)",
                f"    _publish({k}, v)",
                "    return v",
            ]
        if r.lifetime is Lifetime.SCOPED:
            out += [
                f"    st = _var.get().get({ph(f'_sc{n}')})",
                f"    if st is None: _noscope({k})",
                f"    v = st.cache.get({k}, _MISSING)",
                "    if v is not _MISSING: return v",
            ]
            if r.is_async:
                return [*out, f"    _needs_async({k})"]
            create = ph(f"_n{n}")
            make = [f"def {create}(st):", *self._build(r, False, "    "), "    return v", ""]
            # the thread that opened the scope creates without a lock while no other
            # thread has used it (ScopeState.create: the same protocol, every other case)
            opener = [
                "    if st.opener == _ident():",
                "        outer = st.making",
                f"        if outer is not None: _check_making({k}, outer)",
                f"        st.making = ({k}, outer)",
                "        try:",
                "            if not st.shared:",
                f"                v = st.cache[{k}] = {create}(st)",
                "                return v",
                "        finally:",
                "            st.making = outer",
            ]
            return [*make, *out, *opener, f"    return st.create({k}, {create}, st)"]
        if r.is_async:
            return [*out, f"    _needs_async({k})"]
        body = self._build(r, False, "    ")
        if len(body) == 1:
            return [*out, f"    return {body[0].split('v = ', 1)[1]}"]
        return [*out, *body, "    return v"]

    def _async_source(self, r: Recipe, n: str) -> list[str]:
        ph = self._ph
        k = ph(f"_k{n}")
        out = [
            f"async def {ph(f'_a{n}')}():",
            f"    if _ov[0] and _frame.get() is not None: return await _ovaget({k})",
        ]
        if r.lifetime is Lifetime.TRANSIENT:
            return [*out, *self._build(r, True, "    "), "    return v"]
        create = ph(f"_an{n}")
        if r.lifetime is Lifetime.SINGLETON:
            s = ph(f"_s{n}")
            make = [f"async def {create}():", *self._build(r, True, "    "), "    return v", ""]
            return [
                *make, *out,
                f"    v = {s}.value",
                "    if v is not _MISSING: return v",
                f"    v = await _aonce({s}, {create}, {k}, _reentry)",
                f"    _publish({k}, v)",
                "    return v",
            ]
        make = [f"async def {create}(st):", *self._build(r, True, "    "), "    return v", ""]
        return [
            *make, *out,
            f"    st = _var.get().get({ph(f'_sc{n}')})",
            f"    if st is None: _noscope({k})",
            f"    v = st.cache.get({k}, _MISSING)",
            "    if v is not _MISSING: return v",
            f"    return await _akeyed(st.lock, st.cache, st.pending, {k}, {create}, st, {k}, "
            "_reentry)",
        ]
