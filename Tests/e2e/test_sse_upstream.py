"""sse targets (issue #14): the gateway as an HTTP+SSE (2024-11-05) client of its upstream, and every way that
upstream can fail reaching the client as a clear error.

- the upstream restarted mid-session: the call in flight gets -32603 naming the target ("closed its SSE
  stream"), the session then gets 404 -32600, the SDK client raises `MCPError` and a new session works;
- an upstream whose stream never names its endpoint: `initialize` gets 504 after `sseEndpointTimeout`, and the
  gateway lets go of the GET;
- an endpoint of another origin: 502, and nothing is POSTed anywhere;
- `sseMaxPendingRequests: 2`: a third concurrent call in one session gets 503 naming the key;
- DELETE ends the upstream GET stream.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx2
import pytest

from harness import (
    INIT_PARAMS,
    RawSession,
    ScriptedHostile,
    StreamedCall,
    base_headers,
    encode_body,
    expect_error,
    rpc,
    sdk_client,
    sse_target,
    tuned_gateway,
    wait_until,
)

pytestmark = [pytest.mark.transports, pytest.mark.timeout(120)]


def scripted(procs: Any, mode: str) -> ScriptedHostile:
    h = ScriptedHostile(procs._name(mode), procs.logdir, mode)
    procs.started.append(h)
    return h.start()


def initialize_raw(url: str) -> tuple[httpx2.Response, float]:
    t0 = time.monotonic()
    with httpx2.Client(timeout=30) as hc:
        r = hc.post(url, content=encode_body(rpc("initialize", INIT_PARAMS)), headers=base_headers())
    return r, time.monotonic() - t0


def expect_target_error(message: dict[str, Any], target: str, fragment: str = "") -> None:
    err = message.get("error")
    assert isinstance(err, dict) and err.get("code") == -32603, message
    assert (err.get("data") or {}).get("target") == target, f"data.target must name {target!r}: {message}"
    assert fragment in err.get("message", ""), f"{fragment!r} not in {err.get('message')!r}"


def test_upstream_restarted_mid_session(procs):
    from mcp.shared.exceptions import MCPError

    up = procs.upstream("sse-restart-up", transport="sse")
    gw = tuned_gateway(procs, {"s": sse_target(up.url)})
    raw = RawSession(gw.url).initialize()
    assert raw.call_ok("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}

    async def scenario() -> tuple[dict[str, Any], int]:
        async with sdk_client(gw.url, "legacy") as c:
            assert (await c.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
            call = StreamedCall.tool(raw, "slow", {"steps": 20}, progress_token="restart")
            assert await anyio.to_thread.run_sync(lambda: call.started.wait(15)), call.text[:500]
            await anyio.to_thread.run_sync(up.restart)
            message = await anyio.to_thread.run_sync(call.response)
            with pytest.raises(MCPError) as ei:
                await c.call_tool("add", {"a": 1, "b": 2})
            assert ei.value.code == -32600, (ei.value.code, ei.value.message)
        async with sdk_client(gw.url, "legacy") as c:  # re-initialize on the new upstream process
            total = (await c.call_tool("add", {"a": 3, "b": 4})).structured_content["result"]
        return message, total

    message, total = anyio.run(scenario)
    expect_target_error(message, "s", "closed its SSE stream")
    assert total == 7
    r, _ = raw.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    raw.close()
    assert gw.alive


def test_no_endpoint_event_is_a_504_after_sse_endpoint_timeout(procs):
    h = scripted(procs, "sse-no-endpoint")
    gw = tuned_gateway(procs, {"s": sse_target(h.sse_url)}, upstream_extra={"sseEndpointTimeout": "1s"})
    r, took = initialize_raw(gw.url)
    body = expect_error(r, 504, -32603)
    assert body is not None
    expect_target_error(body, "s", "in time")
    assert "mcp-session-id" not in r.headers
    assert 0.8 <= took < 5, f"answered after {took:.2f}s (sseEndpointTimeout 1s)"
    assert wait_until(lambda: len(h.received("GET-closed")) == len(h.received("GET")), 5), h.log_text()
    assert h.received("POST") == []


def test_an_endpoint_of_another_origin_is_refused(procs):
    h = scripted(procs, "sse-foreign-endpoint")
    gw = tuned_gateway(procs, {"s": sse_target(h.sse_url)}, upstream_extra={"sseEndpointTimeout": "5s"})
    r, took = initialize_raw(gw.url)
    body = expect_error(r, 502, -32603)
    assert body is not None
    expect_target_error(body, "s")
    assert "127.0.0.2" not in r.text, "the error must not reflect the upstream's endpoint"
    assert took < 4, f"refused only after {took:.2f}s: the endpoint was not checked when it arrived"
    assert "mcp-session-id" not in r.headers
    assert wait_until(lambda: len(h.received("GET-closed")) == len(h.received("GET")), 5), h.log_text()
    assert h.received("POST") == []


def test_sse_max_pending_requests(procs):
    up = procs.upstream("sse-pending-up", transport="sse")
    gw = tuned_gateway(procs, {"s": sse_target(up.url)}, upstream_extra={"sseMaxPendingRequests": 2})
    s = RawSession(gw.url).initialize()
    calls = [StreamedCall.tool(s, "slow", {"steps": 8}, progress_token=f"p{i}") for i in range(2)]
    for c in calls:
        assert c.started.wait(15) and c.status == 200, (c.status, c.text[:300])
    r, _ = s.call_tool("add", {"a": 1, "b": 2})
    body = expect_error(r, 503, -32603)
    assert body is not None and "config.upstream.sseMaxPendingRequests" in body["error"]["message"], body
    assert r.headers.get("retry-after") == "5", dict(r.headers)
    for c in calls:
        assert c.response()["result"]["content"][0]["text"] == "done 8"
    # the slots are free again
    assert s.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    s.close()


def test_delete_ends_the_upstream_get(procs):
    h = scripted(procs, "sse")
    gw = tuned_gateway(procs, {"s": sse_target(h.sse_url)})
    s = RawSession(gw.url).initialize()
    assert s.call_ok("add", {"a": 20, "b": 22})["structuredContent"] == {"result": 42}
    def open_gets() -> int:
        return len(h.received("GET")) - len(h.received("GET-closed"))

    assert open_gets() == 1, h.log_text()
    posted = h.received("POST")
    assert posted and all(p["path"].startswith("/messages/?session_id=") for p in posted), posted
    assert all("mcp-session-id" not in p["headers"] and "mcp-protocol-version" not in p["headers"] for p in posted), posted
    assert s.delete().status_code in (200, 202, 204)
    assert wait_until(lambda: open_gets() == 0, 5), h.log_text()
    r, _ = s.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    s.close()
