"""Write docs/errors.md: every error code, each with an example run through injectq now.

Each example below is a small project (``app/modules.py``, sometimes more files) and the
steps a user runs against it. The script writes each project into a temporary folder,
runs its steps there (Python snippets in this process, ``injectq-gen`` in a subprocess)
and records what they print and raise, so the output in the page is the library's own.
Paths are relative to the example folder (``app/modules.py:14``), so the page is the
same on every machine.

    python docs/gen_errors.py            # rewrite docs/errors.md
    python docs/gen_errors.py --stdout   # print the page instead (tests/test_docs.py)
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "errors.md"


@dataclass(frozen=True)
class Step:
    """Python source run in the example folder, or an ``injectq-gen`` command line."""

    source: str
    expect: str  # the exception type name the step must raise, or "ok"
    cli: bool = False
    both: bool = False  # also run against the generated container; the output must match

    @property
    def text(self) -> str:
        return textwrap.dedent(self.source).strip("\n")


@dataclass(frozen=True)
class Example:
    title: str  # "IQ001 missing-binding" or a heading for a resolve-time error
    summary: str
    files: dict[str, str]
    steps: tuple[Step, ...]
    cause: str
    fix: str
    code: str = ""  # the IQ code this section documents
    raised_as: str = ""  # the exception types users catch


def py(source: str, expect: str = "ok", *, both: bool = False) -> Step:
    return Step(source, expect, both=both)


def cli(command: str, expect: str = "ok") -> Step:
    return Step(command, expect, cli=True)


def with_setup(body: str) -> str:
    """``body`` after the lines that make a container from ``app.modules:AppModule``.

    The imports at the top of ``body`` join the setup's imports.
    """
    lines = textwrap.dedent(body).strip("\n").splitlines()
    stdlib: list[str] = []
    names = ["AppModule"]
    while lines and lines[0].startswith(("import ", "from ")):
        line = lines.pop(0)
        if line.startswith("from app.modules import "):
            names += line.removeprefix("from app.modules import ").split(", ")
        else:
            stdlib.append(line)
    while lines and not lines[0]:
        lines.pop(0)
    head = [*stdlib, ""] if stdlib else []
    head += [
        "from injectq import InjectQ",
        f"from app.modules import {', '.join(sorted(names))}",
        "",
        "container = InjectQ()",
        "container.install(AppModule())",
    ]
    return "\n".join(head + lines)


EXAMPLES: tuple[Example, ...] = (
    Example(
        code="IQ001",
        title="IQ001 missing-binding",
        raised_as="`GraphValidationError` from `validate()`; `DependencyNotFoundError` from `get`",
        summary="A constructor or factory parameter asks for a key nothing provides.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Settings:
                    def __init__(self, dsn: str) -> None:
                        self.dsn = dsn


                class Database:
                    def __init__(self, settings: Settings) -> None:
                        self.settings = settings


                class AppModule(Module):
                    def configure(self):
                        self.bind(Settings, Settings).singleton()
                        self.bind(Database, Database).singleton()
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    from app.modules import Database

                    container.get(Database)
                    """
                ),
                "DependencyNotFoundError",
            ),
        ),
        cause=(
            "`Settings.__init__` takes `dsn: str`. No binding has the key `str`, `str` is not "
            "a class injectq constructs on its own, and the parameter has no default. The "
            "chain starts at a binding nothing depends on and ends at the unbound key, with "
            "the line where each link was bound or injected."
        ),
        fix=(
            "Bind the value. A builtin such as `str` is bound by parameter name: "
            "`self.bind_instance(\"dsn\", \"postgresql://...\")`. A class is bound by type: "
            "`self.bind(Settings, Settings)`. Or give the parameter a default, or annotate it "
            "`Optional[...]` (it then receives `None`). The error names the missing key in "
            "`exc.problem.key` and the path in `exc.path`."
        ),
    ),
    Example(
        code="IQ002",
        title="IQ002 cycle",
        raised_as="`GraphValidationError` from `validate()`; `CircularDependencyError` from `get`",
        summary="Bindings need each other to be constructed.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class OrderService:
                    def __init__(self, payments: "PaymentService") -> None:
                        self.payments = payments


                class PaymentService:
                    def __init__(self, orders: OrderService) -> None:
                        self.orders = orders


                class AppModule(Module):
                    def configure(self):
                        self.bind(OrderService, OrderService).singleton()
                        self.bind(PaymentService, PaymentService).singleton()
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    from app.modules import OrderService

                    container.get(OrderService)
                    """
                ),
                "CircularDependencyError",
            ),
        ),
        cause=(
            "Constructing `OrderService` needs a `PaymentService`, whose constructor needs the "
            "`OrderService` being built. Each cycle is reported once, starting at its "
            "first-bound member."
        ),
        fix=(
            "Inject one side as `Lazy[T]`: `def __init__(self, orders: Lazy[OrderService])` "
            "and call `self.orders()` when the object is needed, after construction. A `Lazy` "
            "edge is the only edge a cycle may pass through. Otherwise move what both sides "
            "share into a third class that both depend on."
        ),
    ),
    Example(
        code="IQ003",
        title="IQ003 captive-lifetime",
        raised_as="`GraphValidationError` from `validate()`; `get` does not raise",
        summary="A longer-lived binding depends on a shorter-lived one and would keep it.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class RequestContext:
                    pass


                class Logger:
                    def __init__(self, ctx: RequestContext) -> None:
                        self.ctx = ctx


                class AuditService:
                    def __init__(self, log: Logger) -> None:
                        self.log = log


                class AppModule(Module):
                    def configure(self):
                        self.bind(RequestContext, RequestContext).scoped()
                        self.bind(Logger, Logger).transient()
                        self.bind(AuditService, AuditService).singleton()
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    from app.modules import AuditService

                    with container.scope():
                        first = container.get(AuditService)
                    with container.scope():
                        second = container.get(AuditService)
                    print(first.log.ctx is second.log.ctx)
                    """
                ),
            ),
        ),
        cause=(
            "The singleton `AuditService` is created once, inside the first request scope, "
            "and keeps the `Logger` it received, which keeps that request's `RequestContext`. "
            "Every later request sees the first request's context, as the second step shows: "
            "`get` cannot tell, so only the graph check reports it. A transient lives as long "
            "as whatever holds it, so the check follows transients to the first scoped binding "
            "they reach (`singleton -> transient -> scoped` is captive too)."
        ),
        fix=(
            "Give the holder a lifetime no longer than the dependency: "
            "`self.bind(AuditService, AuditService).scoped()`. If it must stay a singleton, "
            "resolve the short-lived object where it is used: take `container: InjectQ` and "
            "call `container.get(Logger)` inside the method, within the request. `Lazy[Logger]` "
            "does not help: the handle keeps the first value it resolved, so the check follows "
            "`Lazy` edges too."
        ),
    ),
    Example(
        code="IQ004",
        title="IQ004 duplicate-binding",
        raised_as="`GraphValidationError` from `validate()`; `get` uses the later binding",
        summary="One key is bound twice and neither binding says it replaces the other.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Cache:
                    pass


                class MemoryCache(Cache):
                    pass


                class RedisCache(Cache):
                    pass


                class CacheModule(Module):
                    def configure(self):
                        self.bind(Cache, MemoryCache).singleton()


                class AppModule(Module):
                    def configure(self):
                        self.install(CacheModule())
                        self.bind(Cache, RedisCache).singleton()
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    from app.modules import Cache

                    print(type(container.get(Cache)).__name__)
                    """
                )
            ),
        ),
        cause=(
            "Two Modules (or two lines of one) bind `Cache`. The later binding wins, which is "
            "rarely what the author of the earlier one expects, so it is an error unless it is "
            "marked as deliberate."
        ),
        fix=(
            "Remove one binding, or write `self.bind(Cache, RedisCache, override=True)` on the "
            "one that replaces the other. A container created with "
            "`InjectQ(allow_override=False)` refuses the second `bind()` at once with "
            "`AlreadyRegisteredError` (see below)."
        ),
    ),
    Example(
        code="IQ005",
        title="IQ005 async-on-sync-path",
        raised_as=(
            "`AsyncResolutionError` from `get` and `warm()`; `GraphValidationError` from "
            "`validate(roots=[...])`"
        ),
        summary="Synchronous code asks for something that can only be created with `await`.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Pool:
                    pass


                async def create_pool() -> Pool:
                    return Pool()


                class Repository:
                    def __init__(self, pool: Pool) -> None:
                        self.pool = pool


                def handle_request(repo: Repository) -> None:
                    """An entry point: a sync function that needs a Repository."""


                class AppModule(Module):
                    def configure(self):
                        self.bind_factory(Pool, create_pool).singleton()
                        self.bind(Repository, Repository).transient()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import Repository

                    container.get(Repository)
                    """
                ),
                "AsyncResolutionError", both=True,
            ),
            py(with_setup("container.warm()"), "AsyncResolutionError", both=True),
            py(
                with_setup(
                    """
                    from app.modules import handle_request

                    container.validate(roots=[handle_request])
                    """
                ),
                "GraphValidationError",
            ),
        ),
        cause=(
            "`Pool` comes from an `async def` factory; `Repository` needs a `Pool`, so creating "
            "a `Repository` needs an `await` somewhere below it. `get` and `warm()` are "
            "synchronous and cannot await. `validate()` reports this for the entry points "
            "given as `roots` (a sync function root is a sync path); "
            "`injectq-gen check --root app.modules:handle_request` reports the same."
        ),
        fix=(
            "Resolve with `await container.aget(Repository)` and `await container.awarm()`, "
            "and make the entry point `async def`. Or bind `Pool` to a synchronous factory. "
            "Once an async singleton exists (after `awarm()` or a first `aget`), `get` returns "
            "it without awaiting."
        ),
    ),
    Example(
        code="IQ006",
        title="IQ006 unresolvable-annotation",
        raised_as="`GraphValidationError` from `validate()`; `DependencyNotFoundError` from `get`",
        summary="A parameter's annotation names something that cannot be evaluated at run time.",
        files={
            "app/db.py": '''
                class Database:
                    pass
            ''',
            "app/modules.py": '''
                from typing import TYPE_CHECKING

                from injectq import Module

                if TYPE_CHECKING:
                    from app.database import Database


                class Repository:
                    def __init__(self, db: "Database") -> None:
                        self.db = db


                class AppModule(Module):
                    def configure(self):
                        from app.db import Database

                        self.bind(Database, Database).singleton()
                        self.bind(Repository, Repository).singleton()
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    from app.modules import Repository

                    container.get(Repository)
                    """
                ),
                "DependencyNotFoundError",
            ),
            cli("injectq-gen check app.modules:AppModule", "exit 1"),
        ),
        cause=(
            "`Database` is imported only under `if TYPE_CHECKING:`, so at run time the name "
            "does not exist in `app.modules`. Both containers then import what that block "
            "names, to evaluate the string annotation `\"Database\"` the same way; here the "
            "block names a module that does not exist (`app.database`, not `app.db`), so the "
            "annotation cannot be evaluated by either."
        ),
        fix=(
            "Correct the import under `TYPE_CHECKING` (or import the name at module level). "
            "If the name cannot be imported at run time at all, bind the parameter by name: "
            "`self.bind(\"db\", Database)`."
        ),
    ),
    Example(
        code="IQ007",
        title="IQ007 not-importable",
        raised_as=(
            "a problem from `injectq-gen build` and `check` (exit status 1); the runtime "
            "container accepts it"
        ),
        summary="The generated module would have to import something that has no import path.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Clock:
                    pass


                class AppModule(Module):
                    def configure(self):
                        self.bind_factory(Clock, lambda: Clock()).singleton()
            ''',
        },
        steps=(
            py(with_setup("print(container.validate())")),
            cli("injectq-gen check app.modules:AppModule", "exit 1"),
        ),
        cause=(
            "`_wiring.py` calls your classes and factories by importing them from their "
            "defining modules. A lambda, a class or function defined inside another function, "
            "and anything defined only in `__main__` have no such import path. Only "
            "`injectq-gen` needs one, so only it reports IQ007."
        ),
        fix=(
            "Define the factory at module level (`def make_clock() -> Clock: ...`) and bind "
            "that: `self.bind_factory(Clock, make_clock)`."
        ),
    ),
    Example(
        code="IQ008",
        title="IQ008 unused-binding (warning)",
        raised_as="a warning: returned by `validate(roots=[...])`, printed by `injectq-gen`",
        summary="With entry points given, a binding none of them reaches.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Clock:
                    pass


                class Mailer:
                    pass


                class Api:
                    def __init__(self, clock: Clock) -> None:
                        self.clock = clock


                class AppModule(Module):
                    def configure(self):
                        self.bind(Clock, Clock).singleton()
                        self.bind(Mailer, Mailer).singleton()
                        self.bind(Api, Api).singleton()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import Api

                    for problem in container.validate(roots=[Api]):
                        print(problem.render())
                    """
                )
            ),
            cli("injectq-gen check app.modules:AppModule --root app.modules:Api"),
        ),
        cause=(
            "`Mailer` is bound, but nothing `Api` needs (directly or not) is a `Mailer`. The "
            "check runs only when roots are given: without them every binding is an entry "
            "point. It is a warning: `validate()` returns it instead of raising, and the exit "
            "status stays 0."
        ),
        fix=(
            "Remove the binding, or add the code that uses it as a root "
            "(`--root app.mail:send_digest`, or `roots = [...]` under `[tool.injectq]`)."
        ),
    ),
    Example(
        code="IQ009",
        title="IQ009 unknown-scope",
        raised_as="`GraphValidationError` from `validate()`; `ScopeError` from `scope()` and `get`",
        summary="A binding is scoped to a scope name that was never declared.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class TenantSettings:
                    pass


                class AppModule(Module):
                    def configure(self):
                        self.bind(TenantSettings, TenantSettings).scoped("tenant")
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            py(
                with_setup(
                    """
                    with container.scope("tenant"):
                        pass
                    """
                ),
                "ScopeError",
            ),
        ),
        cause=(
            "The built-in scopes are `request` and `action` (inside `request`). Any other name "
            "must be declared with its parent, so that the captive-lifetime check knows which "
            "scope outlives which."
        ),
        fix=(
            "Declare it in the Module before binding to it: "
            "`self.declare_scope(\"tenant\", parent=\"request\")` (or `parent=\"app\"` for a "
            "scope that sits directly under the container)."
        ),
    ),
    Example(
        code="IQ010",
        title="IQ010 wrong-implementation",
        raised_as="`GraphValidationError` from `validate()`; reported by `injectq-gen check`",
        summary=(
            "A key is bound to a class that is not a subclass of it, or to an instance of "
            "another class."
        ),
        files={
            "app/modules.py": '''
                from injectq import Module


                class Clock:
                    def now(self) -> float:
                        return 0.0


                class SystemClock(Clock):
                    @staticmethod
                    def create() -> "SystemClock":
                        return SystemClock()


                class AppModule(Module):
                    def configure(self):
                        self.bind(Clock, SystemClock.create)
            ''',
        },
        steps=(
            py(with_setup("container.validate()"), "GraphValidationError"),
            cli("injectq-gen check app.modules:AppModule", "exit 1"),
        ),
        cause=(
            "`bind()` constructs a class, and binds anything else as that very object: here "
            "the function `SystemClock.create` itself would be handed out as the `Clock`, and "
            "`get(Clock).now()` would fail far from the binding. An instance of a class with "
            "the same name from another module is reported the same way."
        ),
        fix=(
            "To have a factory called, bind it with `bind_factory(Clock, SystemClock.create)`; "
            "otherwise bind a subclass of the key, or an instance of it."
        ),
    ),
    # -- errors that only resolution finds ----------------------------------------------
    Example(
        title="ScopeError: no open scope",
        summary="A scoped binding is resolved while no scope of its name is open.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class RequestContext:
                    pass


                class AppModule(Module):
                    def configure(self):
                        self.bind(RequestContext, RequestContext).scoped()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import RequestContext

                    container.get(RequestContext)
                    """
                ),
                "ScopeError", both=True,
            ),
        ),
        cause=(
            "A scoped instance belongs to one open scope; outside every `request` scope there "
            "is none to take it from or store it in. The same happens after the `with` block "
            "that opened the scope has ended."
        ),
        fix=(
            "Resolve inside `with container.scope(\"request\"):` (`async with` in async code; "
            "the FastAPI integration opens one per request). If the object should exist "
            "outside requests, bind it as a singleton or transient instead."
        ),
    ),
    Example(
        title="An exception raised by a constructor or factory",
        summary="Your own code fails while the container is creating an object.",
        files={
            "app/modules.py": '''
                import os

                from injectq import Module


                class Settings:
                    def __init__(self) -> None:
                        self.database_url = os.environ["APP_DATABASE_URL"]


                class Database:
                    def __init__(self, settings: Settings) -> None:
                        self.url = settings.database_url


                class Reports:
                    def __init__(self, db: Database) -> None:
                        self.db = db


                class AppModule(Module):
                    def configure(self):
                        self.bind(Settings, Settings).singleton()
                        self.bind(Database, Database).singleton()
                        self.bind(Reports, Reports).transient()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import Reports

                    container.get(Reports)
                    """
                ),
                "KeyError", both=True,
            ),
            py(
                with_setup(
                    """
                    from app.modules import Reports

                    try:
                        container.get(Reports)
                    except KeyError as exc:
                        print([link.label for link in exc.injectq_path])
                    """
                )
            ),
        ),
        cause=(
            "The exception is yours and passes through unchanged, with its traceback; "
            "injectq adds a note (shown under the message) with the path of bindings being "
            "resolved, down to the one whose provider raised, and where that one was bound. "
            "The same path is in `exc.injectq_path`. Nothing half-built is cached: once the "
            "cause is gone, the next `get` creates the objects."
        ),
        fix="Fix the failing provider; the last link of the path names it.",
    ),
    Example(
        title="CircularDependencyError at resolution",
        summary="A factory asks the container for the key it is creating.",
        files={
            "app/modules.py": '''
                from injectq import InjectQ, Module


                class Settings:
                    def __init__(self, plugins: list[str]) -> None:
                        self.plugins = plugins


                class PluginRegistry:
                    def __init__(self, settings: Settings) -> None:
                        self.names = ["audit"]


                def load_settings(container: InjectQ) -> Settings:
                    registry = container.get(PluginRegistry)  # looked up by hand
                    return Settings(registry.names)


                class AppModule(Module):
                    def configure(self):
                        self.bind_factory(Settings, load_settings).singleton()
                        self.bind(PluginRegistry, PluginRegistry).singleton()
            ''',
        },
        steps=(
            py(with_setup("print(container.validate())")),
            py(
                with_setup(
                    """
                    from app.modules import Settings

                    container.get(Settings)
                    """
                ),
                "CircularDependencyError", both=True,
            ),
        ),
        cause=(
            "`load_settings` receives the container and calls `get` itself, so the graph "
            "sees no edge from `Settings` to `PluginRegistry` and `validate()` passes. At run "
            "time `PluginRegistry` needs the `Settings` that is still being created. injectq "
            "detects the re-entry instead of recursing or deadlocking."
        ),
        fix=(
            "Declare the dependency as a parameter (`def load_settings(registry: "
            "PluginRegistry)`), so that `validate()` reports the cycle as IQ002 with its "
            "path, then break it with `Lazy[T]`."
        ),
    ),
    Example(
        title="ResourceCleanupError",
        summary="One or more finalizers of generator factories raised while closing.",
        files={
            "app/modules.py": '''
                from collections.abc import Iterator

                from injectq import Module


                class Connection:
                    pass


                class Channel:
                    pass


                def open_connection() -> Iterator[Connection]:
                    yield Connection()
                    raise OSError("connection reset while closing")


                def open_channel() -> Iterator[Channel]:
                    yield Channel()
                    raise TimeoutError("channel close timed out")


                class AppModule(Module):
                    def configure(self):
                        self.bind_factory(Connection, open_connection).singleton()
                        self.bind_factory(Channel, open_channel).singleton()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import Channel, Connection

                    container.get(Connection)
                    container.get(Channel)
                    container.close()
                    """
                ),
                "ResourceCleanupError", both=True,
            ),
        ),
        cause=(
            "The code after `yield` in a generator factory is its finalizer; it runs when the "
            "owning scope or the container closes, newest resource first. A finalizer that "
            "raises does not stop the others: every failure is collected into one "
            "`ResourceCleanupError`, an `ExceptionGroup`."
        ),
        fix=(
            "Handle the sub-exceptions with `except* OSError:` or `exc.exceptions`, or make "
            "the finalizers tolerate the failures they expect."
        ),
    ),
    Example(
        title="ScopeError: async resources closed synchronously",
        summary="`close()` (or a sync `with` scope) owns resources from async generators.",
        files={
            "app/modules.py": '''
                from collections.abc import AsyncIterator

                from injectq import Module


                class Client:
                    async def aclose(self) -> None:
                        pass


                async def open_client() -> AsyncIterator[Client]:
                    client = Client()
                    yield client
                    await client.aclose()


                class AppModule(Module):
                    def configure(self):
                        self.bind_factory(Client, open_client).singleton()
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    import asyncio

                    from app.modules import Client

                    asyncio.run(container.aget(Client))
                    container.close()
                    """
                ),
                "ResourceCleanupError", both=True,
            ),
        ),
        cause=(
            "The finalizer of an async generator must be awaited; a synchronous close cannot. "
            "The synchronous finalizers still run, and the async ones stay registered."
        ),
        fix="Close with `await container.aclose()`, and open such scopes with `async with`.",
    ),
    Example(
        title="InjectionError",
        summary="An `@inject` function is called and a parameter it left out cannot be filled.",
        files={
            "app/modules.py": '''
                from injectq import Module, inject


                class Mailer:
                    def __init__(self, smtp_host: str) -> None:
                        self.smtp_host = smtp_host


                class AppModule(Module):
                    def configure(self):
                        self.bind(Mailer, Mailer).singleton()


                @inject
                def send_welcome(user_id: int, mailer: Mailer) -> None:
                    pass
            ''',
        },
        steps=(
            py(
                with_setup(
                    """
                    from app.modules import send_welcome

                    with container.context():
                        send_welcome(42)
                    """
                ),
                "InjectionError",
            ),
        ),
        cause=(
            "`send_welcome` was called without `mailer`, so `@inject` resolves it from "
            "`@inject(container=...)` if given, else the current container "
            "(`with container.context():`), else the global `InjectQ.get_instance()`. "
            "Resolving `Mailer` failed; the error names the parameter and carries the "
            "underlying problem (here IQ001: `Mailer` needs `smtp_host`)."
        ),
        fix=(
            "Bind what is missing (`self.bind_instance(\"smtp_host\", ...)`), pass the argument "
            "explicitly, or give the parameter a default. To find such "
            "problems before the first call, pass the function as a root: "
            "`container.validate(roots=[send_welcome])`."
        ),
    ),
    Example(
        title="BindingError",
        summary="A `bind` call that cannot be registered as written fails at once.",
        files={
            "app/modules.py": '''
                from abc import ABC, abstractmethod

                from injectq import Module


                class Notifier(ABC):
                    @abstractmethod
                    def send(self, text: str) -> None: ...


                class Config:
                    pass


                class AbstractModule(Module):
                    def configure(self):
                        self.bind(Notifier, Notifier).singleton()


                class InstanceModule(Module):
                    def configure(self):
                        self.bind(Config, Config()).transient()

            ''',
        },
        steps=(
            py(
                """
                from injectq import InjectQ
                from app.modules import AbstractModule

                InjectQ().install(AbstractModule())
                """,
                "BindingError",
            ),
            py(
                """
                from injectq import InjectQ
                from app.modules import InstanceModule

                InjectQ().install(InstanceModule())
                """,
                "BindingError",
            ),
        ),
        cause=(
            "An abstract class cannot be constructed, and an instance is one object, so it "
            "can only be a singleton. Other `BindingError`s: `bind(K, None)` without "
            "`allow_none=True`, `bind(\"key\")` with no implementation, `self.bind()` called "
            "outside `configure()`, a `@provider` method with no return annotation, a key, "
            "name, scope or parent that cannot be one (`bind([1, 2], ...)`: a list is not "
            "hashable), passed to a binding call or to `get`."
        ),
        fix="Each message names the call, its file and line, and what to write instead.",
    ),
    Example(
        title="AlreadyRegisteredError",
        summary="A key is bound twice on a container created with `allow_override=False`.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Cache:
                    pass


                class AppModule(Module):
                    def configure(self):
                        self.bind(Cache, Cache).singleton()
                        self.bind(Cache, Cache).transient()
            ''',
        },
        steps=(
            py(
                """
                from injectq import InjectQ
                from app.modules import AppModule

                container = InjectQ(allow_override=False)
                container.install(AppModule())
                """,
                "AlreadyRegisteredError",
            ),
        ),
        cause=(
            "With `allow_override=False` a second binding of a key is refused when it is "
            "made, instead of being reported later as IQ004. `AlreadyRegisteredError` is a "
            "`BindingError`."
        ),
        fix=(
            "Remove the second binding, or pass `override=True` to it when replacing the "
            "first is intended."
        ),
    ),
    Example(
        title="FactoryCallError",
        summary="`call_factory()` is given arguments the factory does not take.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Pool:
                    def __init__(self, db_name: str, max_conn: int) -> None:
                        self.db_name = db_name
                        self.max_conn = max_conn


                def make_pool(db_name: str, max_conn: int = 10) -> Pool:
                    return Pool(db_name, max_conn)


                class AppModule(Module):
                    def configure(self):
                        self.bind("make_pool", make_pool)
            ''',
        },
        steps=(
            py(
                """
                from injectq import InjectQ
                from app.modules import AppModule

                container = InjectQ()
                container.install(AppModule())
                container.call_factory("make_pool", "orders", size=3)
                """,
                "FactoryCallError",
            ),
        ),
        cause=(
            "`call_factory(key, *args, **kwargs)` calls the factory bound under `key` with "
            "exactly the caller's arguments (as InjectQ 0.5.0 does), so they must fit its "
            "parameters: here `size` is none of them. A `FactoryCallError` is an "
            "`InjectionError` and a `TypeError`, as the call itself would have raised; it "
            "names the key, the function, the parameter (`err.parameter`) and where the "
            "factory was bound."
        ),
        fix=(
            "Pass the factory's own parameter names (`max_conn=3`); to have the container "
            "fill what you leave out, call `container.invoke(\"make_pool\", \"orders\")` "
            "(the runtime container)."
        ),
    ),
    Example(
        title="ComponentError",
        summary="Components cannot start: one requires an interface no component provides.",
        files={
            "app/components.py": '''
                from typing import Protocol

                from injectq.components import Component


                class IDatabase(Protocol):
                    def query(self, sql: str) -> list[str]: ...


                class IUsers(Protocol):
                    def user(self, uid: int) -> str: ...


                class UserComponent(Component):
                    provides = [IUsers]
                    requires = [IDatabase]
            ''',
        },
        steps=(
            py(
                """
                from injectq.components import ComponentContainer
                from app.components import UserComponent

                container = ComponentContainer()
                container.register_component(UserComponent)
                container.start_components()
                """,
                "ComponentError",
            ),
        ),
        cause=(
            "Before any component is created, the requirements of those to start are "
            "checked along the dependency graph: every one missing, every cycle among them "
            "and every requirement that needs an await is reported at once, with the path "
            "from the component. Nothing was created or started. A `ComponentError` is also "
            "raised for a registration that cannot be made (a duplicate name, an interface "
            "provided twice, an async lifecycle method) and for a start or stop that failed "
            "(what that call had started is stopped again, newest first)."
        ),
        fix=(
            "Register a component that provides the interface (`provides = [IDatabase]`), "
            "or bind it in the container as an ordinary service."
        ),
    ),
    Example(
        title="DependencyNotFoundError from a generated container",
        summary="A key that is not part of the generated `_wiring.py` is asked for.",
        files={
            "app/modules.py": '''
                from injectq import Module


                class Clock:
                    pass


                class Reporter:
                    def __init__(self, clock: Clock) -> None:
                        self.clock = clock


                class AppModule(Module):
                    def configure(self):
                        self.bind(Clock, Clock).singleton()
            ''',
        },
        steps=(
            cli("injectq-gen build app.modules:AppModule -o app/_wiring.py"),
            py(
                """
                from app._wiring import container
                from app.modules import Reporter

                container.get(Reporter)
                """,
                "DependencyNotFoundError",
            ),
        ),
        cause=(
            "The runtime container constructs an unbound class on demand (auto-wiring). The "
            "generated module contains what was bound, the roots it was built with, and what "
            "those reach; it never inspects a class at run time, so a class nothing reached "
            "when it was built is unknown to it."
        ),
        fix=(
            "Bind `Reporter` in a Module, or build with `--root app.modules:Reporter` (or add "
            "it to `roots` under `[tool.injectq]`), then run `injectq-gen build` again."
        ),
    ),
)


