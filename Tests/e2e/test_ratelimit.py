"""`policies.localRateLimit` (the bundled rate limit plugin, Plugins/ratelimit) on the live gateway,
in front of the official-SDK upstream, in both eras.

Buckets live in the gateway's KV store and are taken with its atomic `rate_limit` primitive, so
concurrent requests are admitted exactly as the bucket allows. Over the limit the gateway answers
429 with `Retry-After`, `RateLimit-*` headers and a JSON-RPC error (-32029) naming the limit.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import httpx2
import pytest

from era_client import ERAS, EraClient, call_count
from harness import expect_error, modern_request, response_for, rpc
from jwt_issuer import Issuer, jwt_plugin_missing

pytestmark = pytest.mark.timeout(120)

CONCURRENT = 50
BUCKET = 10


@pytest.fixture(scope="module")
def upstream(mprocs):
    return mprocs.upstream("rl-up")


def limited_gateway(procs, upstream, limits: Any, **policies: Any):
    return procs.gateway({"t": [upstream.url]}, policies={"localRateLimit": limits, **policies})


def assert_limited(r: httpx2.Response, req_id: Any, limit: str, capacity: int) -> dict[str, Any]:
    """A 429 with the JSON-RPC error naming `limit`, Retry-After and the RateLimit-* headers."""
    body = expect_error(r, 429, -32029)
    assert body["id"] == req_id, body
    assert f"Rate limit exceeded: {limit}" in body["error"]["message"], body
    assert body["error"]["data"]["limit"] == limit, body
    retry = r.headers.get("retry-after")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, dict(r.headers)
    assert r.headers.get("ratelimit-limit") == str(capacity), dict(r.headers)
    assert r.headers.get("ratelimit-remaining") == "0", dict(r.headers)
    assert r.headers.get("ratelimit-reset", "").isdigit(), dict(r.headers)
    return body


async def _hammer(url: str, requests: list[tuple[dict[str, Any], dict[str, str]]]) -> list[httpx2.Response]:
    out: list[httpx2.Response | None] = [None] * len(requests)
    limits = httpx2.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    start = anyio.Event()
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(30.0), limits=limits) as hc:

        async def one(i: int) -> None:
            body, headers = requests[i]
            await start.wait()
            out[i] = await hc.post(url, content=json.dumps(body).encode(), headers=headers)

        async with anyio.create_task_group() as tg:
            for i in range(len(requests)):
                tg.start_soon(one, i)
            await anyio.sleep(0.05)
            start.set()
    return [r for r in out if r is not None]


def concurrent_calls(client: EraClient, n: int, tool: str = "count") -> tuple[list[httpx2.Response], list[Any]]:
    """n tools/call requests of `client`'s era, all sent at once on separate connections."""
    requests = []
    for _ in range(n):
        params = {"name": tool, "arguments": {}}
        if client.session is not None:
            msg = rpc("tools/call", params)
            requests.append((msg, client.session.headers()))
        else:
            requests.append(modern_request("tools/call", params))
    responses = anyio.run(_hammer, client.url, requests)
    assert len(responses) == n
    return responses, [body["id"] for body, _ in requests]


@pytest.mark.parametrize("era", ERAS)
def test_concurrent_requests_admit_exactly_the_bucket_then_429_with_retry_after(procs, upstream, era):
    gw = limited_gateway(
        procs, upstream,
        [{"name": "calls", "maxTokens": BUCKET, "tokensPerFill": BUCKET, "fillInterval": "1h", "methods": ["tools/call"]}],
    )
    before = call_count(upstream.url)
    with EraClient(gw.url, era) as c:
        responses, ids = concurrent_calls(c, CONCURRENT)
        passed = [(r, i) for r, i in zip(responses, ids) if r.status_code == 200]
        limited = [(r, i) for r, i in zip(responses, ids) if r.status_code != 200]
        assert len(passed) == BUCKET, sorted(r.status_code for r in responses)
        assert len(limited) == CONCURRENT - BUCKET
        for r, i in limited:
            assert_limited(r, i, "calls", BUCKET)
        for r, i in passed:
            assert "result" in response_for(r, i)
            assert r.headers.get("ratelimit-limit") == str(BUCKET)
        # each admitted request took its own token: the remainders are exactly 9, 8, ..., 0
        remaining = sorted(int(r.headers["ratelimit-remaining"]) for r, _ in passed)
        assert remaining == list(range(BUCKET)), remaining
        # the upstream served exactly the admitted calls (call_count's own call counts too)
        assert call_count(upstream.url) == before + BUCKET + 1
        # afterwards: still 429 with Retry-After (the bucket refills in an hour)
        r, req_id = c.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "calls", BUCKET)
        assert 3590 <= int(r.headers["retry-after"]) <= 3600
        # methods: [tools/call] leaves the rest alone
        assert c.tool_names()


