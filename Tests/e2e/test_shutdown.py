"""Graceful shutdown and reload (`config.limits.shutdownGracePeriod`, docs/config.md).

On SIGTERM the gateway reports not ready, stops accepting, closes idle keep-alive connections at once, lets
requests in flight finish, ends the streams still open cleanly when the grace period ends (the chunked
response terminates: no reset, no truncation), and exits 0. SIGHUP reloads the configuration instead.
"""

from __future__ import annotations

import http.client
import re
import select
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

import harness
from harness import (
    RawSession,
    TunedGateway,
    Upstream,
    encode_body,
    modern_request,
    parse_http_replies,
    port_accepts,
    raw_post,
    read_until_closed,
    response_for,
    rpc,
    to_yaml,
    tuned_gateway,
    wait_until,
)

pytestmark = pytest.mark.timeout(90)

GRACE = 3.0
CANCELLABLE = Path(__file__).resolve().parent / "servers" / "cancellable.py"


class CancellableUpstream(Upstream):
    """servers/cancellable.py: `sleepy(seconds)` and `lifecycle()`, which counts the calls it saw cancelled."""

    def spawn(self) -> "CancellableUpstream":
        self._spawn([sys.executable, str(CANCELLABLE), "--port", str(self.port), "--name", self.name])
        return self


def idle_keep_alive_connection(gw: TunedGateway, session: RawSession) -> http.client.HTTPConnection:
    """A connection that completed one request (`ping`) and now waits, kept alive, for the next."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=10)
    conn.request("POST", "/mcp", body=encode_body(rpc("ping")), headers=session.headers())
    reply = conn.getresponse()
    body = reply.read()
    assert reply.status == 200, body[:500]
    assert not reply.will_close, reply.getheaders()
    return conn


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` cleanly (end of stream), or None if it did not within `seconds`."""
    t0 = time.monotonic()
    readable, _, _ = select.select([sock], [], [], seconds)
    if not readable:
        return None
    assert sock.recv(4096) == b"", "an idle connection got bytes instead of its end"
    return time.monotonic() - t0


def open_get_stream(gw: TunedGateway, session: RawSession) -> tuple[socket.socket, bytes]:
    """The handshake-era standalone GET stream on a raw socket, read up to the end of its head."""
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    sock.sendall(
        (
            f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nAccept: text/event-stream\r\n"
            f"Mcp-Session-Id: {session.session_id}\r\nMCP-Protocol-Version: {session.protocol_version}\r\n\r\n"
        ).encode()
    )
    data = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 200"), data[:500]
    assert "transfer-encoding: chunked" in head and "text/event-stream" in head, head
    return sock, data


def slow_call(gw: TunedGateway, session: RawSession, out: dict[str, Any], started: threading.Event) -> None:
    """`tools/call slow` with 10 steps (about 1.5 s), on a connection of its own; the outcome goes into `out`."""
    msg = rpc("tools/call", {"name": "slow", "arguments": {"steps": 10}})
    try:
        with httpx2.Client(timeout=15) as hc:
            with hc.stream("POST", gw.url, content=encode_body(msg), headers=session.headers()) as r:
                out["status"] = r.status_code
                started.set()
                r.read()
                out["response"] = response_for(r, msg["id"])
    except Exception as e:  # noqa: BLE001 - reported by the test
        out["error"] = repr(e)
    finally:
        out["ended"] = time.monotonic()
        started.set()


