"""An official MCP Python SDK (mcp==2.3.0) server used as the gateway's upstream in e2e tests.

Run: python upstream.py --port P [--name N] [--json-response] [--cache-tests]
     python upstream.py --transport sse --port P [--name N]
     python upstream.py --transport stdio [--name N] [ARG ...]

Dual-era: it answers handshake-era clients (initialize + Mcp-Session-Id) and 2026-07-28
clients (self-contained POSTs) on the same /mcp endpoint, bound to 127.0.0.1.
--transport sse serves the 2024-11-05 HTTP+SSE transport instead: GET /sse (the `endpoint` event, then
`message` events) and POST /messages/?session_id=...; the SDK decides each connection's era from its
first request. --transport stdio serves one connection on stdin/stdout (newline-delimited JSON-RPC,
era decided the same way); `whoami` and `replica` report port None there, and two more tools exist:
`argv()` (the arguments after the script path, so a test sees what the gateway passed) and `env(name)`
(one environment variable, or None).
--cache-tests adds what the cache policy tests need, and nothing else sees: 2026-07-28 results of
cacheable methods carry ttlMs 60000 (SEP-2549), cacheScope public for the lists and server/discover,
private for resources/read; the resource template count://{key}, which counts its reads per key; and
the tool register_tool, which adds a tool and announces tools/list_changed.
"""

import argparse
import asyncio
import os
import sys
from typing import Annotated, Any

from pydantic import BaseModel, Field

import mcp_types as types
from mcp.server.caching import CacheHint
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve

_args: argparse.Namespace | None = None
# A 1x1 PNG (one opaque blue pixel), base64: the image the `media` tool returns.
_PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

_calls = 0  # tool calls served by this process (count() included)
_reads: dict[str, int] = {}  # reads of count://{key}, per key
_registered: list[str] = []  # tools added by register_tool()

# --cache-tests: what the 2026-07-28 results of cacheable methods say about their freshness.
CACHE_HINTS = {
    "tools/list": CacheHint(ttl_ms=60000, scope="public"),
    "prompts/list": CacheHint(ttl_ms=60000, scope="public"),
    "resources/list": CacheHint(ttl_ms=60000, scope="public"),
    "resources/templates/list": CacheHint(ttl_ms=60000, scope="public"),
    "resources/read": CacheHint(ttl_ms=60000, scope="private"),
    "server/discover": CacheHint(ttl_ms=60000, scope="public"),
}


def _bump() -> int:
    global _calls
    _calls += 1
    return _calls


class Answer(BaseModel):
    name: str = Field(description="your name")


def _ask(ctx: Context) -> Elicit[Answer]:
    return Elicit("What is your name?", Answer)


def build(name: str, port: int | None, cache_tests: bool = False, stdio: bool = False) -> MCPServer:
    mcp = MCPServer(
        name, version="1.0.0", instructions=f"e2e upstream {name}", cache_hints=CACHE_HINTS if cache_tests else None
    )

    @mcp.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        _bump()
        return a + b

    @mcp.tool()
    async def slow(steps: int, ctx: Context) -> str:
        """Count to `steps`, reporting progress and a log message at each step."""
        _bump()
        for i in range(steps):
            await ctx.report_progress(progress=i + 1, total=steps, message=f"step {i + 1}")
            await ctx.info(f"did step {i + 1}")
            await asyncio.sleep(0.15)
        return f"done {steps}"

    @mcp.tool()
    async def greet(who: Annotated[Answer, Resolve(_ask)]) -> str:
        """Dual-era elicitation: elicitation/create on the SSE stream (legacy) or input_required (2026)."""
        _bump()
        return f"hello {who.name}"

    @mcp.tool()
    async def ask_name_legacy(ctx: Context) -> str:
        """Legacy-era only: ctx.elicit needs a back channel."""
        _bump()
        r = await ctx.elicit(message="Name?", schema=Answer)
        return r.data.name if r.action == "accept" else r.action

    @mcp.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """The request headers this upstream saw that a gateway must not leak or must own."""
        _bump()
        h = {k.lower(): v for k, v in (ctx.headers or {}).items()}
        return {
            "authorization": h.get("authorization"),
            "mcp_session_id": h.get("mcp-session-id"),
            "mcp_protocol_version": h.get("mcp-protocol-version"),
            "origin": h.get("origin"),
            "server": name,
        }

    @mcp.tool()
    def replica() -> dict[str, Any]:
        """Which process answered (name, port, pid)."""
        _bump()
        return {"name": name, "port": port, "pid": os.getpid()}

    @mcp.tool()
    def count() -> int:
        """How many tool calls this process has served (this one included)."""
        return _bump()

    @mcp.tool()
    def weather(
        region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})],
        city: str,
    ) -> str:
        """2026 Mcp-Param-Region header test."""
        _bump()
        return f"sunny in {city} ({region})"

    @mcp.tool()
    def media() -> list[types.ContentBlock]:
        """One of each non-text content kind: an image, a resource link and an embedded resource."""
        _bump()
        return [
            types.TextContent(type="text", text="media follows"),
            types.ImageContent(type="image", data=_PIXEL_PNG, mime_type="image/png"),
            types.ResourceLink(type="resource_link", uri="test://static-text", name="static_text", mime_type="text/plain"),
            types.EmbeddedResource(
                type="resource", resource=types.TextResourceContents(uri="test://embedded", mime_type="text/plain", text="embedded text")
            ),
        ]

    @mcp.resource("test://static-text")
    def static_text() -> str:
        """A static text resource."""
        return "static text"

    @mcp.resource("greeting://{name}")
    def greeting(name: str) -> str:
        """A templated resource."""
        return f"Hello, {name}!"

    @mcp.prompt()
    def review(code: str) -> str:
        """Ask for a code review."""
        return f"Please review:\n{code}"

    if cache_tests:
        add_cache_test_fixtures(mcp)
    if stdio:
        add_stdio_tools(mcp)
    return mcp


