"""Run the production example: ``python -m app.main`` (from examples/production).

Uses the generated wiring (``app/_wiring.py``, built by ``injectq-gen build``) when it
exists; ``--runtime`` uses the runtime container on the same ``ProductionModule``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
from collections.abc import Sequence

from app.services import (
    Application,
    BatchResult,
    CacheBackendError,
    DatabaseError,
    DatabaseService,
    MemoryCache,
    MetricsCollector,
    OrderLine,
    OrderRequest,
    OrderService,
    PerformanceMonitor,
    RedisClient,
    RedisServerClient,
)
from injectq import InjectQ, load_container
from injectq.wiring import GeneratedContainer

Container = InjectQ | GeneratedContainer

SEED = 20240611
CATALOG_SIZE = 48
BATCHES = 6
ORDERS_PER_BATCH = 10
REPRICE_AFTER_BATCH = 3  # change one price mid-run: its cache entry is invalidated


def demo_catalog(rng: random.Random) -> tuple[list[tuple[str, str, int, int]], dict[str, int]]:
    """(sku, name, price in cents, stock) rows, and percent off for a few SKUs."""
    products = [
        (f"SKU-{i:03d}", f"Product {i}", rng.randrange(199, 5000), rng.randrange(10, 60))
        for i in range(CATALOG_SIZE)
    ]
    promotions = {sku: rng.choice((10, 15, 25)) for sku, *_ in products[::7]}
    return products, promotions


def demo_orders(rng: random.Random, skus: Sequence[str]) -> list[list[OrderRequest]]:
    """Batches of orders; popular SKUs are asked for far more often (and run out)."""
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(skus))]
    batches = []
    for _ in range(BATCHES):
        batch = []
        for _ in range(ORDERS_PER_BATCH):
            picked = sorted(set(rng.choices(skus, weights, k=rng.randint(1, 4))))
            lines = tuple(OrderLine(sku, rng.randint(1, 4)) for sku in picked)
            batch.append(OrderRequest(f"customer-{rng.randrange(1000):03d}", lines))
        batches.append(batch)
    return batches


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


async def main(container: Container, label: str = "generated (app/_wiring.py)") -> None:
    """Start the application, process order batches in request scopes, report, close."""
    rng = random.Random(SEED)
    products, promotions = demo_catalog(rng)
    batches = demo_orders(rng, [sku for sku, *_ in products])

    try:
        # pre-warm critical services: the pool opens, the L2 client connects
        await container.aget(DatabaseService)
        app = await container.aget(Application)
        pool = app.pool
        loaded = await app.start(products, promotions)

        results: list[BatchResult] = []
        for number, orders in enumerate(batches, start=1):
            async with container.scope():  # one request scope per batch
                service = await container.aget(OrderService)
                results.append(await service.process_batch(number, orders))
            if number == REPRICE_AFTER_BATCH:
                await app.reprice(products[0][0], products[0][2] + 100)

        summary = await app.summary()
        metrics = container.get(MetricsCollector)
        monitor = container.get(PerformanceMonitor)
        l1 = container.get(MemoryCache)
        l2_description = describe_l2(await container.aget(RedisClient))
    finally:
        await container.aclose()  # scope-less resources: the L2 client, then the pool

    l1_hits, l2_hits, misses = (
        metrics.get("cache.l1_hits"), metrics.get("cache.l2_hits"), metrics.get("cache.misses")
    )
    lookups = l1_hits + l2_hits + misses
    processed = sum(r.accepted + r.rejected for r in results)
    print(f"injectq production example - container: {label}")
    print(f"database: {pool.description}, schema v1 with {app.tables} "
          f"tables, {loaded} products loaded")
    print(f"L2 cache: {l2_description}")
    print(f"orders: {processed} processed in {len(results)} request scopes: "
          f"{summary.accepted} accepted, {summary.rejected} rejected (out of stock), "
          f"{summary.units_sold} units, revenue {money(summary.revenue_cents)}")
    for r in results:
        print(f"  batch {r.batch}: {r.accepted} accepted, {r.rejected} rejected, "
              f"revenue {money(r.revenue_cents)}")
    print(f"cache: {lookups} lookups: L1 hits {l1_hits}, L2 hits {l2_hits}, misses {misses} "
          f"(hit rate {(l1_hits + l2_hits) / max(lookups, 1):.1%}); "
          f"L1 evictions {l1.evictions}, invalidations {metrics.get('cache.invalidations')}")
    print(f"connections: {pool.opened} opened, peak {pool.peak_in_use} in use, "
          f"{pool.acquired} checkouts, {pool.released} returned")
    print("timings (slowest total first):")
    for m in monitor.get_performance_report():
        print(f"  {m.method_name:<28} {m.call_count:>4} calls  avg {m.execution_time * 1e3:8.3f} ms"
              f"  total {m.total_time * 1e3:8.3f} ms")
    print(f"container closed: pool {'closed' if pool.closed else 'STILL OPEN'}, temporary "
          f"database {'removed' if pool.removed else 'STILL PRESENT'}")


def describe_l2(client: RedisClient) -> str:
    if isinstance(client, RedisServerClient):
        return f"Redis {client.server} at {client.url}, key prefix {client.prefix}"
    return "in memory (REDIS_URL unset)"


def make_container(runtime: bool) -> tuple[Container, str]:
    """app/_wiring.py's container when it has been built (and not ``runtime``), else the
    runtime container on ProductionModule, validated."""
    from app.modules import ProductionModule

    container = load_container("app._wiring", lambda: [ProductionModule()], runtime=runtime)
    if isinstance(container, GeneratedContainer):
        return container, "generated (app/_wiring.py)"
    return container, "runtime (InjectQ + ProductionModule)"


def cli(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.main", description=__doc__)
    parser.add_argument(
        "--runtime", action="store_true",
        help="use the runtime container instead of the generated app/_wiring.py",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    # Configure logging for production
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    )
    container, label = make_container(args.runtime)
    try:
        asyncio.run(main(container, label))
    except (CacheBackendError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