def test_sigterm_drains_then_exits_zero(procs):
    up = procs.upstream("shutdown-up")
    gw = tuned_gateway(procs, {"t": [up.url]}, settings={"limits": {"shutdownGracePeriod": f"{GRACE:g}s"}})
    session = RawSession(gw.url).initialize()
    idle = [idle_keep_alive_connection(gw, session) for _ in range(3)]
    stream, stream_data = open_get_stream(gw, session)
    outcome: dict[str, Any] = {}
    started = threading.Event()
    caller = threading.Thread(target=slow_call, args=(gw, session, outcome, started), daemon=True)
    caller.start()
    assert started.wait(10) and outcome.get("status") == 200, outcome
    time.sleep(0.2)  # the upstream is working on the call

    assert gw.proc is not None
    t0 = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)

    # Idle keep-alive connections close at once, long before the grace period ends.
    for conn in idle:
        assert conn.sock is not None
        after = closed_within(conn.sock, 1.0)
        assert after is not None, "an idle keep-alive connection was still open 1 s after SIGTERM"
    idle_closed = time.monotonic() - t0
    assert idle_closed < GRACE / 2, f"idle connections took {idle_closed:.2f}s to close"
    # No new connection, and not ready, while the rest drains.
    assert wait_until(lambda: not port_accepts(gw.port), timeout=1.0), "the port still accepts after SIGTERM"
    ready = httpx2.get(gw.ready_url, timeout=2)
    assert ready.status_code == 503, ready.text

    # The call in flight finishes with its result.
    caller.join(GRACE + 5)
    assert "error" not in outcome, outcome
    result = outcome["response"].get("result")
    assert result and result["content"][0]["text"] == "done 10", outcome["response"]
    assert outcome["ended"] - t0 < GRACE, f"the call ended {outcome['ended'] - t0:.2f}s after SIGTERM"

    # The GET stream stays open for the grace period, then ends with a complete chunked response.
    rest = read_until_closed(stream, GRACE + 3, t0)
    stream.close()
    assert rest.closed, "the GET stream was not ended"
    assert rest.closed_after is not None and rest.closed_after >= GRACE - 0.5, f"ended after {rest.closed_after}s"
    raw = stream_data + rest.data
    assert raw.endswith(b"0\r\n\r\n"), f"the chunked response was cut, not ended: ...{raw[-200:]!r}"
    assert len(parse_http_replies(raw)) == 1, raw[-300:]

    # The process exits 0 within the grace period and a small margin.
    code = gw.proc.wait(GRACE + 5)
    exited = time.monotonic() - t0
    assert code == 0, f"exit {code}\n{gw.log_text()}"
    assert "ERROR:" not in gw.log_text(200000), gw.log_text()  # e.g. NIO: a task scheduled on a loop already shut down
    assert exited < GRACE + 2.0, f"exited {exited:.2f}s after SIGTERM (grace {GRACE}s)"
    print(
        f"after SIGTERM: idle closed {idle_closed:.2f}s, call ended {outcome['ended'] - t0:.2f}s, "
        f"stream ended {rest.closed_after:.2f}s, exit 0 at {exited:.2f}s"
    )
    for conn in idle:
        conn.close()
    session.close()


def test_idle_keep_alive_connections_do_not_hold_shutdown(procs):
    """With the default grace period (10 s), a gateway whose clients are all idle exits at once."""
    up = procs.upstream("shutdown-idle-up")
    gw = tuned_gateway(procs, {"t": [up.url]})
    session = RawSession(gw.url).initialize()
    idle = [idle_keep_alive_connection(gw, session) for _ in range(2)]
    assert gw.proc is not None
    t0 = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    code = gw.proc.wait(15)
    exited = time.monotonic() - t0
    assert code == 0, gw.log_text()
    assert "ERROR:" not in gw.log_text(200000), gw.log_text()
    assert exited < 2.0, f"exited {exited:.2f}s after SIGTERM"
    print(f"idle only: exit 0 at {exited:.2f}s after SIGTERM")
    for conn in idle:
        conn.close()
    session.close()


def test_sighup_reloads_the_configuration(procs):
    """SIGHUP re-reads the file and swaps the runtime in: a lowered body limit applies to the next request,
    on the same session, and the process goes on."""
    up = procs.upstream("reload-up")
    gw = tuned_gateway(procs, {"t": [up.url]})
    session = RawSession(gw.url).initialize()
    padded = rpc("ping", {"_meta": {"pad": "x" * 2000}})
    assert session.post(padded).status_code == 200

    gw.config["config"]["limits"]["maxRequestBodyBytes"] = 1000
    gw.config_path.write_text(to_yaml(gw.config) + "\n")
    before = gw.log_text(200000).count("configuration reloaded")
    assert gw.proc is not None
    gw.proc.send_signal(signal.SIGHUP)
    assert wait_until(lambda: gw.log_text(200000).count("configuration reloaded") > before, timeout=10), gw.log_text()

    assert gw.alive, gw.log_text()
    assert session.post(padded).status_code == 413
    r, res = session.request("ping")
    assert r.status_code == 200 and "result" in res, r.text[:500]
    session.close()


