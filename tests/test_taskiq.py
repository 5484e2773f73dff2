"""injectq.integrations.taskiq: a scope per executed task, on taskiq's InMemoryBroker.

Tasks are really kicked and awaited through the broker. Both containers run the example
web app's wiring (examples/webapp: a request-scoped UnitOfWork resource) so a scoped
dependency's freshness per task and its finalization can be counted.
"""

# no `from __future__ import annotations`: taskiq reads task annotations with
# get_type_hints, and these tasks are local functions using local and late-imported names

import asyncio
import importlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from taskiq import InMemoryBroker

from injectq import InjectQ, inject
from injectq.integrations.taskiq import InjectTask, InjectTaskiq, setup_taskiq

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "webapp"


@pytest.fixture(scope="module")
def webapp() -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(EXAMPLE))
        mp.delenv("WEBAPP_DATABASE", raising=False)
        yield importlib.import_module("webapp.main")


@pytest.fixture(params=["runtime", "generated"])
def container(request: pytest.FixtureRequest, webapp: Any) -> Iterator[Any]:
    made, label = webapp.make_container(runtime=request.param == "runtime")
    assert label == request.param
    yield made
    made.close()


async def test_each_task_gets_a_fresh_scope_finalized_after_it(container: Any) -> None:
    """Every task gets its own UnitOfWork (shared by its dependencies), closed once the
    task finished and before its result is available; a failing task's one too."""
    from webapp.services import Database, TodoService, UnitOfWork

    broker = InMemoryBroker()
    setup_taskiq(container, broker)

    @broker.task
    async def add(
        title: str,
        service: Annotated[TodoService, InjectTaskiq(TodoService)],
        unit: UnitOfWork = InjectTask(UnitOfWork),
    ) -> list[Any]:
        todo = service.add(title)
        return [todo.id, unit.number, service.unit is unit]

    @broker.task
    def count(service: Annotated[TodoService, InjectTaskiq(TodoService)]) -> int:
        return len(service.list())  # a sync task: run in the broker's thread pool

    @broker.task
    async def fail(service: Annotated[TodoService, InjectTaskiq(TodoService)]) -> None:
        service.add_then_fail("never stored")

    await broker.startup()
    try:
        db = container.get(Database)
        first = (await (await add.kiq("one")).wait_result(timeout=5)).return_value
        assert db.stats.as_dict() == {"opened": 1, "closed": 1, "committed": 1,
                                      "rolled_back": 0}
        second = (await (await add.kiq("two")).wait_result(timeout=5)).return_value
        assert first[2] is True and second[2] is True
        assert first[1] != second[1]  # a fresh unit of work per task

        failed = await (await fail.kiq()).wait_result(timeout=5)
        assert failed.is_err and "never stored" in str(failed.error)
        assert (await (await count.kiq()).wait_result(timeout=5)).return_value == 2
        assert db.stats.as_dict() == {"opened": 4, "closed": 4, "committed": 2,
                                      "rolled_back": 1}
    finally:
        await broker.shutdown()


async def test_concurrent_tasks_do_not_share_a_scope() -> None:
    """Tasks running at the same time each see their own scoped instance, and @inject
    inside a task resolves from the task's scope."""
    numbers = itertools.count(1)
    log: list[str] = []

    class Session:
        def __init__(self) -> None:
            self.number = next(numbers)

    def open_session() -> Iterator[Session]:
        session = Session()
        log.append(f"open {session.number}")
        yield session
        log.append(f"close {session.number}")

    container = InjectQ()
    container.bind_factory(Session, open_session, scope="request")
    broker = InMemoryBroker()
    setup_taskiq(container, broker, close_on_shutdown=True)
    both_running = asyncio.Barrier(2)

    @inject
    def inner(session: Session) -> int:
        return session.number

    @broker.task
    async def work(session: Session = InjectTaskiq(Session)) -> list[int]:
        await asyncio.wait_for(both_running.wait(), 5)
        return [session.number, inner()]

    await broker.startup()
    try:
        tasks = [await work.kiq(), await work.kiq()]
        results = [(await t.wait_result(timeout=5)).return_value for t in tasks]
    finally:
        await broker.shutdown()
    assert results[0][0] == results[0][1] and results[1][0] == results[1][1]
    assert results[0][0] != results[1][0]
    assert sorted(log) == sorted(
        [f"open {r[0]}" for r in results] + [f"close {r[0]}" for r in results]
    )


async def test_broker_without_setup_says_what_to_do() -> None:
    """A task injecting from a broker that setup_taskiq never saw fails with the fix."""
    broker = InMemoryBroker()

    @broker.task
    async def work(value: int = InjectTaskiq(int)) -> int:
        return value

    await broker.startup()
    try:
        result = await (await work.kiq()).wait_result(timeout=5)
    finally:
        await broker.shutdown()
    assert result.is_err
    assert "call setup_taskiq(container, broker)" in str(result.error)


async def test_shutdown_closes_the_container_when_asked() -> None:
    """setup_taskiq(..., close_on_shutdown=True) finalizes the container's singletons when
    the broker shuts down; by default they are left to the container's owner."""
    for close in (True, False):
        log: list[str] = []

        def resource(log: list[str] = log) -> Iterator[str]:
            log.append("open")
            yield "value"
            log.append("close")

        container = InjectQ()
        container.bind_factory(str, resource, scope="singleton")
        broker = InMemoryBroker()
        setup_taskiq(container, broker, close_on_shutdown=close)

        @broker.task
        async def work(value: str = InjectTaskiq(str)) -> str:
            return value

        await broker.startup()
        assert (await (await work.kiq()).wait_result(timeout=5)).return_value == "value"
        await broker.shutdown()
        assert log == (["open", "close"] if close else ["open"])
        container.close()
