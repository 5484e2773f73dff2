"""examples/production against real PostgreSQL and Redis servers.

Runs only when INJECTQ_TEST_DATABASE_URL and INJECTQ_TEST_REDIS_URL name servers (`.ci/run`
starts throwaway ones with `.ci/servers.sh` and installs asyncpg and redis; it also sets
INJECTQ_TEST_REQUIRE_SERVERS=1, which makes missing URLs an error, not a skip). Both
containers must do the same orders work as on the embedded sqlite database, and leave
nothing behind: no schema on the server, no key in Redis.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess

import pytest

from tests.test_example_production import run_app

DATABASE_URL = os.environ.get("INJECTQ_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("INJECTQ_TEST_REDIS_URL", "")

_MISSING = "set INJECTQ_TEST_DATABASE_URL and INJECTQ_TEST_REDIS_URL (see .ci/servers.sh)"
if not (DATABASE_URL and REDIS_URL) and os.environ.get("INJECTQ_TEST_REQUIRE_SERVERS") == "1":
    raise RuntimeError(f"INJECTQ_TEST_REQUIRE_SERVERS=1 but no servers: {_MISSING}")
pytestmark = pytest.mark.skipif(not (DATABASE_URL and REDIS_URL), reason=_MISSING)


def _orders(stdout: str) -> list[str]:
    """The orders part of the report: the same on every backend."""
    return [line for line in stdout.splitlines() if re.match(r"(orders:|  batch \d)", line)]


async def _leftovers() -> tuple[int, int]:
    import asyncpg  # type: ignore[import-untyped,unused-ignore]
    import redis.asyncio

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        schemas = await conn.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'injectq_demo_%'"
        )
    finally:
        await conn.close()
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = len([k async for k in client.scan_iter(match="injectq-demo:*")])
    finally:
        await client.aclose()
    return int(schemas), keys


@pytest.fixture(scope="module")
def embedded() -> subprocess.CompletedProcess[str]:
    return run_app()


@pytest.mark.parametrize("args", [(), ("--runtime",)], ids=["generated", "runtime"])
def test_app_on_real_servers(
    args: tuple[str, ...], embedded: subprocess.CompletedProcess[str]
) -> None:
    """PostgreSQL through asyncpg and Redis through redis.asyncio do the sqlite run's work."""
    result = run_app(*args, DATABASE_URL=DATABASE_URL, REDIS_URL=REDIS_URL)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^database: PostgreSQL [\d.]+ \(asyncpg\), schema injectq_demo_\w+, "
                     r"schema v1 with 4 tables, 48 products loaded$", out, re.M), out
    assert re.search(r"^L2 cache: Redis [\d.]+ at redis://", out, re.M), out
    assert _orders(out) == _orders(embedded.stdout) != []
    cache = re.search(r"L1 hits (\d+), L2 hits (\d+), misses (\d+)", out)
    assert cache and int(cache[2]) > 0, out  # the real L2 served reads
    assert "container closed: pool closed, temporary database removed" in out
    assert asyncio.run(_leftovers()) == (0, 0)
