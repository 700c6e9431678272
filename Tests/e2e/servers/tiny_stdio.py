"""A tiny stdio MCP server (stdlib only, starts in tens of milliseconds) for the stdio leak test.

Run: python tiny_stdio.py [--name N]

It reads newline-delimited JSON-RPC on stdin and writes one JSON line per answer on stdout. Like the SDK
(`serve_dual_era_loop`), the first request decides the connection's era, once:
- handshake era: `initialize` (answers the client's version when it is one it knows, else 2025-11-25),
  `notifications/initialized`, `ping`, `tools/list` and `tools/call add(a, b)`; an enveloped request
  afterwards gets -32600;
- 2026-07-28: a first request whose `params._meta` carries `io.modelcontextprotocol/protocolVersion`. Then
  `server/discover`, `tools/list` and `tools/call add` are answered with `resultType: complete` (and the
  lists with `cacheScope: private, ttlMs: 0`, which the SDK client requires), `ping` is
  -32601 (as the SDK answers it), and `initialize` gets -32022.
Unknown methods get -32601, unknown tools -32602, unparseable lines -32700 with id null. It exits 0 on EOF.
"""

from __future__ import annotations

import json
import os
import sys

HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"

ADD_TOOL = {
    "name": "add",
    "description": "Add two numbers.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
    "outputSchema": {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]},
}


def write(msg: dict) -> None:
    sys.stdout.buffer.write(json.dumps(msg, separators=(",", ":")).encode() + b"\n")
    sys.stdout.buffer.flush()


def error(rid, code: int, message: str, data=None) -> dict:
    err = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": rid, "error": err}


def enveloped(params) -> bool:
    return isinstance(params, dict) and isinstance(params.get("_meta"), dict) and VERSION_KEY in params["_meta"]


def main() -> int:
    name = sys.argv[sys.argv.index("--name") + 1] if "--name" in sys.argv[:-1] else "tiny"
    era = None  # "handshake" or "modern", decided by the first request
    for raw in sys.stdin.buffer:
        if not raw.strip():
            continue
        try:
            msg = json.loads(raw)
        except ValueError:
            write(error(None, -32700, "Parse error"))
            continue
        if not isinstance(msg, dict) or "method" not in msg:
            continue  # a response or something else: nothing to answer
        method, params, rid = msg["method"], msg.get("params"), msg.get("id")
        if "id" not in msg:
            continue  # notifications/initialized, notifications/cancelled, ...
        if era is None:
            era = "modern" if method != "initialize" and enveloped(params) else "handshake"
        modern = era == "modern"
        done = {"resultType": "complete"} if modern else {}
        cacheable = {**done, "cacheScope": "private", "ttlMs": 0} if modern else {}  # as the SDK marks them
        if method == "initialize":
            if modern:
                write(error(rid, -32022, "connection is serving the 2026-07-28 protocol; the initialize handshake is not accepted",
                            {"supported": list(MODERN_VERSIONS)}))
                continue
            asked = (params or {}).get("protocolVersion")
            write({"jsonrpc": "2.0", "id": rid, "result": {
                "protocolVersion": asked if asked in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1],
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": name, "version": "1.0.0"},
            }})
        elif not modern and enveloped(params):
            write(error(rid, -32600, "this connection serves the handshake protocol era; "
                                     "requests carrying the 2026-07-28 envelope are not accepted on it"))
        elif method == "ping" and not modern:
            write({"jsonrpc": "2.0", "id": rid, "result": {}})
        elif method == "server/discover" and modern:
            write({"jsonrpc": "2.0", "id": rid, "result": {
                "supportedVersions": list(MODERN_VERSIONS), "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": name, "version": "1.0.0"}, **cacheable}})
        elif method == "tools/list":
            write({"jsonrpc": "2.0", "id": rid, "result": {"tools": [ADD_TOOL], **cacheable}})
        elif method == "tools/call":
            p = params or {}
            args = p.get("arguments") or {}
            if p.get("name") != "add":
                write(error(rid, -32602, f"Unknown tool: {p.get('name')}"))
                continue
            try:
                total = int(args["a"]) + int(args["b"])
            except (KeyError, TypeError, ValueError):
                write(error(rid, -32602, "add takes integers a and b"))
                continue
            write({"jsonrpc": "2.0", "id": rid, "result": {
                "content": [{"type": "text", "text": str(total)}], "structuredContent": {"result": total},
                "isError": False, **done}})
        else:
            write(error(rid, -32601, "Method not found", method))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BrokenPipeError, KeyboardInterrupt):
        os._exit(0)