def add_stdio_tools(mcp: MCPServer) -> None:
    """argv() and env(name): what the process was started with (--transport stdio only)."""

    @mcp.tool()
    def argv() -> list[str]:
        """The command-line arguments after the script path, exactly as received."""
        _bump()
        return sys.argv[1:]

    @mcp.tool()
    def env(name: str) -> str | None:
        """The value of one environment variable of this process, or None when it is not set."""
        _bump()
        return os.environ.get(name)


def add_cache_test_fixtures(mcp: MCPServer) -> None:
    """count://{key} and register_tool (--cache-tests)."""

    @mcp.resource("count://{key}")
    def count_reads(key: str) -> str:
        """Counts its reads per key (a cache in front of this server shows as a count that stays put)."""
        _reads[key] = _reads.get(key, 0) + 1
        return f"{key} read {_reads[key]} times"

    @mcp.tool()
    async def register_tool(tool_name: str, ctx: Context, notify: bool = True) -> list[str]:
        """Adds a tool named `tool_name` (it answers its own name) and, when `notify`, announces
        notifications/tools/list_changed: on this request's SSE stream in the handshake era, to
        subscriptions/listen streams at 2026-07-28. Returns every tool added so far."""
        _bump()

        def added() -> str:
            return tool_name

        mcp.add_tool(added, name=tool_name, description=f"added at run time: {tool_name}")
        _registered.append(tool_name)
        if notify:
            if ctx.protocol_version in (None, "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"):
                await ctx.session.send_notification(types.ToolListChangedNotification(), related_request_id=ctx.request_id)
            else:
                await ctx.notify_tools_changed()
        return list(_registered)


def main() -> None:
    p = argparse.ArgumentParser(allow_abbrev=False)
    p.add_argument("--transport", choices=("streamable-http", "sse", "stdio"), default="streamable-http")
    p.add_argument("--port", type=int, help="required for streamable-http and sse")
    p.add_argument("--name", default="upstream")
    p.add_argument("--json-response", action="store_true", help="answer requests as application/json, not SSE")
    p.add_argument(
        "--cache-tests", action="store_true", help="cache hints, count://{key} and register_tool for the cache tests"
    )
    # stdio: anything else on the command line is only there for argv() to report.
    args, rest = p.parse_known_args()
    if args.transport != "stdio" and (rest or args.port is None):
        p.error("--port is required and extra arguments are refused unless --transport stdio")
    stdio = args.transport == "stdio"
    mcp = build(args.name, None if stdio else args.port, cache_tests=args.cache_tests, stdio=stdio)
    if stdio:
        mcp.run("stdio")
    elif args.transport == "sse":
        import uvicorn

        # GET /sse and POST /messages/; DNS-rebinding protection on, as the SDK sets it for 127.0.0.1.
        uvicorn.run(mcp.sse_app(host="127.0.0.1"), host="127.0.0.1", port=args.port, log_level="warning")
    else:
        mcp.run(
            transport="streamable-http",
            host="127.0.0.1",
            port=args.port,
            json_response=args.json_response,
        )


if __name__ == "__main__":
    main()