# -- running the examples ------------------------------------------------------------------


class StepFailed(Exception):
    pass


_ADDRESS = re.compile(r" at 0x[0-9a-f]+")
_DURATION = re.compile(r"\b\d+\.\d+( ?m?s)\b")  # the time a command took


def render_exception(exc: BaseException) -> str:
    """What Python prints for an uncaught exception, without the traceback frames."""
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            sub.__traceback__ = None
        lines = traceback.TracebackException(type(exc), exc, None).format(chain=False)
        return "".join(lines).rstrip("\n")
    return "".join(traceback.format_exception_only(exc)).rstrip("\n")


def _forget_app() -> None:
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]


def run_python(step: Step, folder: Path) -> str:
    out = io.StringIO()
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(step.text, "<docs example>", "exec"), namespace)
    except Exception as exc:
        if type(exc).__name__ != step.expect:
            raise StepFailed(
                f"expected {step.expect}, got {type(exc).__name__}: {exc}"
            ) from exc
        return out.getvalue() + render_exception(exc)
    if step.expect != "ok":
        raise StepFailed(f"expected {step.expect}, but the step ran without error")
    return out.getvalue().rstrip("\n")


def run_cli(step: Step, folder: Path) -> str:
    args = step.text.split()
    assert args[0] == "injectq-gen"
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("FORCE_COLOR", None)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [sys.executable, "-m", "injectq_codegen", *args[1:]],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
    if status != step.expect:
        raise StepFailed(f"expected {step.expect}, got {status}:\n{proc.stdout}")
    text = _DURATION.sub(r"N.NN\1", proc.stdout.rstrip("\n"))
    return text + ("" if proc.returncode == 0 else f"\n$ echo $?\n{proc.returncode}")


