"""InjectQ 0.5.0's helper functions: the dependencies a function or class would be injected
with, whether one can be injected, thread-local storage, and safe ``issubclass``.

The dependencies are read by ``injectq.model.introspect``, the one reader of signatures
the containers use too, so what these report is what a container injects: the same key
for every annotation, ``from __future__ import annotations`` and forward references
included.
"""

from __future__ import annotations

import inspect
import threading
import types
from typing import Any, TypeAlias

from injectq.errors import InjectionError
from injectq.model.arguments import shown
from injectq.model.graph import is_autowirable
from injectq.model.introspect import describe
from injectq.model.markers import Key
from injectq.utils.types import format_type_name

__all__ = [
    "ThreadLocalStorage",
    "format_type_name",
    "get_class_constructor_dependencies",
    "get_function_dependencies",
    "is_injectable_class",
    "is_injectable_function",
    "safe_issubclass",
]


def get_function_dependencies(func: object) -> dict[str, Key]:
    """The key each parameter of ``func`` is injected by, by parameter name, in order.

    A parameter is listed when its annotation, or an ``Inject[T]`` default, names a key:
    ``svc: Service``, ``svc: Service | None`` and ``svc: Lazy[Service]`` all give
    ``Service``; ``items: list[int]`` gives ``list[int]``; ``Annotated[Repo, Named("a")]``
    gives the key of the binding named ``"a"``. A parameter with a default (or an
    ``Optional`` one) is listed too: a container injects it when its key is bound and
    otherwise leaves the default (or passes None). Not listed: parameters without an
    annotation (a container fills them by name when a binding has that name),
    ``*args`` and ``**kwargs``, and ``self`` of a class. A class gives its constructor's
    parameters.

    Raises ``InjectionError`` when ``func`` is not callable, or when an annotation of a
    parameter without a default cannot be evaluated (a name that is not defined), saying
    which and why. An annotation that cannot be evaluated on a parameter with a default is
    left out: a container uses the default there.
    """
    if not callable(func):
        msg = (
            f"cannot read the dependencies of {shown(func)}: it is not callable; "
            "pass a function, a class or another callable"
        )
        raise InjectionError(msg)
    info = describe(func)
    dependencies: dict[str, Key] = {}
    problems: list[str] = []
    for param in info.params:
        if param.error is not None:
            if not param.has_default:
                problems.append(f"parameter {param.name!r}: {param.error}")
            continue
        if param.key is not None:
            dependencies[param.name] = param.key
    if problems:
        msg = (
            f"cannot read the dependencies of {info.qualname}: " + "; ".join(problems)
            + ". Define or import the names at module level, or give the parameters a default"
        )
        raise InjectionError(msg)
    return dependencies


def get_class_constructor_dependencies(cls: type[Any]) -> dict[str, Key]:
    """``get_function_dependencies`` of a class: its constructor's parameters (without
    ``self``). A class without an ``__init__`` of its own has none; a dataclass or a
    pydantic model gives its fields as its constructor takes them.

    Raises ``InjectionError`` when ``cls`` is not a class, or as
    ``get_function_dependencies`` does.
    """
    if not inspect.isclass(cls):  # pyright: ignore[reportUnnecessaryIsInstance]
        msg = (
            f"cannot read the constructor dependencies of {shown(cls)}: it is not a class; "
            "use get_function_dependencies() for a function"
        )
        raise InjectionError(msg)
    return get_function_dependencies(cls)


def _readable(func: object) -> bool:
    try:
        get_function_dependencies(func)
    except InjectionError:
        return False
    return True


def is_injectable_function(func: object) -> bool:
    """Whether ``func`` can be called with injected arguments: it is callable and every
    annotation ``get_function_dependencies`` must read can be evaluated. A function
    without parameters, or one a signature cannot be read for (some builtins), qualifies:
    a container calls it with no arguments."""
    return _readable(func)


def is_injectable_class(cls: object) -> bool:
    """Whether a container builds ``cls`` from its constructor when no binding names it:
    a concrete class (not abstract, not a ``Protocol``, an ``Enum`` or a ``TypedDict``),
    not a builtin type (``str``, ``int``, ``dict``...), whose constructor's annotations can
    be read. A class without an ``__init__`` of its own qualifies: it is built with no
    arguments."""
    return is_autowirable(cls) and _readable(cls)


class ThreadLocalStorage:
    """Values by key, each thread seeing only the values it set itself.

    ``get(key, default)`` gives the default for a key this thread has not set; ``delete``
    and ``clear`` remove this thread's values only. Any string is a key, including the
    names of attributes (``"get"``, ``"__dict__"``). Within one thread, asyncio tasks
    share the values: injectq's own scopes are kept in context variables instead.
    """

    __slots__ = ("_local",)

    def __init__(self) -> None:
        self._local = threading.local()

    def _values(self) -> dict[str, Any]:
        try:
            values: dict[str, Any] = self._local.values
        except AttributeError:  # the first use in this thread
            values = {}
            self._local.values = values
        return values

    def get(self, key: str, default: Any = None) -> Any:
        """This thread's value of ``key``, or ``default`` when it has none."""
        return self._values().get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Set this thread's value of ``key``."""
        self._values()[key] = value

    def delete(self, key: str) -> None:
        """Remove this thread's value of ``key``; nothing happens when it has none."""
        self._values().pop(key, None)

    def clear(self) -> None:
        """Remove every value of this thread; other threads keep theirs."""
        self._values().clear()


ClassInfo: TypeAlias = type | types.UnionType | tuple["ClassInfo", ...]


def safe_issubclass(obj: object, class_or_tuple: ClassInfo) -> bool:
    """``issubclass(obj, class_or_tuple)``, but False instead of a ``TypeError`` when
    ``obj`` is not a class (an instance, ``list[int]``, ``Optional[X]``) or when the check
    cannot be made (a ``Protocol`` that is not ``runtime_checkable``, a generic alias as
    ``class_or_tuple``)."""
    if not inspect.isclass(obj):
        return False
    try:
        return issubclass(obj, class_or_tuple)
    except TypeError:
        return False
