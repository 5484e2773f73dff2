"""Property tests of injectq-gen: any text as a key, a binding name or a scope name gives a
module that parses, imports and resolves it, never running that text; random small graphs
either pass and resolve, or give IQ problems (the same codes as the runtime container).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import importlib
import json
import keyword
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from injectq import InjectQ
from injectq_codegen.build import generate
from injectq_codegen.errors import GraphProblems
from tests.codegen_support import build_wiring, make_project, unique_name

SENTINEL = "INJECTQ_FUZZ_PWNED"

# text that would run if pasted raw into any quoting context of the generated module
PAYLOADS = [
    f"x'); __import__('builtins').{SENTINEL} = 1 #",
    f'x"); __import__("builtins").{SENTINEL} = 1 #',
    f"\n__import__('builtins').{SENTINEL} = 1\n",
    f'"""\n__import__("builtins").{SENTINEL} = 1\n"""',
    f"'''; __import__('builtins').{SENTINEL} = 1; '''",
    f"\\'); __import__('builtins').{SENTINEL} = 1 #",
    f"\\\"); __import__('builtins').{SENTINEL} = 1 #",
    f"}}; __import__('builtins').{SENTINEL} = 1 #",
    f"\r__import__('builtins').{SENTINEL} = 1\r",
    f"\x0c\x0b__import__('builtins').{SENTINEL} = 1",
    f"\u2028__import__('builtins').{SENTINEL} = 1",
]

TRICKY = [
    "a b", "a-b", "a_b", "A B", "aB", "a__b", "_a_b_", "1", "01", "", " ", "_", "__",
    "class", "None", "True", "import", "match", "type", "_", "container", "Any", "cast",
    "v", "s", "st", "lock", "fut", "provide_x", "_create_x", "_iq_reset", "_iq_G",
    "_iq_OV", "_iq_nodes", "__init__", "__slots__", "ÿ", "é", "名前", "🙂", "\\", "\\\\",
    "'", '"', "'''", '"""', "\n", "\t", "\x00", "\x7f", "#", "# noqa", "{{ x }}", "{% if %}",
    "\\N{BULLET}", "\\x41", "\\u0041", "%s", "{}", "$x",
]

names = st.one_of(
    st.sampled_from(PAYLOADS + TRICKY),
    st.text(min_size=0, max_size=12),
    st.text(alphabet="aA_- '\"\\\n1é", min_size=1, max_size=6),
)

RESERVED_SCOPES = {
    "app", "singleton", "transient", "request", "action", "async_request", "async_action",
}

FUZZ_APP = """\
import json
from pathlib import Path

from injectq import Module

DATA = json.loads((Path(__file__).parent / "names.json").read_text(encoding="utf-8"))


class Value:
    def __init__(self, tag: str) -> None:
        self.tag = tag


class Svc:
    pass


class Scoped:
    pass


class FuzzModule(Module):
    def configure(self) -> None:
        for i, key in enumerate(DATA["keys"]):
            self.bind(key, Value(f"key-{i}"))
        for name in DATA["names"]:
            self.bind(Svc, Svc, name=name).singleton()
        for i, name in enumerate(DATA["value_names"]):
            self.bind_instance(Value, Value(f"named-{i}"), name=name)
        for scope in DATA["scopes"]:
            self.declare_scope(scope, parent="request")
            self.bind(Scoped, Scoped, name=scope).scoped(scope)
"""


def _write_app(root: Path, data: dict[str, list[str]]) -> str:
    package = unique_name("fz")
    make_project(root, {f"{package}/app.py": FUZZ_APP})
    (root / package / "names.json").write_text(json.dumps(data), encoding="utf-8")
    return package


def _check_fuzz_wiring(root: Path, data: dict[str, list[str]]) -> None:
    package = _write_app(root, data)
    source, _ = generate([f"{package}.app:FuzzModule"])
    ast.parse(source)
    wiring = build_wiring([f"{package}.app:FuzzModule"])
    app = importlib.import_module(f"{package}.app")
    c = wiring.container
    for i, key in enumerate(data["keys"]):
        assert c.get(key).tag == f"key-{i}"
        assert c.has(key)
    svcs = [c.get(app.Svc, name) for name in data["names"]]
    assert all(isinstance(s, app.Svc) for s in svcs)
    assert len({id(s) for s in svcs}) == len(svcs)
    assert all(c.get(app.Svc, name) is s for name, s in zip(data["names"], svcs, strict=True))
    for i, name in enumerate(data["value_names"]):
        assert c.get(app.Value, name).tag == f"named-{i}"
    with c.scope("request"):
        for scope in data["scopes"]:
            with c.scope(scope):
                one = c.get(app.Scoped, scope)
                assert c.get(app.Scoped, scope) is one
    assert not hasattr(builtins, SENTINEL)


def _unique(strategy: st.SearchStrategy[str], **kw: Any) -> st.SearchStrategy[list[str]]:
    return st.lists(strategy, unique=True, **kw)


