"""The test application the integrations' tests serve, both containers of it, and the
checks, programs and servers those tests share.

``app_source`` is its ``services.py``: a singleton, two request-scoped generator resources
that log to ``EVENTS`` when they open, how their block ended and when they close (so the
order of finalization can be read off), a transient using both, and one named ``str``.
The tests of each framework differ only in the few places ``app_source`` takes.
``write_app`` writes it as a package into ``tmp_path`` (``codegen_env``) and imports it;
``make_container`` gives the runtime ``InjectQ`` or the ``Container()`` that injectq-gen
generates from the same Module; ``app_fixtures`` makes a test module's two fixtures of them.
``job_scope`` is the container of the tests of ``scope_name=``: one scope ``job``.

``check_import_needs`` checks, in a fresh interpreter, that importing injectq imports no
framework and that without its framework an integration's ImportError names the extra.
``docs_section`` is a ``## heading`` section's blocks of docs/integrations.md,
``example_blocks`` its one script and its output block, ``check_script_prints`` runs a
script and compares what it prints; ``run_docs_example`` does all three for a section.
``wsgi_fixture`` makes a test module's fixture ``serve``, which serves WSGI apps on
werkzeug servers in threads; ``fetch`` asks them over HTTP; ``free_port`` finds a port for
a server of one's own. ``write_cli_project`` writes the app's command line program with its
generated wiring, and ``run_cli`` runs it with either container.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from string import Template
from types import ModuleType
from typing import Any

import pytest

from injectq import InjectQ
from injectq_codegen.build import generate
from tests.codegen_support import REPO, build_wiring, make_project
from tests.test_docs import Block, blocks

__all__ = [
    "CONTAINERS",
    "app_fixtures",
    "app_source",
    "make_container",
    "scope_events",
    "write_app",
    "job_scope",
    "check_import_needs",
    "docs_section",
    "example_blocks",
    "check_script_prints",
    "run_docs_example",
    "wsgi_fixture",
    "fetch",
    "free_port",
    "write_cli_project",
    "run_cli",
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


def job_scope(*, async_open: bool = False) -> tuple[InjectQ, Any, list[str]]:
    """``container, Job, log = job_scope()``: a container with the scope ``job`` (under
    singleton) and a class ``Job`` bound in it, made by a generator (an async one with
    ``async_open``) that logs ``open job`` and ``close job`` to ``log``."""
    log: list[str] = []

    class Job:
        pass

    def open_job() -> Iterator[Job]:
        log.append("open job")
        yield Job()
        log.append("close job")

    async def aopen_job() -> AsyncIterator[Job]:
        log.append("open job")
        yield Job()
        log.append("close job")

    container = InjectQ()
    container.declare_scope("job", parent="singleton")
    container.bind_factory(Job, aopen_job if async_open else open_job, scope="job")
    return container, Job, log


def _python(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` in a subprocess (within 60 s) that imports injectq from this checkout
    (``env``, when given, is the whole environment)."""
    if env is None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


# -- the optional framework ---------------------------------------------------------------


def check_import_needs(
    framework: str,
    integration: str,
    extra: str | None = None,
    *,
    also_absent: tuple[str, ...] = (),
    load: str | None = None,
    missing: str | None = None,
) -> None:
    """In a fresh interpreter: importing injectq, injectq.integrations and injectq.testing
    imports neither the module ``framework`` nor any of ``also_absent``; loading
    ``injectq.integrations.<integration>`` (``load``: the statement that does, by default its
    import) imports ``framework``.

    With ``extra``, then: the modules of ``framework`` and of the integrations forgotten and
    ``missing`` (by default ``framework``) made unimportable, importing the integration is
    an ImportError that says ``pip install 'injectq[<extra>]'``.
    """
    module = f"injectq.integrations.{integration}"
    lines = [
        "import sys, injectq, injectq.integrations, injectq.testing",
        f"for name in {(framework, *also_absent)!r}:",
        "    assert name not in sys.modules, f'{name} imported'",
        load or f"import {module}",
        f"assert {framework!r} in sys.modules",
    ]
    if extra is not None:
        lines += [
            f"for name in [n for n in sys.modules if n.startswith(({framework!r}, "
            "'injectq.integrations.'))]:",
            "    del sys.modules[name]",
            f"sys.modules[{(missing or framework)!r}] = None",
            "try:",
            f"    import {module}",
            "except ImportError as exc:",
            "    print(exc)",
        ]
    proc = _python(["-c", "\n".join(lines) + "\n"])
    assert proc.returncode == 0, proc.stderr
    if extra is not None:
        assert f"pip install 'injectq[{extra}]'" in proc.stdout


