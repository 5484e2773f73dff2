"""A key, binding name, scope or parent that cannot be one (a list, a dict, a set) is a
``BindingError`` naming the call, the parameter and the value, and where it was written
when the call keeps that: at every public entry point of both containers, of the Modules,
decorators and markers, and of ``injectq-gen`` (one line, exit 2, no traceback).
"""

from __future__ import annotations

import asyncio
import enum
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest

from injectq import (
    BindingError,
    DependencyNotFoundError,
    GraphValidationError,
    InjectionError,
    InjectQ,
    Lazy,
    Module,
    ModuleBinder,
    Named,
    ProviderModule,
    ScopeType,
    SimpleModule,
    inject,
    provider,
    register_as,
    scoped,
)
from injectq.model.binding import format_site
from injectq.model.introspect import forget_type_checking_names
from injectq.model.markers import Inject
from tests.codegen_support import build_wiring, make_project, run_gen

BAD = {"list": [1, 2], "dict": {"a": 1}, "set": {3}}
KEY_HELP = (
    "a key must be hashable: a class, a string, a NewType or Annotated[T, ...] "
    "(bind several keys with one bind() each)"
)
HERE = format_site(__file__, 0).rpartition(":")[0]  # this file, as bind sites show it


def _site(below: int) -> str:
    """The bind site of the line ``below`` lines under the caller's."""
    frame = sys._getframe(1)
    return format_site(frame.f_code.co_filename, frame.f_lineno + below)


def _refused(error: BaseException, what: str, value: Any) -> str:
    """The message of a BindingError that names ``what`` (key, name, ...) and the value."""
    assert type(error) is BindingError, repr(error)
    message = str(error)
    assert f"the {what} {value!r} is a {type(value).__name__}" in message, message
    assert "\n" not in message
    return message


class Service:
    pass


def make_service() -> Service:
    return Service()


class _Seed(Module):
    """A seed-style Module whose configure() runs ``body(self)``."""

    def __init__(self, body: Callable[[Module], object]) -> None:
        self.body = body

    def configure(self) -> None:
        self.body(self)


class _Binder(Module):
    """A binder-style Module whose configure(binder) runs ``body(binder)``."""

    def __init__(self, body: Callable[[ModuleBinder], object]) -> None:
        self.body = body

    def configure(self, binder: ModuleBinder) -> None:
        self.body(binder)


# -- registration ------------------------------------------------------------------------


def _setitem(c: InjectQ, v: Any) -> None:
    c[v] = Service()


def _delitem(c: InjectQ, v: Any) -> None:
    c.bind(Service, Service)  # a non-empty registry: an empty dict's pop() hashes nothing
    del c[v]


def _simple_module(c: InjectQ, v: Any) -> None:
    c.install(SimpleModule().bind(v, Service))


def _provider_scope(c: InjectQ, v: Any) -> None:
    class Providers(ProviderModule):
        @provider(scope=v)
        def make(self) -> Service:
            return Service()

    c.install(Providers())


def _provider_name(c: InjectQ, v: Any) -> None:
    class Providers(ProviderModule):
        @provider(name=v)
        def make(self) -> Service:
            return Service()

    c.install(Providers())


