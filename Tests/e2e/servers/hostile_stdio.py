"""A stdio MCP server that misbehaves on purpose (stdlib only), for the stdio fault tests.

Run: python hostile_stdio.py [--banner] [--no-answer] [--exit CODE] [--name N]

An SDK server cannot be used for this: `stdio_server()` diverts fd 1 to stderr while it serves, so a stray
print never reaches the wire (plan finding 5). This one writes exactly what each case needs.

It speaks the handshake era (`initialize`, `notifications/initialized`, `ping`, `tools/list`, `tools/call`)
and answers an enveloped 2026-07-28 request the same way (with `resultType: complete`). Tools:
  add(a, b)    a well-behaved call
  spew(n)      n lines that are not JSON on stdout, then the result ("spewed n")
  huge()       the result as one line of about 200 KiB (a valid JSON-RPC response)
  crash()      exits with status 3 mid-call: after a progress notification when the request carries a
               progressToken, without any answer
  stderr(n)    n lines on stderr ("hostile stderr line i of n pid P"), then the result ("wrote n")
Flags:
  --banner     one line that is not JSON ("hostile_stdio says hello") on stdout before serving
  --no-answer  reads every line and never writes anything
  --exit CODE  exits at once with CODE, before reading anything (a server that fails to start)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
HUGE_BYTES = 200 * 1024
TOOLS = [
    {"name": "add", "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}},
    {"name": "spew", "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    {"name": "huge", "inputSchema": {"type": "object", "properties": {}}},
    {"name": "crash", "inputSchema": {"type": "object", "properties": {}}},
    {"name": "stderr", "inputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
]


def out(line: bytes) -> None:
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.buffer.flush()


def send(msg: dict) -> None:
    out(json.dumps(msg, separators=(",", ":")).encode())


def text_result(rid, text: str, extra: dict) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": text}], "isError": False, **extra}}


def call(rid, params: dict, extra: dict) -> None:
    name = params.get("name")
    args = params.get("arguments") or {}
    if name == "add":
        total = int(args.get("a", 0)) + int(args.get("b", 0))
        send({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": str(total)}],
                                                      "structuredContent": {"result": total}, "isError": False, **extra}})
    elif name == "spew":
        n = int(args.get("n", 1))
        for i in range(n):
            out(f"garbage line {i + 1} of {n}: this is not JSON-RPC".encode())
        send(text_result(rid, f"spewed {n}", extra))
    elif name == "huge":
        send(text_result(rid, "h" * HUGE_BYTES, extra))
    elif name == "crash":
        token = (params.get("_meta") or {}).get("progressToken")
        if token is not None:
            send({"jsonrpc": "2.0", "method": "notifications/progress",
                  "params": {"progressToken": token, "progress": 1, "total": 2, "message": "about to crash"}})
        os._exit(3)
    elif name == "stderr":
        n = int(args.get("n", 1))
        for i in range(n):
            sys.stderr.write(f"hostile stderr line {i + 1} of {n} pid {os.getpid()}\n")
        sys.stderr.flush()
        send(text_result(rid, f"wrote {n}", extra))
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32602, "message": f"Unknown tool: {name}"}})


def main() -> int:
    p = argparse.ArgumentParser(allow_abbrev=False)
    p.add_argument("--banner", action="store_true")
    p.add_argument("--no-answer", action="store_true")
    p.add_argument("--exit", type=int, default=None)
    p.add_argument("--name", default="hostile-stdio")
    a = p.parse_args()
    if a.exit is not None:
        sys.stderr.write(f"hostile_stdio exits at once with {a.exit}\n")
        return a.exit
    if a.banner:
        out(b"hostile_stdio says hello")
    for raw in sys.stdin.buffer:
        if a.no_answer or not raw.strip():
            continue
        try:
            msg = json.loads(raw)
        except ValueError:
            send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            continue
        if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
            continue
        rid, method, params = msg["id"], msg["method"], msg.get("params") or {}
        meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
        extra = {"resultType": "complete"} if VERSION_KEY in meta else {}
        lists = {**extra, "cacheScope": "private", "ttlMs": 0} if extra else {}
        if method == "initialize":
            send({"jsonrpc": "2.0", "id": rid, "result": {
                "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {"tools": {}}, "serverInfo": {"name": a.name, "version": "1"}}})
        elif method == "ping":
            send({"jsonrpc": "2.0", "id": rid, "result": {}})
        elif method == "tools/list":
            send({"jsonrpc": "2.0", "id": rid, "result": {"tools": TOOLS, **lists}})
        elif method == "tools/call":
            call(rid, params, extra)
        else:
            send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found", "data": method}})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        os._exit(0)
