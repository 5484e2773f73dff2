"""The production example app: services, their Module, and the entry point."""
