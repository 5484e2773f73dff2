"""Property tests of injectq-gen: any text as a key, a binding name or a scope name, and any
identifier as a class, factory or parameter name, gives a module that parses, imports and
resolves it, never running that text; random graph configurations either pass and
resolve, or give IQ problems (the same codes as the runtime container), never an internal
error.

Example counts are kept small so the file runs in seconds; ``INJECTQ_FUZZ_SCALE=20``
multiplies every count (see docs/reliability.md).
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import importlib
import json
import keyword
import os
import pickle
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from injectq import InjectQ
from injectq.errors import InjectQError
from injectq.model.markers import make_key
from injectq_codegen.build import generate
from injectq_codegen.cli import main
from injectq_codegen.errors import GraphProblems
from tests.codegen_support import build_wiring, make_project, unique_name

SENTINEL = "INJECTQ_FUZZ_PWNED"


def scaled(examples: int) -> int:
    """``examples`` times INJECTQ_FUZZ_SCALE (default 1)."""
    return examples * max(1, int(os.environ.get("INJECTQ_FUZZ_SCALE", "1")))


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
    # jinja2 syntax: the template must print it, never evaluate it
    f"{{{{ __import__('builtins').{SENTINEL} }}}}",
    f"{{% set x = __import__('builtins').{SENTINEL} %}}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{# #}{% raw %}{% endraw %}",
    "__import__('os').system('exit 3')",
    "__import__('os')._exit(3)",
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
    max_examples=scaled(30), deadline=None, database=None,
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
    "x); import os; os._exit(3) #",
    "\nimport os; os._exit(3)\n",
    '"""\nimport os; os._exit(3)\n"""',
    "{{ __import__('os')._exit(3) }}",
    "\\'); import os; os._exit(3) #",
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


# -- identifiers: class, factory, parameter and module-global names ----------------------

# names the generated module itself uses, builtins, module globals, soft keywords, unicode
TRICKY_IDENTIFIERS = [
    "container", "Any", "cast", "annotations", "contextvars", "MappingProxyType", "v", "g",
    "s", "st", "fut", "mine", "e", "a", "lock", "_iq_G", "_iq_OV", "_iq_SCOPES", "_iq_FRAME",
    "_iq_instances", "_iq_C", "_iq_key", "_iq_Lazy", "_module_0", "_module_1", "provide_x",
    "aprovide_x", "_make_x", "_amake_x", "_create_x", "_x", "_x_slot", "x_instance",
    "_RequestScope", "object", "type", "list", "print", "len", "Exception", "super",
    "globals", "getattr", "isinstance", "match", "case", "_", "self", "cls", "None_",
    "é", "名前", "Ωmega", "ǅ", "\N{BLACK-LETTER CAPITAL H}", "\N{LATIN SMALL LIGATURE FI}le",
    "\N{FULLWIDTH LATIN CAPITAL LETTER A}B", "x\N{COMBINING ACUTE ACCENT}", "ª", "µ",
]
# dunders a user module can hold: bound to a user class, each would change how the
# generated module runs if it were imported under its own name (not __path__ nor
# __getattr__: a class there breaks every import from the user's module itself)
DUNDERS = [
    "__builtins__", "__annotations__", "__file__", "__all__",
    "__name__", "__spec__", "__doc__", "__import__", "__loader__", "__cached__",
    "__package__", "__dict__", "__class__", "__init__", "__dir__", "__build_class__",
]


def _nfkc(name: str) -> str:
    return unicodedata.normalize("NFKC", name)


def _source_name(name: str) -> bool:
    """A name the test can write as ``class NAME:`` in source (the parser stores NFKC)."""
    norm = _nfkc(name)
    return (
        name.isidentifier() and norm.isidentifier() and not keyword.iskeyword(norm)
        and not (norm.startswith("__") and norm.endswith("__"))
        and not norm.lower().startswith("_fz") and norm != "self"
    )


identifiers = st.one_of(
    st.sampled_from(TRICKY_IDENTIFIERS),
    st.text(
        alphabet=st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Nd", "Pc"]),
        min_size=1, max_size=8,
    ),
).filter(_source_name)


def _identifier_app(classes: list[str], params: list[str], factories: list[str]) -> str:
    """A chain of classes C0 <- C1 <- ... named ``classes``; class i takes the previous one
    as parameter ``params[i]``; factory i builds a tuple from class i."""
    out = ["import injectq as _fz_injectq", ""]
    for i, name in enumerate(classes):
        out += ["", f"class {name}:"]
        if i == 0:
            out += ["    def __init__(self) -> None:", "        self._fz_dep = None", ""]
        else:
            p, prev = params[i], classes[i - 1]
            out += [f"    def __init__(self, {p}: {prev}) -> None:",
                    f"        self._fz_dep = {p}", ""]
    for i, name in enumerate(factories):
        p = params[i]
        out += ["", f"def {name}({p}: {classes[i]}):", f"    return ('made', {p})", ""]
    out += ["", "class _FzModule(_fz_injectq.Module):", "    def configure(self) -> None:"]
    for i, name in enumerate(classes):  # longest-lived first: no captive dependency
        life = ".singleton()" if 3 * i < len(classes) else (
            ".scoped()" if 3 * i < 2 * len(classes) else ".transient()")
        out.append(f"        self.bind({name}, {name}){life}")
    for i, name in enumerate(factories):
        out.append(f"        self.bind_factory('factory {i}', {name}).transient()")
    return "\n".join(out) + "\n"


@settings(
    max_examples=scaled(25), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    names=st.lists(identifiers, min_size=1, max_size=6, unique_by=_nfkc),
    params=st.lists(identifiers, min_size=6, max_size=6),
    n_factories=st.integers(0, 6),
)
def test_any_identifier_as_class_factory_or_parameter_name(
    codegen_env: Path, names: list[str], params: list[str], n_factories: int
) -> None:
    """Classes, factory functions, parameters and packages named anything a user may write
    (names of the generated module's own helpers and locals, builtins, soft keywords,
    unicode that the parser normalizes) give a module that builds, imports and resolves
    each to the right object."""
    classes = [n for i, n in enumerate(names) if i % 2 == 0 or n_factories == 0]
    factories = [n for i, n in enumerate(names) if n not in classes][: len(classes)]
    package = f"{_nfkc(names[-1])}{unique_name('_p')}"  # a unicode package name too
    make_project(codegen_env, {f"{package}/app.py": _identifier_app(classes, params, factories)})
    wiring = build_wiring([f"{package}.app:_FzModule"])
    app = importlib.import_module(f"{package}.app")
    c = wiring.container
    with c.scope():
        built = [c.get(getattr(app, _nfkc(n))) for n in classes]
        for i, (name, obj) in enumerate(zip(classes, built, strict=True)):
            assert type(obj) is getattr(app, _nfkc(name))
            if i:
                assert type(obj._fz_dep) is getattr(app, _nfkc(classes[i - 1]))
        for i, _ in enumerate(factories):
            made = c.get(f"factory {i}")
            assert made[0] == "made"
            assert type(made[1]) is getattr(app, _nfkc(classes[i]))
    c.close()
    assert not hasattr(builtins, SENTINEL)


ODD_CLASSES = """\
import injectq as _fz_injectq

