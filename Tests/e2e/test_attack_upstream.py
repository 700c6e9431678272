"""The attack suite, upstream side: what a hostile MCP server does to the gateway (attack run 2026-12, issue #11).

The hostile server is `servers/hostile_mcp.py` (raw asyncio; each tool misbehaves in one way). Each gateway
here has two routes: `/evil` to the hostile server and `/mcp` to a well-behaved official-SDK upstream, on
which the canary of `attack_guard` calls `tools/call` every 0.2 s throughout the case. After each case the
gateway is alive, the canary was served within 2 s every time, and RSS is back within 64 MiB of its start.
Cases: C1, H3, H4, M3, M4, L7, L8 (arguments), L10, L12 of `../shared/reference/attack-run-2026-12.md`,
with the fixed behaviour `hardening-contract.md` states.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx2
import pytest

from harness import (
    ACCEPT_BOTH,
    RawSession,
    TunedGateway,
    attack_guard,
    expect_error,
    free_port,
    hostile_upstream,
    messages,
    rpc,
    tuned_gateway,
    wait_until,
)


@pytest.fixture(scope="module")
def good(mprocs):
    """The well-behaved official-SDK upstream behind /mcp (the canary's route)."""
    return mprocs.upstream("attack-up-good")


@pytest.fixture(scope="module")
def hostile(mprocs):
    return hostile_upstream(mprocs, "attack-hostile")


def evil_route(url: str, path: str = "/evil", name: str = "evil", **mcp: Any) -> dict[str, Any]:
    """A route on `path` whose one target, `name`, is the MCP server at `url` (`mcp` adds target keys)."""
    target = {"name": name, "mcp": {"host": url, **mcp}}
    return {"name": name, "matches": [{"path": {"exact": path}}], "backends": [{"mcp": {"targets": [target]}}]}


def gateway(procs, good, *routes: dict[str, Any], **kw: Any) -> TunedGateway:
    """A gateway with `routes` ahead of /mcp, which goes to the good upstream."""
    return tuned_gateway(
        procs, {"alpha": [good.url]}, routes_before=list(routes), route={"matches": [{"path": {"pathPrefix": "/mcp"}}]}, **kw
    )


def session(gw: TunedGateway, path: str = "/evil") -> RawSession:
    return RawSession(f"http://127.0.0.1:{gw.port}{path}").initialize()


def call(gw: TunedGateway, s: RawSession, tool: str, args: dict[str, Any] | None = None, **kw: Any) -> httpx2.Response:
    """tools/call on `s`; a dropped connection fails the test with the gateway's state and its crash line."""
    try:
        return s.post(rpc("tools/call", {"name": tool, "arguments": args or {}}), **kw)
    except httpx2.HTTPError as e:
        wait_until(lambda: not gw.alive, 3)  # a crashing process takes a moment to print its backtrace and exit
        crash = re.findall(r"(?m)^.*(?:precondition|Fatal error|crash).*$", gw.log_text(20000))
        pytest.fail(f"tools/call {tool}: {e!r}; gateway alive: {gw.alive}; log: {crash[:2]}", pytrace=False)


def the_error(r: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC error object of an answer, whole (application/json) or streamed (SSE)."""
    errors = [m["error"] for m in messages(r) if "error" in m]
    assert errors, f"no JSON-RPC error in HTTP {r.status_code}: {r.text[:500]}"
    return errors[0]


# ---------------------------------------------------------------------------------------------
# C1: oversized answers


def test_two_oversized_json_answers_in_a_row_each_get_502_and_the_gateway_serves_the_next_call(procs, good, hostile):
    """C1, report cases 350-355: an upstream JSON answer over maxResponseBodyBytes (1 MiB here; 2 MiB sent,
    with a length and close-delimited) gets 502 -32603 every time. The unfixed gateway wrote body parts
    after its 502 on the second one, and NIO's precondition aborted the process."""
    gw = gateway(procs, good, evil_route(hostile.url), settings={"limits": {"maxResponseBodyBytes": 1 << 20}})
    with attack_guard(gw):
        s = session(gw)
        for i, tool in enumerate(["big_json", "big_json", "big_json_close", "big_json"]):
            r = call(gw, s, tool, {"bytes": 2 << 20})
            expect_error(r, 502, -32603)
            assert gw.alive, f"the gateway died after oversized answer {i + 1}"
        assert call(gw, s, "ok").status_code == 200
        s.close()


# ---------------------------------------------------------------------------------------------
# H3: one endless SSE line


def test_endless_sse_line_ends_with_an_error_and_never_stalls_other_clients(procs, good, hostile):
    """H3, report cases 356-357: the upstream answers a call with one `data:` line that never ends (8 KiB
    chunks for up to 8 s). Framing is linear, so past maxSseEventBytes (4 MiB here) the stream ends within
    5 s with a JSON-RPC -32603 error (502 when nothing was sent yet), and the canary on the other route
    keeps its latency under 2 s. The unfixed framer rescanned the line on every chunk: 99 s of CPU, canary 33 s."""
    gw = gateway(procs, good, evil_route(hostile.url), settings={"limits": {"maxSseEventBytes": 4 << 20}})
    with attack_guard(gw) as canary:
        s = session(gw)
        t0 = time.monotonic()
        try:
            r, _ = s.call_tool("endless_sse", {"seconds": 8})
            outcome = f"HTTP {r.status_code}"
        except httpx2.HTTPError as e:
            r, outcome = None, repr(e)
        took = time.monotonic() - t0
        assert r is not None and took < 5, (
            f"the endless line was not cut: {outcome} after {took:.1f} s; canary worst {max(canary.latencies):.1f} s"
        )
        assert r.status_code in (200, 502), r.text[:300]
        assert the_error(r)["code"] == -32603
        s.close()


# ---------------------------------------------------------------------------------------------
# H4: standing GET streams and the request pool


def test_thirty_standing_get_streams_leave_the_request_pool_to_requests(procs, good):
    """H4, report case 372: with maxConnectionsPerEndpoint 10, 30 clients hold their standing GET streams
    (as every SDK client does). The streams do not take pool connections: all 30 are open (200), and
    tools/call still answers 200 within 2 s (it got 504 after requestTimeout 5s)."""
    gw = tuned_gateway(
        procs, {"alpha": [good.url]}, request_timeout="5s", settings={"upstream": {"maxConnectionsPerEndpoint": 10}}
    )
    caller = RawSession(gw.url).initialize()
    sessions = [RawSession(gw.url).initialize() for _ in range(30)]
    streams: list[Any] = []
    statuses: list[int | str] = []
    lock = threading.Lock()

    def open_stream(s: RawSession) -> None:
        h = {**s.headers(), "Accept": "text/event-stream"}
        h.pop("Content-Type", None)
        try:
            r = s.client.send(s.client.build_request("GET", s.url, headers=h), stream=True)
            with lock:
                streams.append(r)
                statuses.append(r.status_code)
        except httpx2.HTTPError as e:
            with lock:
                statuses.append(repr(e)[:80])

    try:
        with attack_guard(gw):
            threads = [threading.Thread(target=open_stream, args=(s,), daemon=True) for s in sessions]
            for t in threads:
                t.start()
            for t in threads:
                t.join(12)
            assert statuses.count(200) == 30, f"GET streams: {sorted(map(str, statuses))}"
            for _ in range(4):
                t0 = time.monotonic()
                r, res = caller.call_tool("add", {"a": 1, "b": 2})
                took = time.monotonic() - t0
                assert r.status_code == 200 and took < 2, (
                    f"tools/call with 30 GET streams open: HTTP {r.status_code} in {took:.1f} s"
                )
            for r in streams:
                r.close()
    finally:
        for r in streams:
            r.close()
        for s in [caller, *sessions]:
            s.close()


@pytest.mark.parametrize("keepalive", [False, True])
def test_silent_get_stream_ends_after_stream_idle_timeout_and_keep_alives_count_as_activity(procs, good, hostile, keepalive):
    """H4: `config.upstream.streamIdleTimeout` (1s here) applies to standing GET streams: an upstream GET
    stream that stays silent is ended within 3 s (the unfixed gateway held it for as long as the upstream
    did), while one that sends a keep-alive comment every 0.3 s is still open after 3 s."""
    url = f"http://127.0.0.1:{hostile.port}/sse-get" + ("?keepalive" if keepalive else "")
    gw = gateway(procs, good, evil_route(url), settings={"upstream": {"streamIdleTimeout": "1s"}})
    with attack_guard(gw):
        s = session(gw)
        h = {**s.headers(), "Accept": "text/event-stream"}
        h.pop("Content-Type", None)
        ended: list[float] = []
        t0 = time.monotonic()

        def read_stream() -> None:
            try:
                with s.client.stream("GET", s.url, headers=h, timeout=httpx2.Timeout(8.0)) as r:
                    assert r.status_code == 200, r.status_code
                    for _ in r.iter_raw():
                        pass
            except (httpx2.HTTPError, AssertionError):
                pass
            ended.append(time.monotonic() - t0)

        reader = threading.Thread(target=read_stream, daemon=True)
        reader.start()
        reader.join(3.0)
        if keepalive:
            assert not ended, f"a GET stream with a keep-alive comment every 0.3 s was ended after {ended[0]:.1f} s"
        else:
            assert ended, "a silent GET stream was still open 3 s after it went silent (streamIdleTimeout 1s)"
        reader.join(8.0)
        s.close()


# ---------------------------------------------------------------------------------------------
# M3: redirects


def test_redirect_to_another_origin_is_not_followed(procs, good, hostile):
    """M3, report cases 326, 334, 358: a 307 to another origin (here another port) gets 502 -32603, and
    the other origin receives nothing: not the body, not the client's X-Api-Key, not the upstream session id."""
    recorder = hostile_upstream(procs, "recorder")
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        for location in (f"http://127.0.0.1:{recorder.port}/landing", f"//127.0.0.1:{recorder.port}/landing"):
            r = call(gw, s, "redirect", {"location": location}, extra={"X-Api-Key": "client-secret-key"})
            expect_error(r, 502, -32603)
        assert recorder.received() == [], f"the other origin was called: {recorder.received()[:1]}"
        s.close()


def test_redirect_to_the_gateways_own_admin_api_is_not_followed(procs, good, hostile):
    """M3, report cases 329, 368: a 307 to the gateway's own `POST /reload` gets 502 -32603 and the
    configuration is not reloaded (the unfixed gateway POSTed to itself and reloaded)."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "redirect", {"location": f"{gw.admin_url}/reload"})
        expect_error(r, 502, -32603)
        time.sleep(0.3)
        assert "configuration reloaded" not in gw.log_text(20000), "the gateway POSTed to its own /reload: configuration reloaded"
        s.close()


@pytest.mark.parametrize("status", [301, 302, 303])
def test_other_redirect_statuses_are_502(procs, good, hostile, status):
    """M3: a 3xx other than a followed same-origin 307/308 gets 502 -32603."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "redirect", {"location": f"http://127.0.0.1:{hostile.port}/elsewhere", "status": status})
        expect_error(r, 502, -32603)
        s.close()


def test_same_origin_redirect_is_still_followed(procs, good, hostile):
    """M3 guard: a 307 to another path of the same origin (an SDK server's `/mcp/` -> `/mcp`) is followed."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "redirect", {"location": f"http://127.0.0.1:{hostile.port}/elsewhere"})
        assert r.status_code == 200, r.text[:300]
        assert "ok /elsewhere" in r.text, r.text[:300]
        s.close()


def test_redirect_to_a_listed_origin_carries_no_client_headers_or_upstream_session(procs, good, hostile):
    """M3 + L12, report case 358: with the other origin in the target's `redirectOrigins`, the 307 is
    followed, but without the client's end-to-end headers (X-Api-Key, X-Remote-User) and without the
    upstream's session id."""
    recorder = hostile_upstream(procs, "listed-recorder")
    other = f"http://127.0.0.1:{recorder.port}"
    gw = gateway(procs, good, evil_route(hostile.url, redirectOrigins=[other]))
    with attack_guard(gw):
        s = session(gw)
        extra = {"X-Api-Key": "client-secret-key", "X-Remote-User": "admin"}
        r = call(gw, s, "redirect", {"location": f"{other}/landing"}, extra=extra)
        assert r.status_code == 200 and "ok /landing" in r.text, r.text[:300]
        got = recorder.received()
        assert len(got) == 1, got
        sent = got[0]["headers"]
        leaked = {k: sent[k] for k in ("x-api-key", "x-remote-user", "mcp-session-id", "authorization") if k in sent}
        assert not leaked, f"sent to the other origin: {leaked}"
        s.close()


# ---------------------------------------------------------------------------------------------
# M4: what error messages may say


def assert_no_internals(err: dict[str, Any], *secrets: str) -> None:
    text = json.dumps(err)
    found = [
        x
        for x in ("127.0.0.1", "localhost", "errno", "SingleConnectionFailure", "BoringSSL", ".build", "checkouts", *secrets)
        if x in text
    ]
    assert not found, f"the client's error names {found}: {text[:600]}"


def test_unreachable_upstream_error_names_no_address(procs, good):
    """M4, report cases 328, 359: an upstream nobody listens on gets 502 -32603 "Upstream 'db' is
    unreachable": no host, IP, port or errno text (the details go to the log)."""
    port = free_port()
    gw = gateway(procs, good, evil_route(f"http://localhost:{port}/internal/mcp", path="/down", name="db"))
    with attack_guard(gw):
        r = httpx2.post(
            f"http://127.0.0.1:{gw.port}/down",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}},
            },
            headers={"Accept": ACCEPT_BOTH},
            timeout=10,
        )
        body = expect_error(r, 502, -32603)
        assert body["error"]["message"].startswith("Upstream 'db' is unreachable"), body
        assert_no_internals(body["error"], str(port), "refused")


