"""The attack suite, HTTP layer: what a hostile client does to the listener (attack run 2026-12, issue #11).

Each test states the fixed behaviour of one defect of `../shared/reference/attack-run-2026-12.md` (H1, H2,
H5, M1, M2, L1-L6, L8, L9, L11, L13) as `hardening-contract.md` words it. Every case runs inside
`attack_guard`: a canary client (`tools/call` every 0.2 s on its own session, each call on a new connection
from 127.0.0.2) must be served within 2 s throughout, the gateway must be alive afterwards, and its RSS must
come back within 64 MiB of where it was before the case. Limits are lowered in the config so that each case
takes seconds; every flood is bounded in count and time and stays on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from typing import Any

import pytest

from harness import (
    ACCEPT_BOTH,
    INIT_PARAMS,
    RawSession,
    TunedGateway,
    attack_guard,
    cpu_seconds,
    parse_http_replies,
    raw_http,
    raw_post,
    read_until_closed,
    rss_kib,
    tuned_gateway,
    wait_until,
)

INIT_BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": INIT_PARAMS}).encode()
APP_ORIGIN = "http://app.example"
# The route of the shared gateway: a path match (so absolute-form targets must be routed by their path) and
# a CORS policy that lists one foreign origin (so a look-alike loopback Origin must be refused).
MCP_ROUTE = {"matches": [{"path": {"pathPrefix": "/mcp"}}], "policies": {"cors": {"allowOrigins": [APP_ORIGIN]}}}


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("attack-http-up")


@pytest.fixture(scope="module")
def gw(mprocs, up) -> TunedGateway:
    """A gateway whose config uses only settings the unfixed build knows, shared by the per-request cases."""
    return tuned_gateway(mprocs, {"t": [up.url]}, name="gw-attack-http", route=MCP_ROUTE)


@pytest.fixture(scope="module")
def session(gw) -> RawSession:
    s = RawSession(gw.url).initialize()
    yield s
    s.close()


def headers(gw: TunedGateway, **extra: str) -> dict[str, str]:
    h = {"Host": f"127.0.0.1:{gw.port}", "Content-Type": "application/json", "Accept": ACCEPT_BOTH}
    h.update({k.replace("_", "-"): v for k, v in extra.items()})
    return h


def session_headers(gw: TunedGateway, s: RawSession, **extra: str) -> dict[str, str]:
    assert s.session_id and s.protocol_version
    return headers(gw, **{"Mcp-Session-Id": s.session_id, "MCP-Protocol-Version": s.protocol_version}, **extra)


def call_body(req_id: int = 7, a: int = 1, b: int = 2) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": req_id, "method": "tools/call", "params": {"name": "add", "arguments": {"a": a, "b": b}}}
    ).encode()


def assert_jsonrpc_error(reply: Any, status: int, code: int) -> dict[str, Any]:
    assert reply.status == status, f"expected HTTP {status}, got {reply.status}: {reply.body[:300]!r}"
    body = reply.json()
    assert body.get("jsonrpc") == "2.0" and "id" in body, body
    assert body["error"]["code"] == code, f"expected JSON-RPC {code}: {body}"
    return body


# ---------------------------------------------------------------------------------------------
# H1: loopback is decided exactly, for Host and for Origin


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1.evil.example", "127.0.0.1.attacker.example:{port}", "127.0.0.1 evil", "127.0.0.1\tevil", "127.evil.example"],
)
def test_host_that_only_starts_like_a_loopback_address_is_421(gw, host):
    """H1, report cases 80, 93, 94, 125: on a loopback listener a Host that merely begins with `127.` is a
    foreign name (DNS rebinding), so it gets 421 -32600, not a session."""
    with attack_guard(gw):
        h = headers(gw, Host=host.format(port=gw.port))
        reply = raw_http(gw.port, raw_post("/mcp", INIT_BODY, h)).first
        assert_jsonrpc_error(reply, 421, -32600)
        assert reply.header("mcp-session-id") is None


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST:{port}", "127.0.0.2", "127.255.255.254:{port}", "[::1]:{port}", "app.localhost"]
)
def test_loopback_hosts_are_still_served(gw, host):
    """H1 guard, report cases 83, 87, 88, 128 (ok): `localhost`, `*.localhost`, `[::1]` and four-octet 127/8
    literals are loopback names and keep working."""
    with attack_guard(gw):
        reply = raw_http(gw.port, raw_post("/mcp", INIT_BODY, headers(gw, Host=host.format(port=gw.port)))).first
        assert reply.status == 200, f"Host {host!r}: HTTP {reply.status}: {reply.body[:300]!r}"


@pytest.mark.parametrize("origin", ["http://127.evil.example", "http://127.0.0.1.nip.io", "http://127.attacker.example:{port}"])
def test_origin_that_only_starts_like_a_loopback_address_is_403(gw, origin):
    """H1, report cases 124, 126: on a route whose cors.allowOrigins is [http://app.example], an Origin whose
    host begins with `127.` but is a DNS name is foreign: 403 -32600."""
    with attack_guard(gw):
        reply = raw_http(gw.port, raw_post("/mcp", INIT_BODY, headers(gw, Origin=origin.format(port=gw.port)))).first
        assert_jsonrpc_error(reply, 403, -32600)


@pytest.mark.parametrize("origin", [APP_ORIGIN, "http://localhost:{port}", "http://127.0.0.1:{port}"])
def test_listed_and_loopback_origins_are_still_served(gw, origin):
    """H1 guard, report case 127's counterpart: the listed origin and real loopback origins pass."""
    with attack_guard(gw):
        reply = raw_http(gw.port, raw_post("/mcp", INIT_BODY, headers(gw, Origin=origin.format(port=gw.port)))).first
        assert reply.status == 200, f"Origin {origin!r}: HTTP {reply.status}: {reply.body[:300]!r}"


# ---------------------------------------------------------------------------------------------
# H2: deadlines for the head and the body; no endless discarding after a refusal

TIMEOUTS = {"limits": {"requestHeaderTimeout": "2s", "requestBodyTimeout": "2s"}}


def partial_body_head(path: str = "/mcp", length: int = 1000, **extra: str) -> bytes:
    """A POST head declaring `length` body bytes, and the first body byte."""
    h = {"Host": "127.0.0.1", "Content-Type": "application/json", "Accept": ACCEPT_BOTH, **extra}
    return raw_post(path, b"{", {**h, "Content-Length": str(length)})


PARTIAL_BODY_HEAD = partial_body_head()


def assert_timed_out(ex: Any, what: str) -> None:
    """408 with a JSON-RPC -32600 body and `connection: close`, then the connection closes."""
    assert ex.closed, f"{what}: the connection is still open {ex.data[:200]!r}"
    reply = ex.first
    body = assert_jsonrpc_error(reply, 408, -32600)
    assert "timeout" in body["error"]["message"].lower(), body
    assert (reply.header("connection") or "").lower() == "close", reply.headers


def test_body_that_stops_arriving_gets_408_and_the_connection_closes(procs, up):
    """H2, report case 116: 20 clients send a head and 1 of 1000 body bytes, then nothing. With
    requestBodyTimeout 2s each gets 408 -32600 with `connection: close` and its connection closes."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings=TIMEOUTS)
    with attack_guard(gw):
        t0 = time.monotonic()
        socks = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(20)]
        try:
            for s in socks:
                s.sendall(PARTIAL_BODY_HEAD)
            for s in socks:
                ex = read_until_closed(s, wait=max(0.1, t0 + 6 - time.monotonic()), t0=t0)
                assert_timed_out(ex, "a body stalled after 1 byte")
            assert time.monotonic() - t0 < 6
        finally:
            for s in socks:
                s.close()


def test_body_trickling_one_byte_at_a_time_is_cut_too(procs, up):
    """H2, report case 116 (trickle variant): a body that keeps arriving one byte every 0.3 s never ends the
    body deadline early; requestBodyTimeout 2s cuts it with 408 and a close within about 2 s."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings=TIMEOUTS)
    with attack_guard(gw):
        with socket.create_connection(("127.0.0.1", gw.port)) as s:
            t0 = time.monotonic()
            s.sendall(PARTIAL_BODY_HEAD)
            data, closed = b"", False
            while time.monotonic() - t0 < 6 and not closed:
                try:
                    s.sendall(b" ")
                except OSError:
                    break
                if select.select([s], [], [], 0.3)[0]:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        chunk = b""
                    data += chunk
                    closed = not chunk
            rest = read_until_closed(s, wait=max(0.1, t0 + 6 - time.monotonic()), t0=t0)
            rest.data = data + rest.data
            assert_timed_out(rest, "a body trickling one byte every 0.3 s")
            assert time.monotonic() - t0 < 5, f"cut only after {time.monotonic() - t0:.1f} s"


def test_head_trickling_one_byte_at_a_time_gets_408_after_request_header_timeout(procs, up):
    """H2 (slow headers), report cases 114-115: with requestHeaderTimeout 2s (and the idle timeout at its
    5 min default) a head trickling in one byte every 0.3 s is cut with 408 and a close."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings=TIMEOUTS)
    with attack_guard(gw):
        with socket.create_connection(("127.0.0.1", gw.port)) as s:
            t0 = time.monotonic()
            s.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            data, closed = b"", False
            while time.monotonic() - t0 < 6 and not closed:
                try:
                    s.sendall(b"a")
                except OSError:
                    break
                if select.select([s], [], [], 0.3)[0]:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        chunk = b""
                    data += chunk
                    closed = not chunk
            rest = read_until_closed(s, wait=max(0.1, t0 + 6 - time.monotonic()), t0=t0)
            rest.data = data + rest.data
            assert_timed_out(rest, "a head trickling one byte every 0.3 s")


def test_request_refused_from_its_head_closes_the_connection_after_the_answer(gw):
    """H2, report case 118: a request refused before its body was read (here 421, 403 and 404; a 401 on a
    jwtAuth route takes the same path) gets its answer, and then the connection closes within a few seconds
    instead of the rest of a never-ending body being discarded for ever. (A short linger before the close is
    allowed, so that the client reads the answer before a reset: hence up to 8 s, not at once.)"""
    cases = [
        ("foreign Host", partial_body_head(Host="evil.example"), 421),
        ("foreign Origin", partial_body_head(Origin="http://evil.example"), 403),
        ("no route", partial_body_head("/nowhere"), 404),
    ]
    with attack_guard(gw):
        socks = [socket.create_connection(("127.0.0.1", gw.port)) for _ in cases]
        try:
            t0 = time.monotonic()
            for s, (_, payload, _) in zip(socks, cases, strict=True):
                s.sendall(payload)
            for s, (case, _, status) in zip(socks, cases, strict=True):
                ex = read_until_closed(s, wait=max(0.1, t0 + 8 - time.monotonic()), t0=t0)
                assert ex.first.status == status, f"{case}: {ex.first.status} {ex.first.body[:200]!r}"
                assert ex.closed, f"{case}: after the {status} the connection stayed open 8 s, discarding a body that never ends"
        finally:
            for s in socks:
                s.close()


def test_slow_body_clients_do_not_lock_out_other_clients(procs, up):
    """H2 + H5 per-client cap, report case 117: one client address opens 60 slow-body connections against
    maxConnections 40. Past maxConnectionsPerClient (half of maxConnections by default) its connections are
    closed at accept, the ones it holds end with 408 after requestBodyTimeout, and a client from another
    address is served throughout."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings={"limits": {**TIMEOUTS["limits"], "maxConnections": 40}})
    with attack_guard(gw):
        socks = []
        try:
            for _ in range(60):
                s = socket.create_connection(("127.0.0.1", gw.port))
                socks.append(s)
                try:
                    s.sendall(PARTIAL_BODY_HEAD)
                except OSError:
                    pass  # closed at accept
            time.sleep(3.5)  # past requestBodyTimeout: the held ones were answered 408 and closed
            still_open = [s for s in socks if not read_until_closed(s, wait=0.05).closed]
            assert not still_open, f"{len(still_open)} of 60 slow-body connections still open after 3.5 s"
        finally:
            for s in socks:
                s.close()


def test_held_request_bodies_are_released_by_the_body_deadline(procs, up):
    """H2 (memory), report case 119: 12 connections each send 1 byte less than maxRequestBodyBytes (4 MiB)
    and go silent. requestBodyTimeout 2s answers each 408 and closes it, and the memory comes back."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings=TIMEOUTS, max_body=4 << 20)
    head = partial_body_head(length=4 << 20)
    with attack_guard(gw):
        socks = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(12)]
        try:
            t0 = time.monotonic()
            for s in socks:
                s.sendall(head + b"[" * ((4 << 20) - 2))  # the head carries the first byte
            for s in socks:
                assert_timed_out(read_until_closed(s, wait=max(0.1, t0 + 8 - time.monotonic()), t0=t0), "a held 4 MiB body")
        finally:
            for s in socks:
                s.close()


# ---------------------------------------------------------------------------------------------
# H5: descriptor exhaustion


def flood_slow_bodies(port: int, count: int) -> list[socket.socket]:
    """`count` connections from 127.0.0.1 that each send a head and 1 body byte (some are closed at accept)."""
    socks = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            continue
        socks.append(s)
        try:
            s.sendall(PARTIAL_BODY_HEAD)
        except OSError:
            pass
    return socks


def assert_serves_under_descriptor_pressure(gw: TunedGateway) -> None:
    """400 slow-body connections against RLIMIT_NOFILE 256: the canary and readiness are served and the
    gateway does not spin (an accept loop retrying EMFILE burns a whole core)."""
    import httpx2

    with attack_guard(gw):
        socks = flood_slow_bodies(gw.port, 400)
        try:
            time.sleep(0.5)
            c0, t0 = cpu_seconds(gw.pid), time.monotonic()
            time.sleep(2.0)
            busy = (cpu_seconds(gw.pid) - c0) / (time.monotonic() - t0)
            try:
                with httpx2.Client(timeout=2.0) as hc:
                    ready: int | str = hc.get(gw.ready_url).status_code
            except httpx2.HTTPError as e:
                ready = repr(e)
            fds = len(os.listdir(f"/proc/{gw.pid}/fd"))
            state = f"readiness: {ready}; gateway at {busy:.0%} of a core; {fds} descriptors open of 256"
            assert ready == 200 and busy < 0.5, f"with 400 slow-body connections against 256 descriptors: {state}"
        finally:
            for s in socks:
                s.close()


def test_descriptor_exhaustion_keeps_serving_at_the_default_max_connections(procs, up):
    """H5, report case 371: under `ulimit -n 256` with the default maxConnections (derived from
    RLIMIT_NOFILE) 400 slow-body connections from one address neither exhaust the descriptors nor make the
    accept loop spin: a client from another address and readiness are served throughout."""
    gw = tuned_gateway(procs, {"t": [up.url]}, nofile=256)
    assert_serves_under_descriptor_pressure(gw)


def test_max_connections_above_the_descriptor_limit_is_lowered_with_a_warning(procs, up):
    """H5: `maxConnections: 20000` under `ulimit -n 256` is lowered at start with a warning naming
    maxConnections, and the same 400-connection flood is then survived."""
    gw = tuned_gateway(procs, {"t": [up.url]}, nofile=256, settings={"limits": {"maxConnections": 20000}})
    assert wait_until(lambda: "maxConnections" in gw.log_text(), 2.0), (
        f"no warning about maxConnections 20000 > what 256 descriptors allow:\n{gw.log_text(3000)}"
    )
    assert_serves_under_descriptor_pressure(gw)


# ---------------------------------------------------------------------------------------------
# M1: a client that does not read


def test_pipelining_client_that_never_reads_stops_being_read(gw):
    """M1, report cases 120 and 374: one connection pipelines requests and never reads its answers (each a
    ping without a session whose 4000-character id the 400 answer echoes, so every answer is about 4 KiB).
    Once the answers back up, the gateway stops reading from it: within 10 s the client can no longer send,
    the gateway then sits idle instead of answering into an unbounded buffer, and RSS stays within 64 MiB of
    its start (the unfixed gateway kept reading: +830 MB for 39 MB sent)."""
    with attack_guard(gw):
        start = rss_kib(gw.pid)
        ping = json.dumps({"jsonrpc": "2.0", "id": "a" * 4000, "method": "ping"}).encode()
        one = raw_post("/mcp", ping, headers(gw))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", gw.port))
        progress = {"sent": 0, "at": time.monotonic()}
        stop = threading.Event()

        def send() -> None:
            try:
                while not stop.is_set() and progress["sent"] < (96 << 20):
                    s.sendall(one * 25)
                    progress["sent"] += 25 * len(one)
                    progress["at"] = time.monotonic()
            except OSError:
                pass

        sender = threading.Thread(target=send, daemon=True)
        t0 = time.monotonic()
        sender.start()
        peak, stalled = start, False
        while time.monotonic() - t0 < 10:
            time.sleep(0.1)
            peak = max(peak, rss_kib(gw.pid))
            if time.monotonic() - progress["at"] > 1.5:
                stalled = True
                break
        c0, w0 = cpu_seconds(gw.pid), time.monotonic()
        time.sleep(1.5)
        busy = (cpu_seconds(gw.pid) - c0) / (time.monotonic() - w0)
        peak = max(peak, rss_kib(gw.pid))
        stop.set()
        s.close()
        sender.join(5)
        state = (
            f"client sent {progress['sent'] >> 20} MiB in {time.monotonic() - t0:.1f} s; "
            f"gateway RSS +{(peak - start) >> 10} MiB, {busy:.0%} of a core after the client stalled"
        )
        assert stalled, f"the gateway kept reading from a client that reads nothing ({state})"
        assert busy < 0.3 and peak - start < 64 << 10, f"the gateway kept working for a client that reads nothing ({state})"


# ---------------------------------------------------------------------------------------------
# M2: JSON parse amplification


def nested_values_body(n: int) -> bytes:
    """An initialize whose params carry `n` empty arrays (n + a dozen JSON values in all)."""
    arrays = b",".join([b"[]"] * n)
    return (
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},'
        b'"clientInfo":{"name":"x","version":"1"},"x":[' + arrays + b"]}}"
    )


def test_document_with_more_json_values_than_max_json_nodes_is_a_parse_error(procs, up):
    """M2: with maxJsonNodes 1000, a body of 2000 values gets 400 -32700 "Parse error: more than 1000 JSON
    values"; one of 500 values is parsed and served."""
    gw = tuned_gateway(procs, {"t": [up.url]}, settings={"limits": {"maxJsonNodes": 1000}})
    with attack_guard(gw):
        reply = raw_http(gw.port, raw_post("/mcp", nested_values_body(2000), headers(gw))).first
        body = assert_jsonrpc_error(reply, 400, -32700)
        assert "more than 1000 JSON values" in body["error"]["message"], body
        ok = raw_http(gw.port, raw_post("/mcp", nested_values_body(500), headers(gw))).first
        assert ok.status == 200, f"500 values: HTTP {ok.status} {ok.body[:200]!r}"


def test_bodies_of_millions_of_empty_arrays_are_refused_before_a_tree_is_built(procs, up):
    """M2, report cases 252-253: 24 bodies of 3.9 MB holding 1.3 million empty arrays each, 8 at a time, at
    the default maxJsonNodes (200000). Each gets 400 -32700 naming the limit, and RSS never rises 64 MiB
    above its start (the unfixed parser spent about 175 MB per body and kept it)."""
    import concurrent.futures as cf

    import httpx2

    gw = tuned_gateway(procs, {"t": [up.url]}, max_body=4 << 20)
    body = nested_values_body(1_300_000)
    assert len(body) < 4 << 20
    with attack_guard(gw):
        start = rss_kib(gw.pid)
        peak = start

        def post() -> tuple[int, Any]:
            with httpx2.Client(timeout=30) as hc:
                r = hc.post(gw.url, content=body, headers={"Content-Type": "application/json", "Accept": ACCEPT_BOTH})
                try:
                    return r.status_code, r.json().get("error", {})
                except ValueError:
                    return r.status_code, r.text[:100]

        with cf.ThreadPoolExecutor(8) as ex:
            futures = [ex.submit(post) for _ in range(24)]
            while not all(f.done() for f in futures):
                peak = max(peak, rss_kib(gw.pid))
                time.sleep(0.05)
        answers = [f.result() for f in futures]
        grew = (peak - start) // 1024
        wrong = [a for a in answers if a[0] != 400 or not isinstance(a[1], dict) or a[1].get("code") != -32700]
        assert grew < 64 and not wrong, (
            f"RSS rose {grew} MiB (bound 64); answers that are not 400 -32700: {len(wrong)} of 24, e.g. {wrong[:2]}"
        )
        assert all("JSON values" in a[1].get("message", "") for a in answers), answers[:2]


# ---------------------------------------------------------------------------------------------
# low: HTTP conformance


@pytest.mark.parametrize("connection", [None, "keep-alive"])
def test_http10_client_gets_a_close_delimited_stream_without_chunked_encoding(gw, session, connection):
    """L1, report cases 52-53: an HTTP/1.0 client cannot decode chunked encoding. A streamed (SSE) answer to
    it has no `transfer-encoding: chunked`, says `connection: close`, and ends by closing the connection."""
    with attack_guard(gw):
        extra = {"Connection": connection} if connection else {}
        payload = raw_post("/mcp", call_body(), session_headers(gw, session, **extra), version="HTTP/1.0")
        ex = raw_http(gw.port, payload, wait=5.0)
        reply = ex.first
        assert reply.status == 200, reply
        assert "chunked" not in (reply.header("transfer-encoding") or "").lower(), reply.headers
        assert (reply.header("connection") or "").lower() == "close", reply.headers
        assert ex.closed, "the close-delimited answer must end with the connection"
        assert b'"result"' in reply.body and b"chunked" not in reply.body, reply.body[:300]


@pytest.mark.parametrize("target", ["/mcp", "127.0.0.1:{port}"])
def test_connect_gets_405_with_an_empty_body_and_a_close(gw, target):
    """L2, report cases 101 and 123: CONNECT (origin or authority form) gets 405 and the connection closes
    at once, instead of a head without a length that leaves the client waiting. (NIO's encoder strips any
    Content-Length from an answer to CONNECT, so the close is what ends it; a `content-length` present must
    be 0.)"""
    with attack_guard(gw):
        t = target.format(port=gw.port)
        ex = raw_http(gw.port, f"CONNECT {t} HTTP/1.1\r\nHost: 127.0.0.1:{gw.port}\r\n\r\n".encode(), wait=3.0)
        reply = ex.first
        assert reply.status == 405, reply
        assert reply.header("content-length") in (None, "0") and reply.header("transfer-encoding") is None, reply.headers
        assert (reply.header("connection") or "").lower() == "close", reply.headers
        assert ex.closed and ex.closed_after is not None and ex.closed_after < 1.5, "the connection must close at once"


def test_absolute_form_request_target_is_routed_by_its_path(gw):
    """L3, report cases 63-65: `POST http://127.0.0.1:PORT/mcp` (RFC 9112 §3.2.2, servers must accept it)
    is routed by its path: the initialize is served."""
    with attack_guard(gw):
        reply = raw_http(gw.port, raw_post(f"http://127.0.0.1:{gw.port}/mcp", INIT_BODY, headers(gw))).first
        assert reply.status == 200, f"HTTP {reply.status}: {reply.body[:300]!r}"
        assert reply.header("mcp-session-id"), reply.headers


@pytest.mark.parametrize(
    "hosts", [[], ["127.0.0.1:{port}", "evil.example"], ["evil.example", "127.0.0.1:{port}"], ["127.0.0.1:{port}"] * 2]
)
def test_http11_request_without_host_or_with_two_hosts_is_400(gw, hosts):
    """L4, report cases 76-78: HTTP/1.1 without `Host`, or with two `Host` headers (whichever comes
    first), gets 400."""
    with attack_guard(gw):
        h = [(k, v) for k, v in headers(gw).items() if k != "Host"] + [("Host", x.format(port=gw.port)) for x in hosts]
        ex = raw_http(gw.port, raw_post("/mcp", INIT_BODY, h))
        assert ex.first.status == 400, f"Host headers {hosts}: HTTP {ex.first.status} {ex.first.body[:200]!r}"


def test_streamed_answer_after_connection_close_says_close_and_nothing_follows(gw, session):
    """L5, report cases 108 and 375: two pipelined tools/call, the first with `Connection: close`. The
    streamed answer carries `connection: close`, and no unsolicited 400 (or anything else) follows it."""
    with attack_guard(gw):
        first = raw_post("/mcp", call_body(8), session_headers(gw, session, Connection="close"))
        second = raw_post("/mcp", call_body(9), session_headers(gw, session))
        ex = raw_http(gw.port, first + second, wait=5.0)
        replies = ex.replies
        assert ex.closed, "the connection must close after the answer to `Connection: close`"
        assert [r.status for r in replies] == [200], f"answers: {[r.status for r in replies]}: {ex.data[-300:]!r}"
        assert (replies[0].header("connection") or "").lower() == "close", replies[0].headers
        assert b'"id":8' in replies[0].body.replace(b" ", b""), replies[0].body[:300]


def test_expect_100_continue_is_answered_before_the_body_is_sent(gw, session):
    """L6, report case 96: with `Expect: 100-continue` the gateway sends `100 Continue` for the head alone
    (curl stalled 1 s waiting for it), then answers the body."""
    with attack_guard(gw):
        body = json.dumps({"jsonrpc": "2.0", "id": 11, "method": "ping"}).encode()
        h = session_headers(gw, session, Expect="100-continue")
        payload = raw_post("/mcp", body, h)
        head, _ = payload[: -len(body)], payload[-len(body) :]
        with socket.create_connection(("127.0.0.1", gw.port)) as s:
            s.sendall(head)
            s.settimeout(1.0)
            try:
                interim = s.recv(4096)
            except TimeoutError:
                interim = b""
            assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), f"no 100 Continue within 1 s: {interim[:100]!r}"
            s.sendall(body)
            rest = read_until_closed(s, wait=2.0)
        final = [r for r in parse_http_replies(interim + rest.data) if r.status >= 200]
        assert final and final[0].status == 200, final