_FZ_NAMES = {names!r}


class _FzModule(_fz_injectq.Module):
    def configure(self) -> None:
        for name in _FZ_NAMES:
            self.bind(_FZ_CLASSES[name], _FZ_CLASSES[name])


_FZ_CLASSES = {{name: type(name, (), {{"__module__": __name__}}) for name in _FZ_NAMES}}
_fz_globals = globals()  # before a class named `globals` shadows the builtin
for _fz_name, _fz_class in _FZ_CLASSES.items():
    _fz_globals[_fz_name] = _fz_class
"""


def _importable_as(name: str) -> bool:
    """Whether ``from m import NAME`` can name a class stored in m under ``name``."""
    return (
        name.isidentifier() and not keyword.iskeyword(name) and _nfkc(name) == name
        and name not in ("__dict__", "__class__")
    )


@settings(
    max_examples=scaled(25), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(names=st.lists(
    st.one_of(st.sampled_from(DUNDERS + PAYLOADS + TRICKY + TRICKY_IDENTIFIERS),
              st.text(max_size=10))
    .filter(lambda n: not n.lower().startswith("_fz") and "\x00" not in n),  # type() refuses NUL
    min_size=1, max_size=6, unique=True,
))
def test_classes_with_any_name_build_or_give_iq007(codegen_env: Path, names: list[str]) -> None:
    """Classes made by type() under any name (keywords, dunders such as __annotations__ or
    __builtins__, text that is no identifier, unnormalized unicode) stored in their module
    under that name: a name an import statement can spell builds and resolves; any other
    is IQ007 not-importable, never an internal error and never run."""
    package = unique_name("fzodd")
    try:
        _check_odd_classes(codegen_env, package, names)
    finally:  # a user module whose __file__ or __spec__ is a class confuses other tools
        for name in (f"{package}.app", f"{package}.app2"):
            sys.modules.pop(name, None)


def _check_odd_classes(root: Path, package: str, names: list[str]) -> None:
    make_project(root, {f"{package}/app.py": ODD_CLASSES.format(names=names)})
    target = f"{package}.app:_FzModule"
    app = importlib.import_module(f"{package}.app")
    bad = [n for n in names if not _importable_as(n)]
    event(f"{len(bad)} not importable of {len(names)}")
    try:
        generate([target])
    except GraphProblems as exc:
        assert bad, [p.render() for p in exc.problems]
        assert {p.code for p in exc.problems} == {"IQ007"}
        assert len(exc.problems) == len(bad)
        good = [n for n in names if n not in bad]
        if not good:
            return
        # the rest builds once the bad ones are gone
        make_project(root, {f"{package}/app2.py": ODD_CLASSES.format(names=good)})
        names, app = good, importlib.import_module(f"{package}.app2")
        target = f"{package}.app2:_FzModule"
    else:
        assert not bad
    wiring = build_wiring([target])
    for name in names:
        cls = app._FZ_CLASSES[name]
        assert type(wiring.container.get(cls)) is cls
    assert not hasattr(builtins, SENTINEL)


SCALAR_KEYS = """\
import pickle
from pathlib import Path

