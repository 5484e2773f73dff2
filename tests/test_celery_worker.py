"""injectq.integrations.celery across real ``celery worker`` processes.

A small project written into tmp_path (``proj``: services and their Module, the Celery app and its tasks in ``proj/celery.py``) is served by
two workers, ``celery -A proj worker --pool=prefork --concurrency=2`` named ``w1@%h`` and
``w2@%h``, consuming one queue of a real Redis broker and storing results in Redis too;
its container is the runtime one or the one ``injectq-gen build`` generated into
``proj/_wiring.py``, as ``PROJ_CONTAINER`` says. The project records in Redis what only
its processes can see: which pool process ran each task with which singleton, what each
task's scope saw when it was finalized (including whether the result backend had the
task's result yet), and which process finalized each singleton at shutdown.

Runs when INJECTQ_TEST_REDIS_URL names a Redis server (``.ci/servers.sh`` starts a
throwaway one; each test uses a database of its own and empties it); with
INJECTQ_TEST_REQUIRE_SERVERS=1 a missing URL is an error, not a skip.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.codegen_support import REPO, make_project

REDIS_URL = os.environ.get("INJECTQ_TEST_REDIS_URL", "")

_MISSING = "set INJECTQ_TEST_REDIS_URL to a Redis server (see .ci/servers.sh)"
if not REDIS_URL and os.environ.get("INJECTQ_TEST_REQUIRE_SERVERS") == "1":
    raise RuntimeError(f"INJECTQ_TEST_REQUIRE_SERVERS=1 but no Redis server: {_MISSING}")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason=_MISSING)

DATABASES = {"runtime": 13, "generated": 14}  # one Redis database per test
QUEUE = "injectq-celery-test"
TASKS = 24
WAIT = 30.0  # seconds: the bound of every wait

SERVICES = '''\
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import redis
from celery import current_app, current_task

from injectq import Module


def record() -> redis.Redis:
    return redis.Redis.from_url(os.environ["PROJ_REDIS_URL"])


class Pool:
    """A singleton: one per container, i.e. per pool process."""

    def __init__(self) -> None:
        self.ident = uuid.uuid4().hex
        self.pid = os.getpid()


def open_pool() -> Iterator[Pool]:
    pool = Pool()
    yield pool
    record().rpush("proj:pools-closed", json.dumps(
        {"pool": pool.ident, "created_in": pool.pid, "closed_in": os.getpid()}))


class Unit:
    """A unit of work: one per task run."""

    def __init__(self, pool: Pool) -> None:
        self.ident = uuid.uuid4().hex
        self.pool = pool


def open_unit(pool: Pool) -> Iterator[Unit]:
    unit = Unit(pool)
    ending = "committed"
    try:
        yield unit
    except Exception as exc:
        ending = f"rolled back: {type(exc).__name__}({exc})"
        raise
    finally:
        # still inside the task: has Celery stored its result yet? Ask the backend.
        task_id = current_task.request.id
        backend = current_app.backend
        record().hset("proj:finalized", task_id, json.dumps({
            "unit": unit.ident,
            "ending": ending,
            "state": backend.get_task_meta(task_id)["status"],
            "stored": bool(backend.client.exists(backend.get_key_for_task(task_id))),
        }))


class Service:
    def __init__(self, pool: Pool, unit: Unit) -> None:
        self.pool = pool
        self.unit = unit


class AppModule(Module):
    def configure(self) -> None:
        self.bind_factory(Pool, open_pool).singleton()
        self.bind_factory(Unit, open_unit).scoped("request")
        self.bind(Service, Service).transient()
'''

CELERY_MODULE = '''\
from __future__ import annotations

import os
import time

from celery import Celery

from injectq import inject
from injectq.integrations.celery import inject_celery, setup_celery
from proj.services import Pool, Service, Unit

app = Celery("proj", broker=os.environ["PROJ_REDIS_URL"], backend=os.environ["PROJ_REDIS_URL"])
app.conf.update(
    task_default_queue=os.environ["PROJ_QUEUE"],
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

if os.environ["PROJ_CONTAINER"] == "generated":
    from proj._wiring import container
else:
    from injectq import InjectQ
    from proj.services import AppModule

    container = InjectQ()
    container.install(AppModule())

setup_celery(container, app)


@inject
def unit_seen_by_inject(unit: Unit) -> str:
    return unit.ident


@app.task
@inject_celery
def work(n: int, service: Service, unit: Unit, pool: Pool) -> dict[str, object]:
    time.sleep(0.1)  # long enough for the four pool processes to share the queue
    return {
        "n": n,
        "task_id": work.request.id,
        "hostname": work.request.hostname,
        "pid": os.getpid(),
        "pool": pool.ident,
        "pool_pid": pool.pid,
        "unit": unit.ident,
        "service_unit": service.unit.ident,
        "inject_unit": unit_seen_by_inject(),
        "service_pool": service.pool.ident,
    }


@app.task
@inject_celery
def fail(reason: str, unit: Unit) -> None:
    raise ValueError(reason)


@app.task(soft_time_limit=0.5)
@inject_celery
def overrun(unit: Unit) -> None:
    time.sleep(WAIT)  # the pool process interrupts it with SoftTimeLimitExceeded


WAIT = float(os.environ["PROJ_WAIT"])
'''


def database_url(kind: str) -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{DATABASES[kind]}"))


@pytest.fixture
def redis_db(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test's own Redis database, empty before and after."""
    import redis

    client = redis.Redis.from_url(database_url(request.param), decode_responses=True)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """proj/ in tmp_path, with proj/_wiring.py built by the real injectq-gen."""
    make_project(tmp_path, {
        "proj/__init__.py": "",
        "proj/services.py": SERVICES,
        "proj/celery.py": CELERY_MODULE,  # where `celery -A proj` finds the app
    })
    gen = Path(sys.executable).parent / "injectq-gen"  # the console script pip installed
    assert gen.exists(), f"no injectq-gen next to {sys.executable}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    built = subprocess.run(
        [str(gen), "build", "proj.services:AppModule", "-o", "proj/_wiring.py", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (tmp_path / "proj" / "_wiring.py").is_file()
    return tmp_path


class Workers:
    """Real ``celery worker`` processes, each the leader of its own process group."""

    def __init__(self, project: Path, url: str, kind: str) -> None:
        self.project = project
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(project), str(REPO)]),
            "PROJ_REDIS_URL": url,
            "PROJ_CONTAINER": kind,
            "PROJ_QUEUE": QUEUE,
            "PROJ_WAIT": str(WAIT),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.project / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "proj", "worker", "--pool=prefork",
             "--concurrency=2", "-n", f"{name}@%h", "-Q", QUEUE, "--without-heartbeat",
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=self.project, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def logs(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.project / f'{name}.log').read_text(errors='replace')}"
            for name in self.procs
        )

    def stop(self) -> dict[str, int | None]:
        """Warm shutdown (SIGTERM to each worker), waited for: each one's exit status."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + WAIT
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        return {name: proc.poll() for name, proc in self.procs.items()}

    def kill(self) -> None:
        """Whatever is left of every worker (its pool processes too) is killed."""
        for proc in self.procs.values():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck kernel
                pass


@pytest.fixture
def workers(project: Path, redis_db: Any, request: pytest.FixtureRequest) -> Iterator[Workers]:
    """The test's workers (started by the test), killed with their pool processes after."""
    running = Workers(project, database_url(request.node.callspec.params["redis_db"]),
                      request.node.callspec.params["redis_db"])
    try:
        yield running
    finally:
        running.kill()


