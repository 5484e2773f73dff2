"""End to end: two real Celery workers bill orders from one Redis queue.

``python examples/celery/run.py --redis-url redis://127.0.0.1:6379/0 [--runtime]`` starts
two ``celery -A billing worker`` processes (prefork pool, two processes each) on 127.0.0.1's
Redis, sends them 20 orders of which 4 have no amount, and checks every answer: each order
billed once, the failed ones' writes discarded (their ledger rolled back), both workers
served, and, after a warm shutdown (SIGTERM), every pool process that served a task
closed the Redis client it made. Always stops the workers and
removes what it wrote. Exits 0 when everything held, 1 otherwise, printing what failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
ORDERS = range(1, 21)


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"ok: {what}")


def amount(order_id: int) -> int:
    return 0 if order_id % 5 == 0 else 100 * order_id  # every fifth order has no amount


def start_worker(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the banner and the failed tasks' tracebacks
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "billing", "worker", "--pool=prefork",
             "--concurrency=2", "-n", f"{name}@%h", "--loglevel=WARNING",
             "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=HERE, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to stop it all
        )


def stop(worker: subprocess.Popen[bytes]) -> int:
    """Warm shutdown (SIGTERM): running tasks finish, pool processes exit and close."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        return -signal.SIGKILL


def wait_ready(app: Any, names: list[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        answered = {node.split("@")[0] for reply in replies for node in reply}
        if answered >= set(names):
            return
    raise CheckFailed(f"the workers {names} did not answer within {START_TIMEOUT:.0f} s")


def run(redis_url: str, runtime: bool) -> None:
    prefix = f"billing-example:{uuid.uuid4().hex}:"
    env = {
        **os.environ,
        "BILLING_REDIS_URL": redis_url,
        "BILLING_PREFIX": prefix,
        "BILLING_CONTAINER": "runtime" if runtime else "generated",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    os.environ.update({k: env[k] for k in ("BILLING_REDIS_URL", "BILLING_PREFIX")})
    sys.path.insert(0, str(HERE))
    import redis
    from billing.celery import app as celery_app
    from billing.celery import bill

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    names = ["billing1", "billing2"]
    logs = Path(tempfile.mkdtemp(prefix="billing-workers-"))
    workers = [start_worker(name, env, logs / f"{name}.log") for name in names]
    results: list[Any] = []
    try:
        wait_ready(celery_app, names)
        print(f"{len(workers)} workers ready ({env['BILLING_CONTAINER']} container)")
        results = [bill.delay(order_id, amount(order_id)) for order_id in ORDERS]
        outcomes = {order_id: r.get(timeout=30, propagate=False)
                    for order_id, r in zip(ORDERS, results, strict=True)}
        billed = {o: v for o, v in outcomes.items() if isinstance(v, dict)}
        failed = {o: v for o, v in outcomes.items() if isinstance(v, Exception)}
        check(sorted(failed) == [o for o in ORDERS if amount(o) == 0]
              and all("amount must be positive" in str(e) for e in failed.values()),
              f"{len(failed)} orders without an amount failed with the service's error")
        check(all(v["invoice"] == f"INV-{o:05d}" for o, v in billed.items()),
              f"{len(billed)} orders billed, each with its own invoice")
        stored = {int(k): v for k, v in client.hgetall(prefix + "invoices").items()}
        check(stored == {o: v["invoice"] for o, v in billed.items()},
              "Redis holds exactly the billed orders' invoices: a failed task wrote nothing")
        check(int(client.get(prefix + "rolled-back") or 0) == len(failed),
              "each failed task's ledger was rolled back")
        served = {(v["worker"], v["process"]) for v in billed.values()}
        by_worker = {w.split("@")[0] for w, _ in served}
        check(by_worker == set(names),
              f"both workers took orders from the one queue: {served_text(served)}")
        codes = [stop(worker) for worker in workers]
        check(codes == [0, 0], "both workers shut down cleanly")
        opened = int(client.get(prefix + "stores-opened") or 0)
        closed = int(client.get(prefix + "stores-closed") or 0)
        check(opened >= len(served) and closed == opened,
              f"each of the {opened} pool processes that served opened one Redis client "
              "and closed it as it exited")
    except BaseException:
        for worker, name in zip(workers, names, strict=True):
            stop(worker)
            print(f"--- {name}'s log:\n" + (logs / f"{name}.log").read_text(errors="replace"))
        raise
    finally:
        for r in results:
            r.forget()
        leftovers = client.keys(prefix + "*")
        if leftovers:
            client.delete(*leftovers)
        client.close()
        shutil.rmtree(logs, ignore_errors=True)


def served_text(served: set[tuple[str, int]]) -> str:
    counts: dict[str, int] = {}
    for worker, _ in served:
        counts[worker.split("@")[0]] = counts.get(worker.split("@")[0], 0) + 1
    return ", ".join(f"{w} ({n} processes)" for w, n in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default=os.environ.get("BILLING_REDIS_URL"),
                        help="the Redis to use as broker and result backend")
    parser.add_argument("--runtime", action="store_true",
                        help="the workers use the runtime container, not billing/_wiring.py")
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("give --redis-url (or set BILLING_REDIS_URL)")
    try:
        run(args.redis_url, args.runtime)
    except CheckFailed as exc:
        print(f"FAILED: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
