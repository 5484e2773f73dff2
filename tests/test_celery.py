"""injectq.integrations.celery: a scope per task run, closed before the result is stored.

Tasks run in a real Celery worker inside this process (``celery.contrib.testing``'s
``start_worker``: a worker thread with the solo pool) over the ``memory://`` broker and
the in-memory cache result backend, or through ``apply()`` (Celery's own tracer, without a
broker) where no result needs storing. The backend logs to the app's ``EVENTS`` each state
it stores, so the order of finalization and storing can be read off. Both containers serve
the same app (tests/integration_support.py): the runtime one, and the one injectq-gen
generates from the same Module. tests/test_celery_worker.py runs real prefork workers.
"""

# no `from __future__ import annotations`: @inject_celery reads the tasks' annotations,
# and these tasks are local functions using the app's classes, taken from a fixture

import abc
import contextlib
import datetime
import decimal
import enum
import inspect
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Annotated, Any, NewType, Protocol, TypedDict

import pytest
from celery import Celery
from celery._state import get_current_app
from celery.backends.cache import CacheBackend
from celery.contrib.testing.worker import start_worker
from celery.exceptions import Ignore, Reject, SoftTimeLimitExceeded
from celery.worker import state as worker_state

from injectq import Inject, InjectionError, InjectQ, Lazy, Named, ScopeError, inject
from injectq.integrations.celery import get_container_celery, inject_celery, setup_celery
from injectq.runtime.interface import current
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    job_scope,
    run_docs_example,
    scope_events,
)

APP = app_source("celery", name="worker_name", cli=True)

app, container = app_fixtures("celeryapp", APP)

WAIT = 10  # seconds any one result may take


class RecordingBackend(CacheBackend):  # type: ignore[misc]
    """The in-memory cache backend, logging each state it stores to the app's events."""

    def store_result(self, task_id: str, result: Any, state: str, *args: Any,
                     **kwargs: Any) -> Any:
        self.app.injectq_test_log.append(f"stored {state}")
        return super().store_result(task_id, result, state, *args, **kwargs)


def wake() -> None:
    """A task that does nothing: its message wakes a worker waiting for the broker."""


def make_celery(events: list[str], name: str = "tasks") -> Any:
    """A Celery app over the memory broker, storing results with ``RecordingBackend``."""
    celery = Celery(name, broker="memory://", backend=f"{__name__}:RecordingBackend",
                    set_as_current=False)
    celery.conf.cache_backend = "memory"
    celery.conf.broker_connection_retry_on_startup = False
    celery.conf.broker_transport_options = {"polling_interval": 0.01}
    celery.task(name="wake", shared=False, ignore_result=True)(wake)
    celery.injectq_test_log = events
    return celery


@contextlib.contextmanager
def worker(celery: Any) -> Iterator[Any]:
    """A real worker consuming ``celery``'s tasks in a thread of this process, stopped at
    the end with a warm shutdown (as SIGTERM stops ``celery worker``)."""
    try:
        with start_worker(celery, pool="solo", perform_ping_check=False,
                          shutdown_timeout=WAIT) as running:
            yield running
            # it checks for shutdown between waits for the broker (2 s each) and waits
            # once more after: a message ends each wait
            worker_state.should_stop = 0
            for _ in range(2):
                celery.send_task("wake")
                time.sleep(0.05)
    finally:
        worker_state.should_stop = None


def result(sent: Any) -> Any:
    """What the task ``sent`` returned, polling the backend often."""
    return sent.get(timeout=WAIT, interval=0.01)


