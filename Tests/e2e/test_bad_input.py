"""Bad input gets the HTTP status and JSON-RPC code docs/errors.md names; nothing crashes and
an unrelated session keeps working afterwards.

Raw httpx2 against the gateway. Where the official SDK server gives the same answer, the case
also runs against the upstream directly (`direct`), which proves the request is well formed and
that only the property under test is wrong. Cases whose answer is the gateway's own choice
(413 limit, 415, batches, sealed-session expiry/keys, ...) run against the gateway only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from harness import (
    HANDSHAKE_VERSION,
    MODERN_VERSION,
    ManagedProcess,
    RawSession,
    base_headers,
    encode_body,
    expect_error,
    flip_char,
    modern_request,
    new_key,
    notification,
    rpc,
)

# ---------------------------------------------------------------------------------------------
# environment


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("bad-input-up")


@pytest.fixture(scope="module")
def gw(mprocs, up):
    return mprocs.gateway({"t": [up.url]}, name="gw-bad-input")


@dataclass
class Env:
    kind: str  # "gateway" | "direct"
    url: str
    proc: ManagedProcess
    healthy: RawSession  # opened before the bad input, must still work after it
    victim: RawSession  # the session the bad input is aimed at
    http: httpx2.Client

    @property
    def is_gateway(self) -> bool:
        return self.kind == "gateway"

    def post(self, body: Any, headers: dict[str, str]) -> httpx2.Response:
        return self.http.post(self.url, content=encode_body(body), headers=headers)

    def assert_healthy(self) -> None:
        assert self.proc.alive, f"{self.kind} process died (exit {self.proc.returncode})"
        res = self.healthy.call_ok("add", {"a": 7, "b": 8})
        assert res["structuredContent"] == {"result": 15}
        res = self.victim.call_ok("add", {"a": 1, "b": 1})
        assert res["structuredContent"] == {"result": 2}


def _env(kind: str, url: str, proc: ManagedProcess):
    healthy = RawSession(url).initialize()
    victim = RawSession(url).initialize()
    http = httpx2.Client(timeout=httpx2.Timeout(15.0))
    try:
        yield Env(kind, url, proc, healthy, victim, http)
    finally:
        http.close()
        for s in (healthy, victim):
            try:
                s.delete()
            except httpx2.HTTPError:
                pass
            s.close()


@pytest.fixture(params=["gateway", "direct"])
def env(request):
    """Both the gateway and the SDK server answer this case the same way."""
    if request.param == "gateway":
        g = request.getfixturevalue("gw")
        yield from _env("gateway", g.url, g)
    else:
        u = request.getfixturevalue("up")
        yield from _env("direct", u.url, u)


@pytest.fixture
def genv(gw):
    """Gateway-only cases."""
    yield from _env("gateway", gw.url, gw)


def _id_ok(body: dict[str, Any] | None, req_id: Any) -> None:
    if body is not None:
        assert body["id"] in (req_id, None), f"error id must be the request's ({req_id}) or null: {body}"


# ---------------------------------------------------------------------------------------------
# body


def test_garbage_body_is_a_parse_error(env):
    r = env.post(b"\x00this is { not json", env.victim.headers())
    body = expect_error(r, 400, -32700)
    assert body["id"] is None
    env.assert_healthy()


def test_truncated_json_is_a_parse_error(env):
    r = env.post(b'{"jsonrpc":"2.0","id":1,"method":"tools/li', env.victim.headers())
    expect_error(r, 400, -32700)
    env.assert_healthy()


def test_invalid_utf8_is_a_parse_error(genv):
    r = genv.post(b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"\xff\xfe"}}', genv.victim.headers())
    expect_error(r, 400, -32700)
    genv.assert_healthy()


def test_body_over_the_limit_is_413(genv):
    msg = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2, "pad": "x" * 70_000}})
    r = genv.post(msg, genv.victim.headers())
    expect_error(r, 413, -32600)
    genv.assert_healthy()


def test_body_just_under_the_limit_is_served(genv):
    msg = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
    overhead = len(encode_body(msg)) + len(',"pad":""') + 16
    msg["params"]["arguments"]["pad"] = "x" * (65536 - overhead)
    assert len(encode_body(msg)) <= 65536
    r = genv.post(msg, genv.victim.headers())
    assert r.status_code == 200, r.text[:500]
    genv.assert_healthy()


def test_batch_is_an_invalid_request(genv):
    r = genv.post([rpc("tools/list"), rpc("tools/list")], genv.victim.headers())
    expect_error(r, 400, -32600)
    genv.assert_healthy()


@pytest.mark.parametrize(
    "body",
    [
        {"id": 1, "method": "tools/list"},  # no "jsonrpc"
        {"jsonrpc": "1.0", "id": 1, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": {"x": 1}, "method": "tools/list"},  # bad id type
        {"jsonrpc": "2.0", "id": None, "method": "tools/list"},  # null id
        {"jsonrpc": "2.0", "id": 1, "method": 42},
        b'"just a string"',
        42,
    ],
    ids=["no-jsonrpc", "jsonrpc-1.0", "object-id", "null-id", "numeric-method", "string", "number"],
)
def test_json_that_is_not_one_jsonrpc_message_is_an_invalid_request(genv, body):
    r = genv.post(body, genv.victim.headers())
    expect_error(r, 400, -32600)
    genv.assert_healthy()


# ---------------------------------------------------------------------------------------------
# HTTP headers and methods


def test_accept_without_event_stream_is_406(env):
    r = env.post(rpc("tools/list"), env.victim.headers({"Accept": "application/json"}))
    expect_error(r, 406, -32600)
    env.assert_healthy()


def test_wrong_content_type_is_415(genv):
    r = genv.post(rpc("tools/list"), genv.victim.headers({"Content-Type": "text/plain"}))
    expect_error(r, 415, -32600)
    genv.assert_healthy()


def test_put_is_405(env):
    r = env.http.put(env.url, content=b"{}", headers=env.victim.headers())
    expect_error(r, 405, -32600)
    allow = {m.strip() for m in r.headers.get("allow", "").split(",")}
    assert {"GET", "POST", "DELETE"} <= allow, r.headers
    env.assert_healthy()


def test_bad_origin_is_403(env):
    r = env.victim.post(rpc("tools/list"), extra={"Origin": "http://evil.example"})
    expect_error(r, 403, -32600, jsonrpc_body=env.is_gateway)
    env.assert_healthy()


def test_loopback_origin_is_allowed(env):
    r, res = env.victim.request("tools/list", {}, extra={"Origin": "http://localhost:5173"})
    assert r.status_code == 200 and "tools" in res["result"], r.text[:500]
    env.assert_healthy()


def test_foreign_host_on_loopback_bind_is_421(env):
    """DNS-rebinding protection (docs/errors.md: 421 -32600)."""
    r = env.victim.post(rpc("tools/list"), extra={"Host": "evil.example"})
    expect_error(r, 421, -32600, jsonrpc_body=env.is_gateway)
    env.assert_healthy()


def test_oversized_headers_are_431(genv):
    r = genv.victim.post(rpc("tools/list"), extra={"X-Padding": "p" * 70_000})
    expect_error(r, 431, -32600)
    genv.assert_healthy()


# ---------------------------------------------------------------------------------------------
# handshake-era sessions


def test_request_without_session_id_is_400(env):
    r = env.post(rpc("tools/list"), base_headers() | {"MCP-Protocol-Version": HANDSHAKE_VERSION})
    body = expect_error(r, 400, -32600)
    assert "session" in body["error"]["message"].lower(), body
    env.assert_healthy()


def test_get_and_delete_without_session_id_are_400(env):
    r = env.http.get(env.url, headers={"Accept": "text/event-stream"})
    expect_error(r, 400, -32600)
    r = env.http.delete(env.url, headers={"Accept": "application/json, text/event-stream"})
    # the SDK server answers an id-less DELETE 400 too (its body is not checked: docs/errors.md binds the gateway)
    expect_error(r, 400, -32600, jsonrpc_body=env.is_gateway)
    env.assert_healthy()


def test_get_without_event_stream_accept_is_406(env):
    h = env.victim.headers({"Accept": "application/json"})
    h.pop("Content-Type")
    r = env.http.get(env.url, headers=h)
    expect_error(r, 406, -32600)
    env.assert_healthy()


def test_tampered_session_id_is_404(env):
    r = env.victim.post(rpc("tools/list"), session_id=flip_char(env.victim.session_id))
    body = expect_error(r, 404, -32600)
    assert "session" in body["error"]["message"].lower(), body
    env.assert_healthy()


@pytest.mark.parametrize(
    "sid",
    ["garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "-_-_", "x" * 300],
    ids=["word", "zeros", "punctuation", "long"],
)
def test_garbage_session_id_is_404(env, sid):
    r = env.victim.post(rpc("tools/list"), session_id=sid)
    expect_error(r, 404, -32600)
    env.assert_healthy()


def test_truncated_and_extended_session_ids_are_404(genv):
    sid = genv.victim.session_id
    for bad in (sid[:-1], sid[: len(sid) // 2], sid + "A", sid[1:]):
        r = genv.victim.post(rpc("tools/list"), session_id=bad)
        expect_error(r, 404, -32600)
    genv.assert_healthy()


def test_tampered_session_id_on_get_and_delete_is_404(genv):
    bad = flip_char(genv.victim.session_id)
    status, _ = genv.victim.open_get_stream(session_id=bad)
    assert status == 404
    r = genv.victim.delete(session_id=bad)
    expect_error(r, 404, -32600)
    genv.assert_healthy()  # the real session was not deleted


def test_expired_session_is_404(procs, up):
    g = procs.gateway({"t": [up.url]}, name="gw-ttl-1s", ttl="1s")
    s = RawSession(g.url).initialize()
    try:
        s.call_ok("add", {"a": 1, "b": 2})
        time.sleep(2.2)
        r, _ = s.call_tool("add", {"a": 1, "b": 2})
        expect_error(r, 404, -32600)
        # a new session on the same gateway works
        fresh = RawSession(g.url).initialize()
        assert fresh.call_ok("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
        fresh.close()
        assert g.alive
    finally:
        s.close()


def _foreign_session_is_404(procs, up, name: str, mine: dict, theirs: dict) -> None:
    g = procs.gateway({"t": [up.url]}, name=f"{name}-mine", **mine)
    other = procs.gateway({"t": [up.url]}, name=f"{name}-theirs", **theirs)
    mine_s = RawSession(g.url).initialize()
    foreign = RawSession(other.url).initialize()
    try:
        foreign.call_ok("add", {"a": 1, "b": 2})
        r = mine_s.post(rpc("tools/list"), session_id=foreign.session_id)
        expect_error(r, 404, -32600)
        assert mine_s.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        assert g.alive and other.alive
    finally:
        foreign.close()
        mine_s.close()


def test_session_sealed_with_an_unknown_key_is_404(procs, up):
    """Same route identity, different key: only the key makes the id foreign."""
    _foreign_session_is_404(
        procs, up, "gw-key", {"keys": [new_key()], "route_name": "r"}, {"keys": [new_key()], "route_name": "r"}
    )


def test_session_for_another_route_is_404(procs, up):
    """Same key, different route identity (docs/errors.md: "for another route")."""
    key = new_key()
    _foreign_session_is_404(procs, up, "gw-route", {"keys": [key], "route_name": "r1"}, {"keys": [key], "route_name": "r2"})


def test_rotated_key_ring_still_opens_old_sessions(procs, up):
    """config.session.keys: the first key seals, every key opens."""
    old, new = new_key(), new_key()
    g1 = procs.gateway({"t": [up.url]}, name="gw-key-old", keys=[old], route_name="r")
    s = RawSession(g1.url).initialize()
    g2 = procs.gateway({"t": [up.url]}, name="gw-key-rotated", keys=[new, old], route_name="r")
    try:
        on_g2 = RawSession(g2.url)
        on_g2.session_id, on_g2.protocol_version = s.session_id, s.protocol_version
        assert on_g2.call_ok("add", {"a": 3, "b": 4})["structuredContent"] == {"result": 7}
        on_g2.close()
    finally:
        s.close()


def test_protocol_version_other_than_negotiated_is_400(genv):
    other = "2025-06-18" if genv.victim.protocol_version != "2025-06-18" else "2025-03-26"
    r = genv.victim.post(rpc("tools/list"), extra={"MCP-Protocol-Version": other})
    expect_error(r, 400, -32600)
    genv.assert_healthy()


def test_initialized_notification_is_202(env):
    s = RawSession(env.url).initialize()
    try:
        r = s.initialized_response
        assert r is not None and r.status_code == 202, f"HTTP {r.status_code}: {r.text[:300]}"
        assert r.content == b""
    finally:
        s.delete()
        s.close()
    env.assert_healthy()


def test_notification_with_valid_session_is_202(env):
    r = env.victim.post(notification("notifications/cancelled", {"requestId": 424242, "reason": "test"}))
    assert r.status_code == 202, r.text[:300]
    assert r.content == b""
    env.assert_healthy()


def test_unknown_protocol_version_is_400_32022(env):
    msg, h = modern_request("server/discover", version="2099-01-01")
    r = env.post(msg, h)
    body = expect_error(r, 400, -32022)
    assert body["id"] == msg["id"]
    data = body["error"].get("data") or {}
    assert data.get("requested") == "2099-01-01", body
    assert MODERN_VERSION in data.get("supported", []), body
    if env.is_gateway:
        # docs/errors.md: supported lists 2025-11-25 too, so dual-era clients fall back
        assert HANDSHAKE_VERSION in data["supported"], body
    env.assert_healthy()


# ---------------------------------------------------------------------------------------------
# 2026-07-28 era


def test_modern_request_is_served(env):
    msg, h = modern_request("tools/call", {"name": "add", "arguments": {"a": 5, "b": 6}})
    r = env.post(msg, h)
    assert r.status_code == 200, r.text[:500]
    assert "mcp-session-id" not in r.headers, "no session id is minted in the 2026 era"
    env.assert_healthy()


def test_modern_mcp_method_mismatch_is_400_32020(env):
    msg, h = modern_request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, headers={"Mcp-Method": "tools/list"})
    body = expect_error(env.post(msg, h), 400, -32020)
    _id_ok(body, msg["id"])
    env.assert_healthy()


def test_modern_missing_mcp_method_is_400_32020(env):
    msg, h = modern_request("tools/list")
    del h["Mcp-Method"]
    expect_error(env.post(msg, h), 400, -32020)
    env.assert_healthy()


def test_modern_mcp_name_mismatch_is_400_32020(env):
    msg, h = modern_request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}, headers={"Mcp-Name": "count"})
    body = expect_error(env.post(msg, h), 400, -32020)
    _id_ok(body, msg["id"])
    env.assert_healthy()


def test_modern_resource_mcp_name_mismatch_is_400_32020(env):
    msg, h = modern_request("resources/read", {"uri": "test://static-text"}, headers={"Mcp-Name": "greeting://x"})
    expect_error(env.post(msg, h), 400, -32020)
    env.assert_healthy()


def test_modern_base64_mcp_name_is_accepted(env):
    msg, h = modern_request(
        "resources/read", {"uri": "test://static-text"}, headers={"Mcp-Name": "=?base64?dGVzdDovL3N0YXRpYy10ZXh0?="}
    )
    r = env.post(msg, h)
    assert r.status_code == 200, r.text[:500]
    env.assert_healthy()


def test_modern_version_header_not_matching_meta_is_400_32020(env):
    msg, h = modern_request("tools/list")
    msg["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = HANDSHAKE_VERSION
    expect_error(env.post(msg, h), 400, -32020)
    env.assert_healthy()


@pytest.mark.parametrize("param", [None, "us-east1"], ids=["missing", "mismatch"])
def test_modern_mcp_param_header_missing_or_mismatched_is_400_32020(env, param):
    extra = {"Mcp-Param-Region": param} if param else {}
    msg, h = modern_request("tools/call", {"name": "weather", "arguments": {"region": "eu-west1", "city": "Oslo"}}, headers=extra)
    expect_error(env.post(msg, h), 400, -32020)
    env.assert_healthy()


def test_modern_mcp_param_header_matching_is_forwarded(env):
    msg, h = modern_request(
        "tools/call",
        {"name": "weather", "arguments": {"region": "eu-west1", "city": "Oslo"}},
        headers={"Mcp-Param-Region": "eu-west1"},
    )
    r = env.post(msg, h)
    assert r.status_code == 200, r.text[:500]
    env.assert_healthy()


def test_modern_missing_meta_is_400_32602(env):
    msg, h = modern_request("tools/list", meta=False)
    body = expect_error(env.post(msg, h), 400, -32602)
    _id_ok(body, msg["id"])
    env.assert_healthy()


def test_modern_meta_without_client_capabilities_is_400_32602(env):
    msg, h = modern_request("tools/list")
    del msg["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
    expect_error(env.post(msg, h), 400, -32602)
    env.assert_healthy()


def test_modern_get_and_delete_are_405(env):
    for method in ("GET", "DELETE"):
        r = env.http.request(
            method, env.url, headers={"Accept": "text/event-stream, application/json", "MCP-Protocol-Version": MODERN_VERSION}
        )
        expect_error(r, 405, -32600, jsonrpc_body=env.is_gateway)
        assert r.headers.get("allow", "").replace(" ", "") == "POST", r.headers
    env.assert_healthy()


def test_modern_posted_response_is_400_32600(env):
    r = env.post({"jsonrpc": "2.0", "id": 5, "result": {}}, base_headers() | {"MCP-Protocol-Version": MODERN_VERSION})
    expect_error(r, 400, -32600)
    env.assert_healthy()


def test_modern_notification_is_202(env):
    h = base_headers() | {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "notifications/cancelled"}
    r = env.post(notification("notifications/cancelled", {"requestId": 1}), h)
    assert r.status_code == 202, r.text[:300]
    assert r.content == b""
    env.assert_healthy()


def test_modern_request_ignores_a_session_id(env):
    """An Mcp-Session-Id on a 2026 POST is ignored (not opened, not echoed)."""
    msg, h = modern_request("tools/list", headers={"Mcp-Session-Id": "not-a-session"})
    r = env.post(msg, h)
    assert r.status_code == 200, r.text[:500]
    assert "mcp-session-id" not in r.headers
    env.assert_healthy()


# ---------------------------------------------------------------------------------------------
# robustness


def test_a_burst_of_bad_requests_crashes_nothing(genv):
    bad_bodies: list[bytes] = [
        b"",
        b"{",
        b"[]",
        b"null",
        b'{"jsonrpc":"2.0"}',
        b'{"jsonrpc":"2.0","id":1}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"nope"}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":42}}',
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":null}',
        b"\xff" * 100,
        b'{"a":' * 5000,  # deep nesting
    ]
    for body in bad_bodies:
        for headers in (
            genv.victim.headers(),
            base_headers(),
            base_headers() | {"MCP-Protocol-Version": MODERN_VERSION, "Mcp-Method": "tools/call"},
        ):
            r = genv.post(body, headers)
            assert r.status_code < 500, (body[:40], r.status_code, r.text[:300])
    genv.assert_healthy()