def test_tls_failure_error_names_no_library_or_build_path(procs, good):
    """M4, report case 333: TLS to a plain-HTTP port (the SDK upstream's, which answers the ClientHello with
    an HTTP 400) fails with 502 -32603 naming the target only: no BoringSSL error, no build path, no address."""
    gw = gateway(procs, good, evil_route(f"https://127.0.0.1:{good.port}/mcp", path="/tls", name="tls"))
    with attack_guard(gw):
        r = httpx2.post(
            f"http://127.0.0.1:{gw.port}/tls",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}},
            },
            headers={"Accept": ACCEPT_BOTH},
            timeout=10,
        )
        body = expect_error(r, 502, -32603)
        assert body["error"]["message"].startswith("Upstream 'tls' "), body
        assert_no_internals(body["error"], str(good.port))


def test_timeout_error_names_no_internal_error(procs, good, hostile):
    """M4, report cases 337 and 350: an upstream slower than requestTimeout (1s) gets 504 -32603 "Upstream
    'evil' did not answer in time", without the internal error it came from (`deadlineExceeded`)."""
    gw = gateway(procs, good, evil_route(hostile.url), request_timeout="1s")
    with attack_guard(gw):
        s = session(gw)
        body = expect_error(call(gw, s, "sleep", {"seconds": 3}), 504, -32603)
        message = body["error"]["message"]
        assert message.startswith("Upstream 'evil' did not answer in time") and "deadline" not in message.lower(), body
        s.close()


