"""A request scope: scoped instances, a scoped resource, transients over them."""

from __future__ import annotations

from collections.abc import Iterator

from injectq import Module


class Database:
    pass


def open_database() -> Iterator[Database]:
    yield Database()


class UnitOfWork:
    def __init__(self, db: Database) -> None:
        self.db = db


def open_unit_of_work(db: Database) -> Iterator[UnitOfWork]:
    unit = UnitOfWork(db)
    try:
        yield unit
    finally:
        unit.db = db


class RequestContext:
    pass


class Repository:
    def __init__(self, unit: UnitOfWork, context: RequestContext) -> None:
        self.unit = unit
        self.context = context


class Service:
    def __init__(self, repo: Repository, context: RequestContext) -> None:
        self.repo = repo
        self.context = context


class ScopesModule(Module):
    def configure(self) -> None:
        self.bind_factory(Database, open_database).singleton()
        self.bind_factory(UnitOfWork, open_unit_of_work).scoped("request")
        self.bind(RequestContext, RequestContext).scoped("request")
        self.bind(Repository, Repository).transient()
        self.bind(Service, Service).transient()