from injectq import Module

KEYS = pickle.loads((Path(__file__).parent / "keys.pickle").read_bytes())


class Value:
    def __init__(self, tag: int) -> None:
        self.tag = tag


class KeysModule(Module):
    def configure(self) -> None:
        for i, key in enumerate(KEYS):
            self.bind(key, Value(i))
"""

scalar_keys = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.binary(max_size=8), st.booleans(),
    st.sampled_from([float("inf"), float("-inf"), 2**100, -(2**63), 5e-324, b"'\"\\\n"]),
    names,
)


@settings(
    max_examples=scaled(25), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=st.lists(scalar_keys, min_size=1, max_size=6, unique=True))
def test_scalar_keys_of_every_type(codegen_env: Path, keys: list[Any]) -> None:
    """Keys that are numbers (inf, huge ints, -0.0), bytes or text are written so that the
    generated module resolves each one to its own value."""
    package = unique_name("fzkey")
    make_project(codegen_env, {f"{package}/app.py": SCALAR_KEYS})
    (codegen_env / package / "keys.pickle").write_bytes(pickle.dumps(keys))
    wiring = build_wiring([f"{package}.app:KeysModule"])
    for i, key in enumerate(keys):
        assert wiring.container.get(key).tag == i
    assert not hasattr(builtins, SENTINEL)


# -- random small graphs -----------------------------------------------------------------


# weighted: an undeclared scope (IQ009) now and then, not in every other graph
LIFETIMES = [
    *["singleton"] * 3, *["transient"] * 3, *["scoped('request')"] * 2, "scoped('action')",
    "scoped('custom')", "scoped('undeclared')",
]
PROVIDERS = ["class", "factory", "async_factory", "generator", "async_generator", "instance"]


@dataclass
class Spec:
    deps: list[tuple[int, bool, bool]]  # (target class, lazy, asks by the wrong name or none)
    bound: bool
    lifetime: str
    provider: str
    missing: bool  # a parameter nothing binds
    named: bool  # bound under the name n<i>
    second: bool  # declared by the second Module, binder style
    default: bool  # the unbound parameter has a default


@dataclass
class GraphConfig:
    specs: list[Spec]
    duplicate: bool  # C0 bound twice
    override: bool  # ... the second time with override=True
    declare_custom: bool  # the scope 'custom' (inside 'action') is declared
    roots: list[int]  # classes given as --root
    entry: str | None  # a function root taking C0: "sync" or "async"
    cyclic: bool  # dependencies may point forward (C1 -> C3), so cycles can form


def _spec(n: int) -> st.SearchStrategy[Spec]:
    return st.builds(
        Spec,
        deps=st.lists(
            st.tuples(st.integers(0, n - 1), st.booleans(), st.integers(0, 7).map(lambda x: x == 0)),
            max_size=3,
        ),
        bound=st.integers(0, 4).map(lambda x: x != 0),
        lifetime=st.sampled_from(LIFETIMES),
        provider=st.sampled_from(PROVIDERS),
        missing=st.integers(0, 9).map(lambda x: x == 0),
        named=st.integers(0, 4).map(lambda x: x == 0),
        second=st.booleans(),
        default=st.booleans(),
    )


graphs = st.integers(1, 6).flatmap(
    lambda n: st.builds(
        GraphConfig,
        specs=st.lists(_spec(n), min_size=n, max_size=n),
        duplicate=st.integers(0, 4).map(lambda x: x == 0),
        override=st.booleans(),
        declare_custom=st.integers(0, 3).map(lambda x: x != 0),
        roots=st.lists(st.integers(0, n - 1), max_size=2, unique=True),
        entry=st.sampled_from([None, None, "sync", "async"]),
        cyclic=st.integers(0, 3).map(lambda x: x == 0),
    )
)


def _graph_source(g: GraphConfig) -> str:
    specs = g.specs
    out = [
        "from __future__ import annotations",
        "",
        "from typing import Annotated, Protocol",
        "",
        "from injectq import Lazy, Module, Named",
        "",
        "",
        "class Unbound(Protocol):",
        "    def run(self) -> None: ...",
        "",
    ]
    for i, spec in enumerate(specs):
        params = []
        deps = [d for d in spec.deps if g.cyclic or d[0] < i]
        for k, (j, lazy, mismatch) in enumerate(deps):
            t = f"Lazy[C{j}]" if lazy else f"C{j}"
            if specs[j].named != mismatch:  # ask for n<j> when it is named, mostly
                t = f'Annotated[{t}, Named("n{j}")]'
            params.append(f"d{k}: {t}")
        if spec.missing:
            params.append("m: Unbound" + (" | None = None" if spec.default else ""))
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
            "",
            f"async def agen{i}({sig}):  # type: ignore[no-untyped-def]",
            f"    yield C{i}({args})",
            "",
        ]
    out += [""] + [f"INSTANCE{i} = C{i}.__new__(C{i})" for i in range(len(specs))]
    if g.entry == "sync":
        out += ["", "", "def entry(first: C0) -> None:", "    pass"]
    elif g.entry == "async":
        out += ["", "", "async def entry(first: C0) -> None:", "    pass"]
    modules = {False: ["", "", "class GraphModule(Module):", "    def configure(self) -> None:",
                       "        pass"],
               True: ["", "", "class SecondModule(Module):",
                      "    def configure(self, binder) -> None:  # type: ignore[no-untyped-def]",
                      "        pass"]}
    if g.declare_custom:
        modules[False].append("        self.declare_scope('custom', parent='action')")
    for i, spec in enumerate(specs):
        if not spec.bound:
            continue
        who = "binder" if spec.second else "self"
        name = f', name="n{i}"' if spec.named else ""
        if spec.provider == "instance":
            modules[spec.second].append(f"        {who}.bind(C{i}, INSTANCE{i}{name})")
            continue
        how = {
            "class": f"{who}.bind(C{i}, C{i}{name})",
            "factory": f"{who}.bind_factory(C{i}, make{i}{name})",
            "async_factory": f"{who}.bind_factory(C{i}, amake{i}{name})",
            "generator": f"{who}.bind_factory(C{i}, gen{i}{name})",
            "async_generator": f"{who}.bind_factory(C{i}, agen{i}{name})",
        }[spec.provider]
        life = spec.lifetime if "(" in spec.lifetime else spec.lifetime + "()"
        modules[spec.second].append(f"        {how}.{life}")
    if g.duplicate and specs[0].bound:
        extra = ", override=True" if g.override else ""
        name = ', name="n0"' if specs[0].named else ""
        modules[False].append(f"        self.bind(C0, C0{name}{extra})")
    out += modules[False] + modules[True]
    out += ["", "", "MODULES = [GraphModule(), SecondModule()]"]
    return "\n".join(out) + "\n"


def _bound_keys(module: Any, specs: list[Spec]) -> list[Any]:
    return [
        make_key(getattr(module, f"C{i}"), f"n{i}" if spec.named else None)
        for i, spec in enumerate(specs) if spec.bound
    ]


async def _resolve_everything(c: Any, keys: list[Any], custom: bool) -> None:
    async with c.scope("request"), c.scope("action"):
        if custom:
            async with c.scope("custom"):
                for key in keys:
                    await c.aget(key)
        else:
            for key in keys:
                await c.aget(key)
    await c.aclose()


def _views_never_crash(target: str, roots: list[str], errors: int) -> None:
    """check (JSON), graph in every format and explain of every key, through the CLI:
    exit 0 or 1 as the errors say, never 3, never an exception."""
    runner = CliRunner()
    root_args = [a for r in roots for a in ("--root", r)]
    result = runner.invoke(main, ["check", target, *root_args, "--format", "json"])
    assert isinstance(result.exception, SystemExit | None), result.output
    assert result.exit_code == (1 if errors else 0), result.output
    assert json.loads(result.stdout)["errors"] == errors
    for fmt in ("json", "dot", "mermaid"):
        shown = runner.invoke(main, ["graph", target, *root_args, "--format", fmt, "-q"])
        assert shown.exit_code == 0, shown.output
    nodes = json.loads(runner.invoke(main, ["graph", target, *root_args, "--format", "json"])
                       .stdout)["nodes"]
    for node in nodes:
        told = runner.invoke(main, ["explain", target, node["key"], *root_args, "-q"])
        assert told.exit_code == 0, told.output
        assert told.stdout.splitlines()[0] == node["key"]


@settings(
    max_examples=scaled(60), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs)
def test_random_graphs_pass_or_give_iq_problems(codegen_env: Path, graph: GraphConfig) -> None:
    """A random configuration (every provider kind and lifetime, named bindings and named
    requests, Lazy edges, unbound and defaulted parameters, custom and undeclared scopes,
    duplicates with and without override, two Modules, class and function roots) never
    crashes injectq-gen: it builds (and the wiring resolves every binding) or fails with IQ
    problems, the same codes the runtime container reports; check, graph and explain exit
    0 or 1 on it, never 3."""
    specs = graph.specs
    package = unique_name("rg")
    make_project(codegen_env, {f"{package}/graph.py": _graph_source(graph)})
    target = f"{package}.graph:MODULES"
    module = importlib.import_module(f"{package}.graph")
    roots = [f"{package}.graph:C{i}" for i in graph.roots]
    if graph.entry:
        roots.append(f"{package}.graph:entry")
    root_objects = [getattr(module, r.split(":")[1]) for r in roots]
    runtime = InjectQ()
    try:
        for m in module.MODULES:
            runtime.install(m)
    except InjectQError as exc:  # a binding mistake: both refuse it the same way
        event(f"install refused: {type(exc).__name__}")
        result = CliRunner().invoke(main, ["check", target])
        assert result.exit_code == 2, result.output
        assert type(exc).__name__ in result.stderr or str(exc) in result.stderr
        return
    runtime_problems = runtime.check(root_objects)
    runtime_codes = {p.code for p in runtime_problems if p.severity == "error"}
    try:
        source, _ = generate([target], roots)
    except GraphProblems as exc:
        codes = {p.code for p in exc.problems if p.severity == "error"}
        event("problems: " + " ".join(sorted(codes)))
        assert codes
        assert all(code.startswith("IQ") and len(code) == 5 for code in codes)
        assert codes == runtime_codes
        for problem in exc.problems:
            assert problem.render().startswith(f"{problem.site}: " if problem.site else "")
        _views_never_crash(target, roots, sum(1 for p in exc.problems if p.severity == "error"))
        return
    event("built")
    assert runtime_codes == set()
    ast.parse(source)
    _views_never_crash(target, roots, 0)
    wiring = build_wiring([target], roots)
    keys = _bound_keys(module, specs)
    asyncio.run(_resolve_everything(wiring.container, keys, graph.declare_custom))
    runtime.close()


def test_fuzz_names_cover_keywords_and_unicode() -> None:
    """The name pool used above holds keywords, unicode and quoting characters."""
    pool = PAYLOADS + TRICKY
    assert any(keyword.iskeyword(n) for n in pool)
    assert any(not n.isascii() for n in pool)
    assert any("'''" in n for n in pool) and any('"""' in n for n in pool)