_RUNTIME_SETUP = "container = InjectQ()\ncontainer.install(AppModule())"


def generated_variant(step: Step) -> Step:
    """The step with the container taken from the generated ``app/_wiring.py``."""
    lines = []
    for line in step.text.replace(_RUNTIME_SETUP, "from app._wiring import container").split(
        "\n"
    ):
        if line == "from injectq import InjectQ":
            continue
        if line.startswith("from app.modules import "):
            names = line.removeprefix("from app.modules import ").split(", ")
            names = [n for n in names if n != "AppModule"]
            if names:
                lines.append(f"from app.modules import {', '.join(names)}")
            continue
        lines.append(line)
    text = "\n".join(lines)
    assert "InjectQ" not in text, f"not a with_setup() step: {step.text}"
    return replace(step, source=text, both=False)


def check_generated(example: Example, folder: Path, outputs: list[str]) -> None:
    """Build the example's wiring; each ``both`` step must print what the runtime did."""
    from injectq_codegen.build import generate  # what `injectq-gen build` writes

    _forget_app()
    source, _ = generate(["app.modules:AppModule"], [])
    (folder / "app" / "_wiring.py").write_text(source, encoding="utf-8")
    for step, runtime in zip(example.steps, outputs, strict=True):
        if not step.both:
            continue
        _forget_app()  # a fresh import: a new generated container
        generated = run_python(generated_variant(step), folder)
        if generated != runtime:
            raise StepFailed(
                "the generated container printed something else than the runtime one:\n"
                f"--- runtime\n{runtime}\n--- generated\n{generated}"
            )