def test_unknown_expectation_is_417(gw, session):
    """L6: an expectation other than 100-continue gets 417 Expectation Failed."""
    with attack_guard(gw):
        body = json.dumps({"jsonrpc": "2.0", "id": 12, "method": "ping"}).encode()
        reply = raw_http(gw.port, raw_post("/mcp", body, session_headers(gw, session, Expect="bogus-expectation"))).first
        assert reply.status == 417, f"HTTP {reply.status} {reply.body[:200]!r}"


def test_request_id_outside_int64_is_an_invalid_request_naming_the_id(gw, session):
    """L8, report cases 139 and 143-144: an id outside int64 is valid JSON, not a parse error: 400 -32600
    whose message names the id (the member, or its value)."""
    with attack_guard(gw):
        body = b'{"jsonrpc":"2.0","id":9223372036854775808,"method":"ping"}'
        reply = raw_http(gw.port, raw_post("/mcp", body, session_headers(gw, session))).first
        err = assert_jsonrpc_error(reply, 400, -32600)
        message = err["error"]["message"]
        assert '"id"' in message or "9223372036854775808" in message, err


@pytest.mark.parametrize(
    "ctype, status", [("application/jsonx", 415), ("application/json-seq", 415), ("application/json; charset=utf-8", 200)]
)
def test_content_type_is_compared_as_a_media_type(gw, session, ctype, status):
    """L9, report case 112: `application/jsonx` is not `application/json` (415 -32600); parameters after
    the media type are allowed."""
    with attack_guard(gw):
        body = json.dumps({"jsonrpc": "2.0", "id": 13, "method": "ping"}).encode()
        reply = raw_http(gw.port, raw_post("/mcp", body, {**session_headers(gw, session), "Content-Type": ctype})).first
        if status == 415:
            assert_jsonrpc_error(reply, 415, -32600)
        else:
            assert reply.status == 200, f"HTTP {reply.status} {reply.body[:200]!r}"