# -- names drawn from the generated module's own patterns -------------------------------


def _generated_patterns(base: str) -> list[str]:
    """What the generated module would call things for a binding whose label is ``base``."""
    from injectq_codegen.plan import ACCESSORS, PREFIX, ROLES, identifier

    snake = identifier(base, "x")
    return [
        *(f"{PREFIX}{role}_{snake}" for role in ROLES),
        *(f"{accessor}{snake}" for accessor in ACCESSORS),
        f"Make{base}", f"{PREFIX}{snake}", f"{PREFIX}provided", f"{PREFIX}records",
        f"{PREFIX}module_0", f"{PREFIX}user_{base}", f"_make_{snake}", f"_amake_{snake}",
    ]


@st.composite
def pattern_apps(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, str]]]:
    """Class names, and (factory name, class it builds), that imitate generated names."""
    bases = draw(st.lists(st.sampled_from(["Order", "Client", "Cache", "Store", "X"]),
                          min_size=1, max_size=3, unique=True))
    pool = [name for b in bases for name in _generated_patterns(b)]
    classes = bases + draw(st.lists(st.sampled_from(pool), max_size=4, unique=True))
    factories = draw(st.lists(
        st.tuples(st.sampled_from(pool), st.sampled_from(classes)), max_size=4,
        unique_by=lambda f: f[0],
    ))
    factories = [f for f in factories if f[0] not in classes]
    return classes, factories


