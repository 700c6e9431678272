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

HTTP+SSE (2024-11-05) upstreams, served at GET /sse (chunked text/event-stream, held open):
  --mode sse                 a small working one: the `endpoint` event names /messages/?session_id=<hex>;
                             a POST there gets 202 and its answer comes on the stream as `event: message`
                             (initialize, ping, tools/list with `add`, tools/call add); an unknown
                             session_id gets 404
  --mode sse-no-endpoint     the stream opens but no `endpoint` event ever comes
  --mode sse-foreign-endpoint  the `endpoint` event names http://127.0.0.2:1/messages/?session_id=<hex>,
                             another origin
When a GET /sse stream ends (the client closed it), a line {"method": "GET-closed", "path": "/sse", ...}
is printed, so a test sees that the gateway let go of it.

Every request line with its headers is printed to stdout (one JSON object per line) so a test can see
what reached this server. usage: hostile_up_scripted.py --port PORT --mode MODE [ARG]
"""

from __future__ import annotations

import argparse
import json
import queue
import secrets
import select
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = "Traceback: DB_PASSWORD=hunter2 at 10.1.2.3:5432 in /srv/app/build/main.py"

SSE_MODES = ("sse", "sse-no-endpoint", "sse-foreign-endpoint")
# --mode sse: the messages waiting to go out on each GET /sse stream, by session id.
_sse_sessions: dict[str, queue.Queue[bytes]] = {}
_sse_lock = threading.Lock()


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

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _client_gone(self, wait: float) -> bool:
        """Whether the client closed its end (it sends nothing on a GET stream, so readable means closed)."""
        readable, _, _ = select.select([self.connection], [], [], wait)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _sse_stream(self) -> None:
        """GET /sse for the HTTP+SSE modes: the endpoint event (or none), then queued messages until the client leaves."""
        if self.path.split("?", 1)[0] != "/sse":
            self._send(404, b"not found", "text/plain")
            return
        sid = secrets.token_hex(16)
        outbox: queue.Queue[bytes] = queue.Queue()
        with _sse_lock:
            _sse_sessions[sid] = outbox
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            if self.mode == "sse":
                self._chunk(f"event: endpoint\r\ndata: /messages/?session_id={sid}\r\n\r\n".encode())
            elif self.mode == "sse-foreign-endpoint":
                self._chunk(f"event: endpoint\r\ndata: http://127.0.0.2:1/messages/?session_id={sid}\r\n\r\n".encode())
            end = time.monotonic() + 300
            while time.monotonic() < end and not self._client_gone(0.05):
                try:
                    while True:
                        self._chunk(b"event: message\r\ndata: " + outbox.get_nowait() + b"\r\n\r\n")
                except queue.Empty:
                    pass
            self._chunk(b"")
        except OSError:
            pass
        finally:
            with _sse_lock:
                _sse_sessions.pop(sid, None)
            print(json.dumps({"method": "GET-closed", "path": self.path, "headers": {}, "body": sid}), flush=True)
            self.close_connection = True

    def _sse_post(self, body: bytes) -> None:
        """POST /messages/?session_id=... (--mode sse): 202 at once, the answer on that session's stream."""
        query = self.path.partition("?")[2]
        sid = next((v for k, _, v in (kv.partition("=") for kv in query.split("&")) if k == "session_id"), "")
        with _sse_lock:
            outbox = _sse_sessions.get(sid)
        if outbox is None:
            self._send(404, b"Could not find session", "text/plain")
            return
        try:
            msg = json.loads(body)
        except ValueError:
            self._send(400, b"Could not parse message", "text/plain")
            return
        self._send(202, b"Accepted", "text/plain")
        if not isinstance(msg, dict) or "id" not in msg or "method" not in msg:
            return
        rid, method, params = msg["id"], msg["method"], msg.get("params") or {}
        if method == "initialize":
            result = {"protocolVersion": params.get("protocolVersion", "2024-11-05"), "capabilities": {"tools": {}},
                      "serverInfo": {"name": "scripted-sse", "version": "1"}}
            answer = {"jsonrpc": "2.0", "id": rid, "result": result}
        elif method == "ping":
            answer = {"jsonrpc": "2.0", "id": rid, "result": {}}
        elif method == "tools/list":
            tool = {"name": "add", "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}
            answer = {"jsonrpc": "2.0", "id": rid, "result": {"tools": [tool]}}
        elif method == "tools/call" and params.get("name") == "add":
            args = params.get("arguments") or {}
            total = int(args.get("a", 0)) + int(args.get("b", 0))
            answer = {"jsonrpc": "2.0", "id": rid, "result": {"content": [{"type": "text", "text": str(total)}],
                                                              "structuredContent": {"result": total}, "isError": False}}
        else:
            answer = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "Method not found"}}
        outbox.put(json.dumps(answer).encode())

    def do_GET(self) -> None:
        self._record(b"")
        if self.mode in SSE_MODES:
            self._sse_stream()
            return
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
        if self.mode in SSE_MODES:
            self._sse_post(body)
            return
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