# entry point -> (the parameter the message names, the call, whether it names a bind site)
REGISTRATIONS: dict[str, tuple[str, Callable[[InjectQ, Any], object], bool]] = {
    "bind key": ("key", lambda c, v: c.bind(v, Service), True),
    "bind name": ("name", lambda c, v: c.bind(Service, Service, name=v), True),
    "bind scope": ("scope", lambda c, v: c.bind(Service, Service, scope=v), True),
    "bind to= key": ("key", lambda c, v: c.bind(v, to=Service), True),
    "bind_instance key": ("key", lambda c, v: c.bind_instance(v, Service()), True),
    "bind_instance name": ("name", lambda c, v: c.bind_instance(Service, Service(), name=v), True),
    "bind_factory key": ("key", lambda c, v: c.bind_factory(v, make_service), True),
    "bind_factory name": ("name", lambda c, v: c.bind_factory(Service, make_service, name=v), True),
    "bind_factory scope": (
        "scope", lambda c, v: c.bind_factory(Service, make_service, scope=v), True
    ),
    ".scoped()": ("scope", lambda c, v: c.bind(Service, Service).scoped(v), True),
    "container[key] =": ("key", _setitem, True),
    "del container[key]": ("key", _delitem, False),
    "declare_scope name": ("scope name", lambda c, v: c.declare_scope(v), True),
    "declare_scope parent": ("parent", lambda c, v: c.declare_scope("tenant", parent=v), True),
    "Module.bind key": ("key", lambda c, v: c.install(_Seed(lambda m: m.bind(v, Service))), True),
    "Module.bind name": (
        "name", lambda c, v: c.install(_Seed(lambda m: m.bind(Service, Service, name=v))), True
    ),
    "Module.bind scope": (
        "scope", lambda c, v: c.install(_Seed(lambda m: m.bind(Service, Service, scope=v))), True
    ),
    "Module.bind_instance key": (
        "key", lambda c, v: c.install(_Seed(lambda m: m.bind_instance(v, Service()))), True
    ),
    "Module.bind_factory key": (
        "key", lambda c, v: c.install(_Seed(lambda m: m.bind_factory(v, make_service))), True
    ),
    "Module.declare_scope parent": (
        "parent", lambda c, v: c.install(_Seed(lambda m: m.declare_scope("t", parent=v))), True
    ),
    "binder.bind key": (
        "key", lambda c, v: c.install(_Binder(lambda b: b.bind(v, Service))), True
    ),
    "binder.bind scope": (
        "scope", lambda c, v: c.install(_Binder(lambda b: b.bind(Service, Service, scope=v))), True
    ),
    "binder.bind_instance name": (
        "name",
        lambda c, v: c.install(_Binder(lambda b: b.bind_instance(Service, Service(), name=v))),
        True,
    ),
    "binder.bind_factory name": (
        "name",
        lambda c, v: c.install(_Binder(lambda b: b.bind_factory(Service, make_service, v))),
        True,
    ),
    "binder.declare_scope name": (
        "scope name", lambda c, v: c.install(_Binder(lambda b: b.declare_scope(v))), True
    ),
    "SimpleModule.bind key": ("key", _simple_module, True),
    "@provider(scope=)": ("scope", _provider_scope, True),
    "@provider(name=)": ("name", _provider_name, True),
    "@scoped()": ("scope", lambda c, v: scoped(v, container=c), True),
    "@register_as() key": ("key", lambda c, v: register_as(v, container=c), True),
    "@register_as() scope": (
        "scope", lambda c, v: register_as(Service, scope=v, container=c), True
    ),
}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("entry", REGISTRATIONS)
def test_registration_refuses_unhashable(entry: str, value: Any) -> None:
    """Every registration call given a list, a dict or a set as a key, name, scope or parent
    raises BindingError naming the parameter, the value and the line of the call."""
    what, call, has_site = REGISTRATIONS[entry]
    c = InjectQ()
    with pytest.raises(BindingError) as info:
        call(c, value)
    message = _refused(info.value, what, value)
    if has_site:
        assert f" at {HERE}:" in message, message
    bound_first = entry in ("del container[key]", ".scoped()")  # .scoped() follows a bind()
    assert len(c.registry) == (1 if bound_first else 0)


def test_bind_message_names_call_site_key_and_fix() -> None:
    """The whole message: the call and its line, the key and its type, what a key may be."""
    c = InjectQ()
    site = _site(2)
    with pytest.raises(BindingError) as info:
        c.bind([1, 2], Service)
    assert str(info.value) == (
        f"bind() at {site}: the key [1, 2] is a list, which is not hashable; {KEY_HELP}"
    )


def test_a_simple_module_reports_the_line_that_recorded_the_call() -> None:
    """SimpleModule binds at install(), but the error names the line that called bind()."""
    site = _site(1)
    module = SimpleModule().bind(Service, Service, name=["x"])
    with pytest.raises(BindingError) as info:
        InjectQ().install(module)
    assert str(info.value).startswith(f"bind() at {site}: the name ['x'] is a list; ")


def test_declare_scope_message_names_the_scope_and_the_parent() -> None:
    """declare_scope with a list as the parent: the scope being declared, the parent, the
    line, and what a parent is."""
    c = InjectQ()
    site = _site(2)
    with pytest.raises(BindingError) as info:
        c.declare_scope("tenant", parent=["request"])
    assert str(info.value) == (
        f"declare_scope('tenant') at {site}: the parent ['request'] is a list; the parent "
        'must name a known scope, a string such as "request" or "app"'
    )


