"""Graph checks: every problem at once, each with a stable code, its path and bind sites.

Codes are shared by ``container.validate()`` and ``injectq-gen check``:

IQ001 missing-binding, IQ002 cycle, IQ003 captive-lifetime, IQ004 duplicate-binding,
IQ005 async-on-sync-path, IQ006 unresolvable-annotation, IQ007 not-importable,
IQ008 unused-binding (warning), IQ009 unknown-scope, IQ010 wrong-implementation.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import typing_extensions

from injectq.errors import PathLink, Problem
from injectq.model.arguments import ROOT_HELP, hashable, invalid
from injectq.model.binding import Lifetime, ProviderKind
from injectq.model.graph import Dep, DependencyGraph, Node, Resolution
from injectq.model.introspect import Edge, describe
from injectq.model.markers import Key, display_key, split_key
from injectq.model.registry import APP_SCOPE

__all__ = [
    "CODES",
    "async_step_problem",
    "check_graph",
    "cycle_problem",
    "missing_problem",
    "reentry_problem",
    "unknown_key_problem",
    "warm_async_problem",
]

CODES: dict[str, str] = {
    "IQ001": "missing-binding",
    "IQ002": "cycle",
    "IQ003": "captive-lifetime",
    "IQ004": "duplicate-binding",
    "IQ005": "async-on-sync-path",
    "IQ006": "unresolvable-annotation",
    "IQ007": "not-importable",
    "IQ008": "unused-binding",
    "IQ009": "unknown-scope",
    "IQ010": "wrong-implementation",
}


def _chain(path: Sequence[tuple[Node, Dep | None]]) -> tuple[PathLink, ...]:
    """Links for a path of (node, the dep by which the previous node asked for it)."""
    links: list[PathLink] = []
    prev: Node | None = None
    for node, dep in path:
        via = prev.via(dep.param) if prev is not None and dep is not None else ""
        links.append(node.link(via))
        prev = node
    return tuple(links)


def unknown_key_problem(key: Key, *, wiring_of: str | None = None, role: str = "") -> Problem:
    """IQ001 for a key asked for directly: ``get(key)``, a root, ``invoke(key)``.

    ``wiring_of``: the targets a generated module was built from (the key is not in it);
    ``role``: "root" (a root nothing binds) or "factory" (invoke() of a key without one).
    """
    label = display_key(key)
    if wiring_of is not None:
        message = f"{label} is not part of the generated wiring (built from {wiring_of})"
        help_text = (
            f"bind {label} in a Module, or add it as an entry point with "
            f"`--root module:{label}`, then run `injectq-gen build` again"
        )
    elif role == "root":
        message = f"root {label} is not bound"
        help_text = f"bind {label} in a Module, or remove it from the roots"
    elif role == "factory":
        message = f"no factory is bound to {label}"
        help_text = "bind one with bind_factory() before invoke()"
    else:
        message = f"{label} is not bound"
        help_text = (
            f"bind it in a Module (self.bind({label}, ...)); abstract classes, "
            "Protocols, builtins and named keys are never auto-wired"
        )
    return Problem(code="IQ001", name="missing-binding", message=message, key=label,
                   help=help_text)


def unfilled_problem(fn_key: Key, param: str, wanted: Key) -> Problem:
    """IQ001 for a parameter of ``invoke()``'s factory that nothing satisfies."""
    return Problem(
        code="IQ001",
        name="missing-binding",
        message=(
            f"invoke({display_key(fn_key)}): nothing satisfies parameter {param!r} "
            f"({display_key(wanted)})"
        ),
        key=display_key(wanted),
        help="pass it as an argument, or bind it",
    )


def async_step_problem(chain: Sequence[Any]) -> Problem:
    """IQ005 at ``get()``: ``chain`` (records: label, kind, lifetime_label, site) runs from
    the key asked for to the first binding that is async by itself."""
    node, first = chain[0], chain[-1]
    return Problem(
        code="IQ005",
        name="async-on-sync-path",
        message=(
            f"{node.label} needs an async step ({first.label} is "
            f"{str(first.kind).replace('_', ' ')}); get() cannot await it"
        ),
        site=node.site,
        key=node.label,
        chain=tuple(PathLink(n.label, n.lifetime_label, n.site) for n in chain),
        help=f"use `await container.aget({node.label})`",
    )