def wait_for(what: str, check: Any, workers: Workers) -> Any:
    """``check()`` once it is true, polling; fails after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if any(proc.poll() is not None for proc in workers.procs.values()):
            pytest.fail(f"a worker exited while waiting for {what}\n{workers.logs()}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{workers.logs()}")


@pytest.mark.parametrize("redis_db", ["runtime", "generated"], indirect=True)
def test_prefork_workers_give_each_task_a_scope_and_each_process_its_singletons(
    workers: Workers, redis_db: Any
) -> None:
    """Two prefork workers on one queue: every pool process has its own singletons, every
    task its own scope, finalized before its result is stored; the scope of a task that
    raises, or that its soft time limit interrupts, rolls back before the FAILURE is
    stored; at warm shutdown each pool process finalizes the singletons it created."""
    from celery import Celery

    url = workers.env["PROJ_REDIS_URL"]
    client = Celery("client", broker=url, backend=url, set_as_current=False)
    client.conf.task_default_queue = QUEUE
    try:
        workers.start("w1")
        workers.start("w2")
        # both consume before any task is sent, so that both take some
        wait_for("both workers", lambda: {
            name for reply in (client.control.ping(timeout=0.5) or []) for name in reply
        } >= _names(workers), workers)

        sent = [client.send_task("proj.celery.work", args=(n,)) for n in range(TASKS)]
        results = [r.get(timeout=WAIT, interval=0.05) for r in sent]
        failed = client.send_task("proj.celery.fail", args=("card declined",))
        with pytest.raises(Exception, match="card declined") as raised:
            failed.get(timeout=WAIT, interval=0.05)
        assert type(raised.value).__name__ == "ValueError"
        assert failed.state == "FAILURE"
        overran = client.send_task("proj.celery.overrun")
        with pytest.raises(Exception, match="SoftTimeLimitExceeded") as raised:
            overran.get(timeout=WAIT, interval=0.05)
        assert type(raised.value).__name__ == "SoftTimeLimitExceeded"
        assert overran.state == "FAILURE"
    finally:
        client.close()

    # both workers, and more than one pool process, took tasks
    assert [r["n"] for r in results] == list(range(TASKS))
    assert {r["hostname"].split("@")[0] for r in results} == {"w1", "w2"}, workers.logs()
    processes = {r["pid"] for r in results}
    assert len(processes) >= 2

    # one singleton per pool process, created there, shared by all its tasks
    pool_of: dict[int, str] = {}
    for r in results:
        assert r["pool_pid"] == r["pid"]
        assert r["service_pool"] == r["pool"]
        assert pool_of.setdefault(r["pid"], r["pool"]) == r["pool"]
    assert len(set(pool_of.values())) == len(processes)

    # one scope per task: its unit is new, and shared by all that asked for it in the task
    units = [r["unit"] for r in results]
    assert len(set(units)) == TASKS
    for r in results:
        assert r["service_unit"] == r["unit"] == r["inject_unit"]

    # each scope was finalized inside its task, before the backend had the result
    finalized = {k: json.loads(v) for k, v in redis_db.hgetall("proj:finalized").items()}
    assert set(finalized) == {r["task_id"] for r in results} | {failed.id, overran.id}
    for r in results:
        assert finalized[r["task_id"]] == {
            "unit": r["unit"], "ending": "committed", "state": "PENDING", "stored": False}
    assert finalized[failed.id]["ending"] == "rolled back: ValueError(card declined)"
    assert (finalized[failed.id]["state"], finalized[failed.id]["stored"]) == ("PENDING", False)
    assert finalized[overran.id]["ending"].startswith("rolled back: SoftTimeLimitExceeded(")
    assert (finalized[overran.id]["state"], finalized[overran.id]["stored"]) == (
        "PENDING", False)

    # warm shutdown: each pool process finalizes what it created, and nothing else
    exits = workers.stop()
    assert exits == {"w1": 0, "w2": 0}, workers.logs()
    closed = [json.loads(v) for v in redis_db.lrange("proj:pools-closed", 0, -1)]
    assert sorted((c["created_in"], c["pool"]) for c in closed) == sorted(pool_of.items())
    for c in closed:
        assert c["closed_in"] == c["created_in"]


def _names(workers: Workers) -> set[str]:
    """The node names the workers were started with, as ping replies spell them."""
    host = socket.gethostname()
    return {f"{name}@{host}" for name in workers.procs}
