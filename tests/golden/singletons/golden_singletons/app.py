"""Singletons and a transient chain built in place."""

from __future__ import annotations

from injectq import Module


class Settings:
    def __init__(self, url: str = "sqlite://") -> None:
        self.url = url


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class A:
    pass


class B:
    def __init__(self, a: A) -> None:
        self.a = a


class C:
    def __init__(self, b: B, engine: Engine) -> None:
        self.b = b
        self.engine = engine


class AppModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings).singleton()
        self.bind(Engine, Engine).singleton()
        self.bind(A, A).transient()
        self.bind(B, B).transient()
        self.bind(C, C).transient()
