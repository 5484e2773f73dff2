"""The dependency path of an error a provider raised during ``get`` / ``aget``.

A factory or constructor that raises keeps its own exception type (callers catch it as
they would without injection). On its way out of ``get`` the container adds what it was
building: ``exc.injectq_path`` (PathLinks from the requested key to the binding whose
provider raised) and a note (PEP 678) that tracebacks show. Only the failure path runs
this: the traceback is read frame by frame; frames of resolvers name their binding, and
a call inlined into a resolver line (a transient built in place) is found from the
position of the failing call in that line.
"""

from __future__ import annotations

import ast
import contextlib
import linecache
from types import CodeType, FrameType
from typing import Any, Protocol

from injectq.errors import InjectQError, PathLink
from injectq.runtime import deep

__all__ = ["PathHost", "calls_at", "note_path", "pathless"]

_NONE: Any = object()
_SHOWN = 12  # links of a path a note shows
_WALKS = frozenset({deep.build.__code__, deep.abuild.__code__})
_SAME: Any = object()


class PathHost(Protocol):
    """What a container tells the path reader. The underscored hooks are for this module
    only, not for users: both containers name them so."""

    def node_info(self, key: Any) -> Any: ...
    def _frame_key(self, frame: FrameType) -> Any: ...  # a binding's key, or _NONE
    def _callee_key(self, callee: str, parent: Any) -> Any: ...  # inlined provider, or _NONE
    def _real_callee(self, callee: str, frame_key: Any) -> str: ...  # a name in frame_key's code


def calls_at(code: CodeType, lasti: int) -> list[str]:
    """Names of the calls that enclose the instruction at ``lasti``, outermost first."""
    try:
        line, end_line, col, end_col = list(code.co_positions())[lasti // 2]
    except (IndexError, ValueError):
        return []
    if line is None or line != end_line or col is None or end_col is None:
        return []
    text = linecache.getline(code.co_filename, line)
    indent = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(text.strip())
    except SyntaxError:
        return []
    calls = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        and n.col_offset + indent <= col and (n.end_col_offset or 0) + indent >= end_col
    ]
    calls.sort(key=lambda n: n.col_offset)
    return [n.func.id for n in calls if isinstance(n.func, ast.Name)]


def _link(host: PathHost, key: Any) -> PathLink:
    from injectq.model.markers import display_key

    info = host.node_info(key)
    if info is None:
        return PathLink(display_key(key))
    lifetime = f"scoped:{info.scope}" if info.lifetime == "scoped" else info.lifetime
    return PathLink(info.label, lifetime, info.site)


_PATHLESS = "_injectq_pathless"


def pathless(exc: InjectQError) -> InjectQError:
    """One of our errors raised where its path is not known (a binding whose scope is not
    open names itself only): ``note_path`` adds the path it was reached by."""
    setattr(exc, _PATHLESS, True)
    return exc


def note_path(host: PathHost, key: Any, exc: BaseException) -> None:
    """Attach the path from ``key`` to the binding whose provider raised ``exc``."""
    ours = isinstance(exc, InjectQError) and not getattr(exc, _PATHLESS, False)
    if ours or hasattr(exc, "injectq_path"):
        return  # ours carry their own path; an inner get already told where it failed
    keys = [key]

    def push(k: Any) -> None:
        if k is not _NONE and k != keys[-1]:
            keys.append(k)

    try:
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in _WALKS:  # deep.py's stack: the records being made
                for frame in tb.tb_frame.f_locals.get("frames", ()):
                    push(frame[0].key)
                tb = tb.tb_next
                continue
            k = host._frame_key(tb.tb_frame)  # pyright: ignore[reportPrivateUsage]
            if k is _SAME:  # a creation function called for the binding of the frames above
                k = keys[-1]
            if k is not _NONE:
                push(k)
                for name in calls_at(tb.tb_frame.f_code, tb.tb_lasti):
                    callee = host._real_callee(name, k)  # pyright: ignore[reportPrivateUsage]
                    push(host._callee_key(callee, keys[-1]))  # pyright: ignore[reportPrivateUsage]
            tb = tb.tb_next
        path = tuple(_link(host, k) for k in keys)
    except Exception:  # never hide the user's error behind ours
        return
    if len(path) == 1 and isinstance(exc, InjectQError):
        return  # asked for directly: its message says it all
    last = path[-1]
    shown = [p.render() for p in path]
    if len(shown) > _SHOWN:  # a deep graph: its ends (the whole path is in injectq_path)
        shown[_SHOWN // 2:-_SHOWN // 2] = [f"... {len(path) - _SHOWN} more ..."]
    lines = ["injectq: raised while resolving " + " -> ".join(shown)]
    if last.site:
        lines.append(f"  {last.label} bound at {last.site}")
    # an exception that refuses attributes (__slots__, a frozen dataclass) is left as it
    # is: attaching the path must never change what the caller catches
    with contextlib.suppress(Exception):
        exc.injectq_path = path  # type: ignore[attr-defined]
    with contextlib.suppress(Exception):
        exc.add_note("\n".join(lines))


NONE = _NONE
SAME = _SAME  # what _frame_key returns for a frame building the binding of the one above