def warm_async_problem(labels: Sequence[str]) -> Problem:
    """IQ005 for ``warm()`` reaching singletons that need an await."""
    return Problem(
        "IQ005",
        "async-on-sync-path",
        f"warm() cannot create singletons that need an await: {', '.join(labels)}",
        help="use `await container.awarm()`",
    )


def reentry_problem(key: Key, lazy: bool = False) -> Problem:
    """IQ002 found while resolving: a construction asked for what it is constructing."""
    label = display_key(key)
    if lazy:
        message = (
            f"Lazy[{label}] was called again while it was resolving {label} "
            "(its construction calls the handle that is creating it)"
        )
        help_text = "do not call the Lazy handle from inside the constructor it resolves"
    else:
        message = (
            f"{label} was requested again while it was being created "
            "(a factory resolves it from inside its own construction)"
        )
        help_text = "break the cycle: inject one side as Lazy[T]"
    return Problem(
        code="IQ002", name="cycle", message=message, key=label,
        chain=(PathLink(label), PathLink(label)), help=help_text,
    )


def missing_problem(path: Sequence[tuple[Node, Dep | None]], dep: Dep) -> Problem:
    requester = path[-1][0]
    wanted = display_key(dep.target)
    links = (*_chain(path), PathLink(wanted, "unbound", "", requester.via(dep.param)))
    # a builtin such as str is never bound by type: 0.5.0 code binds it by parameter name
    by_name = dep.target == dep.param.name or dep.target in _BUILTIN_VALUES
    bind = (
        f"self.bind_instance({dep.param.name!r}, ...)" if by_name else f"self.bind({wanted}, ...)"
    )
    return Problem(
        code="IQ001",
        name="missing-binding",
        message=f"{requester.label} needs {wanted}, which is not bound",
        site=requester.binding.site,
        key=wanted,
        chain=links,
        help=(
            f"bind it in a Module ({bind}), give the parameter "
            f"'{dep.param.name}' a default, or annotate it Optional"
        ),
    )


_BUILTIN_VALUES = frozenset({str, int, float, bool, bytes, complex})


def unresolvable_problem(path: Sequence[tuple[Node, Dep | None]], dep: Dep) -> Problem:
    requester = path[-1][0]
    return Problem(
        code="IQ006",
        name="unresolvable-annotation",
        message=(
            f"parameter '{dep.param.name}' of {requester.info.qualname}: {dep.param.error}"
        ),
        site=requester.binding.site,
        key=requester.label,
        chain=_chain(path),
        help=dep.param.fix or (
            "import the name at module level (not only under TYPE_CHECKING), or bind the "
            f"parameter by name: bind({dep.param.name!r}, ...)"
        ),
    )


def cycle_problem(path: Sequence[tuple[Node, Dep | None]]) -> Problem:
    """``path`` runs from the first node of the cycle back to it."""
    first = path[0][0]
    return Problem(
        code="IQ002",
        name="cycle",
        message=f"{first.label} depends on itself: "
        + " -> ".join(node.label for node, _ in path),
        site=first.binding.site,
        key=first.label,
        chain=_chain(path),
        help="break the cycle: inject one side as Lazy[T], or move the shared part out",
    )


