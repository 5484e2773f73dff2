"""examples/celery without a broker: its committed wiring is fresh, and the app, in this
process, serves its task from the generated container with Celery's argument check.

The workers themselves run in `.ci/run` (``examples/celery/run.py`` on the throwaway Redis
of ``.ci/servers.sh``, with both containers), and tests/test_celery_worker.py runs real
prefork workers on Redis in the test suite when a server is given.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.codegen_support import REPO

EXAMPLE = REPO / "examples" / "celery"


def run_in_example(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=EXAMPLE,
        env={**env, "PYTHONPATH": f"{EXAMPLE}{os.pathsep}{REPO}", "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_committed_wiring_is_fresh() -> None:
    """examples/celery/billing/_wiring.py is what ``injectq-gen build`` writes today."""
    result = run_in_example(
        "import sys; from injectq_codegen.cli import main; sys.argv = ['injectq-gen', "
        "'build', '--check']; main()"
    )
    assert result.returncode == 0, (
        "examples/celery/billing/_wiring.py is stale: run `injectq-gen build` there\n"
        + result.stdout + result.stderr
    )


def test_the_app_uses_the_generated_wiring_and_checks_task_arguments() -> None:
    """``celery -A billing`` gets the generated container; ``bill`` takes the order's two
    arguments, and its ``Invoices`` comes from the container, not from the caller."""
    result = run_in_example(
        "from billing.celery import app, bill, container\n"
        "from injectq.integrations.celery import get_container_celery\n"
        "from injectq.wiring import GeneratedContainer\n"
        "print(isinstance(container, GeneratedContainer), get_container_celery(app) is container)\n"
        "try:\n"
        "    bill.delay(7)\n"
        "except TypeError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True True",
        "bill() missing 1 required positional argument: 'amount_cents'",
    ]
