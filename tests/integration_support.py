"""The test application the integrations' tests serve, and both containers of it.

``app_source`` is its ``services.py``: a singleton, two request-scoped generator resources
that log to ``EVENTS`` when they open, how their block ended and when they close (so the
order of finalization can be read off), a transient using both, and one named ``str``.
The tests of each framework differ only in the few places ``app_source`` takes.
``write_app`` writes it as a package into ``tmp_path`` (``codegen_env``) and imports it;
``make_container`` gives the runtime ``InjectQ`` or the ``Container()`` that injectq-gen
generates from the same Module; ``app_fixtures`` makes a test module's two fixtures of them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from string import Template
from types import ModuleType
from typing import Any

import pytest

from injectq import InjectQ
from tests.codegen_support import build_wiring, make_project

__all__ = [
    "CONTAINERS",
    "app_fixtures",
    "app_source",
    "make_container",
    "scope_events",
    "write_app",
]

# the two kinds of container every test runs with, as a fixture's params
CONTAINERS = ["runtime", "generated"]

_APP = Template('''\
from __future__ import annotations

$imports
from injectq import Module

EVENTS: list[str] = []
_numbers = itertools.count(1)


class Settings:
    greeting = "hello"


class Session:
    def __init__(self) -> None:
        self.number = next(_numbers)


class Audit:
    def __init__(self, session: Session) -> None:
        self.session = session


def open_session() -> Iterator[Session]:
    session = Session()
    EVENTS.append(f"open session {session.number}")
    try:
        yield session
$session_ending    else:
        EVENTS.append(f"session {session.number} committed")
    finally:
        EVENTS.append(f"close session {session.number}")


$open_audit
    EVENTS.append(f"open audit {session.number}")
    try:
        yield Audit(session)
$audit_ending    finally:
$audit_close        EVENTS.append(f"close audit {session.number}")


class Greeter:
    def __init__(self, settings: Settings, session: Session) -> None:
        self.settings = settings
        self.session = session

    def greet(self, who: str) -> str:
        return f"{self.settings.greeting} {who} (session {self.session.number})"

$token
class AppModule(Module):
    def configure(self) -> None:
        self.bind(Settings, Settings).singleton()
        self.bind_factory(Session, open_session).scoped("request")
        self.bind_factory(Audit, open_audit).scoped("request")
        self.bind(Greeter, Greeter).transient()
$bind_token        self.bind_instance(str, "$value", name="$name")
''')

_WEB_SESSION_ENDING = '''\
    except Exception as exc:
        EVENTS.append(f"session {session.number} rolled back: {exc}")
        raise
'''

# a command also ends by SystemExit, which no web framework lets through to the scope
_CLI_SESSION_ENDING = '''\
    except Exception as exc:
        EVENTS.append(f"session {session.number} rolled back: {type(exc).__name__}({exc})")
        raise
    except BaseException as exc:
        EVENTS.append(f"session {session.number} interrupted: {type(exc).__name__}")
        raise
'''

_AUDIT_ENDING = '''\
    except Exception as exc:
        EVENTS.append(f"audit {session.number} saw {type(exc).__name__}")
        raise
'''

_TOKEN = '''
class Token:
    def __init__(self, value: str) -> None:
        self.value = value


async def fetch_token() -> Token:
    return Token("t0k")

'''


def app_source(
    value: str,
    *,
    name: str = "server_name",
    token: bool = False,
    async_audit: bool = False,
    cli: bool = False,
) -> str:
    """The app's ``services.py``, whose ``str`` named ``name`` is ``value``.

    ``token``: a transient ``Token`` made by an async factory. ``async_audit``: the audit
    is an async generator that awaits once on opening and once on closing. ``cli``: the
    resources of a command line, where the session names the exception's type and logs
    the BaseException a command may end with, and the audit logs only opening and closing.
    """
    if async_audit:
        imports = "import asyncio\nimport itertools\nfrom collections.abc import AsyncIterator, Iterator\n"
        open_audit = "async def open_audit(session: Session) -> AsyncIterator[Audit]:\n    await asyncio.sleep(0)"
        audit_close = "        await asyncio.sleep(0)\n"
    else:
        imports = "import itertools\nfrom collections.abc import Iterator\n"
        open_audit = "def open_audit(session: Session) -> Iterator[Audit]:"
        audit_close = ""
    return _APP.substitute(
        imports=imports,
        session_ending=_CLI_SESSION_ENDING if cli else _WEB_SESSION_ENDING,
        open_audit=open_audit,
        audit_ending="" if cli else _AUDIT_ENDING,
        audit_close=audit_close,
        token=_TOKEN if token else "",
        bind_token="        self.bind_factory(Token, fetch_token).transient()\n" if token else "",
        value=value,
        name=name,
    )


def write_app(codegen_env: Path, package: str, source: str) -> ModuleType:
    """Writes ``source`` as ``<package>/services.py`` into ``codegen_env`` and imports it."""
    make_project(codegen_env, {f"{package}/__init__.py": "", f"{package}/services.py": source})
    return importlib.import_module(f"{package}.services")


def make_container(kind: str, app: ModuleType) -> Any:
    """The app's container: the runtime one, or a generated module's Container()."""
    if kind == "runtime":
        made: Any = InjectQ()
        made.install(app.AppModule())
        return made
    return build_wiring([f"{app.__name__}:AppModule"]).Container()


def app_fixtures(package: str, source: str, *, async_close: bool = False) -> tuple[Any, Any]:
    """A test module's fixtures ``app`` and ``container``: ``app, container = app_fixtures(...)``.

    ``app`` is ``source`` written as ``package`` and imported; ``container`` is, once each,
    the runtime and the generated container of it, closed after the test (with ``aclose``
    under ``async_close``, for an app with async resources).
    """

    @pytest.fixture(name="app")
    def app(codegen_env: Path) -> ModuleType:
        return write_app(codegen_env, package, source)

    if async_close:

        @pytest.fixture(name="container", params=CONTAINERS)
        async def container(request: pytest.FixtureRequest, app: ModuleType) -> Any:
            made = make_container(request.param, app)
            yield made
            await made.aclose()

    else:

        @pytest.fixture(name="container", params=CONTAINERS)
        def container(request: pytest.FixtureRequest, app: ModuleType) -> Any:
            made = make_container(request.param, app)
            yield made
            made.close()

    return app, container


def scope_events(number: int, ending: list[str]) -> list[str]:
    """What one scope logs: both resources opened, then closed newest first."""
    return [f"open session {number}", f"open audit {number}", *ending]
