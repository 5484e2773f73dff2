"""The runtime compiler: resolvers of bindings that differ only in names share one compiled
shape, and still behave, name themselves and report error paths as their own."""

from __future__ import annotations

import pytest

from injectq import InjectQ, Module
from injectq.runtime.compiler import _shapes


class A1:
    def __init__(self) -> None:
        raise ValueError("a1 down")


class B1:
    def __init__(self, a: A1) -> None:
        self.a = a


class C1:
    def __init__(self, b: B1) -> None:
        self.b = b


class A2:
    def __init__(self) -> None:
        self.ok = True


class B2:
    def __init__(self, a: A2) -> None:
        self.a = a


class C2:
    def __init__(self, b: B2) -> None:
        self.b = b


class Twins(Module):
    def configure(self) -> None:
        for cls in (A1, B1, A2, B2):
            self.bind(cls).transient()
        self.bind(C1).singleton()
        self.bind(C2).singleton()


def test_same_shape_compiles_once_and_keeps_its_own_objects() -> None:
    """C1 and C2 have one shape: one maker, two sets of closures over their own classes."""
    c = InjectQ()
    c.install(Twins())
    before = len(_shapes)
    c2 = c.get(C2)
    grew = len(_shapes) - before
    with pytest.raises(ValueError, match="a1 down"):
        c.get(C1)
    assert len(_shapes) - before == grew  # C1 reused C2's shape
    assert isinstance(c2.b.a, A2) and c.get(C2) is c2
    assert c._resolvers[C2].__name__.startswith("_r") and "C2" in c._resolvers[C2].__name__


def test_error_path_through_an_inlined_chain_names_each_binding() -> None:
    """A transient built inline (C1 <- B1(A1())) is named in the path though the line's
    text is the shared shape's."""
    c = InjectQ()
    c.install(Twins())
    c.get(C2)  # compile the shape first, from the other binding
    with pytest.raises(ValueError) as info:
        c.get(C1)
    path = [link.label for link in info.value.injectq_path]  # type: ignore[attr-defined]
    assert path == ["C1", "B1", "A1"]


class Dep:
    pass


class Odd:
    def __init__(self, *, _p1: Dep, _k2: Dep) -> None:
        self.deps = (_p1, _k2)


def test_keyword_argument_named_like_a_generated_name_is_left_alone() -> None:
    """A user's keyword-only parameter called like a compiler name (_p1, _k2) is passed
    by that name, not renamed with the shape."""
    c = InjectQ()
    c.bind(Dep).transient()
    c.bind(Odd).transient()
    odd = c.get(Odd)
    assert all(isinstance(d, Dep) for d in odd.deps) and odd.deps[0] is not odd.deps[1]
