"""InjectQ 0.5.0's helper functions in ``injectq.utils``: the dependencies they read are the
ones a container injects (future annotations, forward references, ``Optional``, defaults,
generics, ``Inject``/``Lazy``/``Named``), the type-hint helpers, and ``ThreadLocalStorage``
under real threads.

This module uses ``from __future__ import annotations``: every annotation below is a string
until it is read. Functions with annotations evaluated at definition are compiled by
``_eager`` without that flag.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import threading
import typing
from collections.abc import Callable
from typing import Annotated, Any, ForwardRef, Generic, Literal, Optional, Protocol, TypeVar

import pytest

import injectq.utils
import injectq.utils.helpers
import injectq.utils.types
from injectq import Inject, InjectionError, InjectQ, Lazy, Named
from injectq.utils import (
    ThreadLocalStorage,
    format_type_name,
    get_class_constructor_dependencies,
    get_function_dependencies,
    get_type_name,
    is_concrete_type,
    is_generic_type,
    is_injectable_class,
    is_injectable_function,
    normalize_type,
    safe_issubclass,
)
from injectq.utils.types import resolve_forward_ref

T = TypeVar("T")


class Service:
    pass


class Repo:
    pass


class Box(Generic[T]):
    pass


class Outer:
    class Inner:
        pass


class Shape(abc.ABC):
    @abc.abstractmethod
    def area(self) -> float: ...


class Greeter(Protocol):
    def greet(self) -> str: ...


class Color(enum.Enum):
    RED = 1


class NoInit:
    pass


class Consumer:
    def __init__(
        self, svc: Service, items: list[int], table: dict[str, Service], later: Later
    ) -> None:
        self.svc, self.items, self.table, self.later = svc, items, table, later


class Later:  # defined after Consumer, which names it: a forward reference
    pass


def _eager(source: str, **names: Any) -> Any:
    """The function ``f`` of ``source``, compiled without ``from __future__ import
    annotations`` (its annotations are evaluated when it is defined), with this module's
    globals as its own."""
    namespace: dict[str, Any] = {**globals(), **names}
    exec(compile(source, "<eager>", "exec", dont_inherit=True), namespace)
    return namespace["f"]


# -- import paths ----------------------------------------------------------------------------

HELPERS_0_5_0 = (
    "ThreadLocalStorage", "format_type_name", "get_class_constructor_dependencies",
    "get_function_dependencies", "get_type_name", "is_concrete_type", "is_generic_type",
    "is_injectable_class", "is_injectable_function", "normalize_type", "safe_issubclass",
)


def test_helpers_import_from_0_5_0_paths() -> None:
    """Every 0.5.0 helper is in ``injectq.utils.__all__`` and is the same object in the
    module 0.5.0 defined it in."""
    for name in HELPERS_0_5_0:
        assert name in injectq.utils.__all__
        home = injectq.utils.helpers if hasattr(injectq.utils.helpers, name) else None
        home = home or injectq.utils.types
        assert getattr(home, name) is getattr(injectq.utils, name)
    assert injectq.utils.helpers.format_type_name is injectq.utils.types.format_type_name
    for name in ("is_generic_type", "get_type_name", "is_concrete_type", "normalize_type",
                 "resolve_forward_ref", "format_type_name"):
        assert name in injectq.utils.types.__all__


# -- get_function_dependencies ---------------------------------------------------------------


def test_future_annotations_are_evaluated() -> None:
    """String annotations (this module's ``from __future__ import annotations``) give classes."""

    def f(svc: Service, repo: Repo) -> None: ...

    assert get_function_dependencies(f) == {"svc": Service, "repo": Repo}


def test_eager_annotations() -> None:
    """Annotations evaluated at definition give the same keys."""
    f = _eager("def f(svc: Service, repo: Repo) -> None: ...")
    assert not isinstance(f.__annotations__["svc"], str)
    assert get_function_dependencies(f) == {"svc": Service, "repo": Repo}


def test_forward_reference_to_a_later_class() -> None:
    """A class defined after the function that names it (quoted, or under future
    annotations) is found in the module."""

    def f(later: Later) -> None: ...

    g = _eager("def f(later: 'Later') -> None: ...")
    assert get_function_dependencies(f) == {"later": Later}
    assert get_function_dependencies(g) == {"later": Later}


def test_undefined_name_is_an_injection_error() -> None:
    """An annotation naming nothing raises InjectionError naming the parameter and the name,
    not a NameError."""

    def f(svc: Service, ghost: Ghost) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(InjectionError) as info:
        get_function_dependencies(f)
    text = str(info.value)
    assert "parameter 'ghost'" in text
    assert "'Ghost' is not defined" in text
    assert not isinstance(info.value, NameError)


def test_undefined_name_with_a_default_is_left_out() -> None:
    """A parameter whose annotation cannot be evaluated but has a default is left out: a
    container uses the default."""

    def f(svc: Service, ghost: Ghost = None) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    assert get_function_dependencies(f) == {"svc": Service}


def test_optional_and_defaults() -> None:
    """``Optional[X]``, ``X | None`` and parameters with defaults are listed under ``X``;
    a container injects them when bound and keeps the default otherwise."""

    def f(
        a: Optional[Service],  # noqa: UP045 - the spelling under test
        b: Repo | None = None,
        c: Service = Service(),
        d: int = 3,
    ) -> None: ...

    assert get_function_dependencies(f) == {"a": Service, "b": Repo, "c": Service, "d": int}


def test_unannotated_and_variadic_parameters_are_not_listed() -> None:
    """Parameters without an annotation, ``*args`` and ``**kwargs`` name no key."""

    def f(plain, svc: Service, *args: Repo, default=1, **kwargs: Repo) -> None: ...  # type: ignore[no-untyped-def]

    assert get_function_dependencies(f) == {"svc": Service}


def test_inject_lazy_and_named() -> None:
    """``Inject[X]`` (as default or annotation) and ``Lazy[X]`` ask for ``X``; ``Named``
    asks for the named binding."""

    def f(  # type: ignore[no-untyped-def]
        a=Inject[Service],
        b: Repo = Inject[Repo],  # type: ignore[assignment]
        c: Lazy[Service] | None = None,
        d: Annotated[Repo, Named("primary")] | None = None,
    ) -> None: ...

    deps = get_function_dependencies(f)
    assert deps["a"] is Service
    assert deps["b"] is Repo
    assert deps["c"] is Service
    assert get_type_name(deps["d"]) == "Repo[name='primary']"
    assert deps["d"] == normalize_type(Annotated[Repo, Named("primary")])


def test_generics_keep_their_arguments() -> None:
    """``list[int]`` and ``dict[str, X]`` are keys of their own, not ``list`` and ``dict``."""

    def f(items: list[int], table: dict[str, Service], boxes: Box[Repo]) -> None: ...

    assert get_function_dependencies(f) == {
        "items": list[int], "table": dict[str, Service], "boxes": Box[Repo],
    }


def test_dependencies_are_what_the_container_injects() -> None:
    """A container bound under exactly the reported keys builds the class with them."""
    deps = get_class_constructor_dependencies(Consumer)
    assert deps == {"svc": Service, "items": list[int], "table": dict[str, Service],
                    "later": Later}
    c = InjectQ()
    values: dict[str, Any] = {"svc": Service(), "items": [1, 2], "table": {"x": Service()},
                              "later": Later()}
    for name, key in deps.items():
        c.bind_instance(key, values[name])
    built = c.get(Consumer)
    assert (built.svc, built.items, built.table, built.later) == (
        values["svc"], values["items"], values["table"], values["later"],
    )


def test_a_class_gives_its_constructor_parameters() -> None:
    """A class (to either function) gives its constructor's parameters, without ``self``."""

    @dataclasses.dataclass
    class Settings:
        svc: Service
        retries: int = 3

    assert get_function_dependencies(Consumer) == get_class_constructor_dependencies(Consumer)
    assert get_class_constructor_dependencies(Settings) == {"svc": Service, "retries": int}
    assert get_function_dependencies(Consumer.__init__)["svc"] is Service
    assert "self" not in get_function_dependencies(Consumer.__init__)


def test_classes_without_init_and_builtins() -> None:
    """A class without ``__init__`` of its own, builtin types and builtin functions have no
    dependencies."""
    assert get_class_constructor_dependencies(NoInit) == {}
    for builtin in (int, str, dict, list, object):
        assert get_class_constructor_dependencies(builtin) == {}
    assert get_function_dependencies(len) == {}
    assert get_function_dependencies(print) == {}


def test_not_a_class_or_not_callable() -> None:
    """A non-callable, or a function given as a class, raises InjectionError saying so."""
    with pytest.raises(InjectionError, match="not callable"):
        get_function_dependencies(42)
    with pytest.raises(InjectionError, match="not a class"):
        get_class_constructor_dependencies(len)  # type: ignore[arg-type]


# -- is_injectable_function / is_injectable_class -------------------------------------------


def test_is_injectable_function() -> None:
    """A callable whose annotations can be read is injectable; a non-callable or an
    unreadable annotation is not."""

    def good(svc: Service) -> None: ...

    def bad(ghost: Ghost) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    assert is_injectable_function(good)
    assert is_injectable_function(lambda: None)
    assert is_injectable_function(len)
    assert is_injectable_function(Consumer)
    assert not is_injectable_function(bad)
    assert not is_injectable_function(42)


def test_is_injectable_class() -> None:
    """Concrete user classes are injectable, with or without ``__init__``; abstract classes,
    Protocols, enums, builtins and non-classes are not."""

    class Broken:
        def __init__(self, ghost: Ghost) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    assert is_injectable_class(Consumer)
    assert is_injectable_class(NoInit)
    for cls in (Shape, Greeter, Color, int, str, dict, list, complex, frozenset, Broken):
        assert not is_injectable_class(cls), cls
    assert not is_injectable_class(len)
    assert not is_injectable_class(list[int])


# -- type hints ------------------------------------------------------------------------------


def test_normalize_type() -> None:
    """The key a container injects for an annotation."""
    assert normalize_type(Service) is Service
    assert normalize_type(Optional[Service]) is Service  # noqa: UP045
    assert normalize_type(Service | None) is Service
    assert normalize_type(Lazy[Service]) is Service
    assert normalize_type(Inject[Service]) is Service
    assert normalize_type(list[int]) == list[int]
    assert normalize_type(dict[str, Service]) == dict[str, Service]
    assert normalize_type(Service | Repo) == Service | Repo  # not just its first member
    assert normalize_type(Annotated[Service, "note"]) is Service


def test_normalize_type_strings_and_no_key() -> None:
    """Forward references stay strings; hints that name no key are returned unchanged."""
    assert normalize_type("Service") == "Service"
    assert normalize_type(ForwardRef("Service")) == "Service"
    assert normalize_type(Optional["Service"]) == "Service"
    assert normalize_type(Any) is Any
    assert normalize_type(object) is object
    assert normalize_type(None) is type(None)


def test_is_generic_type() -> None:
    """True for a generic with its arguments; false for bare classes, unions, Literal."""
    generic: list[object] = [list[int], dict[str, Service], Box[int], Callable[[int], str],
                              typing.List[int], Annotated[list[int], "x"]]  # noqa: UP006
    for hint in generic:
        assert is_generic_type(hint), hint
    not_generic: list[object] = [list, Box, Service, int | str, Optional[int], Literal["a"],  # noqa: UP045
                                 Any, "list[int]"]
    for hint in not_generic:
        assert not is_generic_type(hint), hint


def test_is_concrete_type() -> None:
    """True for classes that can be instantiated."""
    concrete: list[object] = [Service, NoInit, int, dict, Color, Box]
    for hint in concrete:
        assert is_concrete_type(hint), hint
    abstract: list[object] = [Shape, Greeter, list[int], Box[int], Any, Generic,
                              Optional[int], len, "X"]  # noqa: UP045
    for hint in abstract:
        assert not is_concrete_type(hint), hint


def test_type_names() -> None:
    """Readable names: classes (nested ones with their outer class, local ones without
    ``<locals>``), generics with their arguments, unions, Callable, Literal, None."""

    class Local:
        pass

    cases: list[tuple[object, str]] = [
        (Service, "Service"),
        (Outer.Inner, "Outer.Inner"),
        (Local, "Local"),
        (int, "int"),
        (list[int], "list[int]"),
        (dict[str, Service], "dict[str, Service]"),
        (Optional[Service], "Service | None"),  # noqa: UP045
        (Service | Repo, "Service | Repo"),
        (Callable[[int, str], Service], "Callable[[int, str], Service]"),
        (Callable[..., Service], "Callable[..., Service]"),
        (Literal["a", 1], "Literal['a', 1]"),
        (list["Service"], "list[Service]"),
        (None, "None"),
        (type(None), "None"),
        (Any, "Any"),
        (T, "T"),
        (Lazy[Service], "Lazy[Service]"),
        (Annotated[Service, "x"], "Annotated[Service, 'x']"),
    ]
    for hint, name in cases:
        assert get_type_name(hint) == name, hint
        assert format_type_name(hint) == name, hint


def test_strings_are_their_own_name() -> None:
    """A string (a forward reference or a string key) is returned as it is."""
    assert format_type_name("Service") == "Service"
    assert get_type_name("db_url") == "db_url"


def test_resolve_forward_ref() -> None:
    """A string is evaluated in the caller's module, or in the namespaces given."""

    class Local:
        pass

    assert resolve_forward_ref("Service") is Service
    assert resolve_forward_ref("list[Service] | None") == list[Service] | None
    assert resolve_forward_ref(ForwardRef("Repo")) is Repo
    assert resolve_forward_ref("Local", locals_dict={"Local": Local}) is Local
    namespace = {"X": Service}
    assert resolve_forward_ref("X", globals_dict=namespace) is Service
    assert namespace == {"X": Service}  # not changed by the evaluation


def test_resolve_forward_ref_failures_are_type_errors() -> None:
    """An undefined name or a string that is no expression raises TypeError saying why."""
    with pytest.raises(TypeError, match=r"'Ghost'.*'Ghost' is not defined.*globals_dict"):
        resolve_forward_ref("Ghost")
    with pytest.raises(TypeError, match="SyntaxError"):
        resolve_forward_ref("list[")
    with pytest.raises(TypeError, match="the string of a type"):
        resolve_forward_ref(Service)  # type: ignore[arg-type]


def test_safe_issubclass() -> None:
    """``issubclass``, but False where it would raise."""
    assert safe_issubclass(bool, int)
    assert safe_issubclass(bool, (str, int))
    assert safe_issubclass(bool, str | int)
    assert not safe_issubclass(str, int)
    assert not safe_issubclass(Service(), Service)
    assert not safe_issubclass(list[int], list)
    assert not safe_issubclass(Optional[int], int)  # noqa: UP045
    assert not safe_issubclass(Service, Greeter)  # a Protocol that is not runtime_checkable
    assert not safe_issubclass(list, list[int])


# -- ThreadLocalStorage ----------------------------------------------------------------------


def test_thread_local_storage_in_one_thread() -> None:
    """get/set/delete/clear; any string is a key, attribute names included."""
    storage = ThreadLocalStorage()
    assert storage.get("scope") is None
    assert storage.get("scope", "none") == "none"
    storage.set("scope", "request")
    for key in ("get", "__dict__", "__class__", "with space"):
        storage.set(key, key.upper())
    assert storage.get("scope") == "request"
    assert storage.get("__dict__") == "__DICT__"
    storage.delete("scope")
    storage.delete("scope")  # deleting what is not set does nothing
    assert storage.get("scope") is None
    storage.clear()
    assert storage.get("get") is None


def test_thread_local_storage_across_threads() -> None:
    """Each thread sees only its own values, while the others hold theirs at the same time;
    clear() in one thread leaves the others' values."""
    storage = ThreadLocalStorage()
    storage.set("who", "main")
    n = 4
    all_set = threading.Barrier(n)
    cleared = threading.Barrier(n)
    seen: dict[int, tuple[object, object, object]] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            before = storage.get("who")
            storage.set("who", i)
            all_set.wait(timeout=10)  # every thread has set its value now
            mine = storage.get("who")
            if i == 0:
                storage.clear()
            cleared.wait(timeout=10)
            seen[i] = (before, mine, storage.get("who"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert not errors
    assert seen[0] == (None, 0, None)
    for i in range(1, n):
        assert seen[i] == (None, i, i)
    assert storage.get("who") == "main"
