"""What the diagnostics read of a container: its graph as a view, and its problems.

Both containers qualify: the runtime ``InjectQ`` gives its dependency graph and runs the
checks on it; a generated container gives the records its module was written with (its
graph was checked when it was generated). Read by duck typing, so that importing this
module reaches neither the exec compiler nor a generated module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from injectq.errors import GraphValidationError, Problem
from injectq.model.graph import DependencyGraph
from injectq.model.graph_view import GraphView, ViewNode, view_of_nodes, view_of_records
from injectq.model.markers import Key
from injectq.model.recipe import Record

__all__ = ["checked_container", "cycles", "is_container", "one_line", "problems_of", "view_of"]


def is_container(obj: object) -> bool:
    """An injectq container, runtime or generated: both mark their class and give each
    key's record (``node_info``)."""
    return getattr(type(obj), "__injectq_container__", False) is True and callable(
        getattr(obj, "node_info", None)
    )


def checked_container(container: Any, who: str) -> Any:
    """``container``, once it is an injectq container; else the TypeError ``who`` (a
    diagnostics class) raises."""
    if not is_container(container):
        raise TypeError(
            f"{who} needs an injectq container (InjectQ or a generated one), got "
            f"{type(container).__qualname__}"
        )
    return container


def problems_of(container: Any, roots: Iterable[Any] = ()) -> list[Problem]:
    """Every problem the container's own checks report (errors and warnings)."""
    check = getattr(container, "check", None)
    if callable(check):
        return list(cast("Iterable[Problem]", check(roots)))
    # a generated container was checked when it was generated: its validate() says so
    try:
        return list(container.validate(roots))
    except GraphValidationError as exc:
        return list(exc.problems)


def view_of(container: Any) -> GraphView:
    """The container's graph: its explicit bindings, what they reach, and the problems."""
    problems = problems_of(container)
    graph = getattr(container, "graph", None)
    if isinstance(graph, DependencyGraph):
        return view_of_nodes(graph.all_nodes(), problems)
    records: list[Record] = []
    keys = container.keys()  # a generated container: the keys of its records
    for key in keys:
        record = container.node_info(key)
        if record is not None:
            records.append(record)
    return view_of_records(records, problems)


def cycles(view: GraphView) -> list[list[Key]]:
    """The keys of each cycle the checks report (IQ002), from its first member back to
    it: one per group of bindings that depend on each other without a Lazy edge."""
    by_id = {n.id: n for n in view.nodes}
    plain: dict[str, list[ViewNode]] = {}
    for e in view.edges:
        if not e.lazy:
            plain.setdefault(e.source, []).append(by_id[e.target])
    found: list[list[Key]] = []
    for problem in view.problems:
        labels = [link.label for link in problem.chain]
        if problem.code != "IQ002" or len(labels) < 2:
            continue
        for start in (n for n in view.nodes if n.label == labels[0]):
            path = [start]
            for label in labels[1:]:
                step = next((t for t in plain.get(path[-1].id, ()) if t.label == label), None)
                if step is None:
                    break
                path.append(step)
            if len(path) == len(labels):
                found.append([n.key for n in path])
                break
    return found


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: str) -> str:
    """``text`` for a line of a text report: line breaks and control characters escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
