"""injectq.integrations.fastmcp: a scope per tool call, resource read and prompt render.

Calls go through the real FastMCP stack with its in-process client (``fastmcp.Client(mcp)``).
Both containers serve the same app (tests/integration_support.py): the runtime one, and
the one injectq-gen generates from the same Module. Its two request-scoped resources log
when they open, how their block ended (the exception they saw) and when they close, so
the order of finalization can be read off.
"""

# no `from __future__ import annotations`: FastMCP reads the handlers' annotations, and
# these handlers are local functions using the app's classes, taken from a fixture

import asyncio
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest
from fastmcp import Client, FastMCP
from fastmcp.exceptions import ToolError

from injectq import BindingError, InjectionError, InjectQ, ScopeError, inject
from injectq.integrations.fastmcp import (
    InjectMCP,
    InjectQMCPMiddleware,
    get_container_mcp,
    setup_mcp,
)
from tests.integration_support import (
    app_fixtures,
    app_source,
    check_import_needs,
    job_scope,
    run_docs_example,
    scope_events,
)

app, container = app_fixtures("mcpapp", app_source("mcp", token=True))


def greeter_server(container: Any, app: ModuleType) -> FastMCP:
    """A server whose tools take the app's services through InjectMCP."""
    Greeter, Audit, Session, Token = app.Greeter, app.Audit, app.Session, app.Token
    mcp = FastMCP("Greeter")
    setup_mcp(container, mcp)

    @inject
    def session_number(session: Session) -> int:  # resolved from the call's scope
        return session.number

    @mcp.tool
    async def greet(
        who: str,
        greeter: Greeter = InjectMCP(Greeter),
        audit: Annotated[Audit, InjectMCP(Audit)] = None,
    ) -> dict[str, Any]:
        return {
            "text": greeter.greet(who),
            "one_session": greeter.session is audit.session,
            "inject_sees_it": session_number() == greeter.session.number,
            "current": get_container_mcp() is container,
        }

    @mcp.tool
    def greet_sync(who: str, greeter: Greeter = InjectMCP(Greeter)) -> dict[str, Any]:
        # a sync tool: FastMCP runs it in its thread pool, in the call's context
        return {"text": greeter.greet(who), "inject_sees_it":
                session_number() == greeter.session.number}

    @mcp.tool
    async def pay(amount: int, audit: Audit = InjectMCP(Audit)) -> str:
        raise ValueError(f"card declined for {amount}")

    @mcp.tool
    async def token(
        token: Token = InjectMCP(Token), server: str = InjectMCP(str, name="server_name")
    ) -> str:
        return f"{server}:{token.value}"

    return mcp


async def test_each_call_gets_its_own_scope_finalized_after_it(
    container: Any, app: ModuleType
) -> None:
    """Every tool call gets fresh scoped instances, shared by its InjectMCP parameters and
    by @inject functions it calls; when the client has the result, they are finalized,
    newest first."""
    mcp = greeter_server(container, app)
    async with Client(mcp) as client:
        first = (await client.call_tool("greet", {"who": "Ada"})).data
        assert first == {"text": "hello Ada (session 1)", "one_session": True,
                         "inject_sees_it": True, "current": True}
        assert app.EVENTS == scope_events(1, [
            "close audit 1", "session 1 committed", "close session 1"])
        app.EVENTS.clear()
        second = (await client.call_tool("greet", {"who": "Grace"})).data
        assert second["text"] == "hello Grace (session 2)"
        assert app.EVENTS == scope_events(2, [
            "close audit 2", "session 2 committed", "close session 2"])


async def test_a_sync_tool_runs_in_its_calls_scope(container: Any, app: ModuleType) -> None:
    """A sync tool (run in FastMCP's thread pool) sees its call's scope, @inject too."""
    mcp = greeter_server(container, app)
    async with Client(mcp) as client:
        result = (await client.call_tool("greet_sync", {"who": "Ada"})).data
    assert result == {"text": "hello Ada (session 1)", "inject_sees_it": True}
    assert app.EVENTS == ["open session 1", "session 1 committed", "close session 1"]


