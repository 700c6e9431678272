"""A hostile MCP upstream for the attack suite (Tests/e2e/test_attack_upstream.py): raw asyncio HTTP/1.1.

usage: hostile_mcp.py --port P

It answers `initialize` (JSON, `Mcp-Session-Id: hostile-upstream-session`), notifications (202), GET (405) and
DELETE (200) like a plain MCP server, and records every request it gets (`GET /_received` lists method, path,
lowercased headers and the first 4 KiB of the body). A `tools/call` misbehaves as its tool name says:

  ok              a small JSON result ("ok")
  headers         a JSON result whose structuredContent is the request headers it received
  big_json        a JSON answer of `bytes` bytes with Content-Length
  big_json_close  the same without a length, ended by closing the connection
  endless_sse     200 text/event-stream, then one `data:` line that never ends: 8 KiB chunks for `seconds`
                  (at most 10) or until the reader goes away
  wrong_id        a JSON answer whose id is "zzz", not the request's
  null_id_error   HTTP 400 with a JSON-RPC parse error whose id is null (what SDK servers send)
  text_4xx        HTTP 400 text/plain with internal details (a traceback, a password, an address)
  redirect        `status` (default 307) with `Location: <location>`, but only on /mcp: any other path
                  answers like `ok`, so a redirect to this server's /elsewhere lands
  sleep           answers `ok` after `seconds` (at most 10)

A GET on a path containing `sse-get` opens a standing SSE stream (200 text/event-stream) that stays silent,
or, when the path also contains `keepalive`, sends a `: keep-alive` comment every 0.3 s; either way it ends
after 4 s, or as soon as the reader goes away.

Only listens on 127.0.0.1. Bounded: no answer takes more than 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

SESSION = "hostile-upstream-session"
RECEIVED: list[dict[str, Any]] = []
SECRET_TEXT = (
    'Traceback (most recent call last):\n  File "/srv/app/db.py", line 12, in connect\n'
    "ConnectionError: DB_PASSWORD=hunter2 at 10.1.2.3:5432\n"
)


def response(status: str, body: bytes, ctype: str = "application/json", extra: str = "", length: bool = True) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{extra}"
    head += f"Content-Length: {len(body)}\r\n" if length else "Connection: close\r\n"
    return (head + "\r\n").encode() + body


def result(msg_id: Any, text: str, structured: Any = None) -> bytes:
    res: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
    if structured is not None:
        res["structuredContent"] = structured
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "result": res}).encode()


async def read_request(r: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes] | None:
    try:
        head = await r.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path = lines[0].split(" ")[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    body = b""
    if "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await r.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    elif headers.get("content-length"):
        body = await r.readexactly(int(headers["content-length"]))
    return method, path, headers, body


async def tool_call(w: asyncio.StreamWriter, path: str, headers: dict[str, str], msg: dict[str, Any]) -> bool:
    """Answers one tools/call; returns False when the connection must close afterwards."""
    params = msg.get("params") or {}
    name, args, mid = params.get("name"), params.get("arguments") or {}, msg.get("id")
    if name == "redirect" and path == "/mcp":
        status = int(args.get("status", 307))
        w.write(response(f"{status} Redirect", b"", "text/plain", f"Location: {args['location']}\r\n"))
    elif name == "headers":
        w.write(response("200 OK", result(mid, "headers", headers)))
    elif name in ("big_json", "big_json_close"):
        n = int(args.get("bytes", 2 << 20))
        prefix = b'{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"' % json.dumps(mid).encode()
        suffix = b'"}]}}'
        filler = n - len(prefix) - len(suffix)
        close = name == "big_json_close"
        if close:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        else:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % n)
        w.write(prefix)
        while filler > 0:
            step = min(filler, 1 << 16)
            w.write(b"a" * step)
            filler -= step
            await w.drain()
        w.write(suffix)
        await w.drain()
        return not close
    elif name == "endless_sse":
        w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\n")
        chunk = b"2000\r\n" + b"a" * 0x2000 + b"\r\n"
        end = time.monotonic() + min(float(args.get("seconds", 5)), 10.0)
        while time.monotonic() < end:
            w.write(chunk)
            await asyncio.wait_for(w.drain(), max(0.01, end - time.monotonic()))
        return False
    elif name == "sleep":
        await asyncio.sleep(min(float(args.get("seconds", 1)), 10.0))
        w.write(response("200 OK", result(mid, "slept")))
    elif name == "wrong_id":
        w.write(response("200 OK", result("zzz", "not yours")))
    elif name == "null_id_error":
        err = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error: hostile upstream"}}
        w.write(response("400 Bad Request", json.dumps(err).encode()))
    elif name == "text_4xx":
        w.write(response("400 Bad Request", SECRET_TEXT.encode(), "text/plain"))
    else:
        w.write(response("200 OK", result(mid, f"ok {path}")))
    return True


async def standing_stream(r: asyncio.StreamReader, w: asyncio.StreamWriter, keepalive: bool) -> None:
    """A GET stream: silent, or a keep-alive comment every 0.3 s; 4 s at most."""
    w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    await w.drain()
    end = time.monotonic() + 4
    comment = b": keep-alive\n\n"
    while time.monotonic() < end:
        if keepalive:
            w.write(b"%x\r\n%s\r\n" % (len(comment), comment))
            await w.drain()
        try:
            if not await asyncio.wait_for(r.read(1), 0.3):
                return  # the gateway let go of the stream
        except asyncio.TimeoutError:
            pass
    w.write(b"0\r\n\r\n")
    await w.drain()


async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    try:
        while True:
            req = await read_request(r)
            if req is None:
                return
            method, path, headers, body = req
            if path == "/_received":
                w.write(response("200 OK", json.dumps(RECEIVED).encode()))
                await w.drain()
                continue
            RECEIVED.append({"method": method, "path": path, "headers": headers, "body": body[:4096].decode("utf-8", "replace")})
            keep = True
            if method == "GET" and "sse-get" in path:
                await standing_stream(r, w, "keepalive" in path)
                return
            if method == "GET":
                w.write(response("405 Method Not Allowed", b"", "text/plain", "Allow: POST, DELETE\r\n"))
            elif method == "DELETE":
                w.write(response("200 OK", b"", "text/plain"))
            else:
                msg = json.loads(body or b"{}")
                if msg.get("method") == "initialize":
                    info = {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "hostile", "version": "1"},
                    }
                    out = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": info}).encode()
                    w.write(response("200 OK", out, extra=f"Mcp-Session-Id: {SESSION}\r\n"))
                elif "id" not in msg:
                    w.write(response("202 Accepted", b"", "text/plain"))
                elif msg.get("method") == "tools/call":
                    keep = await tool_call(w, path, headers, msg)
                else:
                    w.write(response("200 OK", json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": {}}).encode()))
            await w.drain()
            if not keep:
                return
    except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return
    finally:
        w.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    port = ap.parse_args().port
    async with await asyncio.start_server(handle, "127.0.0.1", port, limit=1 << 20) as server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
