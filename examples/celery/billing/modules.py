"""The billing wiring, described once: the runtime container installs ``BillingModule``;
``injectq-gen build`` (run in examples/celery) compiles the same class to
billing/_wiring.py.
"""

from __future__ import annotations

from billing.services import Invoices, Ledger, Settings, Store, open_ledger, open_store
from injectq import Module


class BillingModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings.from_environment()).singleton()
        self.bind_factory(Store, open_store).singleton()
        self.bind_factory(Ledger, open_ledger).scoped("request")
        self.bind(Invoices, Invoices).transient()