# -- docs/integrations.md -----------------------------------------------------------------


def docs_section(heading: str) -> list[Block]:
    """The blocks (those with a body) of docs/integrations.md's section ``## <heading>``,
    which ends at the next ``## `` heading."""
    text = (REPO / "docs" / "integrations.md").read_text(encoding="utf-8").splitlines()
    headings = [(i, t) for i, t in enumerate(text) if t.startswith("## ")]
    start = next(i for i, t in headings if t == f"## {heading}")
    end = next((i for i, _ in headings if i > start), len(text))
    return [b for b in blocks("integrations.md") if b.body and start <= b.line < end]


def example_blocks(section: list[Block]) -> tuple[Block, Block]:
    """The section's python block that is run (no mark) and its output block, asserting it
    has one of each."""
    code = [b for b in section if b.lang == "python" and b.mark is None]
    shown = [b for b in section if b.mark == "output"]
    assert len(code) == 1 and len(shown) == 1
    return code[0], shown[0]


def check_script_prints(
    code: Block, shown: Block, folder: Path, *, name: str = "example.py",
    env: dict[str, str] | None = None,
) -> None:
    """``code`` written to ``folder/name`` and run there (``env``: its whole environment,
    by default this one with PYTHONPATH the checkout) exits 0 having printed ``shown``."""
    script = folder / name
    script.write_text(code.body, encoding="utf-8")
    proc = _python([str(script)], cwd=folder, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown.body


def run_docs_example(heading: str, tmp_path: Path) -> None:
    """The one python block of docs/integrations.md's ``## <heading>`` section, run as a
    script in ``tmp_path``, prints the section's output block."""
    code, shown = example_blocks(docs_section(heading))
    check_script_prints(code, shown, tmp_path)


# -- real servers -------------------------------------------------------------------------


def wsgi_fixture() -> Any:
    """A test module's fixture ``serve``: ``serve = wsgi_fixture()``.

    ``serve(wsgi_app)`` runs the app on a werkzeug WSGI server in a thread on a free port
    and returns its base URL; the servers stop after the test.
    """

    @pytest.fixture(name="serve")
    def serve() -> Iterator[Callable[[Any], str]]:
        from werkzeug.serving import make_server

        running: list[tuple[Any, threading.Thread]] = []

        def start(wsgi_app: Any) -> str:
            server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
            thread = threading.Thread(target=server.serve_forever,
                                      kwargs={"poll_interval": 0.05}, daemon=True)
            thread.start()
            running.append((server, thread))
            return f"http://127.0.0.1:{server.server_port}"

        yield start
        for server, thread in running:
            server.shutdown()
            thread.join(5)
            server.server_close()
            assert not thread.is_alive()

    return serve


def fetch(url: str, method: str = "GET") -> tuple[int, str]:
    """(status, body) of a real HTTP request, with a bounded wait."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method),
                                    timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a command line program ---------------------------------------------------------------


def write_cli_project(codegen_env: Path, services: str, cli: str) -> Path:
    """The package ``cliapp`` in ``codegen_env`` (returned): the app ``services``, its program
    ``cli`` (``python -m cliapp.cli``) and the generated ``cliapp/_wiring.py``."""
    make_project(codegen_env, {"cliapp/__init__.py": "", "cliapp/services.py": services,
                               "cliapp/cli.py": cli})
    source, _ = generate(["cliapp.services:AppModule"], [])
    (codegen_env / "cliapp" / "_wiring.py").write_text(source, encoding="utf-8")
    return codegen_env


def run_cli(project: Path, which: str, *args: str, env: Mapping[str, str | None] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``python -m cliapp.cli ARGS`` in ``project``, its container ``which`` (``runtime`` or
    ``generated``, as CLIAPP_CONTAINER); ``env`` sets more variables (None: unsets one)."""
    run_env: dict[str, str | None] = {
        **os.environ, "PYTHONPATH": os.pathsep.join([str(project), str(REPO)]),
        "CLIAPP_CONTAINER": which, **(env or {})}
    return _python(["-m", "cliapp.cli", *args], cwd=project,
                   env={k: v for k, v in run_env.items() if v is not None})
