"""The Celery app, which ``celery -A billing worker`` finds here.

Each worker process uses the generated wiring (``billing/_wiring.py``, built by
``injectq-gen build``), or the runtime container on the same ``BillingModule`` when the
environment says ``BILLING_CONTAINER=runtime``. Every task run gets its own scope, so its
own ``Ledger``, committed or discarded before Celery stores the task's result.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

from billing.modules import BillingModule
from billing.services import Invoices
from injectq import load_container
from injectq.integrations.celery import inject_celery, setup_celery

container = load_container(
    "billing._wiring",
    lambda: [BillingModule()],
    runtime=os.environ.get("BILLING_CONTAINER") == "runtime",
)
redis_url = os.environ.get("BILLING_REDIS_URL", "redis://127.0.0.1:6379/0")
app = Celery("billing", broker=redis_url, backend=redis_url)
app.conf.task_default_queue = "billing"
setup_celery(container, app)


@app.task(bind=True)
@inject_celery
def bill(task: Any, order_id: int, amount_cents: int, invoices: Invoices) -> dict[str, Any]:
    """Invoice an order; which worker and pool process did it comes back with the number."""
    return {
        "invoice": invoices.create(order_id, amount_cents),
        "worker": task.request.hostname,
        "process": os.getpid(),
    }