@settings(
    max_examples=30, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    keys=_unique(names, max_size=5),
    binding_names=_unique(names, max_size=4),
    value_names=_unique(names, max_size=3),
    scopes=_unique(names.filter(lambda s: s and s not in RESERVED_SCOPES), max_size=2),
)
def test_any_text_as_key_name_or_scope_is_emitted_safely(
    codegen_env: Path, keys: list[str], binding_names: list[str], value_names: list[str],
    scopes: list[str],
) -> None:
    """String keys, binding names and scope names with any characters give a module that
    parses, imports, resolves each to the right object, and runs none of the text."""
    data = {"keys": keys, "names": binding_names, "value_names": value_names, "scopes": scopes}
    _check_fuzz_wiring(codegen_env, data)


def test_all_payloads_and_tricky_names_at_once(codegen_env: Path) -> None:
    """Every payload and name colliding after sanitizing, together in one module."""
    pool = list(dict.fromkeys(PAYLOADS + TRICKY))
    scopes = [s for s in pool if s and s not in RESERVED_SCOPES]
    _check_fuzz_wiring(codegen_env, {
        "keys": pool, "names": pool, "value_names": pool, "scopes": scopes,
    })


EXIT_PAYLOADS = [
    '"); import os; os._exit(3) #',
    "'); import os; os._exit(3) #",
    "\nimport os; os._exit(3)\n",
    '"""\nimport os; os._exit(3)\n"""',
]

RUN_ALL = """\
import sys

import {wiring} as w
from {package}.app import DATA, Svc, Value

c = w.container
for key in DATA["keys"]:
    assert isinstance(c.get(key), Value)
for name in DATA["names"]:
    assert isinstance(c.get(Svc, name), Svc)
print("resolved", len(DATA["keys"]) + len(DATA["names"]))
"""