def greeter_tasks(container: Any, app: ModuleType) -> tuple[Any, SimpleNamespace]:
    """A Celery app whose tasks take the app's services by annotation."""
    Greeter, Audit, Session, Settings = app.Greeter, app.Audit, app.Session, app.Settings
    celery = make_celery(app.EVENTS)

    @inject
    def session_number(session: Session) -> int:  # resolved from the task's scope
        return session.number

    @celery.task(shared=False)
    @inject_celery
    def greet(who: str, greeter: Greeter, audit: Audit,
              name: Annotated[str, Named("worker_name")]) -> str:
        return (f"{greeter.greet(who)} by {name}: one session "
                f"{greeter.session is audit.session}, @inject sees it "
                f"{session_number() == audit.session.number}")

    @celery.task(shared=False)
    @inject_celery
    def fail(how: str, audit: Audit) -> None:
        app.EVENTS.append(f"task {how}")
        if how == "error":
            raise ValueError("card declined")
        if how == "soft-limit":
            raise SoftTimeLimitExceeded()
        if how == "ignore":
            raise Ignore()
        raise Reject("bad message", requeue=False)

    @celery.task(bind=True, max_retries=2, shared=False)
    @inject_celery
    def flaky(self: Any, session: Session) -> int:
        if self.request.retries < 1:
            raise self.retry(countdown=0)
        return session.number

    @celery.task(autoretry_for=(ConnectionError,), max_retries=1, default_retry_delay=0,
                 shared=False)
    @inject_celery
    def reconnect(session: Session) -> int:
        if session.number == 1:
            raise ConnectionError("broker away")
        return session.number

    @celery.task(shared=False)
    @inject_celery
    def settings_id(settings: Settings) -> int:
        return id(settings)

    @celery.task(shared=False)
    @inject_celery
    def inner(session: Session) -> int:
        return session.number

    @celery.task(shared=False)
    @inject_celery
    def outer(session: Session) -> list[int]:
        return [inner(), inner.run(), session.number]

    setup_celery(container, celery)
    return celery, SimpleNamespace(greet=greet, fail=fail, flaky=flaky, reconnect=reconnect,
                                   settings_id=settings_id, outer=outer)


def test_each_task_run_gets_its_own_scope_finalized_before_its_result_is_stored(
    container: Any, app: ModuleType
) -> None:
    """Every run gets fresh scoped instances, shared by its parameters and by @inject
    functions it calls; they are finalized newest first, then Celery stores the result."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        first = result(tasks.greet.delay("Ada"))
        assert first == ("hello Ada (session 1) by celery: one session True, "
                         "@inject sees it True")
        assert app.EVENTS == scope_events(1, [
            "close audit 1", "session 1 committed", "close session 1", "stored SUCCESS"])
        app.EVENTS.clear()
        second = result(tasks.greet.apply_async(("Grace",)))
        assert second.startswith("hello Grace (session 2)")
        assert app.EVENTS == scope_events(2, [
            "close audit 2", "session 2 committed", "close session 2", "stored SUCCESS"])


def test_a_failing_task_rolls_back_and_its_failure_is_stored_after(
    container: Any, app: ModuleType
) -> None:
    """The task's exception reaches the resources at their yield, every one is closed,
    and then Celery, unchanged: it stores the FAILURE and get() raises it."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        failed = tasks.fail.delay("error")
        with pytest.raises(ValueError, match=r"^card declined$"):
            result(failed)
        assert failed.state == "FAILURE"
        soft = tasks.fail.delay("soft-limit")
        with pytest.raises(SoftTimeLimitExceeded):
            result(soft)
    assert app.EVENTS == [
        *scope_events(1, ["task error", "close audit 1",
                          "session 1 rolled back: ValueError(card declined)",
                          "close session 1", "stored FAILURE"]),
        *scope_events(2, ["task soft-limit", "close audit 2",
                          "session 2 rolled back: SoftTimeLimitExceeded(SoftTimeLimitExceeded())",
                          "close session 2", "stored FAILURE"]),
    ]


