"""The billing services: a Redis client per process, a transaction per task, the rules.

Invoices live in Redis (the hash ``<prefix>invoices``: order id -> invoice number). A
task's writes go through its ``Ledger``, a Redis ``MULTI`` transaction that the scope
commits (``EXEC``) when the task returns and discards when it raises: a failed task
leaves nothing behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Settings:
    redis_url: str
    prefix: str  # every key this service writes starts with it

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            redis_url=os.environ.get("BILLING_REDIS_URL", "redis://127.0.0.1:6379/0"),
            prefix=os.environ.get("BILLING_PREFIX", "billing:"),
        )


class Store:
    """One Redis client (and its connection pool) per process."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self.settings = settings
        self.client = client

    def key(self, name: str) -> str:
        return self.settings.prefix + name


def open_store(settings: Settings) -> Iterator[Store]:
    # a singleton: made in the worker's pool process on its first task, closed when that
    # process exits (the counts show that each process closed the one it opened)
    client = redis.Redis.from_url(settings.redis_url)
    store = Store(settings, client)
    client.incr(store.key("stores-opened"))
    try:
        yield store
    finally:
        client.incr(store.key("stores-closed"))
        client.close()


class Ledger:
    """One task's writes, applied together or not at all."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pipeline = store.client.pipeline(transaction=True)


def open_ledger(store: Store) -> Iterator[Ledger]:
    # request-scoped: one per task run, finalized before Celery stores the task's result
    ledger = Ledger(store)
    try:
        yield ledger
    except Exception:
        ledger.pipeline.reset()  # the task failed: discard its writes
        store.client.incr(store.key("rolled-back"))
        raise
    else:
        ledger.pipeline.execute()
    finally:
        ledger.pipeline.reset()


class InvalidAmountError(ValueError):
    pass


class Invoices:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def create(self, order_id: int, amount_cents: int) -> str:
        if amount_cents <= 0:
            raise InvalidAmountError(f"order {order_id}: amount must be positive")
        number = f"INV-{order_id:05d}"
        self.ledger.pipeline.hset(self.ledger.store.key("invoices"), str(order_id), number)
        return number