async def test_a_tool_that_raises_still_closes_its_scope(
    container: Any, app: ModuleType
) -> None:
    """A tool's exception reaches the scope's resources at their yield (as in a with
    block: the session rolls back), every one is closed, and the client gets the error;
    the next call gets a fresh scope."""
    mcp = greeter_server(container, app)
    async with Client(mcp) as client:
        with pytest.raises(ToolError, match="card declined for 5"):
            await client.call_tool("pay", {"amount": 5})
        assert app.EVENTS == scope_events(1, [
            "audit 1 saw ValueError", "close audit 1",
            "session 1 rolled back: card declined for 5", "close session 1"])
        app.EVENTS.clear()
        assert (await client.call_tool("greet", {"who": "Ada"})).data["text"] == (
            "hello Ada (session 2)")


async def test_async_and_named_bindings(container: Any, app: ModuleType) -> None:
    """InjectMCP awaits an async binding, and name= picks a named one."""
    mcp = greeter_server(container, app)
    async with Client(mcp) as client:
        assert (await client.call_tool("token", {})).data == "mcp:t0k"


async def test_injected_parameters_are_not_in_the_schema(
    container: Any, app: ModuleType
) -> None:
    """Clients see only a tool's own arguments, whichever form the marker takes."""
    mcp = greeter_server(container, app)
    async with Client(mcp) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(input_schema(tools["greet"])["properties"]) == {"who"}
    assert set(input_schema(tools["pay"])["properties"]) == {"amount"}
    assert input_schema(tools["token"]).get("properties", {}) == {}


def input_schema(tool: Any) -> dict[str, Any]:
    """A listed tool's input schema (``inputSchema`` before MCP SDK 2 renamed it)."""
    renamed = "input_schema" in type(tool).model_fields
    return getattr(tool, "input_schema" if renamed else "inputSchema")


async def test_concurrent_calls_do_not_share_a_scope(container: Any, app: ModuleType) -> None:
    """Two calls running at the same time each have their own scoped instances."""
    Session = app.Session
    mcp = FastMCP("Concurrent")
    setup_mcp(container, mcp)
    both_running = asyncio.Barrier(2)

    @mcp.tool
    async def hold(session: Session = InjectMCP(Session)) -> int:
        await asyncio.wait_for(both_running.wait(), 5)
        return session.number

    async with Client(mcp) as client:
        results = await asyncio.gather(client.call_tool("hold", {}),
                                       client.call_tool("hold", {}))
    assert sorted(r.data for r in results) == [1, 2]
    assert sorted(e for e in app.EVENTS if e.startswith("close")) == [
        "close session 1", "close session 2"]


async def test_resources_and_prompts_get_a_scope_per_read(
    container: Any, app: ModuleType
) -> None:
    """A resource read and a prompt render each run in a scope of their own."""
    Greeter = app.Greeter
    mcp = FastMCP("Docs")
    setup_mcp(container, mcp)

    @mcp.resource("data://greeting")
    def greeting(greeter: Greeter = InjectMCP(Greeter)) -> str:
        return greeter.greet("reader")

    @mcp.prompt
    def welcome(who: str, greeter: Greeter = InjectMCP(Greeter)) -> str:
        return f"Say: {greeter.greet(who)}"

    async with Client(mcp) as client:
        read = await client.read_resource("data://greeting")
        prompt = await client.get_prompt("welcome", {"who": "Ada"})
    assert read[0].text == "hello reader (session 1)"
    assert prompt.messages[0].content.text == "Say: hello Ada (session 2)"
    assert [e for e in app.EVENTS if e.startswith("close")] == [
        "close session 1", "close session 2"]