def test_a_retried_task_rolls_back_and_runs_again_in_a_new_scope(
    container: Any, app: ModuleType
) -> None:
    """self.retry() raises Retry: the resources see it, the RETRY is stored after they
    closed, and the next run has a scope of its own."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        assert result(tasks.flaky.delay()) == 2
    rollback = [e for e in app.EVENTS if "rolled back" in e]
    assert rollback == ["session 1 rolled back: Retry(Retry in 0s)"]
    assert app.EVENTS == [
        "open session 1", rollback[0], "close session 1", "stored RETRY",
        "open session 2", "session 2 committed", "close session 2", "stored SUCCESS",
    ]


def test_autoretry_sees_the_exception_after_the_scope_rolled_back(
    container: Any, app: ModuleType
) -> None:
    """With autoretry_for, Celery's retry wrapper around the task gets the exception after
    the scope has rolled back with it; the retry runs in a new scope."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        assert result(tasks.reconnect.delay()) == 2
    assert app.EVENTS == [
        "open session 1", "session 1 rolled back: ConnectionError(broker away)",
        "close session 1", "stored RETRY",
        "open session 2", "session 2 committed", "close session 2", "stored SUCCESS",
    ]


@pytest.mark.parametrize(("how", "exception", "state"), [
    ("ignore", "Ignore()", "IGNORED"),
    ("reject", "Reject(('bad message', False))", "REJECTED"),
])
def test_ignore_and_reject_reach_the_resources(
    container: Any, app: ModuleType, how: str, exception: str, state: str
) -> None:
    """Ignore and Reject leave the task as an exception: the resources see it at their
    yield, and Celery then treats the run as it does without injectq."""
    _, tasks = greeter_tasks(container, app)
    assert tasks.fail.apply((how,)).state == state
    assert app.EVENTS == scope_events(1, [
        f"task {how}", "close audit 1", f"session 1 rolled back: {exception}",
        "close session 1"])


