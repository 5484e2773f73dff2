"""Errors raised as InjectQ 0.5.0 code raises them: with the key that is missing, with the
keys of a cycle. They render as ours do (a code and a message naming the keys) and keep
0.5.0's attributes."""

from __future__ import annotations

import pytest

from injectq import CircularDependencyError, DependencyNotFoundError, InjectQ, InjectQError
from injectq.utils.exceptions import DependencyNotFoundError as FromUtils


class Database:
    pass


class Cache:
    pass


def test_dependency_not_found_with_the_missing_key() -> None:
    err = DependencyNotFoundError(Database)
    assert isinstance(err, InjectQError) and FromUtils is DependencyNotFoundError
    assert err.dependency_type is Database
    assert err.code == "IQ001"
    assert "no binding for Database" in str(err)
    with pytest.raises(DependencyNotFoundError, match="Database"):
        raise err


def test_dependency_not_found_with_a_message_or_a_string_key() -> None:
    err = DependencyNotFoundError("database_url")
    assert "database_url" in str(err) and err.code == "IQ001"


def test_circular_dependency_with_the_chain() -> None:
    err = CircularDependencyError([Database, Cache, Database])
    assert err.dependency_chain == [Database, Cache, Database]
    assert err.code == "IQ002"
    assert "Database -> Cache -> Database" in str(err)


def test_the_containers_errors_keep_their_attributes() -> None:
    """What the container raises has 0.5.0's attribute too."""
    c = InjectQ()
    with pytest.raises(DependencyNotFoundError) as info:
        c.get("database_url")
    assert info.value.dependency_type == "database_url"