def check_graph(
    graph: DependencyGraph,
    roots: Iterable[Any] = (),
    *,
    importable: Callable[[Node], str | None] | None = None,
) -> list[Problem]:
    """All problems of the graph: the explicit bindings, plus ``roots`` (keys or functions).

    ``roots`` may hold keys or ``@inject``-style functions; a sync function root is a sync
    path (IQ005 applies to it), and with roots given, bindings no root reaches are unused
    (IQ008). ``importable`` is the extra check injectq-gen adds (IQ007).
    """
    root_keys: list[Key] = []
    root_functions: list[Any] = []
    for root in roots:
        if callable(root) and not inspect.isclass(root):
            root_functions.append(root)
        elif hashable(root):
            root_keys.append(root)
        else:
            raise invalid("roots", "root", root, ROOT_HELP, unhashable=True)
    function_targets = [
        d.target
        for fn in root_functions
        for d in _function_deps(graph, fn)
        if d.resolution is Resolution.BINDING
    ]
    nodes = graph.all_nodes([*root_keys, *function_targets])
    problems: list[Problem] = [d.problem() for d in graph.registry.duplicates]
    problems += _scope_problems(graph, nodes)
    problems += _dep_problems(graph, nodes)
    # explicit bindings first, in registration order: a cycle starts at its first-bound member
    if not _acyclic(nodes):  # one cheap pass tells the common case apart
        rank = {key: i for i, key in enumerate(graph.registry.keys())}
        problems += _cycle_problems(sorted(nodes, key=lambda n: rank.get(n.key, len(rank))))
    problems += _captive_problems(graph, nodes)
    problems += _sync_path_problems(graph, root_functions)
    problems += _implementation_problems(graph)
    for key in root_keys:
        if graph.node(key) is None:
            problems.append(unknown_key_problem(key, role="root"))
    if importable is not None:
        for node in nodes:
            reason = importable(node)
            if reason:
                problems.append(
                    Problem(
                        code="IQ007",
                        name="not-importable",
                        message=f"{node.label} cannot be used by generated code: {reason}",
                        site=node.binding.site,
                        key=node.label,
                        help=(
                            "the generated module imports classes and functions by module "
                            "and name, and takes what configure() makes (instances, bound "
                            "methods, partials) from running it again at import"
                        ),
                    )
                )
    if roots:
        problems += _unused(graph, [*root_keys, *function_targets])
    return problems


def _function_deps(graph: DependencyGraph, fn: Any) -> list[Dep]:
    info = describe(fn)
    return [graph.dep(p) for p in info.params]


def _scope_problems(graph: DependencyGraph, nodes: list[Node]) -> list[Problem]:
    problems: list[Problem] = []
    for node in nodes:
        b = node.binding
        if b.lifetime is Lifetime.SCOPED and b.scope not in graph.registry.scopes:
            known = ", ".join(s for s in graph.registry.scopes.names() if s != APP_SCOPE)
            problems.append(
                Problem(
                    code="IQ009",
                    name="unknown-scope",
                    message=f"{b.label} is scoped to {b.scope!r}, which is not a declared scope",
                    site=b.site,
                    key=b.label,
                    help=(
                        f"use one of: {known}; or declare it with "
                        f"container.declare_scope({b.scope!r}, parent='request')"
                    ),
                )
            )
    return problems


def _parents(nodes: list[Node]) -> dict[Key, tuple[Node, Dep]]:
    """For each node, one node that depends on it: to show a path from a top binding."""
    parents: dict[Key, tuple[Node, Dep]] = {}
    for node in nodes:
        for dep in node.deps:
            if dep.resolution is Resolution.BINDING and dep.target not in parents:
                parents[dep.target] = (node, dep)
    return parents


def _path_to(node: Node, parents: dict[Key, tuple[Node, Dep]]) -> list[tuple[Node, Dep | None]]:
    """A path from a binding nothing depends on down to ``node``."""
    rev = [node]
    seen = {node.key}
    while (parent := parents.get(rev[-1].key)) is not None and parent[0].key not in seen:
        rev.append(parent[0])
        seen.add(parent[0].key)
    rev.reverse()
    return [(n, parents[n.key][1] if i else None) for i, n in enumerate(rev)]


def _dep_problems(graph: DependencyGraph, nodes: list[Node]) -> list[Problem]:
    problems: list[Problem] = []
    parents: dict[Key, tuple[Node, Dep]] | None = None  # made for the first problem
    missing, unresolvable = Resolution.MISSING, Resolution.UNRESOLVABLE
    for node in nodes:
        for dep in node.deps:
            if dep.resolution is missing or dep.resolution is unresolvable:
                if parents is None:
                    parents = _parents(nodes)
                path = _path_to(node, parents)
                problems.append(
                    missing_problem(path, dep) if dep.resolution is missing
                    else unresolvable_problem(path, dep)
                )
    return problems


