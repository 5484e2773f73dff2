"""examples/webapp: the FastAPI todo app, through FastAPI's TestClient, on both containers.

Each test runs once on the runtime container (``InjectQ`` + ``WebAppModule``) and once on
the committed generated wiring (``webapp/_wiring.py``). The app's ``/stats`` counts units of
work opened, closed, committed and rolled back: the request scope's resource, so they show
when each scope opened and closed.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "webapp"


@pytest.fixture(scope="module")
def webapp() -> Iterator[Any]:
    """The example's package on sys.path, for this module's tests."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(EXAMPLE))
        mp.delenv("WEBAPP_DATABASE", raising=False)
        mp.delenv("WEBAPP_CONTAINER", raising=False)
        yield importlib.import_module("webapp.main")


@pytest.fixture(params=["runtime", "generated"])
def container(request: pytest.FixtureRequest, webapp: Any) -> Iterator[Any]:
    made, label = webapp.make_container(runtime=request.param == "runtime")
    assert label == request.param
    yield made
    made.close()  # the lifespan closed it already; a no-op then


@pytest.fixture
def client(container: Any, webapp: Any) -> Iterator[TestClient]:
    with TestClient(webapp.create_app(container), raise_server_exceptions=False) as c:
        yield c


def stats(client: TestClient) -> dict[str, int]:
    response = client.get("/stats")
    assert response.status_code == 200
    return dict(response.json())


def test_each_request_gets_its_own_unit_of_work(client: TestClient) -> None:
    """Two requests get two units of work, each finalized once its response is sent."""
    first = client.post("/todos", json={"title": "buy milk"})
    assert first.status_code == 201, first.text
    assert stats(client) == {"opened": 1, "closed": 1, "committed": 1, "rolled_back": 0}
    second = client.post("/todos", json={"title": "  write docs "})
    assert second.status_code == 201
    assert first.json()["unit"] != second.json()["unit"]
    listing = client.get("/todos").json()
    assert [t["title"] for t in listing["todos"]] == ["buy milk", "write docs"]
    assert listing["unit"] not in (first.json()["unit"], second.json()["unit"])
    assert stats(client) == {"opened": 3, "closed": 3, "committed": 2, "rolled_back": 0}


def test_one_request_shares_one_unit_between_its_dependencies(client: TestClient) -> None:
    """Within a request, the transient service and its transient repository get the same
    request-scoped unit of work."""
    client.post("/todos", json={"title": "a"})
    listing = client.get("/todos").json()
    assert listing["repository_shares_unit"] is True
    assert stats(client)["opened"] == 2


def test_endpoint_error_still_closes_the_scope(client: TestClient) -> None:
    """An endpoint that raises gets a 500, and its unit of work is rolled back and closed."""
    response = client.post("/todos/fail", json={"title": "never stored"})
    assert response.status_code == 500
    assert stats(client) == {"opened": 1, "closed": 1, "committed": 0, "rolled_back": 1}
    assert client.get("/todos").json()["todos"] == []


def test_http_errors_close_the_scope(client: TestClient) -> None:
    """404 and 422 answers (HTTPException) close their scope like any other response."""
    assert client.post("/todos/41/done").status_code == 404
    bad = client.post("/todos", json={"title": "   "})
    assert bad.status_code == 422 and "1 to 200 characters" in bad.json()["detail"]
    counts = stats(client)
    assert counts["opened"] == counts["closed"] == 2


def test_websocket_connection_has_one_scope_for_its_lifetime(client: TestClient) -> None:
    """All messages of a WebSocket connection share one unit of work, open until the
    connection ends, then finalized; HTTP requests meanwhile get their own."""
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"add": "first"})
        first = ws.receive_json()
        ws.send_json({"add": "second"})
        second = ws.receive_json()
        ws.send_json({"list": True})
        listing = ws.receive_json()
        assert first["unit"] == second["unit"] == listing["unit"]
        assert [t["title"] for t in listing["todos"]] == ["first", "second"]
        http = client.get("/todos").json()
        assert http["unit"] != first["unit"] and len(http["todos"]) == 2
        # the socket's unit is still open while the HTTP request's one is closed
        assert stats(client) == {"opened": 2, "closed": 1, "committed": 0, "rolled_back": 0}
    assert stats(client) == {"opened": 2, "closed": 2, "committed": 1, "rolled_back": 0}


def test_shutdown_closes_the_container(container: Any, webapp: Any) -> None:
    """Application shutdown closes the container: the database is finalized and its
    temporary directory removed."""
    from webapp.services import Database

    with TestClient(webapp.create_app(container)) as client:
        assert client.post("/todos", json={"title": "x"}).status_code == 201
        db = container.get(Database)
        assert db.path.exists() and not db.closed
    assert db.closed
    assert not db.path.parent.exists()


def test_module_level_app_uses_the_generated_wiring(webapp: Any) -> None:
    """``uvicorn webapp.main:app`` serves from the committed webapp/_wiring.py."""
    with TestClient(webapp.app) as client:
        assert client.get("/health").json() == {"status": "ok", "container": "generated"}


def test_committed_wiring_is_fresh() -> None:
    """examples/webapp/webapp/_wiring.py is what ``injectq-gen build`` writes today."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WEBAPP_DATABASE")}
    result = subprocess.run(
        [sys.executable, "-m", "injectq_codegen", "build", "--check"],
        cwd=EXAMPLE, env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, (
        "examples/webapp/webapp/_wiring.py is stale: run `injectq-gen build` there\n"
        + result.stdout + result.stderr
    )
