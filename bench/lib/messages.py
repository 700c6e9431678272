"""The MCP messages the benchmarks send and the fixed answers the static upstream returns.

Both eras, as the official SDK puts them on the wire (shared/reference/mcp-2026.md §5c, §5d). Every
request of the static runs carries JSON-RPC id 1, so that nginx can answer it with a fixed body: the
gateway does not check the id of a JSON answer, and checks it on SSE answers, which therefore carry
id 1 too. Runs against the Python SDK server number their requests (`__ID__` is replaced per request).
"""

from __future__ import annotations

import json

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"
UPSTREAM_SESSION = "bench-static-upstream-session"


def _j(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "mcpgate-bench", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}

# ---- requests (bodies with an __ID__ placeholder) -------------------------------------------------

INITIALIZE = _j({
    "jsonrpc": "2.0", "id": "__ID__", "method": "initialize",
    "params": {"protocolVersion": HANDSHAKE, "capabilities": {},
               "clientInfo": {"name": "mcpgate-bench", "version": "1"}},
}).replace('"__ID__"', "__ID__")
INITIALIZED = _j({"jsonrpc": "2.0", "method": "notifications/initialized"})
TOOLS_LIST = _j({"jsonrpc": "2.0", "id": "__ID__", "method": "tools/list"}).replace('"__ID__"', "__ID__")
TOOLS_CALL = _j({
    "jsonrpc": "2.0", "id": "__ID__", "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 2, "b": 3}},
}).replace('"__ID__"', "__ID__")
# The SSE-streamed call asks for progress (the static upstream streams three progress events, then the result).
TOOLS_CALL_PROGRESS = _j({
    "jsonrpc": "2.0", "id": "__ID__", "method": "tools/call",
    "params": {"name": "slow", "arguments": {"steps": 3}, "_meta": {"progressToken": 1}},
}).replace('"__ID__"', "__ID__")
MODERN_TOOLS_CALL = _j({
    "jsonrpc": "2.0", "id": "__ID__", "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 2, "b": 3}, "_meta": MODERN_META},
}).replace('"__ID__"', "__ID__")
MODERN_TOOLS_LIST = _j({
    "jsonrpc": "2.0", "id": "__ID__", "method": "tools/list", "params": {"_meta": MODERN_META},
}).replace('"__ID__"', "__ID__")

ACCEPT = "application/json, text/event-stream"


def handshake_headers(session_id: str | None) -> dict[str, str]:
    h = {"Accept": ACCEPT, "Content-Type": "application/json"}
    if session_id:
        h["Mcp-Session-Id"] = session_id
        h["MCP-Protocol-Version"] = HANDSHAKE
    return h


def modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    h = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": MODERN, "Mcp-Method": method}
    if name:
        h["Mcp-Name"] = name
    return h


def with_id(body: str, rid: int = 1) -> str:
    return body.replace("__ID__", str(rid))


# ---- the static upstream's answers (id 1) ---------------------------------------------------------

SERVER_META = {"io.modelcontextprotocol/serverInfo": {"name": "bench-static", "version": "1.0.0"}}
ADD_TOOL = {
    "name": "add", "description": "Add two integers",
    "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"]},
}
CALL_RESULT = {"content": [{"type": "text", "text": "5"}], "isError": False, "structuredContent": {"result": 5}}


def response(result: dict, rid: object = 1) -> str:
    return _j({"jsonrpc": "2.0", "id": rid, "result": result})


INIT_RESULT = {
    "protocolVersion": HANDSHAKE,
    "capabilities": {"tools": {"listChanged": False}},
    "serverInfo": {"name": "bench-static", "version": "1.0.0"},
}
R_INITIALIZE = response(INIT_RESULT)
R_TOOLS_LIST = response({"tools": [ADD_TOOL]})
R_TOOLS_CALL = response(CALL_RESULT)
R_MODERN_TOOLS_LIST = response({"tools": [ADD_TOOL], "ttlMs": 60000, "cacheScope": "public", "resultType": "complete",
                                "_meta": SERVER_META})
R_MODERN_TOOLS_CALL = response(dict(CALL_RESULT, resultType="complete", _meta=SERVER_META))


def sse_event(data: str) -> str:
    return f"event: message\ndata: {data}\n\n"


def progress_stream(modern: bool) -> str:
    """Three progress notifications, then the call's result, as one SSE body."""
    out = []
    for i in (1, 2, 3):
        out.append(sse_event(_j({"jsonrpc": "2.0", "method": "notifications/progress",
                                 "params": {"progressToken": 1, "progress": i, "total": 3, "message": f"step {i}/3"}})))
    result = dict(CALL_RESULT, content=[{"type": "text", "text": "done in 3 steps"}],
                  structuredContent={"result": "done in 3 steps"})
    if modern:
        result.update(resultType="complete", _meta=SERVER_META)
    out.append(sse_event(response(result)))
    return "".join(out)
