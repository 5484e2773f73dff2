"""End to end: serve the todo app with real uvicorn on localhost and talk to it.

``python examples/webapp/e2e.py [--runtime]`` starts ``uvicorn webapp.main:app`` on
127.0.0.1 and a free port in a subprocess, waits (at most 30 s) until it answers, makes
HTTP requests and one WebSocket exchange, checks every answer, then stops the server
(always, also on failure) and checks it shut down cleanly (closing the container).
Exits 0 when everything held, 1 otherwise, printing what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)
    print(f"ok: {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload)
        except ValueError:
            return exc.code, payload.decode(errors="replace")


def wait_until_up(base: str, server: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"uvicorn exited with {server.returncode} before answering")
        try:
            status, body = request(base, "GET", "/health")
        except OSError:
            time.sleep(0.1)
            continue
        if status == 200:
            return dict(body)
    raise CheckFailed(f"no answer from {base}/health within {START_TIMEOUT:.0f} s")


def exercise(base: str, server: subprocess.Popen[str], expected_container: str) -> None:
    health = wait_until_up(base, server)
    check(health == {"status": "ok", "container": expected_container},
          f"GET /health answers from the {expected_container} container")

    status, first = request(base, "POST", "/todos", {"title": "buy milk"})
    check(status == 201 and first["title"] == "buy milk", "POST /todos creates a todo (201)")
    status, second = request(base, "POST", "/todos", {"title": "write docs"})
    check(status == 201 and second["unit"] != first["unit"],
          "each request gets its own unit of work")
    status, counts = request(base, "GET", "/stats")
    check(counts == {"opened": 2, "closed": 2, "committed": 2, "rolled_back": 0},
          f"both units of work were finalized after their responses: {counts}")

    status, _ = request(base, "POST", "/todos/fail", {"title": "never stored"})
    check(status == 500, "an endpoint that raises answers 500")
    status, counts = request(base, "GET", "/stats")
    check(counts["rolled_back"] == 1 and counts["opened"] == counts["closed"] == 3,
          f"its unit of work was rolled back and closed: {counts}")

    status, missing = request(base, "POST", "/todos/999/done")
    check(status == 404 and missing == {"detail": "no todo 999"}, "unknown todo answers 404")
    status, done = request(base, "POST", f"/todos/{first['id']}/done")
    check(status == 200 and done["done"] is True, "POST /todos/{id}/done marks it done")

    ws_url = base.replace("http://", "ws://") + "/ws"
    with connect(ws_url, open_timeout=10, close_timeout=5) as ws:
        ws.send(json.dumps({"add": "over the socket"}))
        added = json.loads(ws.recv(timeout=10))
        ws.send(json.dumps({"list": True}))
        listing = json.loads(ws.recv(timeout=10))
        check(added["title"] == "over the socket" and added["unit"] == listing["unit"],
              "WebSocket: one unit of work for the whole connection")
        titles = [t["title"] for t in listing["todos"]]
        check(titles == ["buy milk", "write docs", "over the socket"],
              f"WebSocket: the list has every stored todo: {titles}")
        status, counts = request(base, "GET", "/stats")
        check(counts["opened"] == counts["closed"] + 1,
              f"the socket's unit of work stays open while it is connected: {counts}")

    deadline = time.monotonic() + 10
    while True:  # the server finishes the socket's scope just after the close handshake
        status, counts = request(base, "GET", "/stats")
        if counts["opened"] == counts["closed"] or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    check(counts["opened"] == counts["closed"],
          f"the socket's unit of work was finalized when it closed: {counts}")


def stop(server: subprocess.Popen[str]) -> str:
    """SIGINT (graceful: lifespan shutdown closes the container), then kill if stuck."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=STOP_TIMEOUT)
    output, _ = server.communicate()
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runtime", action="store_true",
                        help="serve from the runtime container instead of webapp/_wiring.py")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WEBAPP_DATABASE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["WEBAPP_CONTAINER"] = "runtime" if args.runtime else "generated"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "webapp.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--ws", "websockets-sansio"],
        cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    failure = None
    output: str | None = None
    try:
        exercise(base, server, "runtime" if args.runtime else "generated")
        output = stop(server)
        check(server.returncode == 0, f"uvicorn stopped cleanly (exit {server.returncode})")
        check("Application shutdown complete." in output,
              "lifespan shutdown completed: the container closed without error")
    except (CheckFailed, OSError, ValueError, KeyError, TimeoutError) as exc:
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        if output is None:  # failed before the orderly stop: stop it now
            output = stop(server)
    if failure is not None:
        print(f"FAILED: {failure}\n--- uvicorn output ---\n{output}", file=sys.stderr)
        return 1
    print(f"e2e passed: uvicorn on {base}, {'runtime' if args.runtime else 'generated'} "
          "container")
    return 0


if __name__ == "__main__":
    sys.exit(main())