def _cycle_problems(nodes: list[Node]) -> list[Problem]:
    """One problem per strongly connected component over plain edges (Tarjan, iterative)."""
    index_of = {n.key: n for n in nodes}
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    on_stack: set[Key] = set()
    stack: list[Key] = []
    problems: list[Problem] = []
    counter = 0

    targets_of: dict[Key, list[Key]] = {}

    def plain_targets(n: Node) -> list[Key]:
        # once per node: the walk below comes back to a node once per edge
        targets = targets_of.get(n.key)
        if targets is None:
            targets = targets_of[n.key] = [
                d.target
                for d in n.deps
                if d.resolution is Resolution.BINDING and d.edge is Edge.PLAIN
                and d.target in index_of
            ]
        return targets

    for start in nodes:
        if start.key in index:
            continue
        work: list[tuple[Key, int]] = [(start.key, 0)]
        while work:
            key, i = work.pop()
            if i == 0:
                index[key] = low[key] = counter
                counter += 1
                stack.append(key)
                on_stack.add(key)
            targets = plain_targets(index_of[key])
            if i < len(targets):
                work.append((key, i + 1))
                t = targets[i]
                if t not in index:
                    work.append((t, 0))
                elif t in on_stack:
                    low[key] = min(low[key], index[t])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[key])
            if low[key] == index[key]:
                component: list[Key] = []
                while True:
                    k = stack.pop()
                    on_stack.discard(k)
                    component.append(k)
                    if k == key:
                        break
                members = set(component)
                node = index_of[key]
                if len(component) > 1 or key in plain_targets(node):
                    problems.append(cycle_problem(_cycle_path(node, members, index_of)))
    return problems


def _acyclic(nodes: list[Node]) -> bool:
    """No cycle over plain edges among ``nodes`` (Kahn: every node can be taken out once
    all that depends on it is out). One cheap pass, where Tarjan does several."""
    binding, plain = Resolution.BINDING, Edge.PLAIN
    position = {n.key: i for i, n in enumerate(nodes)}
    dependents = [0] * len(nodes)
    targets_of: list[list[int]] = []
    for n in nodes:
        targets = [
            i for d in n.deps
            if d.resolution is binding and d.edge is plain
            and (i := position.get(d.target)) is not None
        ]
        targets_of.append(targets)
        for i in targets:
            dependents[i] += 1
    free = [i for i, count in enumerate(dependents) if not count]
    taken = 0
    while free:
        taken += 1
        for i in targets_of[free.pop()]:
            dependents[i] -= 1
            if not dependents[i]:
                free.append(i)
    return taken == len(nodes)


def _cycle_path(
    start: Node, members: set[Key], index_of: dict[Key, Node]
) -> list[tuple[Node, Dep | None]]:
    """A concrete cycle inside one component, from ``start`` back to it (BFS)."""
    prev: dict[Key, tuple[Node, Dep]] = {}
    queue = [start]
    end: tuple[Node, Dep] | None = None
    while queue and end is None:
        node = queue.pop(0)
        for d in node.deps:
            if d.resolution is not Resolution.BINDING or d.edge is not Edge.PLAIN:
                continue
            if d.target == start.key:
                end = (node, d)
                break
            if d.target in members and d.target not in prev:
                prev[d.target] = (node, d)
                queue.append(index_of[d.target])
    assert end is not None, "a strongly connected component always closes a cycle"
    seq: list[tuple[Node, Dep | None]] = [(start, end[1])]
    current = end[0]
    while current.key != start.key:
        parent, dep = prev[current.key]
        seq.append((current, dep))
        current = parent
    seq.append((start, None))
    seq.reverse()
    return seq


