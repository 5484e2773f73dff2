# pyright: strict
"""Typing checks of injectq.testing (see check_types.py): a class's double is typed as the
class, ``mock_factory(fn)`` keeps ``fn``'s parameters and result and has a ``.mock``, and
TestModule's fluent methods return the module."""

from __future__ import annotations

from typing import Any, Protocol, assert_type

from injectq.testing import TestModule, mock_factory


class Mailer:
    def send(self, to: str) -> str:
        return to


class Clock(Protocol):
    def now(self) -> float: ...


def connect(url: str, retries: int = 3) -> bytes:
    return url.encode()


assert_type(mock_factory.create_mock(Mailer), Mailer)
assert_type(mock_factory.create_mock(Clock, **{"now.return_value": 1.0}), Clock)
assert_type(mock_factory.create_mock("token"), Any)

made = mock_factory(connect)
assert_type(made("db://", retries=1), bytes)
made.mock.assert_called_once_with("db://", retries=1)

module = TestModule().mock(Mailer).bind_value(Clock, None)
assert_type(module, TestModule)
