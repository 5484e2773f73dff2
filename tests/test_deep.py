"""Graphs deeper than the call stack: a 10,000-binding chain of singletons (or scoped
instances) and a 1,000-binding chain of transients resolve in both containers, cold, in
``aget``, ``warm()`` and under ``override()``; ``injectq-gen build --root`` builds them."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest

from injectq import InjectQ
from tests.codegen_support import build_wiring, codegen_env, make_project, run_gen, unique_name

__all__ = ["codegen_env"]


def _chain_source(n: int, lifetime: str) -> str:
    life = 'scoped("request")' if lifetime == "scoped" else f"{lifetime}()"
    lines = ["from injectq import Module", "", "class C0:", "    pass", ""]
    for i in range(1, n):
        lines += [f"class C{i}:", f"    def __init__(self, d: C{i - 1}) -> None:",
                  "        self.d = d", ""]
    lines += ["class Chain(Module):", "    def configure(self) -> None:"]
    lines += [f"        self.bind(C{i}, C{i}).{life}" for i in range(n)]
    return "\n".join(lines) + "\n"


def _bottom(obj: Any, n: int) -> Any:
    for _ in range(n - 1):
        obj = obj.d
    return obj


CASES = [("singleton", 10_000), ("scoped", 10_000), ("transient", 1_000)]


@pytest.mark.parametrize("which", ["runtime", "generated"])
@pytest.mark.parametrize(("lifetime", "n"), CASES, ids=[c[0] for c in CASES])
def test_a_deep_chain_resolves(codegen_env: Path, which: str, lifetime: str, n: int) -> None:
    package = unique_name("deep")
    make_project(codegen_env, {f"{package}/chain.py": _chain_source(n, lifetime)})
    mod = importlib.import_module(f"{package}.chain")
    if which == "runtime":
        c: Any = InjectQ()
        c.install(mod.Chain())
    else:
        c = build_wiring([f"{package}.chain:Chain"]).container
    top, bottom = getattr(mod, f"C{n - 1}"), mod.C0

    with c.scope():
        got = c.get(top)
        assert isinstance(_bottom(got, n), bottom)
        if lifetime != "transient":
            assert c.get(top) is got  # cached where the resolvers look
            assert c.get(getattr(mod, f"C{n // 2}")) is _bottom(got, n - n // 2)

    async def aget() -> Any:
        async with c.scope():
            return await c.aget(top)

    assert isinstance(_bottom(asyncio.run(aget()), n), bottom)
    replacement = bottom()
    with c.override(bottom, replacement), c.scope():
        assert _bottom(c.get(top), n) is replacement
    if lifetime == "singleton":
        c.warm()


def test_build_with_a_root_at_the_end_of_a_deep_chain(codegen_env: Path) -> None:
    package = unique_name("deeproot")
    make_project(codegen_env, {f"{package}/chain.py": _chain_source(1_000, "transient")})
    result = run_gen("build", f"{package}.chain:Chain", "--root", f"{package}.chain:C999",
                     "-o", "deep_wiring.py", cwd=codegen_env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
