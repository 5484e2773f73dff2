"""The parameter markers of the integrations that resolve marked parameters themselves
(``InjectStarlette(T)``, ``InjectTyper(T)``): the key and binding name to resolve, left as
a parameter's default or in its ``Annotated`` metadata."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, ClassVar, TypeVar, get_args, get_origin

from injectq.model.markers import display_key

__all__ = ["Marker", "marker_of"]

M = TypeVar("M", bound="Marker")


class Marker:
    """What an integration's ``Inject<Framework>(T)`` leaves on a parameter; each
    integration has its subclass, so that it finds only its own."""

    __slots__ = ("key", "name")

    label: ClassVar[str] = "Marker"  # the function that makes it, for its repr

    def __init__(self, key: Any, name: str | None) -> None:
        self.key = key
        self.name = name

    def __repr__(self) -> str:
        named = f", name={self.name!r}" if self.name is not None else ""
        return f"{self.label}({display_key(self.key)}{named})"


def marker_of(parameter: inspect.Parameter, kind: type[M]) -> M | None:
    """The ``kind`` marker of ``parameter``: its default, or in ``Annotated[T, ...]``."""
    if isinstance(parameter.default, kind):
        return parameter.default
    if get_origin(parameter.annotation) is Annotated:
        for extra in get_args(parameter.annotation)[1:]:
            if isinstance(extra, kind):
                return extra
    return None
