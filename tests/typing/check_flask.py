# pyright: strict
"""Typing checks of the Flask integration (see check_types.py): ``@inject_flask`` leaves a
view's type as written, so an injected ``svc: Service`` is a ``Service``;
``get_flask(Key)`` is the key's instance type, for a Protocol too."""

from __future__ import annotations

from typing import Protocol, assert_type

from flask import Flask

from injectq import InjectQ
from injectq.integrations.flask import get_container_flask, get_flask, inject_flask, setup_flask


class Service:
    def run(self) -> int:
        return 1


class Clock(Protocol):
    def now(self) -> float: ...


app = Flask(__name__)
setup_flask(InjectQ(), app, scope_name="request")


@app.get("/run/<int:n>")
@inject_flask
def run(n: int, svc: Service) -> str:
    assert_type(svc, Service)
    clock = get_flask(Clock)
    assert_type(clock, Clock)
    assert_type(get_flask(Service, name="primary"), Service)
    return str(n + svc.run() + int(clock.now()))


def plain(n: int, svc: Service) -> str:
    return str(n + svc.run())


assert_type(inject_flask(plain)(1, Service()), str)
get_container_flask()
