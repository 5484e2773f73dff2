"""What users pass as a key, a binding name or a scope name, checked where it enters the API.

A value that cannot be one (a list as a key, a dict as a name) is a ``BindingError`` naming
the call, the parameter, the value (shortened) and, for a registration, where it was made:
never a ``TypeError: unhashable type`` from a dict deep inside. Lookups (``get``, ``has``,
``scope()``) check nothing on their fast path: they catch the ``TypeError`` of their own
dict lookup and ask ``refuse_lookup`` what it was. Imports nothing of the package but errors
(``bind_site`` is imported when an error is raised: binding.py imports this module).
"""

from __future__ import annotations

import reprlib
from typing import Any, NoReturn

from injectq.errors import BindingError

__all__ = [
    "check_key",
    "check_marker",
    "check_name",
    "hashable",
    "invalid",
    "key_error",
    "kind_of",
    "lookup_error",
    "name_error",
    "refuse_here",
    "refuse_lookup",
    "scope_error",
    "scope_text",
    "shown",
]

KEY_HELP = (
    "a key must be hashable: a class, a string, a NewType or Annotated[T, ...] "
    "(bind several keys with one bind() each)"
)
NAME_HELP = 'a binding name must be a string, such as name="primary"'
ROOT_HELP = "a root is a key (a class, a string...) or a function whose parameters are injected"
SCOPE_HELP = (
    'a scope must be a string: "singleton", "transient", "request", "action", or a name '
    "declared with declare_scope()"
)

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdeque = 6
_repr.maxdict = 4
_repr.maxstring = 60
_repr.maxother = 80


def shown(value: Any) -> str:
    """``value``'s repr on one line, shortened when it is long (a huge list shows its first
    items); a repr that raises shows the type."""
    text = _repr.repr(value)
    return text.replace("\r", "\\r").replace("\n", "\\n")


def kind_of(value: Any) -> str:
    """``a list``, ``an OrderedDict``: the type of ``value`` with its article."""
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def invalid(
    call: str,
    what: str,
    value: Any,
    help: str,
    site: str | None = None,
    *,
    unhashable: bool = False,
) -> BindingError:
    """``bind() at app/modules.py:9: the key [1] is a list, which is not hashable; <help>``"""
    where = f"{call} at {site}" if site else call
    why = ", which is not hashable" if unhashable else ""
    return BindingError(f"{where}: the {what} {shown(value)} is {kind_of(value)}{why}; {help}")


def key_error(call: str, value: Any, site: str | None = None) -> BindingError:
    return invalid(call, "key", value, KEY_HELP, site, unhashable=True)


def name_error(call: str, value: Any, site: str | None = None) -> BindingError:
    return invalid(call, "name", value, NAME_HELP, site)


def scope_error(call: str, value: Any, site: str | None = None) -> BindingError:
    return invalid(call, "scope", value, SCOPE_HELP, site)


def refuse_here(
    call: str, what: str, value: Any, help: str, *, unhashable: bool = False
) -> NoReturn:
    """Raise ``invalid(...)`` at the line of the user's call (the first frame outside injectq):
    for calls that keep no bind site, such as a marker or a decorator."""
    from injectq.model.binding import bind_site  # binding.py imports this module

    raise invalid(call, what, value, help, bind_site(), unhashable=unhashable)


def check_marker(call: str, key: Any, name: Any = None) -> None:
    """A key and a name given to a marker (``Inject[...]``, ``InjectFastAPI(...)``), told at
    the line that wrote it: it is evaluated once, where the function is defined."""
    if not hashable(key):
        refuse_here(call, "key", key, KEY_HELP, unhashable=True)
    if name is not None and not isinstance(name, str):
        refuse_here(call, "name", name, NAME_HELP)


def check_key(value: Any, call: str, site: str | None = None) -> Any:
    """``value``, when it can be a key."""
    if not hashable(value):
        raise key_error(call, value, site)
    return value


def check_name(value: Any, call: str, site: str | None = None) -> str | None:
    """A binding name as a plain ``str`` (a subclass's methods never run again), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise name_error(call, value, site)
    return str.__str__(value)


def scope_text(
    value: Any, call: str, site: str | None = None, what: str = "scope", help: str = SCOPE_HELP
) -> str:
    """The name a scope argument stands for: a string, or an enum member whose value is one
    (``ScopeType.REQUEST``)."""
    text = value if isinstance(value, str) else getattr(value, "value", None)
    if not isinstance(text, str):
        raise invalid(call, what, value, help, site)
    return str.__str__(text)


def lookup_error(call: str, key: Any, name: Any = None) -> BindingError | None:
    """What a lookup's ``TypeError`` means: the key (or the name) it was given cannot be one;
    None when both can (the error came from somewhere else)."""
    if not hashable(key):
        return key_error(call, key)
    if not hashable(name):
        return name_error(call, name)
    return None


def refuse_lookup(call: str, key: Any, name: Any = None) -> None:
    """Called while a lookup's ``TypeError`` is handled: raise the ``BindingError`` it
    stands for, if the key or the name is unhashable; else return (the caller re-raises)."""
    error = lookup_error(call, key, name)
    if error is not None:
        raise error from None
