"""A small FastAPI todo service wired with injectq (see examples/webapp/README.md)."""