@pytest.mark.parametrize("with_meta", [False, True])
def test_unsupported_protocol_version_is_400_32022_with_the_supported_list(gw, session, with_meta):
    """L11, report cases 225-226: `MCP-Protocol-Version: 1999-01-01` gets docs/errors.md's 400 -32022 with
    `data.supported`, whether or not the body carries `_meta`."""
    with attack_guard(gw):
        params: dict[str, Any] = {}
        if with_meta:
            params["_meta"] = {"io.modelcontextprotocol/protocolVersion": "1999-01-01"}
        body = json.dumps({"jsonrpc": "2.0", "id": 14, "method": "ping", "params": params}).encode()
        h = {**session_headers(gw, session), "MCP-Protocol-Version": "1999-01-01"}
        err = assert_jsonrpc_error(raw_http(gw.port, raw_post("/mcp", body, h)).first, 400, -32022)
        supported = (err["error"].get("data") or {}).get("supported")
        assert isinstance(supported, list) and "2025-11-25" in supported, err


def test_transfer_encoding_other_than_chunked_alone_is_501(gw, session):
    """L13, report case 22: `Transfer-Encoding: gzip, chunked` is not read as if only chunked were listed:
    501 Not Implemented."""
    with attack_guard(gw):
        body = json.dumps({"jsonrpc": "2.0", "id": 15, "method": "ping"}).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        h = {**session_headers(gw, session), "Transfer-Encoding": "gzip, chunked"}
        ex = raw_http(gw.port, raw_post("/mcp", chunked, h))
        assert ex.first.status == 501, f"HTTP {ex.first.status} {ex.first.body[:200]!r}"