def test_a_huge_value_is_shortened_and_kept_on_one_line() -> None:
    """A long list shows its first items; a repr with line breaks stays on one line."""

    class Odd:
        __hash__ = None  # type: ignore[assignment]

        def __repr__(self) -> str:
            return "first\nsecond"

    with pytest.raises(BindingError) as info:
        InjectQ().bind(list(range(100_000)), Service)
    assert "the key [0, 1, 2, 3, 4, 5, ...] is a list" in str(info.value)
    assert len(str(info.value)) < 300
    with pytest.raises(BindingError) as info:
        InjectQ().bind(Odd(), Service)
    assert "the key first\\nsecond is an Odd, which is not hashable" in str(info.value)


def test_scope_names_given_as_enum_members_are_still_accepted() -> None:
    """An enum member whose value is a string stands for that scope name everywhere: in
    declare_scope (name and parent), bind(scope=) and scope()."""

    class Tier(enum.Enum):
        TENANT = "tenant"
        REQUEST = "request"

    c = InjectQ()
    c.declare_scope(Tier.TENANT, parent=Tier.REQUEST)  # type: ignore[arg-type]
    c.bind(Service, Service, scope=Tier.TENANT)  # type: ignore[arg-type]
    with c.scope(ScopeType.REQUEST), c.scope(Tier.TENANT):  # type: ignore[arg-type]
        assert c.get(Service) is c.get(Service)


# -- markers and annotations ---------------------------------------------------------------


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_markers_refuse_unhashable_where_they_are_written(value: Any) -> None:
    """Inject[...] and Named(...) are checked where they are written (a function's
    definition), naming that line."""
    site = _site(2)
    with pytest.raises(BindingError) as info:
        def handler(svc: Any = Inject[value]) -> None: ...
    assert str(info.value).startswith(f"Inject[...] at {site}: ")
    _refused(info.value, "key", value)
    with pytest.raises(BindingError) as info:
        Annotated[Service, Named(value)]
    _refused(info.value, "name", value)


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_an_annotation_naming_an_unhashable_key_is_a_graph_problem(value: Any) -> None:
    """A parameter whose annotation names no usable key (``Lazy[[1, 2]]``, ``x: [int]``) is
    IQ006 naming the parameter and the value, from validate() and get(), and an
    InjectionError from an @inject call; never a TypeError."""

    class Uses:
        def __init__(self, first: Any, second: Any) -> None:
            self.first = first

    Uses.__init__.__annotations__.update(first=Lazy[value], second=value)
    c = InjectQ()
    c.bind(Uses, Uses)
    with pytest.raises(GraphValidationError) as info:
        c.validate()
    assert info.value.codes == ["IQ006", "IQ006"]
    text = str(info.value)
    assert (
        f"parameter 'first' of {Uses.__qualname__}.__init__: its annotation names the key "
        f"{value!r}, a {type(value).__name__}, which is not hashable"
    ) in text
    assert "parameter 'second'" in text
    assert "help: fix the annotation, or bind the parameter by name: bind('first', ...)" in text
    with pytest.raises(DependencyNotFoundError, match=r"IQ006 .* parameter 'first'"):
        c.get(Uses)

    def handler(svc: Any) -> None: ...

    handler.__annotations__["svc"] = Lazy[value]
    handler = inject(container=c)(handler)
    with pytest.raises(InjectionError, match=r"cannot inject parameter 'svc' of .*handler: its "
                       r"annotation names the key"):
        handler()


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_roots_refuse_unhashable(value: Any) -> None:
    """validate(roots=...) and check(roots=...) with a list, dict or set as a root."""
    c = InjectQ()
    for call in (c.validate, c.check):
        with pytest.raises(BindingError) as info:
            call(roots=[value])
        assert str(info.value).startswith(f"roots: the root {value!r} is a ")


def test_fastapi_and_taskiq_markers_refuse_unhashable() -> None:
    """InjectFastAPI(...), Injected[...] and InjectTaskiq(...) are checked where the
    endpoint or task is declared, not at its first request."""
    fastapi = pytest.importorskip("injectq.integrations.fastapi")
    taskiq = pytest.importorskip("injectq.integrations.taskiq")
    for call, make in (
        ("InjectFastAPI()", lambda v: fastapi.InjectFastAPI(v)),
        ("Injected[...]", lambda v: fastapi.Injected[v]),
        ("InjectTaskiq()", lambda v: taskiq.InjectTaskiq(v)),
    ):
        for value in BAD.values():
            with pytest.raises(BindingError) as info:
                make(value)
            assert str(info.value).startswith(f"{call} at {HERE}:")
            _refused(info.value, "key", value)
    with pytest.raises(BindingError) as info:
        fastapi.InjectFastAPI(Service, name=["x"])
    _refused(info.value, "name", ["x"])