def run_example(example: Example, folder: Path) -> list[str]:
    for rel, source in example.files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        init = path.parent / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")
    previous = Path.cwd()
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    _forget_app()
    outputs = []
    try:
        for step in example.steps:
            run = run_cli if step.cli else run_python
            try:
                outputs.append(run(step, folder))
            except StepFailed as exc:
                raise SystemExit(f"gen_errors: {example.title}: {exc}") from None
        if any(step.both for step in example.steps):
            try:
                check_generated(example, folder, outputs)
            except StepFailed as exc:
                raise SystemExit(f"gen_errors: {example.title}: {exc}") from None
    finally:
        _forget_app()
        sys.path.remove(str(folder))
        os.chdir(previous)
    return [_ADDRESS.sub("", text).replace(str(folder) + os.sep, "") for text in outputs]


# -- the page ---------------------------------------------------------------------------


HEADER = """\
<!-- Generated by docs/gen_errors.py from the examples in it: do not edit by hand.
     After changing an error message, run: python docs/gen_errors.py -->
# Errors

Every error injectq raises derives from `InjectQError`. Problems in the graph
have a code (IQ001-IQ010), the same in `container.validate()`, in `injectq-gen check`
and in the error `get` raises when it meets the problem first. Each problem names the
binding where it starts, the chain of dependencies that leads to it with the line where
each link was bound or injected, and a `help:` line with the fix.

A graph error carries its data: `exc.problem` (a `Problem` with `code`, `key`, `chain`,
`site`, `help`), `exc.code` and `exc.path`; `GraphValidationError.problems` lists every
problem found, and `.codes` their codes. `injectq-gen check --format json` prints the
same fields (see [ci.md](ci.md)).

Every example below is run by `docs/gen_errors.py` when this page is generated; the
output shown is what it printed. Paths are relative to the example's folder, which
holds `app/modules.py`.

"""


