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

import concurrent.futures
import contextvars
import inspect
import itertools
import linecache
import re
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from injectq.binding import Lifetime, ProviderKind
from injectq.checks import cycle_problem, missing_problem, unresolvable_problem
from injectq.errors import (
    CircularDependencyError,
    DependencyNotFoundError,
    InjectQError,
    Problem,
)
from injectq.forking import held_here, owned_here
from injectq.graph import Dep, DependencyGraph, Node, Resolution
from injectq.introspect import Edge
from injectq.markers import Key, Lazy, display_key
from injectq.scopes import Finalizers, ScopeMap

__all__ = ["MISSING", "CompiledEntry", "ResolverCompiler", "Slot"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

_INLINE_BUDGET = 4  # constructor calls inlined into one resolver: C(B(A())) and no more
_counter = itertools.count()

# the per-binding names resolver source uses (made by _name and _const); not a keyword
# argument (that is a user's parameter name)
_GENERATED_NAME = re.compile(r"\b_(?:sc|an|p|k|s|r|n|a|q)\d+(?:_\w*)?\b(?!=[^=])")
_MAX_SHAPES = 4096
_shapes: dict[str, types.CodeType] = {}  # shape source -> code of its maker (any container)
# code of a function a maker defines -> the placeholder holding its binding's key (a free
# variable: error paths read it from the failing frame)
_key_placeholder: dict[types.CodeType, str] = {}


class Slot:
    """Where one singleton lives: the value, a lock for creating it, an async creation."""

    __slots__ = ("creating", "lock", "pending", "value")

    def __init__(self) -> None:
        self.value: Any = MISSING
        self.lock = threading.RLock()
        self.pending: PendingCreation | None = None
        self.creating = False

    def after_fork_in_child(self) -> None:
        """In a forked child: a creation another thread had under way is abandoned (that
        thread is gone), so the next request creates the instance again."""
        if held_here(self.lock):
            return  # the forking thread itself is creating it: it goes on
        self.lock = threading.RLock()
        self.creating = False
        if self.pending is not None and not self.pending.done() and not owned_here(self.pending):
            self.pending = None


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
    hot: dict[Any, Any]
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


def enter_resource(gen: Any, key: Key) -> Any:
    try:
        return next(gen)
    except StopIteration:
        raise InjectQError(
            f"resource factory for {display_key(key)} returned without yielding an instance"
        ) from None


async def aenter_resource(gen: Any, key: Key) -> Any:
    try:
        return await gen.__anext__()
    except StopAsyncIteration:
        raise InjectQError(
            f"resource factory for {display_key(key)} returned without yielding an instance"
        ) from None


class _Abandoned(Exception):
    """The task creating an instance was cancelled (or interrupted) before it finished."""


def abandon(exc: BaseException) -> BaseException:
    """What a failed async creation leaves in its Future for the tasks waiting on it.

    An ordinary exception is theirs too; a cancellation is the creator's own business, so
    its waiters are told to retry the creation instead of being cancelled with it.
    """
    return exc if isinstance(exc, Exception) else _Abandoned()


async def await_pending(fut: concurrent.futures.Future[Any], retry: Any = None) -> Any:
    """Wait for another task's creation. Shielded: cancelling one waiter must not cancel
    the shared Future (the creator and every other waiter would fail with it). Returns
    ``retry`` when the creator was abandoned and ``retry`` is given."""
    import asyncio  # only ever awaited inside a running loop: asyncio is loaded already

    try:
        return await asyncio.shield(asyncio.wrap_future(fut))
    except _Abandoned:
        if retry is None:
            raise asyncio.CancelledError from None
        return retry


async def await_instance(awaitable: Any, key: Key) -> Any:
    """Await an awaitable bound as an instance (its first and only await)."""
    try:
        return await awaitable
    except RuntimeError as exc:
        if "already awaited" not in str(exc):
            raise
        raise InjectQError(
            f"the awaitable bound to {display_key(key)} was already awaited: its first await "
            "failed (see that error) and a coroutine cannot be awaited twice; bind an async "
            "factory with bind_factory() so that a retry can create a new one"
        ) from exc


def current_task() -> Any:
    try:
        asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
        return asyncio.current_task() if asyncio is not None else None
    except RuntimeError:  # no running loop
        return None


class PendingCreation(concurrent.futures.Future[Any]):
    """An async creation under way, and the task doing it (to detect it waiting on itself)."""

    def __init__(self) -> None:
        super().__init__()
        self.owner = current_task()

    def waits_on_itself(self) -> bool:
        return self.owner is not None and self.owner is current_task()


class ResolverCompiler:
    """Compiles resolvers for one container generation (rebuilt when bindings change)."""

    def __init__(self, graph: DependencyGraph, hooks: RuntimeHooks) -> None:
        self.graph = graph
        self.hooks = hooks
        self.entries: dict[Key, CompiledEntry] = {}
        self._names: dict[Key, str] = {}
        self.placeholders: dict[Key, list[str]] = {}  # node -> real name of _0, _1, ...
        self._lock = threading.RLock()
        self.ns: dict[str, Any] = {
            "_MISSING": MISSING,
            "_c": hooks.container,
            "_ov": hooks.overrides,
            "_ovget": hooks.ovget,
            "_ovaget": hooks.ovaget,
            "_frame": hooks.frame,
            "_var": hooks.scopes,
            "_hot": hooks.hot,
            "_cfin": hooks.finalizers,
            "_Lazy": Lazy,
            "_enter": enter_resource,
            "_aenter": aenter_resource,
            "_Future": PendingCreation,
            "_await_instance": await_instance,
            "_wait": await_pending,
            "_abandon": abandon,
            "_task": current_task,
            "_own": self._own,
            "_noscope": hooks.container.noscope,
            "_needs_async": hooks.container.needs_async,
            "_reentry": hooks.container.reentry,
        }

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
        from injectq.errors import DependencyNotFoundError

        label = display_key(key)
        err = DependencyNotFoundError(
            Problem(
                code="IQ001",
                name="missing-binding",
                message=f"{label} is not bound",
                key=label,
                help=(
                    f"bind it in a Module (self.bind({label}, ...)); abstract classes, "
                    "Protocols, builtins and named keys are never auto-wired"
                ),
            )
        )
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
        with self._lock:
            entry = self.entries.get(key)
            if entry is not None:
                return entry
            nodes = self.plan(key)
            self._emit(nodes)
            return self.entries[self.graph.node(key).key]  # type: ignore[union-attr]

    def _name(self, node: Node) -> str:
        name = self._names.get(node.key)
        if name is None:
            name = f"{next(_counter)}_{_ident(node.label)}"
            self._names[node.key] = name
        return name

    def _const(self, value: Any, prefix: str = "_q") -> str:
        name = f"{prefix}{next(_counter)}"
        self.ns[name] = value
        return name

    def _emit(self, nodes: list[Node]) -> None:
        for node in nodes:  # dependencies first: each one's functions exist for the next
            source = self._node_source(node)
            self._instantiate(node, "\n".join(source[1:]))  # [0]: a comment naming it
            n = self._name(node)
            is_async = self.graph.needs_async(node.key)
            self.entries[node.key] = CompiledEntry(
                sync=self.ns[f"_r{n}"],
                is_async=is_async,
                asyncfn=self.ns.get(f"_a{n}") if is_async else None,
            )

    def _instantiate(self, node: Node, source: str) -> None:
        """Define the functions of ``source`` (one node's resolvers) in the namespace.

        Most bindings' resolvers differ only in the names they use (``_p12_Repo`` for the
        provider, ``_r7_Db`` for a dependency's resolver, ...), and compiling costs about
        100 us a node: 1 s at 10,000 bindings. So the source is cut to its *shape* (those
        names replaced by ``_0``, ``_1``, ... in order of appearance), each shape is
        compiled once per process into a maker ``def _mk(_0, _1, ...)`` returning the
        functions, and a node's functions are the maker called with its objects (closures:
        as fast to read as globals). Their ``__name__`` is the real one; their code, line
        text and traceback names are the shape's. Error paths find the binding of a frame
        from the free variable holding its key (``_key_placeholder``) and read ``_3`` in a
        line through ``placeholders``.
        """
        n = self._name(node)
        # the functions it defines keep a name saying what they do (tracebacks show it)
        roles = {f"_r{n}": "resolve", f"_n{n}": "create", f"_a{n}": "aresolve",
                 f"_an{n}": "acreate"}
        local: dict[str, str] = {}

        def placeholder(match: re.Match[str]) -> str:
            real = match.group()
            ph = local.get(real)
            if ph is None:
                ph = local[real] = roles.get(real) or f"_{len(local)}"
            return ph

        shape = _GENERATED_NAME.sub(placeholder, source)
        names = list(local)
        defined = [f for f in roles if f in local]
        free = [real for real in names if real not in defined]
        code = _shapes.get(shape)
        if code is None:
            params = ", ".join(local[real] for real in free)
            returns = "".join(f"{local[real]}, " for real in defined)
            body = "".join(f"    {line}\n" if line else "\n" for line in shape.split("\n"))
            text = f"def _mk({params}):\n{body}    return ({returns})\n"
            filename = f"<injectq resolvers {next(_counter)}>"
            linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
            module = compile(text, filename, "exec")
            code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
            if len(_shapes) >= _MAX_SHAPES:
                _shapes.clear()
                _key_placeholder.clear()
            _shapes[shape] = code
            own_key = local[f"_k{n}"]
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    _key_placeholder[const] = own_key
        ns = self.ns
        made = types.FunctionType(code, ns)(*[ns[real] for real in free])
        for real, fn in zip(defined, made, strict=True):
            # the code (and so a traceback's function name) is the shape's: resolve_3...
            fn.__name__ = fn.__qualname__ = real
            ns[real] = fn
        self.placeholders[node.key] = names

    # -- source of one node ---------------------------------------------------------------
    def _args(self, node: Node, in_async: bool, budget: list[int]) -> str:
        parts: list[str] = []
        keywords = False
        params = [d.param for d in node.deps]
        for i, dep in enumerate(node.deps):
            p = dep.param
            if dep.resolution is Resolution.DEFAULT:
                later_positional_only = any(
                    q.kind is inspect.Parameter.POSITIONAL_ONLY
                    and node.deps[j].resolution is not Resolution.DEFAULT
                    for j, q in enumerate(params) if j > i
                )
                if later_positional_only:
                    parts.append(self._const(p.default))
                else:
                    keywords = True
                continue
            expr = self._dep_expr(dep, in_async, budget)
            if p.kind is inspect.Parameter.KEYWORD_ONLY or (keywords and p.positional
                                                             and p.kind is not
                                                             inspect.Parameter.POSITIONAL_ONLY):
                parts.append(f"{p.name}={expr}")
            else:
                parts.append(expr)
        return ", ".join(parts)

    def _dep_expr(self, dep: Dep, in_async: bool, budget: list[int]) -> str:
        if dep.resolution is Resolution.CONTAINER:
            return "_c"
        if dep.resolution is Resolution.NONE:
            return "None"
        assert dep.resolution is Resolution.BINDING
        target = self.graph.node(dep.target)
        assert target is not None
        if dep.edge is Edge.LAZY:
            return f"_Lazy({self._const(target.key, '_k')}, _c)"
        name = self._name(target)
        if in_async and self.graph.needs_async(target.key):
            return f"(await _a{name}())"
        b = target.binding
        if (
            b.lifetime is Lifetime.TRANSIENT
            and b.kind in (ProviderKind.CLASS, ProviderKind.FACTORY)
            and budget[0] > 0
        ):
            budget[0] -= 1
            return f"_p{name}({self._args(target, in_async, budget)})"
        return f"_r{name}()"

    def _node_source(self, node: Node) -> list[str]:
        b = node.binding
        n = self._name(node)
        self.ns[f"_p{n}"] = b.provider
        self.ns[f"_k{n}"] = b.key
        lines = [f"# {b.label} [{b.lifetime_label}] bound at {b.site}"]
        is_async = self.graph.needs_async(node.key)
        if b.lifetime is Lifetime.SINGLETON:
            slot = self.hooks.slots.get(b)
            if slot is None:
                slot = self.hooks.slots[b] = Slot()
            self.ns[f"_s{n}"] = slot
        if b.lifetime is Lifetime.SCOPED:
            self.ns[f"_sc{n}"] = b.scope
        lines += self._sync_source(node, n, is_async)
        if is_async:
            lines += self._async_source(node, n)
        return lines

    def _build(self, node: Node, n: str, in_async: bool, owner: str, indent: str) -> list[str]:
        """Statements that leave the new instance in ``v`` (and register a resource)."""
        kind = node.binding.kind
        if kind is ProviderKind.INSTANCE:
            return [f"{indent}v = _p{n}"]
        if kind is ProviderKind.AWAITABLE:
            return [f"{indent}v = await _await_instance(_p{n}, _k{n})"]
        args = self._args(node, in_async, [_INLINE_BUDGET])
        if kind in (ProviderKind.CLASS, ProviderKind.FACTORY):
            return [f"{indent}v = _p{n}({args})"]
        if kind is ProviderKind.ASYNC_FACTORY:
            return [f"{indent}v = await _p{n}({args})"]
        if kind is ProviderKind.GENERATOR:
            return [
                f"{indent}g = _p{n}({args})",
                f"{indent}v = _enter(g, _k{n})",
                f"{indent}{owner}",
            ]
        assert kind is ProviderKind.ASYNC_GENERATOR
        return [
            f"{indent}g = _p{n}({args})",
            f"{indent}v = await _aenter(g, _k{n})",
            f"{indent}{owner}",
        ]

    def _sync_source(self, node: Node, n: str, is_async: bool) -> list[str]:
        b = node.binding
        # an override block open in this context takes over (the engine resolves what is
        # not overridden with the frame cleared, so this very function serves it too)
        check = f"    if _ov[0] and _frame.get() is not None: return _ovget(_k{n})"
        out: list[str] = []
        if b.lifetime is Lifetime.SINGLETON:
            if is_async:
                head = [
                    f"    v = _s{n}.value",
                    "    if v is not _MISSING: return v",
                    f"    _needs_async(_k{n})",
                ]
            else:
                out += [
                    f"def _n{n}():",
                    f"    s = _s{n}",
                    "    with s.lock:",
                    "        v = s.value",
                    "        if v is not _MISSING: return v",
                    f"        if s.creating: _reentry(_k{n})",
                    "        s.creating = True",
                    "        try:",
                    *self._build(node, n, False, "_cfin.add(g)", "            "),
                    "        finally:",
                    "            s.creating = False",
                    "        s.value = v",
                    f"        _hot[_k{n}] = v",
                    "        return v",
                    "",
                ]
                head = [
                    f"    v = _s{n}.value",
                    "    if v is not _MISSING: return v",
                    f"    return _n{n}()",
                ]
        elif b.lifetime is Lifetime.SCOPED:
            head = [
                f"    st = _var.get().get(_sc{n})",
                f"    if st is None: _noscope(_k{n})",
                "    c = st.cache",
                f"    v = c.get(_k{n}, _MISSING)",
                "    if v is not _MISSING: return v",
            ]
            if is_async:
                head.append(f"    _needs_async(_k{n})")
            else:  # created in place: one call fewer per creation, on every request
                head += [  # acquire/release: about half the cost of `with` on a C lock
                    "    lock = st.lock",
                    "    lock.acquire()",
                    "    try:",
                    f"        v = c.get(_k{n}, _MISSING)",
                    "        if v is not _MISSING: return v",
                    *self._build(node, n, False, "st.finalizers.add(g)", "        "),
                    f"        c[_k{n}] = v",
                    "        return v",
                    "    finally:",
                    "        lock.release()",
                ]
        elif is_async:
            head = [f"    _needs_async(_k{n})"]
        else:
            body = self._build(node, n, False, "_own(g)", "    ")
            if len(body) == 1:
                head = [f"    return {body[0].split('v = ', 1)[1]}"]
            else:
                head = [*body, "    return v"]
        out += [f"def _r{n}():", check, *head]
        return out

    def _async_source(self, node: Node, n: str) -> list[str]:
        b = node.binding
        check = f"    if _ov[0] and _frame.get() is not None: return await _ovaget(_k{n})"
        out: list[str] = []
        if b.lifetime is Lifetime.TRANSIENT:
            head = [*self._build(node, n, True, "_own(g)", "    "), "    return v"]
        else:
            if b.lifetime is Lifetime.SINGLETON:
                owner_reg = "_cfin.add(g)"
                prelude = [f"    s = _s{n}"]
                get_v = "s.value"
                get_p = "s.pending"
                set_p = "s.pending = fut"
                clear_p = "s.pending = None"
                store = ["s.value = v", f"_hot[_k{n}] = v"]
                lock = "s.lock"
                sig = ""
            else:
                owner_reg = "st.finalizers.add(g)"
                prelude = []
                get_v = f"st.cache.get(_k{n}, _MISSING)"
                get_p = f"st.pending.get(_k{n})"
                set_p = f"st.pending[_k{n}] = fut"
                clear_p = f"st.pending.pop(_k{n}, None)"
                store = [f"st.cache[_k{n}] = v"]
                lock = "st.lock"
                sig = "st"
            out += [
                f"async def _an{n}({sig}):",
                *prelude,
                "    while True:",
                f"        with {lock}:",
                f"            v = {get_v}",
                "            if v is not _MISSING: return v",
                f"            fut = {get_p}",
                "            mine = fut is None",
                "            if mine:",
                "                fut = _Future()",
                f"                {set_p}",
                "        if not mine:",
                # the task creating it asks for it again: waiting would wait for itself
                f"            if fut.waits_on_itself(): _reentry(_k{n})",
                "            v = await _wait(fut, _MISSING)",
                "            if v is not _MISSING: return v",
                "            continue  # its creator was cancelled: try to create it here",
                "        try:",
                *self._build(node, n, True, owner_reg, "            "),
                "        except BaseException as e:",
                f"            with {lock}: {clear_p}",
                "            fut.set_exception(_abandon(e))",
                "            raise",
                f"        with {lock}:",
                *(f"            {s}" for s in store),
                f"            {clear_p}",
                "        fut.set_result(v)",
                "        return v",
                "",
            ]
            if b.lifetime is Lifetime.SINGLETON:
                head = [
                    f"    v = _s{n}.value",
                    "    if v is not _MISSING: return v",
                    f"    return await _an{n}()",
                ]
            else:
                head = [
                    f"    st = _var.get().get(_sc{n})",
                    f"    if st is None: _noscope(_k{n})",
                    f"    v = st.cache.get(_k{n}, _MISSING)",
                    "    if v is not _MISSING: return v",
                    f"    return await _an{n}(st)",
                ]
        out += [f"async def _a{n}():", check, *head]
        return out
