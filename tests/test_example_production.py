"""examples/production: the seed's production configuration as a runnable app.

The app runs in a real subprocess, once on the committed generated wiring and once on the
runtime container; both must do the same work. The committed ``app/_wiring.py`` must be
what ``injectq-gen build`` produces today.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "production"
WIRING = EXAMPLE / "app" / "_wiring.py"


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "PYTHONPATH")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_app(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.main", "--quiet", *args],
        cwd=EXAMPLE,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _work(stdout: str) -> list[str]:
    """The report without the container name and the timings (which vary run to run)."""
    return [
        line for line in stdout.splitlines()
        if "container:" not in line and not line.rstrip().endswith(" ms")
    ]


@pytest.fixture(scope="module")
def generated() -> subprocess.CompletedProcess[str]:
    assert WIRING.is_file(), "run `injectq-gen build` in examples/production"
    return run_app()


@pytest.fixture(scope="module")
def runtime() -> subprocess.CompletedProcess[str]:
    return run_app("--runtime")


@pytest.mark.parametrize("which", ["generated", "runtime"])
def test_app_runs_and_reports(which: str, request: pytest.FixtureRequest) -> None:
    result: subprocess.CompletedProcess[str] = request.getfixturevalue(which)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    label = "generated (app/_wiring.py)" if which == "generated" else "runtime (InjectQ"
    assert f"injectq production example - container: {label}" in out
    assert "schema v1 with 4 tables, 48 products loaded" in out

    orders = re.search(
        r"^orders: (\d+) processed in (\d+) request scopes: (\d+) accepted, (\d+) rejected",
        out, re.M,
    )
    assert orders, out
    processed, scopes, accepted, rejected = map(int, orders.groups())
    assert (processed, scopes) == (60, 6)
    assert accepted + rejected == processed and accepted > 0
    assert len(re.findall(r"^  batch \d: ", out, re.M)) == 6

    cache = re.search(
        r"^cache: (\d+) lookups: L1 hits (\d+), L2 hits (\d+), misses (\d+) .*"
        r"L1 evictions (\d+), invalidations (\d+)$",
        out, re.M,
    )
    assert cache, out
    lookups, l1, l2, misses, evictions, invalidations = map(int, cache.groups())
    assert lookups == l1 + l2 + misses
    assert l1 > 0 and l2 > 0 and misses > 0 and evictions > 0 and invalidations == 1

    # one connection per request scope, each returned when its scope closed
    conns = re.search(r"^connections: (\d+) opened, .* (\d+) checkouts, (\d+) returned$", out, re.M)
    assert conns, out
    opened, checkouts, returned = map(int, conns.groups())
    assert opened >= 5 and checkouts == returned >= scopes

    for name in ("OrderService.process_batch", "OrderService.products", "db.create_schema"):
        assert re.search(rf"^  {re.escape(name)} +\d+ calls  avg +[\d.]+ ms", out, re.M), out
    # container.aclose() ran the finalizers: the pool closed and removed its database
    assert "container closed: pool closed, temporary database removed" in out


def test_both_containers_do_the_same_work(
    generated: subprocess.CompletedProcess[str], runtime: subprocess.CompletedProcess[str]
) -> None:
    assert generated.returncode == runtime.returncode == 0
    assert _work(generated.stdout) == _work(runtime.stdout)


def test_app_leaves_no_files_behind(tmp_path: Path) -> None:
    """The database lives in a temporary directory that the closing container removes."""

    def files() -> set[Path]:
        return {p for p in EXAMPLE.rglob("*") if "__pycache__" not in p.parts}

    before = files()
    result = run_app(TMPDIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert files() == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [(), ("--runtime",)])
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "REDIS_URL"),
        ({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://db.example/orders"}, "unsupported scheme 'mysql'"),
    ],
    ids=["redis-unreachable", "postgres-unreachable", "unknown-scheme"],
)
def test_unusable_server_url_is_a_short_error(
    args: tuple[str, ...], env: dict[str, str], expected: str, tmp_path: Path
) -> None:
    """A URL that cannot be used exits 2 with one line naming it, and still cleans up."""
    result = run_app(*args, TMPDIR=str(tmp_path), **env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # the sqlite database opened first was removed


def test_committed_wiring_is_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "injectq_codegen", "build", "--check"],
        cwd=EXAMPLE,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        "examples/production/app/_wiring.py is stale: run `injectq-gen build` there\n"
        + result.stdout + result.stderr
    )