def _anchor(title: str) -> str:
    text = re.sub(r"[^\w\- ]", "", title.lower()).strip()
    return re.sub(r" ", "-", text)


def _fence(lang: str, text: str) -> str:
    return f"```{lang}\n{text}\n```"


def render_section(example: Example, outputs: list[str]) -> str:
    parts = [f"## {example.title}", "", example.summary, ""]
    if example.raised_as:
        parts += [f"Raised as: {example.raised_as}.", ""]
    for rel, source in example.files.items():
        parts += [f"`{rel}`:", "", _fence("python", textwrap.dedent(source).strip("\n")), ""]
    for step, output in zip(example.steps, outputs, strict=True):
        if step.cli:
            parts += [_fence("console", f"$ {step.text}\n{output}".rstrip("\n")), ""]
        else:
            parts += [_fence("python", step.text), ""]
            if output:
                parts += [_fence("text", output), ""]
    if any(step.both for step in example.steps):
        parts += [
            "With the generated container (`from app._wiring import container` in place of "
            "the lines that make an `InjectQ`) the output is the same; `docs/gen_errors.py` "
            "checks that when it writes this page.",
            "",
        ]
    parts += [f"**Cause.** {example.cause}", "", f"**Fix.** {example.fix}", ""]
    return "\n".join(parts)


