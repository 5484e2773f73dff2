"""The rule every web integration applies to a handler's exception. Imports no framework.

An HTTP exception that the framework turns into a response with a status below 500 (a
redirect, a 404, a 422) is an answer: the request's resources see a normal end. One with
a status of 500 or more, and any other exception (also one the framework answers itself),
is a failure: it is thrown into the generator resources at their ``yield``.
"""

from __future__ import annotations

__all__ = ["is_answer"]


def is_answer(status: int | None) -> bool:
    """Whether an exception with HTTP status ``status`` (``None``: not an HTTP exception)
    is an answer, which the request's resources see as a normal end."""
    return status is not None and status < 500
