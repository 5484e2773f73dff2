"""What configure() makes: an instance, a bound method, a partial; Lazy and the container."""

from __future__ import annotations

import functools

from injectq import InjectQ, Lazy, Module


class Config:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn


class Mailer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port


class Metrics:
    pass


class Reporter:
    def __init__(self, mailer: Mailer, metrics: Lazy[Metrics], container: InjectQ) -> None:
        self.mailer = mailer
        self.metrics = metrics
        self.container = container


def make_mailer(host: str, port: int) -> Mailer:
    return Mailer(host, port)


class CapturedModule(Module):
    def __init__(self) -> None:
        self.dsn = "postgres://localhost/app"

    def configure(self) -> None:
        self.bind(Config, Config(self.dsn))
        self.bind_factory(Metrics, self.make_metrics).singleton()
        self.bind_factory(Mailer, functools.partial(make_mailer, "smtp.local", 25)).singleton()
        self.bind(Reporter, Reporter).transient()

    def make_metrics(self) -> Metrics:
        return Metrics()
