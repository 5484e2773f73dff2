"""The error path costs the same in a graph of 10,000 bindings as in one of 100: a failing
``get()`` 20 levels deep names the whole path, and the work it does to find it (counted
in lines run and calls, never timed) does not grow with the bindings, in both containers."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from injectq import InjectQ, ScopeError
from tests.codegen_support import build_wiring, codegen_env, make_project, unique_name

__all__ = ["codegen_env"]

DEPTH = 20


def _source(filler: int) -> str:
    """``filler`` unrelated bindings of a few shapes, and a chain E19 -> ... -> E0 whose
    bottom factory raises."""
    lines = ["from injectq import Module", "", "class Boom(Exception):", "    pass", ""]
    lines += ["class E0:", "    pass", "", "def make_e0() -> E0:", '    raise Boom("no E0")', ""]
    for i in range(1, DEPTH):
        lines += [f"class E{i}:", f"    def __init__(self, d: E{i - 1}) -> None:",
                  "        self.d = d", ""]
    for i in range(filler):
        dep = f"self, d: F{i - 1}" if i % 3 and i else "self"
        lines += [f"class F{i}:", f"    def __init__({dep}) -> None:", "        pass", ""]
    lines += ["class App(Module):", "    def configure(self) -> None:",
              "        self.bind_factory(E0, make_e0).transient()"]
    lines += [f"        self.bind(E{i}, E{i}).transient()" for i in range(1, DEPTH)]
    life = ("transient()", "singleton()", 'scoped("request")')
    lines += [f"        self.bind(F{i}, F{i}).{life[i % 2]}" for i in range(filler)]
    return "\n".join(lines) + "\n"


def _steps(fn: Callable[[], Any]) -> int:
    """Python lines executed and C functions called by ``fn()`` (which raises): a loop
    over the bindings would show as thousands of lines."""
    count = 0

    def trace(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return trace

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    sys.settrace(trace)
    sys.setprofile(profile)
    try:
        fn()
    except Exception:  # the factory's Boom, with the path attached
        pass
    finally:
        sys.setprofile(None)
        sys.settrace(None)
    return count


def _failing_get_calls(root: Path, which: str, filler: int) -> tuple[int, list[str]]:
    package = unique_name("errpath")
    make_project(root, {f"{package}/app.py": _source(filler)})
    mod = importlib.import_module(f"{package}.app")
    if which == "runtime":
        c: Any = InjectQ()
        c.install(mod.App())
    else:
        c = build_wiring([f"{package}.app:App"]).container
    top = getattr(mod, f"E{DEPTH - 1}")
    with c.scope("request"):  # every binding compiled and used, as in a running app
        for i in range(filler):
            c.get(getattr(mod, f"F{i}"))
    with pytest.raises(mod.Boom) as info:  # the first: compiles what it needs
        c.get(top)
    path = [link.label for link in info.value.injectq_path]  # type: ignore[attr-defined]
    return _steps(lambda: c.get(top)), path


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_a_failing_get_costs_the_same_at_10_000_bindings(codegen_env: Path, which: str) -> None:
    small, path = _failing_get_calls(codegen_env, which, 100)
    large, large_path = _failing_get_calls(codegen_env, which, 10_000)
    assert path == large_path == [f"E{i}" for i in reversed(range(DEPTH))]
    assert large <= small * 1.05 + 10, (small, large)


_SCOPED = """
from injectq import Module

class S:
    pass

class B:
    def __init__(self, s: S) -> None:
        self.s = s

class A:
    def __init__(self, b: B) -> None:
        self.b = b

class App(Module):
    def configure(self) -> None:
        self.bind(S, S).scoped("request")
        self.bind(B, B).transient()
        self.bind(A, A).transient()
"""


@pytest.mark.parametrize("which", ["runtime", "generated"])
def test_a_scope_not_open_names_the_path_it_was_reached_by(
    codegen_env: Path, which: str
) -> None:
    """A ScopeError raised for the binding at the bottom says how it was reached."""
    package = unique_name("noscope")
    make_project(codegen_env, {f"{package}/app.py": _SCOPED})
    mod = importlib.import_module(f"{package}.app")
    if which == "runtime":
        c: Any = InjectQ()
        c.install(mod.App())
    else:
        c = build_wiring([f"{package}.app:App"]).container
    with pytest.raises(ScopeError, match="S is scoped to 'request'") as info:
        c.get(mod.A)
    assert [link.label for link in info.value.injectq_path] == ["A", "B", "S"]  # type: ignore[attr-defined]
    assert "raised while resolving A [transient] -> B [transient] -> S [scoped:request]" in (
        "\n".join(info.value.__notes__)
    )
    with pytest.raises(ScopeError) as direct:  # asked for itself: no note to add
        c.get(mod.S)
    assert not getattr(direct.value, "__notes__", None)
