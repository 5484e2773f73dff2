"""The graph as a document: one plain view of nodes, edges and unbound keys, and its
DOT, mermaid and JSON renderings, with every label escaped for its format.

Shared by ``injectq-gen graph`` and ``injectq.diagnostics``: a view is made from graph
nodes (a runtime container, the compiler) or from the records a generated module holds.
Imports the model only: no runtime, no injectq_codegen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from injectq.errors import Problem
from injectq.model.graph import Node, Resolution
from injectq.model.introspect import Edge
from injectq.model.markers import Key, display_key
from injectq.model.recipe import Record, Source

__all__ = [
    "FORMATS",
    "GraphView",
    "ViewEdge",
    "ViewMissing",
    "ViewNode",
    "dot_string",
    "graph_dict",
    "mermaid_text",
    "render_graph",
    "view_of_nodes",
    "view_of_records",
]

FORMATS = ("dot", "mermaid", "json")


@dataclass(frozen=True)
class ViewNode:
    """One binding (explicit or auto-wired) as a document shows it."""

    id: str  # n0, n1, ...: what edges refer to
    key: Key
    label: str
    lifetime: str  # singleton, transient, scoped:request
    kind: str  # class, factory, generator, instance, ...
    site: str
    autowired: bool


@dataclass(frozen=True)
class ViewEdge:
    """A parameter of ``source`` that another binding satisfies."""

    source: str
    target: str
    param: str
    lazy: bool


@dataclass(frozen=True)
class ViewMissing:
    """A parameter of ``source`` that nothing satisfies."""

    source: str
    key: Key
    param: str

    @property
    def label(self) -> str:
        return display_key(self.key)


@dataclass(frozen=True)
class GraphView:
    """Nodes, edges and unbound keys of a graph, with the problems its checks found."""

    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    missing: tuple[ViewMissing, ...]
    problems: tuple[Problem, ...]

    @property
    def flagged(self) -> set[str]:
        """Labels an error marks: its key and the path that leads to it (for IQ001: the
        requesters; the unbound key is shown by its own box)."""
        return {
            label
            for p in self.problems
            if p.severity == "error"
            for label in (p.key, *(link.label for link in p.chain if link.lifetime != "unbound"))
        }


def view_of_nodes(nodes: Sequence[Node], problems: Iterable[Problem] = ()) -> GraphView:
    """The view of graph nodes (dependencies outside ``nodes`` are left out)."""
    ids = {n.key: f"n{i}" for i, n in enumerate(nodes)}
    view_nodes: list[ViewNode] = []
    edges: list[ViewEdge] = []
    missing: list[ViewMissing] = []
    for n in nodes:
        b = n.binding
        view_nodes.append(
            ViewNode(ids[n.key], n.key, n.label, b.lifetime_label, b.kind.value, b.site,
                     b.autowired)
        )
        for d in n.deps:
            if d.resolution is Resolution.BINDING and d.target in ids:
                edges.append(ViewEdge(ids[n.key], ids[d.target], d.param.name,
                                      d.edge is Edge.LAZY))
            elif d.resolution is Resolution.MISSING:
                missing.append(ViewMissing(ids[n.key], d.target, d.param.name))
    return GraphView(tuple(view_nodes), tuple(edges), tuple(missing), tuple(problems))


def view_of_records(records: Sequence[Record], problems: Iterable[Problem] = ()) -> GraphView:
    """The view of a generated module's records (each argument's edge is in its layout)."""
    ids = {r.key: f"n{i}" for i, r in enumerate(records)}
    view_nodes: list[ViewNode] = []
    edges: list[ViewEdge] = []
    missing: list[ViewMissing] = []
    for r in records:
        view_nodes.append(
            ViewNode(ids[r.key], r.key, r.label, r.lifetime_label, r.kind, r.site,
                     not r.explicit)
        )
        for name, _keyword, source, target in r.layout:
            if source in (Source.DEP, Source.LAZY) and target in ids:
                edges.append(ViewEdge(ids[r.key], ids[target], name, source == Source.LAZY))
            elif source == Source.MISSING:
                missing.append(ViewMissing(ids[r.key], target, name))
    return GraphView(tuple(view_nodes), tuple(edges), tuple(missing), tuple(problems))


# -- escaping --------------------------------------------------------------------------
# Control characters other than line breaks never go out raw: a label is a key's repr or a
# class's __qualname__, which can hold anything (DOT shows them as \xNN, mermaid as codes).
_CONTROLS = [chr(c) for c in (*range(32), 127) if chr(c) not in "\n\r"]

# DOT: in a quoted string `"` needs a backslash; in a label a backslash starts an escape
# (\n, \l, \N...) and `&` an HTML entity, so both are escaped too; a line break is \n.
_DOT = str.maketrans(
    {"\\": "\\\\", '"': '\\"', "&": "&amp;", "\n": "\\n"}
    | {c: f"\\\\x{ord(c):02x}" for c in _CONTROLS}
)

# Mermaid: a quoted label is HTML, `#name;` in it is an entity code and a backslash-n a
# line break; so `"`, `#`, `<`, `>`, `&`, the backslash and the backtick (a markdown label)
# become entity codes, and a line break is <br/>.
_MERMAID = str.maketrans(
    {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "\\": "#92;"}
    | {"`": "#96;", "\n": "<br/>"}
    | {c: f"#{ord(c)};" for c in _CONTROLS}
)


def _one_line_breaks(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string whose label reads as ``text`` (line breaks kept)."""
    return f'"{_one_line_breaks(text).translate(_DOT)}"'


