"""Upstream hardening (issue #11, attack run 2026-12): what the gateway does with upstreams that answer too
much (C1), hold streams (H4), redirect elsewhere (M3), fail (M4), answer with a null or another id (L7,
L10), and which client headers they get (L12); plus the plugin side: an upstream JSON-RPC error sent with a
4xx passes the filters' response hook.

The misbehaving upstreams are servers/hostile_up_scripted.py (one mode per process; it prints every
request it gets, with its headers, to its log)."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2
import pytest

import harness
from harness import (
    INIT_PARAMS, ScriptedHostile, RawSession, base_headers, encode_body, expect_error, free_port, modern_request, rpc,
)

SECRET = "DB_PASSWORD=hunter2"


def hostile(procs, mode: str, arg: str = "", *flags: str, port: int | None = None) -> ScriptedHostile:
    h = ScriptedHostile(procs._name(f"hostile-{mode}-"), procs.logdir, mode, arg, *flags, port=port)
    procs.started.append(h)
    return h.start()


def gateway(procs, targets, *, upstream=None, limits=None, mcp_extra=None, start=True, **kw):
    """A gateway whose generated config gets `upstream`/`limits` keys and per-target `mcp:` keys added."""
    g = procs.gateway(targets, start=False, **kw)
    settings = g.config["config"]
    settings["upstream"].update(upstream or {})
    settings["limits"].update(limits or {})
    for target in g.config["binds"][0]["listeners"][0]["routes"][0]["backends"][0]["mcp"]["targets"]:
        target["mcp"].update((mcp_extra or {}).get(target["name"], {}))
    g.config_path.write_text(harness.to_yaml(g.config) + "\n")
    return g.start() if start else g


def error_of(r: httpx2.Response) -> dict[str, Any]:
    return r.json()["error"]


# --------------------------------------------------------------------------------------------
# C1: an answer the gateway will not relay is answered once, and the process lives on


def test_two_oversized_json_answers_in_a_row_each_get_502_and_the_gateway_lives(procs):
    h = hostile(procs, "big-json", "200000")
    gw = gateway(procs, {"evil": [h.url]}, limits={"maxResponseBodyBytes": "64KiB"})
    s = RawSession(gw.url).initialize()
    for _ in range(3):
        r, _ = s.call_tool("blob")
        expect_error(r, 502, -32603)
        assert error_of(r)["message"] == "Upstream 'evil' sent a response larger than 65536 bytes"
    assert gw.alive, gw.log_text()
    assert "precondition" not in gw.log_text()
    RawSession(gw.url).initialize()  # still served


def test_oversized_sse_event_ends_the_stream_with_an_error_for_the_request(procs):
    h = hostile(procs, "big-sse", "200000")
    gw = gateway(procs, {"evil": [h.url]}, limits={"maxSseEventBytes": "64KiB"})
    s = RawSession(gw.url).initialize()
    for _ in range(2):
        msg = rpc("tools/call", {"name": "blob", "arguments": {}})
        r = s.post(msg)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream"), r.text[:300]
        err = harness.response_for(r, msg["id"])["error"]
        assert err["code"] == -32603
        assert err["message"] == "Upstream 'evil' sent an SSE event larger than 65536 bytes"
    assert gw.alive
    RawSession(gw.url).initialize()


# --------------------------------------------------------------------------------------------
# H4: standing GET streams keep out of the request pool, end when idle; pool waits are counted


def _open_streams(url: str, sessions: list[RawSession]) -> list[tuple[httpx2.Client, httpx2.Response]]:
    streams = []
    for s in sessions:
        c = httpx2.Client(timeout=httpx2.Timeout(10, read=None))
        h = s.headers()
        h["Accept"] = "text/event-stream"
        h.pop("Content-Type", None)
        r = c.send(c.build_request("GET", url, headers=h), stream=True)
        streams.append((c, r))
    return streams


def test_standing_get_streams_do_not_take_the_request_pool(procs):
    up = procs.upstream("h4-up")
    gw = gateway(procs, {"t": [up.url]}, upstream={"maxConnectionsPerEndpoint": 2, "requestTimeout": "5s"})
    sessions = [RawSession(gw.url).initialize() for _ in range(12)]
    streams = _open_streams(gw.url, sessions)
    try:
        assert [r.status_code for _, r in streams] == [200] * 12
        for _ in range(3):
            t0 = time.monotonic()
            assert sessions[0].call_ok("add", {"a": 1, "b": 2})["structuredContent"]["result"] == 3
            assert time.monotonic() - t0 < 4, "the call waited for a pooled connection"
        RawSession(gw.url).initialize()
    finally:
        for c, r in streams:
            r.close()
            c.close()


def test_silent_get_stream_ends_after_stream_idle_timeout(procs):
    h = hostile(procs, "get-silent")
    gw = gateway(procs, {"evil": [h.url]}, upstream={"streamIdleTimeout": "1s"})
    s = RawSession(gw.url).initialize()
    h_ = s.headers()
    h_["Accept"] = "text/event-stream"
    h_.pop("Content-Type", None)
    t0 = time.monotonic()
    with httpx2.Client(timeout=httpx2.Timeout(10, read=15)) as c, c.stream("GET", gw.url, headers=h_) as r:
        assert r.status_code == 200
        body = b"".join(r.iter_bytes())
    assert time.monotonic() - t0 < 12, "the idle stream was not ended"
    assert b"data:" not in body


def test_keep_alive_comments_keep_a_get_stream_open_past_the_idle_timeout(procs):
    h = hostile(procs, "get-keepalive", "3")
    gw = gateway(procs, {"evil": [h.url]}, upstream={"streamIdleTimeout": "1s"})
    s = RawSession(gw.url).initialize()
    h_ = s.headers()
    h_["Accept"] = "text/event-stream"
    h_.pop("Content-Type", None)
    with httpx2.Client(timeout=httpx2.Timeout(10, read=15)) as c, c.stream("GET", gw.url, headers=h_) as r:
        assert r.status_code == 200
        seen = b""
        for chunk in r.iter_bytes():
            seen += chunk
            if b"still here" in seen:
                break
    assert b"still here" in seen, seen[-300:]


def test_requests_that_wait_for_a_pooled_connection_are_counted(procs):
    up = procs.upstream("h4-metric-up")
    gw = gateway(procs, {"t": [up.url]}, upstream={"maxConnectionsPerEndpoint": 1})
    metrics_url = f"http://127.0.0.1:{gw.stats_port}/metrics"

    def waits() -> float:
        text = httpx2.get(metrics_url, timeout=5).text
        line = next(l for l in text.splitlines() if l.startswith("mcpgate_upstream_pool_waits_total"))
        return float(line.split()[-1])

    assert waits() == 0
    s = RawSession(gw.url).initialize()
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(s.call_ok("slow", {"steps": 3}))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6
    assert waits() >= 1


# --------------------------------------------------------------------------------------------
# M3: redirects


def test_redirect_to_another_origin_is_refused(procs):
    receiver = hostile(procs, "echo-headers")
    h = hostile(procs, "redirect", receiver.url)
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    r, _ = s.call_tool("x", extra={"X-Api-Key": "client-secret-key"})
    expect_error(r, 502, -32603)
    assert error_of(r)["message"] == "Upstream 'evil' answered with a redirect the gateway does not follow"
    assert receiver.received("POST") == [], "the gateway followed the redirect to another origin"


def test_redirect_to_a_listed_origin_carries_no_client_headers_and_no_upstream_session(procs):
    receiver = hostile(procs, "echo-headers")
    h = hostile(procs, "redirect", receiver.url)
    gw = gateway(
        procs, {"evil": [h.url]}, mcp_extra={"evil": {"redirectOrigins": [receiver.origin]}},
        upstream={"forwardHeaders": ["X-Api-Key"]})
    s = RawSession(gw.url).initialize()
    extra = {"X-Api-Key": "client-secret-key", "X-Remote-User": "admin", "Authorization": "Bearer client-token",
             "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    seen = s.call_ok("x", extra=extra)["structuredContent"]["headers"]
    for name in ("x-api-key", "x-remote-user", "authorization", "mcp-session-id", "x-forwarded-for", "traceparent"):
        assert name not in seen, f"{name} crossed to another origin: {seen}"
    assert seen["mcp-protocol-version"] == s.protocol_version
    first_hop = [x for x in h.received("POST") if "tools/call" in x["body"]][-1]["headers"]
    assert first_hop["x-api-key"] == "client-secret-key"  # forwardHeaders: the configured origin gets it
    assert first_hop["mcp-session-id"] == "upstream-secret-session"


def test_redirect_into_the_gateway_admin_api_is_refused(procs):
    port = free_port()
    g = gateway(procs, {"evil": [f"http://127.0.0.1:{port}/mcp"]}, start=False)
    hostile(procs, "redirect", f"http://127.0.0.1:{g.admin_port}/reload", port=port)
    g.start()
    s = RawSession(g.url).initialize()
    r, _ = s.call_tool("x")
    expect_error(r, 502, -32603)
    time.sleep(0.3)
    assert "configuration reloaded" not in g.log_text()


def test_a_redirect_that_is_not_307_or_308_is_a_502(procs):
    h = hostile(procs, "status", "302")
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    r, _ = s.call_tool("x")
    expect_error(r, 502, -32603)


# --------------------------------------------------------------------------------------------
# M4: what error messages tell a client


def test_unreachable_upstream_message_names_only_the_target(procs):
    port = free_port()  # nothing listens here
    gw = gateway(procs, {"db": [f"http://localhost:{port}/internal/mcp"]})
    r = httpx2.post(gw.url, content=encode_body(rpc("initialize", INIT_PARAMS)), headers=base_headers(), timeout=15)
    expect_error(r, 502, -32603)
    assert error_of(r)["message"] == "Upstream 'db' is unreachable"
    for leak in (str(port), "127.0.0.1", "errno", "Connection", "/internal"):
        assert leak not in r.text, f"{leak!r} in {r.text}"
    assert harness.wait_until(lambda: str(port) in gw.log_text(), 5), "the detail belongs in the log"


def test_upstream_4xx_text_body_is_not_reflected(procs):
    h = hostile(procs, "status", f"400:Traceback {SECRET} at 10.1.2.3:5432")
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    r, _ = s.call_tool("x")
    expect_error(r, 400, -32600)
    assert error_of(r)["message"] == "Upstream 'evil' answered HTTP 400"
    assert "hunter2" not in r.text and "10.1.2.3" not in r.text


# --------------------------------------------------------------------------------------------
# L7, L10: ids of upstream answers


def test_null_id_upstream_error_is_relayed_as_the_upstreams_error_under_the_request_id(procs):
    h = hostile(procs, "null-id-error")
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    msg = rpc("tools/call", {"name": "x", "arguments": {}})
    r = s.post(msg)
    body = expect_error(r, 400, -32700)
    assert body is not None and body["id"] == msg["id"]
    assert body["error"]["message"] == "Parse error from upstream"


@pytest.mark.parametrize("flags", [(), ("--duplicate-id",)], ids=["other-id", "duplicate-id-keys"])
def test_json_answer_for_another_id_is_a_502(procs, flags):
    h = hostile(procs, "wrong-id", "", *flags)
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    msg = rpc("tools/call", {"name": "x", "arguments": {}})
    r = s.post(msg)
    body = expect_error(r, 502, -32603)
    assert body is not None and body["id"] == msg["id"]
    assert "zzz" not in r.text


# --------------------------------------------------------------------------------------------
# L12: which client headers reach the upstream


IDENTITY = {"X-Remote-User": "admin", "X-Api-Key": "client-secret-key", "X-Forwarded-User": "root", "Cookie": "sid=1",
            "User-Agent": "probe/1", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}


def test_client_headers_reach_the_upstream_by_allow_list(procs):
    receiver = hostile(procs, "echo-headers")
    gw = gateway(procs, {"t": [receiver.url]})
    s = RawSession(gw.url).initialize()
    seen = s.call_ok("x", extra=IDENTITY)["structuredContent"]["headers"]
    for name in ("x-remote-user", "x-api-key", "x-forwarded-user", "cookie"):
        assert name not in seen, f"{name} was forwarded: {seen}"
    assert seen["user-agent"] == "probe/1"
    assert seen["traceparent"] == IDENTITY["traceparent"]
    assert seen["x-forwarded-for"] == "127.0.0.1"


def test_forward_headers_adds_names_to_the_allow_list(procs):
    receiver = hostile(procs, "echo-headers")
    gw = gateway(procs, {"t": [receiver.url]}, upstream={"forwardHeaders": ["X-Api-Key"]})
    s = RawSession(gw.url).initialize()
    seen = s.call_ok("x", extra=IDENTITY)["structuredContent"]["headers"]
    assert seen["x-api-key"] == "client-secret-key"
    assert "x-remote-user" not in seen


# --------------------------------------------------------------------------------------------
# plugin side: an upstream JSON-RPC error with a 4xx status is a response like any other


def test_upstream_jsonrpc_error_with_4xx_is_relayed_with_its_status(procs):
    h = hostile(procs, "rpc-error", "403")
    gw = gateway(procs, {"evil": [h.url]})
    s = RawSession(gw.url).initialize()
    msg = rpc("tools/call", {"name": "x", "arguments": {}})
    r = s.post(msg)
    body = expect_error(r, 403, -32000)
    assert body is not None and body["id"] == msg["id"]


def test_upstream_jsonrpc_error_with_4xx_passes_the_response_hook(procs):
    h = hostile(procs, "rpc-error", "400")
    redact = {"path": str(harness.plugin_path("test_filter")),
              "config": {"tag": "redact", "response": "reject", "code": -32050, "message": "redacted"}}
    gw = gateway(procs, {"evil": [h.url]}, policies={"plugins": [redact]})
    # 2026-07-28: no session to open, so the redacting hook meets only the upstream's error.
    msg, headers = modern_request("tools/call", {"name": "x", "arguments": {}})
    r = httpx2.post(gw.url, content=encode_body(msg), headers=headers, timeout=15)
    body = expect_error(r, 400, -32050)
    assert body is not None and body["id"] == msg["id"]
    assert body["error"]["message"] == "redacted"
    assert "hunter2" not in r.text
