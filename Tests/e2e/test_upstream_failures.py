"""Upstream failures give clear JSON-RPC errors (docs/errors.md) and touch no other session:

- a dead (refused) upstream -> 502 -32603 with data.target, other sessions keep working;
- an upstream restarted on the same port has lost its sessions -> 404 so the client re-initializes;
- an upstream slower than config.upstream.requestTimeout -> 504 -32603;
- an upstream that answers something that is not MCP -> 502 -32603.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import anyio
import pytest

from harness import RawSession, expect_error, free_port, sdk_client


def pin_one_session_per_replica(url: str, replicas, tries: int = 60) -> dict[int, RawSession]:
    sessions: dict[int, RawSession] = {}
    for _ in range(tries):
        s = RawSession(url).initialize()
        port = s.call_ok("replica")["structuredContent"]["port"]
        if port in sessions:
            s.delete()
            s.close()
            continue
        sessions[port] = s
        if len(sessions) == len(replicas):
            return sessions
    pytest.fail(f"{tries} sessions never covered all replicas: {sorted(sessions)}")


def assert_target_error(r, status: int) -> None:
    body = expect_error(r, status, -32603)
    data = body["error"].get("data")
    assert isinstance(data, dict) and data.get("target") == "t", f"data.target must name the target: {body}"


def test_dead_upstream_gives_502_while_other_sessions_keep_working(procs):
    a, b = procs.upstreams(2, prefix="fail-replica")
    gw = procs.gateway({"t": [a.url, b.url]}, name="gw-dead-upstream")
    other_up = procs.upstream("fail-other")
    other_gw = procs.gateway({"t": [other_up.url]}, name="gw-other")
    sessions = pin_one_session_per_replica(gw.url, [a, b])
    on_other_gw = RawSession(other_gw.url).initialize()
    try:
        a.kill()
        victim, survivor = sessions[a.port], sessions[b.port]
        for _ in range(2):  # the pool may still hold a connection: the first and the next call both fail cleanly
            r, _ = victim.call_tool("add", {"a": 1, "b": 2})
            assert_target_error(r, 502)
        # the session pinned to the healthy replica and a session on another gateway are unaffected
        assert survivor.call_ok("replica")["structuredContent"]["port"] == b.port
        assert survivor.call_ok("add", {"a": 2, "b": 3})["structuredContent"] == {"result": 5}
        assert on_other_gw.call_ok("add", {"a": 4, "b": 4})["structuredContent"] == {"result": 8}
        assert gw.alive and other_gw.alive
    finally:
        for s in [*sessions.values(), on_other_gw]:
            s.close()


def test_upstream_restarted_on_same_port_makes_the_gateway_answer_404(procs):
    up = procs.upstream("restart-up")
    gw = procs.gateway({"t": [up.url]}, name="gw-restart")
    s = RawSession(gw.url).initialize()
    try:
        assert s.call_ok("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
        up.restart()  # the new process knows none of the old sessions
        r, _ = s.call_tool("add", {"a": 1, "b": 1})
        body = expect_error(r, 404, -32600)
        assert "session" in body["error"]["message"].lower(), body
        # the client re-initializes and goes on
        fresh = RawSession(gw.url).initialize()
        assert fresh.call_ok("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
        fresh.delete()
        fresh.close()
        assert gw.alive
    finally:
        s.close()


def test_sdk_client_sees_session_loss_as_an_error_and_can_reconnect(procs):
    from mcp.shared.exceptions import MCPError

    up = procs.upstream("restart-sdk-up")
    gw = procs.gateway({"t": [up.url]}, name="gw-restart-sdk")

    async def scenario() -> tuple[int, int]:
        async with sdk_client(gw.url, "legacy") as c:
            first = (await c.call_tool("add", {"a": 1, "b": 2})).structured_content["result"]
            await anyio.to_thread.run_sync(up.restart)
            with pytest.raises(MCPError) as ei:
                await c.call_tool("add", {"a": 1, "b": 2})
            assert ei.value.code == -32600, (ei.value.code, ei.value.message)
        async with sdk_client(gw.url, "legacy") as c:  # re-initialize
            second = (await c.call_tool("add", {"a": 3, "b": 4})).structured_content["result"]
        return first, second

    assert anyio.run(scenario) == (3, 7)
    assert gw.alive


def test_upstream_slower_than_request_timeout_gives_504(procs):
    # a JSON-response upstream sends its response head only when the tool is done
    up = procs.upstream("slow-json-up", json_response=True)
    gw = procs.gateway({"t": [up.url]}, name="gw-timeout", request_timeout="1s")
    s = RawSession(gw.url).initialize()
    other = RawSession(gw.url).initialize()
    try:
        r, _ = s.call_tool("slow", {"steps": 16})  # ~2.4 s
        assert_target_error(r, 504)
        assert other.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        assert gw.alive
    finally:
        s.close()
        other.close()


class _NotMCP(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = b"<html><body>definitely not MCP</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_mcp() -> Iterator[str]:
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _NotMCP)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        srv.shutdown()
        srv.server_close()


def test_upstream_answering_garbage_gives_502(procs, not_mcp):
    gw = procs.gateway({"t": [not_mcp]}, name="gw-garbage-upstream")
    s = RawSession(gw.url)
    r = s.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    assert_target_error(r, 502)
    s.close()
    assert gw.alive


def test_unreachable_upstream_at_initialize_gives_502(procs):
    dead = f"http://127.0.0.1:{free_port()}/mcp"  # nothing listens there
    gw = procs.gateway({"t": [dead]}, name="gw-unreachable")
    s = RawSession(gw.url)
    r = s.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}})
    assert_target_error(r, 502)
    s.close()
    assert gw.alive