def test_a_call_outliving_the_grace_period_ends_cleanly_and_is_cancelled_upstream(procs):
    """A 2026-07-28 `tools/call` streaming progress for 20 s: SIGTERM with a 2 s grace period ends its stream
    cleanly when the period ends, the upstream sees the call cancelled, and the process exits 0."""
    upstream = CancellableUpstream("shutdown-sleepy", procs.logdir)
    procs.started.append(upstream)
    upstream.spawn().wait_ready()
    grace = 2.0
    gw = tuned_gateway(procs, {"t": [upstream.url]}, settings={"limits": {"shutdownGracePeriod": f"{grace:g}s"}})
    msg, headers = modern_request("tools/call", {"name": "sleepy", "arguments": {"seconds": 20}})
    msg["params"]["_meta"]["progressToken"] = "t"
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    sock.sendall(raw_post("/mcp", encode_body(msg), {"Host": f"127.0.0.1:{gw.port}", **headers}))
    first = b""
    while b"notifications/progress" not in first:
        chunk = sock.recv(65536)
        assert chunk, first[:500]
        first += chunk
    assert first.lower().startswith(b"http/1.1 200") and b"chunked" in first.lower(), first[:500]

    assert gw.proc is not None
    t0 = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    rest = read_until_closed(sock, grace + 4, t0)
    sock.close()
    assert rest.closed and rest.closed_after is not None, "the stream was not ended"
    assert grace - 0.5 <= rest.closed_after < grace + 1.5, f"ended {rest.closed_after:.2f}s after SIGTERM"
    raw = first + rest.data
    assert raw.endswith(b"0\r\n\r\n"), f"the chunked response was cut, not ended: ...{raw[-200:]!r}"
    code = gw.proc.wait(grace + 5)
    assert code == 0 and time.monotonic() - t0 < grace + 2.0, gw.log_text()

    def lifecycle() -> dict[str, int]:
        with httpx2.Client(timeout=10) as hc:
            m, h = modern_request("tools/call", {"name": "lifecycle", "arguments": {}})
            return response_for(hc.post(upstream.url, content=encode_body(m), headers=h), m["id"])["result"]["structuredContent"]

    assert wait_until(lambda: lifecycle()["cancelled"] == 1, timeout=4.0), lifecycle()


def _alive_in_session(sid: int) -> list[int]:
    """Processes of session `sid` that still run (a zombie has ended; who reaps it after the gateway is gone is
    not the gateway's business)."""
    out = []
    for pid in harness.session_members(sid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2 :].split()[0] != "Z":
            out.append(pid)
    return out


@pytest.mark.transports
def test_sigterm_with_an_open_sse_stream_and_a_live_stdio_session(procs):
    """Issue #14: SIGTERM while a downstream `/sse` stream is open (its session on a stdio target) and a Streamable
    HTTP session holds another stdio child. The `/sse` stream ends cleanly when the grace period ends (terminal
    chunk), no child outlives the gateway, and it exits 0 within the grace period plus 3 s."""
    gw = tuned_gateway(
        procs, {"p": harness.stdio_target()}, request_timeout="20s",
        settings={"limits": {"shutdownGracePeriod": f"{GRACE:g}s"}},
    )
    session = RawSession(gw.url).initialize()
    assert session.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}

    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=20)
    sock.sendall(f"GET /sse HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    data = b""
    while not re.search(rb"data: /sse\?sessionId=[^\r\n]+\r?\n", data):
        chunk = sock.recv(65536)
        assert chunk, data[:500]
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 200") and "text/event-stream" in head and "chunked" in head, head
    endpoint = re.search(rb"data: (/sse\?sessionId=[^\r\n]+)", data)
    assert endpoint, data[:500]
    # initialize over the /sse stream: 202 on the POST, the result on the stream, a second stdio child
    with httpx2.Client(timeout=20) as hc:
        r = hc.post(
            f"http://127.0.0.1:{gw.port}{endpoint.group(1).decode()}",
            content=encode_body(rpc("initialize", harness.INIT_PARAMS)),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 202, r.text[:300]
    while b'"protocolVersion"' not in data:
        chunk = sock.recv(65536)
        assert chunk, data[-500:]
        data += chunk
    kids = [pid for pid, state in harness.children(gw.pid) if state != "Z"]
    assert len(kids) == 2, harness.children(gw.pid)

    assert gw.proc is not None
    t0 = time.monotonic()
    gw.proc.send_signal(signal.SIGTERM)
    rest = read_until_closed(sock, GRACE + 3, t0)
    sock.close()
    assert rest.closed, "the /sse stream was not ended"
    assert rest.closed_after is not None and rest.closed_after >= GRACE - 0.5, f"ended after {rest.closed_after}s"
    raw = data + rest.data
    assert raw.endswith(b"0\r\n\r\n"), f"the chunked /sse response was cut, not ended: ...{raw[-200:]!r}"
    code = gw.proc.wait(GRACE + 5)
    exited = time.monotonic() - t0
    assert code == 0, f"exit {code}\n{gw.log_text()}"
    assert exited < GRACE + 3.0, f"exited {exited:.2f}s after SIGTERM (grace {GRACE}s)"
    assert "ERROR:" not in gw.log_text(200000), gw.log_text()
    left = {pid: _alive_in_session(pid) for pid in kids if _alive_in_session(pid)}
    assert not left, f"stdio children outlived the gateway: {left}"
    session.close()