def test_upstream_4xx_text_body_is_not_reflected(procs, good, hostile):
    """M4, report case 342: an upstream 400 with a text body (a traceback, a password, an internal
    address) reaches the client as a fixed message naming only the status."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "text_4xx")
        err = the_error(r)
        assert "answered HTTP 400" in err["message"], err
        assert_no_internals(err, "hunter2", "Traceback", "10.1.2.3", "DB_PASSWORD")
        s.close()


# ---------------------------------------------------------------------------------------------
# L7, L8, L10, L12: what crosses the gateway


def test_upstream_error_with_null_id_is_relayed_as_the_upstreams_error(procs, good, hostile):
    """L7, report cases 130 and 377: an upstream's HTTP 400 JSON-RPC error with `"id": null` (an SDK
    server's parse error) reaches the client as that error (-32700 and its message), not re-wrapped as a
    gateway -32600 carrying the raw body."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        err = the_error(call(gw, s, "null_id_error"))
        assert err["code"] == -32700 and err["message"] == "Parse error: hostile upstream", err
        s.close()


def test_big_integer_in_arguments_reaches_the_upstream_unchanged(procs, good, hostile):
    """L8, report case 153: an argument of 400 digits is valid JSON; it is relayed upstream digit for digit
    (the unfixed gateway answered -32700 "too big integer")."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        digits = "9" * 400
        body = '{"jsonrpc":"2.0","id":21,"method":"tools/call","params":{"name":"ok","arguments":{"n":%s}}}' % digits
        r = s.post(body)
        assert r.status_code == 200, r.text[:300]
        sent = [x["body"] for x in hostile.received() if '"id":21' in x["body"].replace(" ", "")]
        assert sent and digits in sent[-1], sent[-1:]
        s.close()


def test_json_answer_with_another_id_is_502(procs, good, hostile):
    """L10, report case 346: in JSON mode an answer whose id is not the request's ("zzz" for 7) gets
    502 -32603, as on the SSE path."""
    gw = gateway(procs, good, evil_route(hostile.url))
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "wrong_id")
        expect_error(r, 502, -32603)
        assert "zzz" not in r.text
        s.close()


CLIENT_HEADERS = {
    "X-Remote-User": "admin",
    "X-Api-Key": "client-secret-key",
    "X-Custom-Thing": "1",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "Accept-Language": "de",
    "User-Agent": "attack-suite/1",
}


@pytest.mark.parametrize("forward", [[], ["X-Api-Key"]])
def test_client_headers_reach_the_upstream_by_allow_list(procs, good, hostile, forward):
    """L12, report case 376: by default only the allow-list crosses (traceparent, Accept-Language,
    User-Agent, ...); X-Remote-User, X-Api-Key and other custom headers do not, unless
    `config.upstream.forwardHeaders` names them."""
    settings = {"upstream": {"forwardHeaders": forward}} if forward else {}
    gw = gateway(procs, good, evil_route(hostile.url), settings=settings)
    with attack_guard(gw):
        s = session(gw)
        r = call(gw, s, "headers", extra=CLIENT_HEADERS)
        assert r.status_code == 200, r.text[:300]
        got = [m for m in messages(r) if "result" in m][0]["result"]["structuredContent"]
        expected_absent = {"x-remote-user", "x-custom-thing"} | ({"x-api-key"} - {f.lower() for f in forward})
        leaked = {k: got[k] for k in expected_absent if k in got}
        assert not leaked, f"forwarded upstream: {leaked}"
        for name in ("traceparent", "accept-language", "user-agent", *[f.lower() for f in forward]):
            assert got.get(name) == CLIENT_HEADERS[next(k for k in CLIENT_HEADERS if k.lower() == name)], (name, got)
        s.close()