# -- lookups, in both containers -----------------------------------------------------------

SERVICES = """\
class Service:
    pass


class Broken:
    pass


def make_broken() -> Broken:
    raise TypeError("the factory's own TypeError")


def make_service() -> Service:
    return Service()
"""

MODULES = """\
from injectq import Module

from unhashable_app.services import Broken, Service, make_broken, make_service


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Service, Service).singleton()
        self.bind_factory(Service, make_service, name="named")
        self.bind_factory(Broken, make_broken)
        self.bind_factory(Broken, make_broken, name="named")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, ModuleType]]:
    """(the generated wiring of ``unhashable_app``, its modules), built once for the file."""
    root = tmp_path_factory.mktemp("unhashable")
    make_project(
        root, {"unhashable_app/services.py": SERVICES, "unhashable_app/modules.py": MODULES}
    )
    before = set(sys.modules)
    sys.path.insert(0, str(root))
    try:
        wiring = build_wiring(["unhashable_app.modules:AppModule"], folder=root)
        import unhashable_app.modules as modules

        yield wiring, modules
    finally:
        sys.path.remove(str(root))
        for name in set(sys.modules) - before:
            if name.startswith(("unhashable_app", "iq_wiring")):
                del sys.modules[name]
        forget_type_checking_names()


@pytest.fixture(params=["runtime", "generated"])
def container(request: pytest.FixtureRequest, app: tuple[ModuleType, ModuleType]) -> Any:
    """The app's runtime container, or a fresh container of its generated wiring."""
    wiring, modules = app
    if request.param == "runtime":
        return InjectQ([modules.AppModule()])
    return wiring.Container()


def _run(value: Any) -> Any:
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


# entry point -> (the parameter the message names, the call given (container, Service, value))
LOOKUPS: dict[str, tuple[str, Callable[[Any, Any, Any], object]]] = {
    "get": ("key", lambda c, s, v: c.get(v)),
    "get name": ("name", lambda c, s, v: c.get(s, v)),
    "container[key]": ("key", lambda c, s, v: c[v]),
    "try_get": ("key", lambda c, s, v: c.try_get(v, "default")),
    "try_get name": ("name", lambda c, s, v: c.try_get(s, "default", v)),
    "aget": ("key", lambda c, s, v: _run(c.aget(v))),
    "aget name": ("name", lambda c, s, v: _run(c.aget(s, v))),
    "atry_get": ("key", lambda c, s, v: _run(c.atry_get(v, "default"))),
    "atry_get name": ("name", lambda c, s, v: _run(c.atry_get(s, "default", v))),
    "has": ("key", lambda c, s, v: c.has(v)),
    "has name": ("name", lambda c, s, v: c.has(s, v)),
    "in": ("key", lambda c, s, v: v in c),
    "scope": ("scope", lambda c, s, v: c.scope(v)),
    "async_scope": ("scope", lambda c, s, v: c.async_scope(v)),
    "current_scope": ("scope", lambda c, s, v: c.current_scope(v)),
    "override": ("key", lambda c, s, v: c.override(v, s())),
    "override name": ("name", lambda c, s, v: c.override(s, s(), v)),
    "resolver": ("key", lambda c, s, v: c.resolver(v)),
}


@pytest.mark.parametrize("entry", LOOKUPS)
def test_lookups_refuse_unhashable(container: Any, entry: str) -> None:
    """Every lookup of either container given a list, a dict or a set as a key, name or
    scope raises BindingError naming it (try_get does not swallow it as "not found"); the
    container works as before afterwards."""
    what, call = LOOKUPS[entry]
    service = _services().Service
    for value in BAD.values():
        with pytest.raises(BindingError) as info:
            call(container, service, value)
        _refused(info.value, what, value)
    assert container.get(service) is container.get(service)
    assert container.has(service)


def _services() -> ModuleType:
    return sys.modules["unhashable_app.services"]


def test_get_message_is_the_same_in_both_containers(container: Any) -> None:
    """The whole message of get() with a list: the call, the key, its type, what to do."""
    with pytest.raises(BindingError) as info:
        container.get([1, 2])
    assert str(info.value) == (
        f"get(): the key [1, 2] is a list, which is not hashable; {KEY_HELP}"
    )


