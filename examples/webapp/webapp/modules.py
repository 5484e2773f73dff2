"""The web app's wiring, described once: the runtime container installs ``WebAppModule``;
``injectq-gen build`` (run in examples/webapp) compiles the same class to webapp/_wiring.py.
"""

from __future__ import annotations

import os

from injectq import Module
from webapp.services import (
    Database,
    Settings,
    TodoRepository,
    TodoService,
    UnitOfWork,
    open_database,
    open_unit_of_work,
)


class WebAppModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings(os.environ.get("WEBAPP_DATABASE") or None)).singleton()
        # opened on first use, closed (and a temporary one removed) by container.aclose()
        self.bind_factory(Database, open_database).singleton()
        # one connection + transaction per request scope: per HTTP request / WebSocket
        self.bind_factory(UnitOfWork, open_unit_of_work).scoped()
        self.bind(TodoRepository, TodoRepository).transient()
        self.bind(TodoService, TodoService).transient()
