# pyright: strict
"""Typing checks of the Celery integration (see check_types.py): a task's injected
parameter is its annotation's type, and ``@inject_celery`` keeps the function's type, so
``@app.task`` receives the function as written. Celery ships no type hints: its app is
``Any`` here, at the one place this file touches it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, assert_type

from celery import Celery  # type: ignore[import-untyped]  # pyright: ignore[reportMissingTypeStubs]

from injectq import InjectQ, Named
from injectq.integrations.celery import get_container_celery, inject_celery, setup_celery


class Service:
    def run(self) -> int:
        return 1


app: Any = Celery("check", set_as_current=False)
# Celery's task decorator, typed: a task is Any to a checker without Celery stubs
task: Callable[[Callable[..., Any]], Any] = app.task


@inject_celery
def _plain(order_id: int, svc: Service, region: Annotated[str, Named("region")]) -> int:
    assert_type(svc, Service)
    assert_type(region, str)
    return order_id + svc.run()


_kept: Callable[[int, Service, str], int] = _plain  # the same function type
assert_type(_plain(1, Service(), "eu"), int)


@task
@inject_celery
def send(order_id: int, svc: Service) -> int:
    assert_type(svc, Service)
    return order_id + svc.run()


assert_type(send, Any)  # a Celery task: delay(), apply_async() as Celery defines them
send.delay(42)
send.apply_async((42,), countdown=1)
container = InjectQ()
setup_celery(container, app)
setup_celery(container, app, scope_name="request")
assert_type(get_container_celery(app), Any)
