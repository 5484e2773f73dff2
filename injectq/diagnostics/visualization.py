"""``DependencyVisualizer``: a container's dependency graph as DOT, mermaid, JSON or text.

The DOT, mermaid and JSON documents are the ones ``injectq-gen graph`` writes (one
renderer, injectq.model.graph_view), with every label escaped for its format; the text
view and the statistics are read from the same graph.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from injectq.diagnostics._source import checked_container, cycles, one_line, view_of
from injectq.errors import InjectQError
from injectq.model.graph_view import GraphView, graph_dict, render_graph
from injectq.model.markers import Key

__all__ = ["FORMATS", "DependencyVisualizer", "VisualizationError"]

FORMATS = ("dot", "mermaid", "json", "ascii")


class VisualizationError(InjectQError):
    """The graph cannot be shown as asked (no container, an unknown format)."""


class DependencyVisualizer:
    """Shows a container's dependency graph and answers questions about it.

    ::

        visualizer = DependencyVisualizer(container)
        print(visualizer.to_ascii())
        visualizer.save_graph("dependencies.dot", format="dot")

    Boxes are bindings (explicit ones and the classes they auto-wire), edges are injected
    parameters (dashed: a ``Lazy`` edge), red boxes are on the path of an error, and an
    unbound key gets its own red box. Works with the runtime ``InjectQ`` and with a
    generated container. Each call reads the container's current bindings.
    """

    def __init__(self, container: Any = None) -> None:
        self.container: Any = None
        if container is not None:
            self.set_container(container)

    def set_container(self, container: Any) -> None:
        """Show ``container`` from now on."""
        self.container = checked_container(container, "DependencyVisualizer")

    def _view(self) -> GraphView:
        if self.container is None:
            raise VisualizationError(
                "no container to show: pass one, DependencyVisualizer(container), or call "
                "set_container(container)"
            )
        return view_of(self.container)

    # -- documents -----------------------------------------------------------------------
    def to_dot(
        self,
        include_scopes: bool = True,
        include_types: bool = True,
        cluster_by_scope: bool = False,
    ) -> str:
        """The graph in Graphviz DOT. A box shows its key, then its lifetime
        (``include_scopes``) and provider kind (``include_types``), a line each;
        ``cluster_by_scope`` groups the boxes by lifetime."""
        return render_graph(
            self._view(), "dot", lifetimes=include_scopes, kinds=include_types,
            clusters=cluster_by_scope,
        )

    def to_mermaid(
        self,
        include_scopes: bool = True,
        include_types: bool = False,
        cluster_by_scope: bool = False,
    ) -> str:
        """The graph as a mermaid flowchart (boxes as in ``to_dot``)."""
        return render_graph(
            self._view(), "mermaid", lifetimes=include_scopes, kinds=include_types,
            clusters=cluster_by_scope,
        )

    def to_json(self) -> dict[str, Any]:
        """The graph as data: ``nodes`` (id, key, lifetime, kind, site, autowired,
        problem), ``edges`` (from, to: node ids; lazy; param), ``missing`` (unbound keys),
        ``problems`` (as ``injectq-gen check --format json``) and ``metadata`` (counts)."""
        view = self._view()
        data = graph_dict(view)
        data["metadata"] = {
            "total_services": len(view.nodes),
            "total_dependencies": len(view.edges),
            "service_types": sorted({n.kind for n in view.nodes}),
            "scopes": sorted({n.lifetime for n in view.nodes}),
        }
        return data

    def to_ascii(self, max_width: int = 80) -> str:
        """The graph as plain text: each binding with what it depends on; lines longer
        than ``max_width`` are wrapped (a label is never cut)."""
        view = self._view()
        by_id = {n.id: n for n in view.nodes}
        deps: dict[str, list[str]] = {}
        for e in view.edges:
            lazy = "Lazy " if e.lazy else ""
            deps.setdefault(e.source, []).append(
                f"{e.param}: {lazy}{one_line(by_id[e.target].label)}"
            )
        for m in view.missing:
            deps.setdefault(m.source, []).append(f"{m.param}: {one_line(m.label)} (unbound)")
        flagged = view.flagged
        lines = ["=== Dependency Graph ===", ""]
        for n in sorted(view.nodes, key=lambda n: n.label):
            mark = "  [error]" if n.label in flagged else ""
            header = f"{one_line(n.label)} ({n.kind}, {n.lifetime}){mark}"
            lines += _wrap(header, max_width, "")
            lines.append("-" * min(len(header), max_width))
            if n.id in deps:
                lines.append("Dependencies:")
                for text in deps[n.id]:
                    lines += _wrap(f"  -> {text}", max_width, "     ")
            else:
                lines.append("No dependencies")
            lines.append("")
        errors = [p for p in view.problems if p.severity == "error"]
        if errors:
            lines.append(f"Problems ({len(errors)}):")
            for p in errors:
                lines += _wrap(
                    f"  {p.code} {p.name}: {one_line(p.message)}", max_width, "    "
                )
            lines.append("")
        return "\n".join(lines)

    def visualize(self, format: str = "dot", **options: Any) -> str:
        """The graph as text in ``format``: ``dot``, ``mermaid``, ``json`` or ``ascii``;
        ``options`` go to ``to_dot``, ``to_mermaid`` or ``to_ascii``."""
        if format == "dot":
            return self.to_dot(**options)
        if format == "mermaid":
            return self.to_mermaid(**options)
        if format == "ascii":
            return self.to_ascii(**options)
        if format == "json":
            if options:
                raise VisualizationError(
                    f"the json format takes no options (got {', '.join(sorted(options))})"
                )
            return json.dumps(self.to_json(), indent=2, ensure_ascii=False)
        raise VisualizationError(
            f"unknown graph format {format!r}: use one of {', '.join(FORMATS)}"
        )

    def save_graph(
        self,
        filename: str | os.PathLike[str],
        format: str = "dot",
        **options: Any,
    ) -> None:
        """Write ``visualize(format, **options)`` to ``filename`` (UTF-8)."""
        from pathlib import Path

        text = self.visualize(format, **options)
        Path(filename).write_text(text + "\n", encoding="utf-8")

    # -- questions -----------------------------------------------------------------------
    def get_statistics(self) -> dict[str, Any]:
        """Counts: bindings (``total_services``), injected dependencies, the average and
        largest number per binding, bindings by provider kind and by lifetime, the five
        with most dependencies and the five most depended upon (``(key, count)``),
        unbound dependencies and errors."""
        view = self._view()
        key_of = {n.id: n.key for n in view.nodes}
        outgoing = Counter(e.source for e in view.edges)
        incoming = Counter(e.target for e in view.edges)
        total = len(view.edges)
        return {
            "total_services": len(view.nodes),
            "total_dependencies": total,
            "average_dependencies": total / len(view.nodes) if view.nodes else 0,
            "max_dependencies": max(outgoing.values(), default=0),
            "services_by_type": dict(Counter(n.kind for n in view.nodes)),
            "services_by_scope": dict(Counter(n.lifetime for n in view.nodes)),
            "most_dependencies": [(key_of[i], c) for i, c in outgoing.most_common(5)],
            "most_depended_upon": [(key_of[i], c) for i, c in incoming.most_common(5)],
            "missing_dependencies": len(view.missing),
            "errors": sum(1 for p in view.problems if p.severity == "error"),
        }

    def find_cycles(self) -> list[list[Key]]:
        """The cycles that make resolution fail (a ``Lazy`` edge breaks one), each from
        its first member back to it (``[A, B, A]``); one per group of bindings that depend
        on each other."""
        return cycles(self._view())

    def get_dependency_path(self, from_service: Key, to_service: Key) -> list[Key] | None:
        """A shortest chain of dependencies from one key to another (``[from, ..., to]``),
        or None when ``from_service`` does not reach ``to_service``."""
        view = self._view()
        if from_service == to_service:
            return [from_service]
        key_of = {n.id: n.key for n in view.nodes}
        targets: dict[Key, list[Key]] = {}
        for e in view.edges:
            targets.setdefault(key_of[e.source], []).append(key_of[e.target])
        previous: dict[Key, Key] = {}
        frontier = [from_service]
        seen = {from_service}
        while frontier:
            following: list[Key] = []
            for key in frontier:
                for target in targets.get(key, ()):
                    if target in seen:
                        continue
                    previous[target] = key
                    if target == to_service:
                        path = [target]
                        while path[-1] != from_service:
                            path.append(previous[path[-1]])
                        return path[::-1]
                    seen.add(target)
                    following.append(target)
            frontier = following
        return None


def _wrap(line: str, width: int, indent: str) -> list[str]:
    if len(line) <= width:
        return [line]
    import textwrap

    return textwrap.wrap(
        line, width=max(width, len(indent) + 10), subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    ) or [line]