def _captive_problems(graph: DependencyGraph, nodes: list[Node]) -> list[Problem]:
    problems: list[Problem] = []
    tree = graph.registry.scopes
    node_of = graph.node
    binding, container = Resolution.BINDING, Edge.CONTAINER
    transient, scoped = Lifetime.TRANSIENT, Lifetime.SCOPED
    declared: dict[str, bool] = {}  # scope -> declared
    captures: dict[tuple[str | None, str], bool] = {}  # (target's scope, own) -> captive
    for node in nodes:
        if not node.deps:
            continue
        own = graph.scope_of(node.binding)
        if own is None:
            continue
        known = declared.get(own)
        if known is None:
            known = declared[own] = own in tree
        if not known:
            continue
        # walk edges through transients to the first lived (scoped) nodes. Lazy edges too:
        # a Lazy handle keeps what its first call resolved, so it captures just the same
        stack: list[list[tuple[Node, Dep | None]]] = [[(node, None)]]
        seen: set[Key] = {node.key}
        while stack:
            path = stack.pop()
            current = path[-1][0]
            for dep in current.deps:
                if dep.resolution is not binding or dep.edge is container:
                    continue
                target = node_of(dep.target)
                if target is None or target.key in seen:
                    continue
                seen.add(target.key)
                lt = target.binding.lifetime
                if lt is transient:
                    if target.binding.kind.is_resource:
                        # finalized with the scope open when it was first resolved (or the
                        # container): the longer-lived holder would keep a closed resource
                        problems.append(_captive(node, [*path, (target, dep)], own))
                        continue
                    stack.append([*path, (target, dep)])
                elif lt is scoped:
                    scope = target.binding.scope
                    captive = captures.get((scope, own))
                    if captive is None:
                        captive = captures[scope, own] = scope in tree and not (
                            tree.outlives_or_equal(scope or "", own)
                        )
                    if captive:
                        problems.append(_captive(node, [*path, (target, dep)], own))
    return problems


def _captive(node: Node, path: list[tuple[Node, Dep | None]], own: str) -> Problem:
    """IQ003: ``node`` (living in scope ``own``) reaches, at the end of ``path``, a scoped
    binding of a shorter scope or a transient resource."""
    target = path[-1][0]
    lifetime = "singleton" if own == APP_SCOPE else f"{own}-scoped"
    if target.binding.lifetime is Lifetime.TRANSIENT:  # a transient resource
        fix = "singleton()" if own == APP_SCOPE else f"scoped({own!r})"
        message = (
            f"{lifetime} {node.label} holds transient resource {target.label}, which is "
            f"finalized when the scope open at its first resolution closes (or with the "
            f"container): {node.label} would keep using a closed resource"
        )
        help_ = (
            f"give {target.label} the lifetime of what holds it (.{fix}), or make "
            f"{node.label} transient"
        )
    else:
        message = (
            f"{lifetime} {node.label} depends on {target.binding.scope}-scoped {target.label}"
        )
        help_ = (
            f"make {node.label} scoped to {target.binding.scope!r}, or inject the container "
            f"(a parameter annotated InjectQ) and get {target.label} per use"
        )
    return Problem(
        code="IQ003", name="captive-lifetime", message=message, site=node.binding.site,
        key=node.label, chain=_chain(path), help=help_,
    )


def _sync_path_problems(graph: DependencyGraph, functions: list[Any]) -> list[Problem]:
    problems: list[Problem] = []
    for fn in functions:
        target = inspect.unwrap(fn)
        if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
            continue
        for dep in _function_deps(graph, fn):
            if dep.resolution is not Resolution.BINDING or dep.edge is not Edge.PLAIN:
                continue
            if graph.needs_async(dep.target):
                node = graph.node(dep.target)
                assert node is not None
                chain = _async_chain(graph, node)
                name = getattr(fn, "__qualname__", repr(fn))
                problems.append(
                    Problem(
                        code="IQ005",
                        name="async-on-sync-path",
                        message=(
                            f"sync function {name} needs {node.label}, which needs an async step"
                        ),
                        site=node.binding.site,
                        key=node.label,
                        chain=_chain(chain),
                        help=f"make {name} async (it then resolves with aget), or bind "
                        f"{chain[-1][0].label} to a sync factory",
                    )
                )
    return problems