@pytest.mark.parametrize("era", ERAS)
def test_the_bucket_refills_after_fill_interval(procs, upstream, era):
    gw = limited_gateway(procs, upstream, [{"maxTokens": 2, "tokensPerFill": 2, "fillInterval": "1s", "methods": ["tools/call"]}])
    with EraClient(gw.url, era) as c:
        c.call("count")
        c.call("count")
        r, req_id = c.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "localRateLimit[0]", 2)
        assert r.headers["retry-after"] == "1"
        time.sleep(1.1)
        c.call("count")
        c.call("count")
        r, req_id = c.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "localRateLimit[0]", 2)


def test_per_tool_override_has_its_own_smaller_bucket(procs, upstream):
    gw = limited_gateway(
        procs, upstream,
        [{"name": "tools", "maxTokens": 4, "fillInterval": "1h", "key": ["tool"], "methods": ["tools/call"],
          "overrides": {"add": {"maxTokens": 2}}}],
    )
    with EraClient(gw.url, "modern") as c:
        c.call("add", {"a": 1, "b": 2})
        c.call("add", {"a": 1, "b": 2})
        r, req_id = c.post("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        body = assert_limited(r, req_id, "tools", 2)
        assert body["error"]["message"].endswith("for add"), body
        for _ in range(4):  # count has the limit's own bucket of 4, per tool
            c.call("count")
        r, req_id = c.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "tools", 4)
        c.call("replica")  # another tool, another bucket


@pytest.mark.parametrize("era", ERAS)
def test_a_limited_notification_gets_an_http_error_with_an_id_less_jsonrpc_error(procs, upstream, era):
    gw = limited_gateway(procs, upstream, [{"name": "cancels", "maxTokens": 1, "fillInterval": "1h",
                                            "methods": ["notifications/cancelled"]}])
    with EraClient(gw.url, era) as c:
        params = {"requestId": 424242, "reason": "test"}
        first = c.notify("notifications/cancelled", params)
        assert first.status_code == 202, (first.status_code, first.text[:500])
        second = c.notify("notifications/cancelled", params)
        body = expect_error(second, 429, -32029)
        assert body["id"] is None, body
        assert "Rate limit exceeded: cancels" in body["error"]["message"]
        assert second.headers.get("retry-after", "").isdigit()


def test_session_key_gives_each_session_its_own_bucket(procs, upstream):
    gw = limited_gateway(procs, upstream, [{"maxTokens": 2, "fillInterval": "1h", "key": ["session"], "methods": ["tools/call"]}])
    with EraClient(gw.url, "handshake") as a, EraClient(gw.url, "handshake") as b:
        a.call("count")
        a.call("count")
        r, req_id = a.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "localRateLimit[0]", 2)
        b.call("count")
        b.call("count")


def test_allowed_responses_carry_the_draft_headers_when_asked(procs, upstream):
    gw = limited_gateway(
        procs, upstream,
        {"limits": [{"name": "all", "maxTokens": 5, "tokensPerFill": 5, "fillInterval": "10s"}], "headers": "draft"},
    )
    with EraClient(gw.url, "modern") as c:
        r, _ = c.post("tools/list")
        assert r.status_code == 200
        assert r.headers.get("ratelimit-policy") == '"all";q=5;w=10', dict(r.headers)
        assert r.headers.get("ratelimit") == '"all";r=4;t=10', dict(r.headers)
        assert "ratelimit-limit" not in r.headers


# --------------------------------------------------------------------------------------------
# per principal (needs the JWT plugin)


def test_limits_per_principal_and_per_tool_for_a_principal(procs, upstream, tmp_path):
    reason = jwt_plugin_missing()
    if reason:
        pytest.skip(reason)
    issuer = Issuer(tmp_path)
    gw = limited_gateway(
        procs, upstream,
        [{"name": "per-user", "maxTokens": 3, "fillInterval": "1h", "key": ["principal"], "methods": ["tools/call"]},
         {"name": "adds", "maxTokens": 1, "fillInterval": "1h", "key": ["principal"], "tools": ["add"]}],
        jwtAuth=issuer.policy(),
    )
    with EraClient(gw.url, "modern", issuer.bearer("alice")) as alice, EraClient(
        gw.url, "modern", issuer.bearer("bob")
    ) as bob:
        alice.call("add", {"a": 1, "b": 1})
        r, req_id = alice.post("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
        assert_limited(r, req_id, "adds", 1)
        bob.call("add", {"a": 1, "b": 1})  # bob's own buckets
        alice.call("count")  # per-user: add, the refused add and this one
        r, req_id = alice.post("tools/call", {"name": "count", "arguments": {}})
        assert_limited(r, req_id, "per-user", 3)
        bob.call("count")
        bob.call("count")
