"""The package layout shows the pipeline and its imports point one way: the model part
never imports the runtime part, and generated modules (through ``injectq.wiring``) never
reach the exec compiler."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "injectq"


def _imports(path: Path) -> set[str]:
    """The injectq modules a file imports at module level or in functions (not for type
    checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = {
        id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
        and getattr(node.test, "id", "") == "TYPE_CHECKING" for n in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("injectq"):
            found.add(node.module)
            for alias in node.names:  # `from injectq.runtime import forking`
                if (ROOT.parent / node.module.replace(".", "/") / f"{alias.name}.py").exists():
                    found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("injectq")}
    return found


def _file(module: str) -> Path | None:
    path = ROOT.parent / (module.replace(".", "/") + ".py")
    return path if path.exists() else None


def test_the_model_never_imports_the_runtime() -> None:
    """binding, registry, introspect, graph, checks, recipe: no import of injectq.runtime."""
    for path in sorted((ROOT / "model").glob("*.py")):
        bad = {m for m in _imports(path) if m.startswith(("injectq.runtime", "injectq.wiring"))}
        assert not bad, f"{path.name} imports {bad}"


def test_generated_modules_never_reach_the_exec_compiler() -> None:
    """What injectq.wiring imports, transitively, holds no compiler (nor injectq_codegen)."""
    seen: set[str] = set()
    todo = ["injectq.wiring"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _file(module)
        if path is not None:
            todo += sorted(_imports(path))
    assert "injectq.runtime.compiler" not in seen
    assert "injectq.runtime.container" not in seen
    assert not any(m.startswith("injectq_codegen") for m in seen)
    assert {"injectq.runtime.creation", "injectq.model.recipe"} <= seen
