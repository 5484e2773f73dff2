"""injectq-gen: compile the Modules' graph into a plain ``_wiring.py``."""