def mermaid_text(text: str) -> str:
    """``text`` for inside a quoted mermaid label: shown as it is, never taken as markup."""
    out = _one_line_breaks(text).translate(_MERMAID)
    # in a label with a <br/>, mermaid decodes the codes before it reads a backslash-n as a
    # line break and fa:fa-NAME as an icon: a word joiner (U+2060, invisible) keeps them text
    out = re.sub(r"#92;(?=[nN])", "#92;#8288;", out)
    return re.sub(r"(fa[blrs]?:)(?=fa-)", r"\1#8288;", out)


# -- documents -------------------------------------------------------------------------
def graph_dict(view: GraphView) -> dict[str, Any]:
    """The JSON document as data: nodes, edges, unbound keys and problems."""
    flagged = view.flagged
    return {
        "nodes": [
            {"id": n.id, "key": n.label, "lifetime": n.lifetime, "kind": n.kind, "site": n.site,
             "autowired": n.autowired, "problem": n.label in flagged}
            for n in view.nodes
        ],
        "edges": [
            {"from": e.source, "to": e.target, "lazy": e.lazy, "param": e.param}
            for e in view.edges
        ],
        "missing": [{"from": m.source, "key": m.label} for m in view.missing],
        "problems": [p.as_dict() for p in view.problems],
    }


def render_graph(
    view: GraphView,
    fmt: str,
    *,
    lifetimes: bool = True,
    kinds: bool = False,
    clusters: bool = False,
) -> str:
    """``view`` as ``dot``, ``mermaid`` or ``json``; errors and their paths flagged.

    A box shows its key, then (``lifetimes``) its lifetime and (``kinds``) its provider
    kind, a line each; ``clusters`` groups the boxes by lifetime (DOT and mermaid).
    """
    if fmt == "json":
        return json.dumps(graph_dict(view), indent=2)
    if fmt == "mermaid":
        return _mermaid(view, lifetimes, kinds, clusters)
    if fmt == "dot":
        return _dot(view, lifetimes, kinds, clusters)
    raise ValueError(f"unknown graph format {fmt!r}: use one of {', '.join(FORMATS)}")


def _lines(node: ViewNode, lifetimes: bool, kinds: bool) -> list[str]:
    return [node.label, *([node.lifetime] if lifetimes else []), *([node.kind] if kinds else [])]


def _groups(view: GraphView, clusters: bool) -> list[tuple[str, list[ViewNode]]]:
    """The boxes by lifetime (in order of first appearance), or one group of all."""
    if not clusters:
        return [("", list(view.nodes))]
    groups: dict[str, list[ViewNode]] = {}
    for n in view.nodes:
        groups.setdefault(n.lifetime, []).append(n)
    return list(groups.items())


def _mermaid(view: GraphView, lifetimes: bool, kinds: bool, clusters: bool) -> str:
    flagged = view.flagged
    lines = ["graph TD"]
    for i, (group, members) in enumerate(_groups(view, clusters)):
        indent = "    "
        if group:
            lines.append(f'    subgraph cluster{i}["{mermaid_text(group)}"]')
            indent = "        "
        for n in members:
            text = "<br/>".join(mermaid_text(t) for t in _lines(n, lifetimes, kinds))
            lines.append(f'{indent}{n.id}["{text}"]')
            if n.label in flagged:
                lines.append(f"{indent}style {n.id} stroke:#d00,stroke-width:3px")
        if group:
            lines.append("    end")
    for e in view.edges:
        lines.append(f"    {e.source} {'-.->' if e.lazy else '-->'} {e.target}")
    for i, m in enumerate(view.missing):
        lines.append(f'    missing{i}["{mermaid_text(m.label)}<br/>UNBOUND"]:::missing')
        lines.append(f"    {m.source} --> missing{i}")
    if view.missing:
        lines.append("    classDef missing stroke:#d00,stroke-dasharray:4")
    return "\n".join(lines)


def _dot(view: GraphView, lifetimes: bool, kinds: bool, clusters: bool) -> str:
    flagged = view.flagged
    lines = ["digraph injectq {", "    node [shape=box];"]
    for i, (group, members) in enumerate(_groups(view, clusters)):
        indent = "    "
        if group:
            lines += [f"    subgraph cluster{i} {{", f"        label={dot_string(group)};",
                      '        style="dashed";']
            indent = "        "
        for n in members:
            label = dot_string("\n".join(_lines(n, lifetimes, kinds)))
            color = ', color="red", penwidth=2' if n.label in flagged else ""
            lines.append(f"{indent}{n.id} [label={label}{color}];")
        if group:
            lines.append("    }")
    for e in view.edges:
        style = ', style="dashed"' if e.lazy else ""
        lines.append(f"    {e.source} -> {e.target} [label={dot_string(e.param)}{style}];")
    for i, m in enumerate(view.missing):
        lines.append(f'    missing{i} [label={dot_string(m.label + " (unbound)")}, color="red"];')
        lines.append(f"    {m.source} -> missing{i};")
    lines.append("}")
    return "\n".join(lines)