def test_injected_exit_never_runs(codegen_env: Path) -> None:
    """A name such as `"); import os; os._exit(3) #` never runs: a fresh process builds,
    imports and resolves it, and exits normally."""
    data = {"keys": EXIT_PAYLOADS, "names": EXIT_PAYLOADS, "value_names": EXIT_PAYLOADS,
            "scopes": EXIT_PAYLOADS}
    package = _write_app(codegen_env, data)
    wiring = unique_name("fz_wiring")
    proc = subprocess.run(
        [sys.executable, "-m", "injectq_codegen", "build", f"{package}.app:FuzzModule",
         "-o", f"{wiring}.py", "-q"],
        cwd=codegen_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    script = codegen_env / "run_all.py"
    script.write_text(RUN_ALL.format(wiring=wiring, package=package), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=codegen_env, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"resolved {2 * len(EXIT_PAYLOADS)}"


COLLIDING = """\
from collections.abc import Iterator

from injectq import Module


class X:
    pass


class CreateX:
    pass


class IqReset:
    pass


class IqNodes:
    pass


class MappingProxyType:
    pass


class lock:  # noqa: N801 - a user's odd class name that the generated code also uses
    pass


async def contextvars() -> lock:
    return lock()


class ProvideX:
    pass


class XSlot:
    pass


def globals() -> Iterator[X]:  # noqa: A001 - collides with a builtin the template calls
    yield X()


class CollidingModule(Module):
    def configure(self) -> None:
        self.bind(X, X).singleton()
        self.bind(CreateX, CreateX).singleton()
        self.bind(IqReset, IqReset).singleton()
        self.bind(IqNodes, IqNodes).singleton()
        self.bind(MappingProxyType, MappingProxyType).scoped()
        self.bind_factory(lock, contextvars).singleton()
        self.bind(ProvideX, ProvideX).singleton()
        self.bind(XSlot, XSlot).singleton()
        self.bind_factory("gen", globals).singleton()
"""


async def test_user_names_colliding_with_generated_names(codegen_env: Path) -> None:
    """User classes and functions named like the generated module's own names (X and
    CreateX, IqReset, lock, MappingProxyType, contextvars, globals) still wire correctly."""
    make_project(codegen_env, {"coll/app.py": COLLIDING})
    wiring = build_wiring(["coll.app:CollidingModule"])
    app = importlib.import_module("coll.app")
    c = wiring.container
    for cls in (app.X, app.CreateX, app.IqReset, app.IqNodes, app.ProvideX, app.XSlot):
        assert isinstance(c.get(cls), cls)
        assert c.get(cls) is c.get(cls)
    assert isinstance(await c.aget(app.lock), app.lock)
    assert await c.aget(app.lock) is await c.aget(app.lock)
    assert isinstance(c.get("gen"), app.X)
    with c.scope():
        assert isinstance(c.get(app.MappingProxyType), app.MappingProxyType)
    await c.aclose()
    assert isinstance(c.get(app.X), app.X)


# -- random small graphs -----------------------------------------------------------------


LIFETIMES = ["singleton", "transient", "scoped('request')", "scoped('action')"]
PROVIDERS = ["class", "factory", "async_factory", "generator"]


@dataclass
class Spec:
    deps: list[tuple[int, bool]]  # (target class, lazy)
    bound: bool
    lifetime: str
    provider: str
    missing: bool


def _spec(n: int) -> st.SearchStrategy[Spec]:
    return st.builds(
        Spec,
        deps=st.lists(st.tuples(st.integers(0, n - 1), st.booleans()), max_size=3),
        bound=st.booleans(),
        lifetime=st.sampled_from(LIFETIMES),
        provider=st.sampled_from(PROVIDERS),
        missing=st.integers(0, 9).map(lambda x: x == 0),
    )


graphs = st.integers(1, 5).flatmap(
    lambda n: st.tuples(st.lists(_spec(n), min_size=n, max_size=n), st.booleans())
)


def _graph_source(specs: list[Spec], duplicate: bool) -> str:
    out = [
        "from __future__ import annotations",
        "",
        "from typing import Protocol",
        "",
        "from injectq import Lazy, Module",
        "",
        "",
        "class Unbound(Protocol):",
        "    def run(self) -> None: ...",
        "",
    ]
    for i, spec in enumerate(specs):
        params = [
            f"d{k}: {'Lazy[' if lazy else ''}C{j}{']' if lazy else ''}"
            for k, (j, lazy) in enumerate(spec.deps)
        ]
        if spec.missing:
            params.append("m: Unbound")
        sig = ", ".join(params)
        args = ", ".join(p.split(":")[0] for p in params)
        out += [
            "",
            f"class C{i}:",
            f"    def __init__(self{', ' if sig else ''}{sig}) -> None:",
            f"        self.deps = ({args}{',' if params else ''})",
            "",
            "",
            f"def make{i}({sig}) -> C{i}:",
            f"    return C{i}({args})",
            "",
            "",
            f"async def amake{i}({sig}) -> C{i}:",
            f"    return C{i}({args})",
            "",
            "",
            f"def gen{i}({sig}):  # type: ignore[no-untyped-def]",
            f"    yield C{i}({args})",
            "",
        ]
    out += ["", "class GraphModule(Module):", "    def configure(self) -> None:", "        pass"]
    for i, spec in enumerate(specs):
        if not spec.bound:
            continue
        how = {
            "class": f"self.bind(C{i}, C{i})",
            "factory": f"self.bind_factory(C{i}, make{i})",
            "async_factory": f"self.bind_factory(C{i}, amake{i})",
            "generator": f"self.bind_factory(C{i}, gen{i})",
        }[spec.provider]
        out.append(f"        {how}.{spec.lifetime if '(' in spec.lifetime else spec.lifetime + '()'}")
    if duplicate and specs[0].bound:
        out.append("        self.bind(C0, C0)")
    return "\n".join(out) + "\n"


async def _resolve_everything(c: Any, keys: list[Any]) -> None:
    async with c.scope("request"), c.scope("action"):
        for key in keys:
            await c.aget(key)
    await c.aclose()


@settings(
    max_examples=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs)
def test_random_graphs_pass_or_give_iq_problems(
    codegen_env: Path, graph: tuple[list[Spec], bool]
) -> None:
    """A random small configuration never crashes injectq-gen: it either builds (and the
    wiring resolves every binding) or fails with IQ problems, the runtime's codes among
    them."""
    specs, duplicate = graph
    package = unique_name("rg")
    make_project(codegen_env, {f"{package}/graph.py": _graph_source(specs, duplicate)})
    target = f"{package}.graph:GraphModule"
    module = importlib.import_module(f"{package}.graph")
    runtime = InjectQ()
    runtime.install(module.GraphModule())
    runtime_codes = {p.code for p in runtime.check() if p.severity == "error"}
    try:
        source, _ = generate([target])
    except GraphProblems as exc:
        codes = {p.code for p in exc.problems if p.severity == "error"}
        event("problems: " + " ".join(sorted(codes)))
        assert codes
        assert all(code.startswith("IQ") and len(code) == 5 for code in codes)
        assert codes == runtime_codes
        for problem in exc.problems:
            assert problem.render().startswith(f"{problem.site}: " if problem.site else "")
        return
    event("built")
    assert runtime_codes == set()
    ast.parse(source)
    wiring = build_wiring([target])
    keys = [getattr(module, f"C{i}") for i, spec in enumerate(specs) if spec.bound]
    asyncio.run(_resolve_everything(wiring.container, keys))
    runtime.close()


def test_fuzz_names_cover_keywords_and_unicode() -> None:
    """The name pool used above holds keywords, unicode and quoting characters."""
    pool = PAYLOADS + TRICKY
    assert any(keyword.iskeyword(n) for n in pool)
    assert any(not n.isascii() for n in pool)
    assert any("'''" in n for n in pool) and any('"""' in n for n in pool)
