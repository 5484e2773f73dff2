"""The classes every contender wires for cases a to f (plain classes with typed __init__).

Each contender builds the same object graphs from these classes, in the configuration its
documentation recommends; ``harness.CHECKS`` verifies the graphs it returns.
"""

from __future__ import annotations


# (a) cached singleton
class S:
    pass


# (b) transient chains: C -> B -> A (depth 3) and K9 -> ... -> K0 (depth 10)
class A:
    pass


class B:
    def __init__(self, a: A) -> None:
        self.a = a


class C:
    def __init__(self, b: B) -> None:
        self.b = b


class K0:
    pass


class K1:
    def __init__(self, k: K0) -> None:
        self.k = k


class K2:
    def __init__(self, k: K1) -> None:
        self.k = k


class K3:
    def __init__(self, k: K2) -> None:
        self.k = k


class K4:
    def __init__(self, k: K3) -> None:
        self.k = k


class K5:
    def __init__(self, k: K4) -> None:
        self.k = k


class K6:
    def __init__(self, k: K5) -> None:
        self.k = k


class K7:
    def __init__(self, k: K6) -> None:
        self.k = k


class K8:
    def __init__(self, k: K7) -> None:
        self.k = k


class K9:
    def __init__(self, k: K8) -> None:
        self.k = k


CHAIN10 = (K0, K1, K2, K3, K4, K5, K6, K7, K8, K9)


# (c) wide: a transient with 10 dependencies, 5 transient (T0..T4) and 5 singletons (W0..W4)
class T0:
    pass


class T1:
    pass


class T2:
    pass


class T3:
    pass


class T4:
    pass


class W0:
    pass


class W1:
    pass


class W2:
    pass


class W3:
    pass


class W4:
    pass


class Wide:
    def __init__(self, t0: T0, t1: T1, t2: T2, t3: T3, t4: T4,
                 w0: W0, w1: W1, w2: W2, w3: W3, w4: W4) -> None:
        self.t0, self.t1, self.t2, self.t3, self.t4 = t0, t1, t2, t3, t4
        self.w0, self.w1, self.w2, self.w3, self.w4 = w0, w1, w2, w3, w4


WIDE_TRANSIENT = (T0, T1, T2, T3, T4)
WIDE_SINGLETON = (W0, W1, W2, W3, W4)


# (d) request scope: Handler (transient) <- R1..R5 (scoped) + Config (singleton).
# R2 and R3 need R1 and R4 needs R2, so sharing within one scope is visible and checked.
class Config:
    pass


class R1:
    pass


class R2:
    def __init__(self, r1: R1) -> None:
        self.r1 = r1


class R3:
    def __init__(self, r1: R1) -> None:
        self.r1 = r1


class R4:
    def __init__(self, r2: R2) -> None:
        self.r2 = r2


class R5:
    pass


class Handler:
    def __init__(self, r1: R1, r2: R2, r3: R3, r4: R4, r5: R5, config: Config) -> None:
        self.r1, self.r2, self.r3, self.r4, self.r5, self.config = r1, r2, r3, r4, r5, config


SCOPED = (R1, R2, R3, R4, R5)


# (e) async: EC -> EB -> EA, EA made by an async factory (transient: awaited at every aget)
class EA:
    pass


class EB:
    def __init__(self, a: EA) -> None:
        self.a = a


class EC:
    def __init__(self, b: EB) -> None:
        self.b = b


async def make_ea() -> EA:
    return EA()


# (f) a function with 3 dependencies: two transients and a singleton
class F1:
    pass


class F2:
    pass


class FS:
    pass


def target(f1: F1, f2: F2, fs: FS) -> tuple[F1, F2, FS]:
    return (f1, f2, fs)