async def test_a_mounted_server_uses_its_parents_container(
    container: Any, app: ModuleType
) -> None:
    """The tools of a server mounted in one that setup_mcp was called on resolve from the
    parent's container, in a scope per call."""
    Greeter = app.Greeter
    parent, child = FastMCP("Parent"), FastMCP("Child")
    setup_mcp(container, parent)

    @child.tool
    def hello(who: str, greeter: Greeter = InjectMCP(Greeter)) -> str:
        return greeter.greet(who)

    parent.mount(child, "kids")
    async with Client(parent) as client:
        assert (await client.call_tool("kids_hello", {"who": "Ada"})).data == (
            "hello Ada (session 1)")
    assert app.EVENTS[-1] == "close session 1"


async def test_the_middleware_alone_serves_the_server(app: ModuleType) -> None:
    """InjectQMCPMiddleware(container=...) given to FastMCP instead of calling setup_mcp
    serves the server's calls as well (0.5.0's alternative setup)."""
    container = InjectQ()
    container.install(app.AppModule())
    Greeter = app.Greeter
    mcp = FastMCP("Middleware", middleware=[InjectQMCPMiddleware(container=container)])

    @mcp.tool
    def hello(who: str, greeter: Greeter = InjectMCP(Greeter)) -> str:
        return greeter.greet(who)

    async with Client(mcp) as client:
        assert (await client.call_tool("hello", {"who": "Ada"})).data == (
            "hello Ada (session 1)")
    assert app.EVENTS[-1] == "close session 1"


async def test_a_server_without_setup_says_what_to_call(app: ModuleType) -> None:
    """On a server setup_mcp never saw, a tool using InjectMCP fails, and the error a
    handler gets names the server and the call to add."""
    Greeter = app.Greeter
    mcp = FastMCP("Forgotten")

    @mcp.tool
    def hello(greeter: Greeter = InjectMCP(Greeter)) -> str:
        return "never"

    @mcp.tool
    def which() -> str:
        try:
            get_container_mcp()
        except InjectionError as exc:
            return str(exc)
        return "served"

    async with Client(mcp) as client:
        with pytest.raises(ToolError, match="hello"):
            await client.call_tool("hello", {})
        assert (await client.call_tool("which", {})).data == (
            "no InjectQ container serves the FastMCP server 'Forgotten': call "
            "setup_mcp(container, mcp) on it (or on a server it is mounted in) before it "
            "handles requests"
        )


def test_outside_a_call_get_container_mcp_says_so() -> None:
    """get_container_mcp() outside any FastMCP call is an InjectionError saying where it
    works."""
    with pytest.raises(InjectionError, match="no FastMCP call is under way"):
        get_container_mcp()


async def test_setup_opens_the_scope_it_is_told() -> None:
    """setup_mcp(..., scope_name=) opens that scope for each call instead of request."""
    container, Job, log = job_scope()
    mcp = FastMCP("Jobs")
    setup_mcp(container, mcp, scope_name="job")

    @mcp.tool
    def run(job: Job = InjectMCP(Job)) -> bool:
        return container.current_scope("job") is not None

    async with Client(mcp) as client:
        assert (await client.call_tool("run", {})).data is True
        assert (await client.call_tool("run", {})).data is True
    assert log == ["open job", "close job", "open job", "close job"]


def test_setup_refuses_an_unknown_scope_name(container: Any) -> None:
    """An unknown scope name fails at setup, not at the first call."""
    with pytest.raises(ScopeError, match="nightly"):
        setup_mcp(container, FastMCP("S"), scope_name="nightly")


def test_a_marker_with_an_unhashable_key_fails_where_it_is_written() -> None:
    """InjectMCP() checks its key when the handler is defined, naming that line."""
    with pytest.raises(BindingError, match=r"^InjectMCP\(\) at tests/test_fastmcp\.py:\d+: "
                       r"the key \['not'\] is a list, which is not hashable"):
        InjectMCP(["not"])


def test_importing_injectq_does_not_import_fastmcp() -> None:
    """FastMCP loads only with injectq.integrations.fastmcp itself."""
    check_import_needs("fastmcp", "fastmcp", "fastmcp")


# -- the docs example ------------------------------------------------------------------


def test_docs_example_runs(tmp_path: Path) -> None:
    """The FastMCP section of docs/integrations.md runs as written and prints what it
    shows."""
    run_docs_example("FastMCP", tmp_path)
