"""A small MCP upstream that misbehaves on purpose, for the upstream-hardening tests.

It answers `initialize` (JSON, with an `Mcp-Session-Id`), `notifications/*` (202) and DELETE (200) like a
server, and everything else as the mode asks:

  --mode big-json N          200 application/json, a valid result N bytes long (over maxResponseBodyBytes)
  --mode big-sse N           200 text/event-stream, one event whose single data line is N bytes
  --mode redirect LOCATION   307 to LOCATION (absolute or relative), for every POST but initialize
  --mode status CODE[:BODY]  that status with BODY (default empty) as text/plain
  --mode rpc-error CODE      that HTTP status with a JSON-RPC error whose id is the request's and whose
                             message holds a secret (DB_PASSWORD=hunter2 at 10.1.2.3:5432)
  --mode null-id-error       400 with {"jsonrpc":"2.0","id":null,"error":{"code":-32700,...}}
  --mode wrong-id            200 JSON result for the id "zzz"; with --duplicate-id, `"id":<request>,"id":"zzz"`
  --mode echo-headers        200 JSON result {"headers": {lowercased name: value}} of the request it got
  --mode get-silent          GET: 200 text/event-stream, then silence (POSTs answer like echo-headers)
  --mode get-keepalive SECS  GET: 200 text/event-stream, ": ping" every 0.2 s for SECS s, then one
                             notification event, then silence

Every request line with its headers is printed to stdout (one JSON object per line) so a test can see
what reached this server. usage: hostile_up_scripted.py --port PORT --mode MODE [ARG]
"""

from __future__ import annotations

import argparse
import json
import socketserver
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "Traceback: DB_PASSWORD=hunter2 at 10.1.2.3:5432 in /srv/app/build/main.py"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = ""
    arg = ""
    duplicate_id = False

    def log_message(self, *a: object) -> None:
        pass

    def _record(self, body: bytes) -> None:
        print(json.dumps({"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": body.decode("utf-8", "replace")[:200]}), flush=True)

    def _send(self, status: int, body: bytes, content_type: str = "application/json", extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: object, status: int = 200, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), extra=extra)

    def do_DELETE(self) -> None:
        self._record(b"")
        self._send(200, b"", "text/plain")

    def do_GET(self) -> None:
        self._record(b"")
        if self.mode not in ("get-silent", "get-keepalive"):
            self._send(405, b"", "text/plain", {"Allow": "POST"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()
        try:
            if self.mode == "get-keepalive":
                end = time.monotonic() + float(self.arg)
                while time.monotonic() < end:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    time.sleep(0.2)
                note = {"jsonrpc": "2.0", "method": "notifications/message", "params": {"level": "info", "data": "still here"}}
                self.wfile.write(b"event: message\ndata: " + json.dumps(note).encode() + b"\n\n")
                self.wfile.flush()
            time.sleep(60)
        except OSError:
            pass
        self.close_connection = True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0) or 0))
        self._record(body)
        try:
            msg = json.loads(body or b"{}")
        except ValueError:
            msg = {}
        if msg.get("method") == "initialize":
            result = {"protocolVersion": msg.get("params", {}).get("protocolVersion", "2025-11-25"),
                      "capabilities": {"tools": {}}, "serverInfo": {"name": "hostile", "version": "1"}}
            self._json({"jsonrpc": "2.0", "id": msg["id"], "result": result}, extra={"Mcp-Session-Id": "upstream-secret-session"})
            return
        if "id" not in msg or "method" not in msg:
            self._send(202, b"", "text/plain")
            return
        rid = msg["id"]
        mode, arg = self.mode, self.arg
        if mode == "big-json":
            text = "a" * int(arg)
            self._json({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": text}]}})
        elif mode == "big-sse":
            data = json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": "a" * int(arg)}]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(data) + 23))
            self.end_headers()
            self.wfile.write(b"event: message\ndata: " + data + b"\n\n")
        elif mode == "redirect":
            self._send(307, b"", "text/plain", {"Location": arg})
        elif mode == "status":
            code, _, text = arg.partition(":")
            self._send(int(code), text.encode(), "text/plain")
        elif mode == "rpc-error":
            self._json({"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": SECRET}}, status=int(arg))
        elif mode == "null-id-error":
            self._json({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error from upstream"}}, status=400)
        elif mode == "wrong-id":
            result = json.dumps({"content": [{"type": "text", "text": "for someone else"}]})
            ids = f'"id":{json.dumps(rid)},"id":"zzz"' if self.duplicate_id else '"id":"zzz"'
            self._send(200, ('{"jsonrpc":"2.0",' + ids + ',"result":' + result + "}").encode())
        else:  # echo-headers, get-silent, get-keepalive
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._json({"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": json.dumps(headers)}],
                                                               "structuredContent": {"headers": headers}}})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("arg", nargs="?", default="")
    p.add_argument("--duplicate-id", action="store_true")
    a = p.parse_args()
    Handler.mode, Handler.arg, Handler.duplicate_id = a.mode, a.arg, a.duplicate_id
    socketserver.TCPServer.request_queue_size = 128
    Server(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