def test_a_factorys_own_type_error_is_not_mistaken_for_a_key(container: Any) -> None:
    """A TypeError a factory raises keeps its type and message, named or not, sync or
    async: only an unhashable key or name becomes a BindingError."""
    broken = _services().Broken
    for name in (None, "named"):
        with pytest.raises(TypeError, match="the factory's own TypeError"):
            container.get(broken, name)
        with pytest.raises(TypeError, match="the factory's own TypeError"):
            asyncio.run(container.aget(broken, name))


def test_invoke_refuses_unhashable() -> None:
    """invoke() and ainvoke() with a list, a dict or a set as the key (runtime container)."""
    c = InjectQ()
    for value in BAD.values():
        with pytest.raises(BindingError) as info:
            c.invoke(value)
        _refused(info.value, "key", value)
        with pytest.raises(BindingError) as info:
            asyncio.run(c.ainvoke(value))
        _refused(info.value, "key", value)


# -- injectq-gen ---------------------------------------------------------------------------

CLI_MODULES = """\
from injectq import Module


class Config:
    pass


KEYS = [Config]


class KeyModule(Module):
    def configure(self) -> None:
        self.bind([1, 2], Config)


class NameModule(Module):
    def configure(self, binder) -> None:
        binder.bind_factory(Config, Config, name={"a": 1})


class ScopeModule(Module):
    def configure(self) -> None:
        self.bind(Config, Config, scope={"request"})


class ParentModule(Module):
    def configure(self) -> None:
        self.declare_scope("tenant", parent=["request"])


class OkModule(Module):
    def configure(self) -> None:
        self.bind(Config, Config)


class Uses:
    def __init__(self, config: "[Config]") -> None:
        self.config = config


class AnnotationModule(Module):
    def configure(self) -> None:
        self.bind(Uses, Uses)
"""


def _one_line_error(result: Any, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("injectq-gen: error: ")
    return lines[0]


@pytest.mark.parametrize("command", ["build", "check"])
def test_cli_unhashable_key_is_one_line_exit_2(codegen_env: Path, command: str) -> None:
    """build and check of a Module binding a list as a key: one line naming the call, its
    file:line and the key; exit 2; nothing written."""
    make_project(codegen_env, {"app/modules.py": CLI_MODULES})
    args = ["-o", "w.py"] if command == "build" else []
    line = _one_line_error(run_gen(command, "app.modules:KeyModule", *args, cwd=codegen_env))
    assert line == (
        "injectq-gen: error: while installing the modules: bind() at app/modules.py:13: the "
        f"key [1, 2] is a list, which is not hashable; {KEY_HELP}"
    )
    assert not (codegen_env / "w.py").exists()


def test_cli_unhashable_name_scope_parent_and_root(codegen_env: Path) -> None:
    """A dict as a name, a set as a scope, a list as a declared scope's parent, a list as a
    --root: each one line, naming the parameter, the value and the line; exit 2."""
    make_project(codegen_env, {"app/modules.py": CLI_MODULES})
    cases = {
        "NameModule": "bind_factory() at app/modules.py:18: the name {'a': 1} is a dict",
        "ScopeModule": "bind() at app/modules.py:23: the scope {'request'} is a set",
        "ParentModule": "declare_scope('tenant') at app/modules.py:28: the parent ['request'] "
                        "is a list",
    }
    for module, needle in cases.items():
        line = _one_line_error(run_gen("check", f"app.modules:{module}", cwd=codegen_env))
        assert needle in line, line
    line = _one_line_error(
        run_gen("check", "app.modules:OkModule", "--root", "app.modules:KEYS", cwd=codegen_env)
    )
    assert line == (
        "injectq-gen: error: root 'app.modules:KEYS' is a list, which is not hashable: a root "
        "is a key (a class, a string...) or a function whose parameters are injected"
    )


def test_cli_unhashable_annotation_is_a_graph_problem(codegen_env: Path) -> None:
    """A parameter annotated with a list: IQ006 naming the parameter and the value, exit 1
    (a graph problem), no traceback."""
    make_project(codegen_env, {"app/modules.py": CLI_MODULES})
    result = run_gen("check", "app.modules:AnnotationModule", cwd=codegen_env)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        "error[IQ006 unresolvable-annotation]: parameter 'config' of Uses.__init__: its "
        "annotation names the key [<class 'app.modules.Config'>], a list, which is not hashable"
    ) in result.stderr
