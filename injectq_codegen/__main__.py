"""``python -m injectq_codegen``: the same as the ``injectq-gen`` command."""

from injectq_codegen.cli import main

main(prog_name="injectq-gen")
