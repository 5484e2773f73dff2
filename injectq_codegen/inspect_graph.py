"""Read-only views of the graph for ``check``, ``graph`` and ``explain``."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from injectq.errors import Problem
from injectq.model.graph import DependencyGraph, Node, Resolution
from injectq.model.graph_view import render_graph, view_of_nodes
from injectq.model.introspect import Edge
from injectq.model.markers import Key, display_key
from injectq_codegen.errors import UsageError
from injectq_codegen.loader import load_roots, load_targets
from injectq_codegen.plan import check_loaded, root_keys

__all__ = ["Loaded", "explain_key", "graph_document", "graph_problems", "load_graph"]


@dataclass
class Loaded:
    """The checked graph of some targets, and what the CLI's summary line counts."""

    graph: DependencyGraph
    roots: list[Any]
    root_keys: list[Key]
    problems: list[Problem]
    bindings: int  # bindings the Modules declared (auto-wired classes are extra nodes)

    @property
    def nodes(self) -> list[Node]:
        return self.graph.all_nodes(self.root_keys)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def load_graph(targets: list[str], roots: list[str]) -> Loaded:
    """Import the targets and roots, build the graph and run every check on it."""
    if not targets:
        raise UsageError("no targets given")
    loaded = load_targets(targets)
    root_objects = load_roots(roots)
    checked = check_loaded(loaded, root_objects)
    graph = checked.graph
    return Loaded(
        graph, root_objects, root_keys(graph, root_objects), checked.problems,
        len(checked.container.registry),
    )


def graph_problems(targets: list[str], roots: list[str]) -> list[Problem]:
    return load_graph(targets, roots).problems


def graph_document(data: Loaded, fmt: str) -> str:
    """The graph as ``dot``, ``mermaid`` or ``json``; errors and their paths flagged."""
    return render_graph(view_of_nodes(data.nodes, data.problems), fmt)


def _find(graph: DependencyGraph, nodes: list[Node], text: str) -> Node:
    matches = [n for n in nodes if n.label == text or display_key(n.key) == text]
    head, bracket, name = text.partition("[")
    if not matches and bracket and name.endswith("]"):  # Cache[primary]: a named binding
        wanted = f"{head}[name={name[:-1]!r}]"
        matches = [n for n in nodes if n.label == wanted]
    if not matches:
        matches = [n for n in nodes if n.label.split("[")[0] == text]
    if not matches:
        labels = sorted(n.label for n in nodes)
        close = difflib.get_close_matches(text, labels, 3)
        if close:
            hint = f"did you mean {' or '.join(repr(c) for c in close)}?"
        else:
            more = f", ... ({len(labels) - 20} more)" if len(labels) > 20 else ""
            hint = f"keys: {', '.join(labels[:20])}{more}"
        raise UsageError(f"no binding for {text!r} in this graph ({hint})")
    return matches[0]


def explain_key(data: Loaded, text: str) -> str:
    """Everything about one key: provider, site, lifetimes, dependencies, paths to it."""
    graph = data.graph
    nodes = data.nodes
    node = _find(graph, nodes, text)
    b = node.binding
    effective = _effective(graph, node)
    out = [
        f"{node.label}",
        f"  provider:  {b.provider_name} ({b.kind.value})",
        f"  declared:  {b.site}{' (auto-wired)' if b.autowired else ''}",
        f"  lifetime:  {b.lifetime_label}; effective: {effective}",
        f"  async:     {'yes (resolve with aget)' if graph.needs_async(node.key) else 'no'}",
        "  dependencies:",
    ]
    for d in node.deps:
        target = display_key(d.target) if d.target is not None else ""
        how = d.resolution.value
        if d.resolution is Resolution.BINDING:
            t = graph.node(d.target)
            lifetime = t.binding.lifetime_label if t else "?"
            how = f"{'Lazy ' if d.edge is Edge.LAZY else ''}{lifetime}"
        out.append(f"    {d.param.name}: {target or '-'} [{how}]")
    if not node.deps:
        out.append("    (none)")
    entry_keys = set(data.root_keys)
    paths = _paths_to(nodes, node, entry_keys)
    out.append("  paths to it (from the roots and the bindings nothing depends on):")
    if node.key in entry_keys:
        out.append("    (it is a root)")
    out += [f"    {' -> '.join(p)}" for p in paths]
    if not paths and node.key not in entry_keys:
        out.append("    (nothing depends on it: it is an entry point)")
    related = [p for p in data.problems if p.key == node.label]
    if related:
        out.append("  problems:")
        out += ["    " + line for p in related for line in p.render().splitlines()]
    return "\n".join(out)


def _effective(graph: DependencyGraph, node: Node) -> str:
    """A transient lives as short as the shortest-lived thing it reaches."""
    b = node.binding
    if b.lifetime.value != "transient":
        return b.lifetime_label
    tree = graph.registry.scopes
    deepest: str | None = None
    seen = {node.key}
    stack = [node]
    while stack:
        current = stack.pop()
        for d in current.deps:
            if d.resolution is not Resolution.BINDING or d.edge is not Edge.PLAIN:
                continue
            t = graph.node(d.target)
            if t is None or t.key in seen:
                continue
            seen.add(t.key)
            if t.binding.lifetime.value == "scoped" and t.binding.scope in tree:
                scope = t.binding.scope
                if deepest is None or tree.depth(scope or "") > tree.depth(deepest):
                    deepest = scope
            elif t.binding.lifetime.value == "transient":
                stack.append(t)
    return f"transient, bounded by scope {deepest!r}" if deepest else "transient"


def _paths_to(
    nodes: list[Node], target: Node, roots: set[Key], limit: int = 20
) -> list[list[str]]:
    """Paths down to ``target`` from the entry points: the roots, and the bindings nothing
    depends on; ``limit`` paths at most."""
    parents: dict[Key, list[Node]] = {}
    for n in nodes:
        for d in n.deps:
            if d.resolution is Resolution.BINDING:
                parents.setdefault(d.target, []).append(n)
    paths: list[list[str]] = []

    def walk(node: Node, suffix: list[str], seen: frozenset[Key]) -> None:
        if len(paths) >= limit:
            return
        chain = [node.label, *suffix]
        if node is not target and node.key in roots:
            paths.append(chain)
            return
        ups = [p for p in parents.get(node.key, []) if p.key not in seen]
        if not ups:
            if node is not target:
                paths.append(chain)
            return
        for p in ups:
            walk(p, chain, seen | {p.key})

    walk(target, [], frozenset({target.key}))
    return paths