@settings(
    max_examples=scaled(25), deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(app=pattern_apps())
def test_user_names_from_the_generated_patterns_never_clash(
    codegen_env: Path, app: tuple[list[str], list[tuple[str, str]]]
) -> None:
    """Classes and factories named like what the generated module defines (``_iq_make_x``,
    ``provide_x``, ``MakeOrder`` next to ``Order``, ``_make_client`` bound for ``Client``):
    every key resolves to its own object, in a module that builds and imports."""
    classes, factories = app
    out = ["from injectq import Module", ""]
    for name in classes:
        out += ["", f"class {name}:", "    pass", ""]
    for fname, cls in factories:
        out += ["", f"def {fname}() -> object:", f"    return ('made by', {fname!r}, {cls}())", ""]
    out += ["", "class PatternModule(Module):", "    def configure(self) -> None:"]
    for name in classes:
        out.append(f"        self.bind({name}).singleton()")
    for i, (fname, _) in enumerate(factories):
        out.append(f"        self.bind_factory('f{i}', {fname}).singleton()")
    package = unique_name("pat")
    make_project(codegen_env, {f"{package}/app.py": "\n".join(out) + "\n"})
    mod = importlib.import_module(f"{package}.app")
    c = build_wiring([f"{package}.app:PatternModule"]).container
    for name in classes:
        assert type(c.get(getattr(mod, name))) is getattr(mod, name)
    for i, (fname, cls) in enumerate(factories):
        made = c.get(f"f{i}")
        assert made[:2] == ("made by", fname) and type(made[2]) is getattr(mod, cls)


class _Code(str):
    """A str whose repr is code: were it written through repr(), importing would run it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "__import__('os').system('exit 7') or 'x'"

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        return self.__repr__()


def test_str_subclasses_and_huge_ints_are_written_from_their_data(codegen_env: Path) -> None:
    """A str subclass used as a key, a binding name and a scope name is written as a plain
    string literal; an int key of 5,000 digits is written (in hex), not an internal error."""
    package = unique_name("reprs")
    make_project(codegen_env, {f"{package}/app.py": """\
        from injectq import Module
        from tests.test_codegen_fuzz import _Code

        KEY = _Code("key")
        NAME = _Code("name")
        SCOPE = _Code("tenant")
        BIG = 10 ** 5000


        class Thing:
            pass


        class ReprModule(Module):
            def configure(self) -> None:
                self.declare_scope(SCOPE, parent="request")
                self.bind_instance(KEY, "k-value")
                self.bind(Thing, name=NAME).scoped(SCOPE)
                self.bind_instance(BIG, "big")
        """})
    mod = importlib.import_module(f"{package}.app")
    source, _ = generate([f"{package}.app:ReprModule"])
    assert "__import__" not in source and "system" not in source
    assert '"key"' in source and '"name"' in source and '"tenant"' in source
    c = build_wiring([f"{package}.app:ReprModule"]).container
    assert c.get("key") == "k-value" and c.get(10 ** 5000) == "big"
    with c.scope("request"), c.scope("tenant"):
        assert type(c.get(mod.Thing, "name")) is mod.Thing