def _async_chain(graph: DependencyGraph, node: Node) -> list[tuple[Node, Dep | None]]:
    """The path from ``node`` to the first binding that is async by itself."""
    path: list[tuple[Node, Dep | None]] = [(node, None)]
    seen = {node.key}
    while not path[-1][0].binding.kind.is_async:
        current = path[-1][0]
        for dep in current.deps:
            if (
                dep.resolution is Resolution.BINDING
                and dep.edge is Edge.PLAIN
                and dep.target not in seen
                and graph.needs_async(dep.target)
            ):
                nxt = graph.node(dep.target)
                assert nxt is not None
                seen.add(nxt.key)
                path.append((nxt, dep))
                break
        else:
            break
    return path


def _plain_class(token: Any) -> bool:
    """A class with no typing origin to follow: not a generic alias, and not
    ``typing.Generic`` (whose origin is itself)."""
    return (
        isinstance(token, type) and not isinstance(token, types.GenericAlias)
        and token is not typing.Generic
    )


def _class_of(token: Any) -> type | None:
    """The class every instance bound to ``token`` must be an instance of, if there is one
    to check: through type aliases, Annotated, NewType and generic aliases; None for a
    Protocol (structural), a string or another non-class token."""
    if _plain_class(token):  # no origin: none of the steps below applies (the common case)
        return None if getattr(token, "_is_protocol", False) else token
    for _ in range(20):
        if isinstance(token, typing_extensions.TypeAliasType) or type(token).__name__ == (
            "TypeAliasType"
        ):
            token = token.__value__
        elif typing.get_origin(token) is typing.Annotated:
            token = token.__origin__
        elif isinstance(token, typing.NewType):
            token = token.__supertype__
        elif typing.get_origin(token) is not None:
            token = typing.get_origin(token)
        else:
            break
    if not inspect.isclass(token) or getattr(token, "_is_protocol", False):
        return None
    return token


def _implementation_problems(graph: DependencyGraph) -> list[Problem]:
    """IQ010: a class bound to a key it is not a subclass of; an instance of another class."""
    problems: list[Problem] = []
    for b in graph.registry:
        token, _ = split_key(b.key)
        expected = _class_of(token)
        if expected is None or b.autowired:
            continue
        impl = b.provider
        if b.kind is ProviderKind.CLASS:
            if not inspect.isclass(impl) or _safe(issubclass, impl, expected):
                continue
            what = f"the class {_where(impl)}"
            help_text = (
                f"bind a subclass of {_where(expected)}, or bind {display_key(b.key)} to the "
                "class itself"
            )
        elif b.kind is ProviderKind.INSTANCE:
            if (impl is None and b.allow_none) or _safe(isinstance, impl, expected):
                continue
            what = f"an instance of {_where(type(impl))}"
            help_text = (
                f"bind an instance of {_where(expected)}"
                + (
                    "; a callable was bound as an implementation: to have it called, use "
                    f"bind_factory({display_key(b.key)}, ...)"
                    if callable(impl) and not inspect.isclass(impl) else ""
                )
            )
        else:
            continue
        problems.append(
            Problem(
                code="IQ010",
                name="wrong-implementation",
                message=f"{b.label} is bound to {what}, which is not a {_where(expected)}",
                site=b.site,
                key=b.label,
                chain=(PathLink(b.label, b.lifetime_label, b.site),),
                help=help_text,
            )
        )
    return problems


def _safe(check: Callable[[Any, Any], bool], obj: Any, cls: type) -> bool:
    try:
        return check(obj, cls)
    except TypeError:  # a class that refuses the check (a non-runtime Protocol subclass)
        return True


def _where(cls: Any) -> str:
    """``module.Qualname`` of a class: two classes of one name are told apart."""
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
    return f"{module}.{name}" if isinstance(module, str) and module != "builtins" else str(name)


def _unused(graph: DependencyGraph, roots: list[Key]) -> list[Problem]:
    used = {n.key for n in graph.closure(roots)}
    problems: list[Problem] = []
    for binding in graph.registry:
        if binding.key not in used and binding.implied_by is None:  # not bound by hand
            problems.append(
                Problem(
                    code="IQ008",
                    name="unused-binding",
                    message=f"{binding.label} is bound but no root reaches it",
                    site=binding.site,
                    key=binding.label,
                    severity="warning",
                    help="remove the binding, or add the service that uses it as a root",
                )
            )
    return problems
