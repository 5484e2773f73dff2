"""InjectQ 0.5.0's ``injectq.modules``: the Module classes and ``@provider``; the same
objects ``injectq`` exports."""

from __future__ import annotations

from injectq.model.module import (
    ConfigurationModule,
    Module,
    ProviderModule,
    SimpleModule,
    provider,
)

__all__ = ["ConfigurationModule", "Module", "ProviderModule", "SimpleModule", "provider"]
