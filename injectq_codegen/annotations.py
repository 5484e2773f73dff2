"""Names a module imports only under ``if TYPE_CHECKING:``, found with libcst and imported.

The runtime container cannot evaluate ``def __init__(self, repo: "Repo")`` when ``Repo``
is imported only for type checkers; injectq-gen can: it reads the defining module's
source, finds those imports, and imports them for real at build time. The generated
module then imports the class like any other.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from typing import Any

import libcst as cst

__all__ = ["type_checking_fallback", "type_checking_imports"]


class _Collector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.depth = 0
        self.found: dict[str, tuple[str, str | None, int]] = {}  # name -> (module, attr, level)

    @staticmethod
    def _is_type_checking(test: cst.BaseExpression) -> bool:
        if isinstance(test, cst.Name):
            return test.value == "TYPE_CHECKING"
        return isinstance(test, cst.Attribute) and test.attr.value == "TYPE_CHECKING"

    def visit_If(self, node: cst.If) -> bool:
        if self._is_type_checking(node.test):
            self.depth += 1
        return True

    def leave_If(self, original_node: cst.If) -> None:
        if self._is_type_checking(original_node.test):
            self.depth -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not self.depth or isinstance(node.names, cst.ImportStar):
            return False
        module = _dotted(node.module) if node.module is not None else ""
        level = len(node.relative)
        for alias in node.names:
            name = _dotted(alias.name)
            as_name = _dotted(alias.asname.name) if alias.asname else name
            self.found[as_name] = (module, name, level)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        if not self.depth:
            return False
        for alias in node.names:
            name = _dotted(alias.name)
            if alias.asname:
                self.found[_dotted(alias.asname.name)] = (name, None, 0)
            else:
                top = name.split(".")[0]
                self.found[top] = (top, None, 0)
        return False


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def type_checking_imports(module_name: str) -> dict[str, tuple[str, str | None, int]]:
    module = sys.modules.get(module_name)
    if module is None:
        return {}
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return {}
    try:
        tree = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return {}
    collector = _Collector()
    tree.visit(collector)
    return collector.found


@functools.cache
def type_checking_fallback(module_name: str) -> dict[str, Any]:
    """Import what ``module_name`` imports under TYPE_CHECKING: name -> object."""
    out: dict[str, Any] = {}
    package = module_name.rpartition(".")[0]
    for name, (module, attr, level) in type_checking_imports(module_name).items():
        target = ("." * level + module) if level else module
        try:
            imported = importlib.import_module(target, package or None)
            if attr and not hasattr(imported, attr):  # `from pkg import submodule`
                importlib.import_module(f"{imported.__name__}.{attr}")
            out[name] = getattr(imported, attr) if attr else imported
        except (ImportError, AttributeError):
            continue
    return out