def render_index() -> str:
    rows = ["| code | error | raised as |", "|---|---|---|"]
    for example in EXAMPLES:
        code, _, name = example.title.partition(" ")
        if example.code:
            rows.append(f"| [{code}](#{_anchor(example.title)}) | {name} | {example.raised_as} |")
    rows += ["", "Errors that only resolution or closing can find:", ""]
    for example in EXAMPLES:
        if not example.code:
            rows.append(f"- [{example.title}](#{_anchor(example.title)}): {example.summary}")
    return "\n".join(rows) + "\n\n"


def missing_codes() -> list[str]:
    from injectq.model.checks import CODES

    documented = {e.code for e in EXAMPLES}
    return [code for code in CODES if code not in documented]


def generate() -> str:
    missing = missing_codes()
    if missing:
        raise SystemExit(
            f"gen_errors: no example for {', '.join(missing)} (injectq/model/checks.py CODES): "
            "add one to EXAMPLES in docs/gen_errors.py"
        )
    os.environ.pop("APP_DATABASE_URL", None)  # the provider-error example needs it unset
    sections = []
    with tempfile.TemporaryDirectory(prefix="injectq-errors-") as tmp:
        for i, example in enumerate(EXAMPLES):
            folder = Path(tmp) / f"example{i}"
            folder.mkdir()
            sections.append(render_section(example, run_example(example, folder)))
    return HEADER + render_index() + "\n".join(sections).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    sys.dont_write_bytecode = True
    text = generate()
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