def test_a_task_called_from_a_task_shares_its_scope(container: Any, app: ModuleType) -> None:
    """A decorated task called in another's body (task(...) or task.run(...)) is part of
    the caller's unit of work: one scope, closed once."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        assert result(tasks.outer.delay()) == [1, 1, 1]
    assert app.EVENTS == [
        "open session 1", "session 1 committed", "close session 1", "stored SUCCESS"]


def test_apply_runs_the_task_in_a_scope_too(container: Any, app: ModuleType) -> None:
    """task.apply() and calling the task (eager, in this process) run it in a scope of its
    own, as a worker would; the container is current only while the task runs."""
    _, tasks = greeter_tasks(container, app)
    assert tasks.greet.apply(("Ada",)).get().startswith("hello Ada (session 1)")
    assert tasks.greet("Grace").startswith("hello Grace (session 2)")
    assert current() is None
    assert app.EVENTS == [
        *scope_events(1, ["close audit 1", "session 1 committed", "close session 1"]),
        *scope_events(2, ["close audit 2", "session 2 committed", "close session 2"]),
    ]


def test_celery_checks_the_task_arguments_not_the_injected_ones(
    container: Any, app: ModuleType
) -> None:
    """delay() and apply_async() take the task's own arguments: a missing or extra one is
    Celery's TypeError at the call, before anything is sent; the injected ones are not
    asked for, and one passed explicitly is used as given."""
    _, tasks = greeter_tasks(container, app)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'who'"):
        tasks.greet.delay()
    with pytest.raises(TypeError, match="takes from 1 to 4 positional arguments"):
        tasks.greet.apply_async(("Ada", 1, 2, 3, 4))
    with pytest.raises(TypeError, match="unexpected keyword argument 'whom'"):
        tasks.greet.delay(whom="Ada")
    assert tasks.greet.apply(("Ada",), {"name": "explicit"}).get().startswith(
        "hello Ada (session 1) by explicit")
    params = inspect.signature(tasks.greet.run).parameters.values()
    assert [(p.name, repr(p.default)) for p in params] == [
        ("who", "<class 'inspect._empty'>"), ("greeter", "<injected>"),
        ("audit", "<injected>"), ("name", "<injected>")]


class Color(enum.Enum):
    RED = 1


class Point(TypedDict):
    x: int


class Port(Protocol):
    def send(self) -> None: ...


class Store(abc.ABC):
    @abc.abstractmethod
    def put(self) -> None: ...


class Service:
    pass


Url = NewType("Url", str)


@pytest.mark.parametrize(("annotation", "injected"), [
    (int, False), (str, False), (bytes, False), (list[str], False), (dict[str, int], False),
    (Sequence[int], False), (Any, False), (int | None, False), (int | str, False),
    (Color, False), (Point, False), (datetime.datetime, False), (decimal.Decimal, False),
    (uuid.UUID, False), (inspect.Parameter.empty, False),
    (Service, True), (Service | None, True), (Store, True), (Port, True), (Url, True),
    (Annotated[str, Named("region")], True), (Inject[str], True), (InjectQ, True),
    (Lazy[Service], True),
])
def test_which_parameters_celery_counts_as_task_arguments(
    annotation: Any, injected: bool
) -> None:
    """A parameter the container may fill (a class not carried by a serializer, a NewType,
    a named binding, Inject[T], InjectQ, Lazy[T]) is optional to Celery; the values a
    caller passes (builtins, collections, enums, TypedDicts, dates...) stay required."""
    def task(value):  # type: ignore[no-untyped-def]
        pass

    if annotation is not inspect.Parameter.empty:
        task.__annotations__ = {"value": annotation}
    param = inspect.signature(inject_celery(task)).parameters["value"]
    assert (param.default is not param.empty) is injected


def test_a_task_argument_after_an_injected_parameter_is_refused(app: ModuleType) -> None:
    """Celery passes positional arguments in order: a task argument declared after an
    injected parameter fails at decoration, saying to put it first."""
    def task(greeter: app.Greeter, who: str) -> None:  # type: ignore[name-defined]
        pass

    with pytest.raises(InjectionError) as caught:
        inject_celery(task)
    assert str(caught.value) == (
        f"@inject_celery on {task.__qualname__}: the task argument 'who' comes after the "
        "injected parameter 'greeter'; put the task's arguments first, so that a caller "
        "passes them by position as declared (or make the injected ones keyword-only)")

    def keyword_only(*, greeter: app.Greeter, who: str) -> None:  # type: ignore[name-defined]
        pass

    assert str(inspect.signature(inject_celery(keyword_only))) == (
        "(*, greeter: celeryapp.services.Greeter = <injected>, who: str) -> None")


def test_an_annotation_that_cannot_be_read_is_refused() -> None:
    """Celery's argument check needs each parameter's kind when the task is declared: an
    annotation naming nothing importable fails there, naming the parameter."""
    namespace: dict[str, Any] = {}
    exec("from __future__ import annotations\n"
         "def task(order_id: int, mailer: Mailer) -> None: ...\n", namespace)
    with pytest.raises(InjectionError, match=r"^@inject_celery on task: cannot read the "
                       r"annotation of parameter 'mailer': .*Mailer.*; it must be importable "
                       r"where the task is declared"):
        inject_celery(namespace["task"])


def test_a_task_of_an_app_without_setup_says_what_to_call(app: ModuleType) -> None:
    """Run by an app setup_celery never saw, a task fails naming the app, the task and the
    call to add."""
    celery = make_celery(app.EVENTS, name="billing")

    @celery.task(name="billing.charge", shared=False)
    @inject_celery
    def charge(greeter: app.Greeter) -> None:  # type: ignore[name-defined]
        pass

    with pytest.raises(InjectionError) as caught:
        charge.apply().get()
    assert str(caught.value) == (
        "no InjectQ container serves the Celery app 'billing' of task 'billing.charge': "
        "call setup_celery(container, app) where the app is made, before the worker starts")
    with pytest.raises(InjectionError, match=r"^no InjectQ container serves the Celery app "
                       r"'billing': call setup_celery"):
        get_container_celery(celery)
    assert app.EVENTS == []


def test_outside_a_task_the_function_says_so(container: Any, app: ModuleType) -> None:
    """The task's function called with no task running (task.run(...) in a test) is an
    InjectionError saying where it works."""
    _, tasks = greeter_tasks(container, app)
    with pytest.raises(InjectionError, match=r"^no Celery task is running: @inject_celery "
                       r"on .*greet resolves while Celery runs it as a task"):
        tasks.greet.run("Ada")


def test_a_missing_binding_names_the_parameter(container: Any, app: ModuleType) -> None:
    """A parameter nothing is bound to fails naming it and the task; the FAILURE is the
    InjectionError."""
    class Unbound:
        def __init__(self, value: int) -> None: ...

    celery = make_celery(app.EVENTS)

    @celery.task(shared=False)
    @inject_celery
    def needs(thing: Unbound) -> None:
        pass

    setup_celery(container, celery)
    failed = needs.apply()
    assert failed.state == "FAILURE"
    with pytest.raises(InjectionError, match="cannot inject parameter 'thing' of "):
        failed.get()


def test_setup_opens_the_scope_it_is_told() -> None:
    """setup_celery(..., scope_name=) opens that scope for each task run."""
    container, Job, log = job_scope()
    celery = make_celery(log)

    @celery.task(shared=False)
    @inject_celery
    def run(job: Job) -> bool:
        return container.current_scope("job") is not None

    setup_celery(container, celery, scope_name="job")
    assert get_container_celery(celery) is container
    assert run.apply().get() is True
    assert run.apply().get() is True
    assert log == ["open job", "close job", "open job", "close job"]


def test_setup_refuses_an_unknown_scope_name_and_a_second_call(container: Any) -> None:
    """An unknown scope name fails at setup, not at the first task; so does setting up the
    same app twice."""
    celery = make_celery([], name="mailer")
    with pytest.raises(ScopeError, match="nightly"):
        setup_celery(container, celery, scope_name="nightly")
    setup_celery(container, celery)
    with pytest.raises(InjectionError, match=r"^setup_celery was already called on the "
                       r"Celery app 'mailer': call it once$"):
        setup_celery(container, celery)


def test_an_async_task_is_refused() -> None:
    """Celery never awaits a task function: @inject_celery on an async one fails at once."""
    async def send() -> None: ...

    with pytest.raises(InjectionError, match=r"^@inject_celery on async function .*send: "
                       r"Celery calls a task's function without awaiting it; make it a sync "
                       r"function$"):
        inject_celery(send)


def test_the_worker_closes_the_container_when_it_shuts_down(
    container: Any, app: ModuleType
) -> None:
    """Stopping the worker closes its app's container in the worker's process: its
    singletons are finalized and forgotten (the next resolution makes a new one)."""
    celery, tasks = greeter_tasks(container, app)
    with worker(celery):
        first = result(tasks.settings_id.delay())
        assert result(tasks.settings_id.delay()) == first
        settings = container.get(app.Settings)
        assert id(settings) == first
    assert container.get(app.Settings) is not settings


def test_a_pool_process_exiting_closes_the_container_of_its_app() -> None:
    """worker_process_shutdown, sent in a prefork child as it exits, closes the container
    of the app that process runs, and only that one."""
    from celery import signals

    log: list[str] = []

    def container_logging(name: str) -> InjectQ:
        def open_pool() -> Iterator[Service]:
            yield Service()
            log.append(f"close {name}")

        made = InjectQ()
        made.bind_factory(Service, open_pool, scope="singleton")
        made.get(Service)
        return made

    ours, other = make_celery(log, name="ours"), make_celery(log, name="other")
    setup_celery(container_logging("ours"), ours)
    setup_celery(container_logging("other"), other)
    previous = get_current_app()
    ours.set_current()  # as the worker's pool process does when it starts
    try:
        signals.worker_process_shutdown.send(sender="w1@host", pid=os.getpid(), exitcode=0)
    finally:
        previous.set_current()
    assert log == ["close ours"]


def test_importing_injectq_does_not_import_celery() -> None:
    """Celery loads only with injectq.integrations.celery itself; without Celery that
    module says what to install."""
    check_import_needs("celery", "celery", "celery")


# -- the docs example ------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The Celery section of docs/integrations.md runs as written and prints what it
    shows."""
    run_docs_example("Celery", tmp_path)
