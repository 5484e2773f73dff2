"""A billing service whose work runs as Celery tasks, wired with injectq."""
