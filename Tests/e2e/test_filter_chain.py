"""The filter chain on the live gateway, in front of a real MCP server (issue 4).

Uses the behaviour test plugin (Tests/plugins/behavior, `libmcpgate_test_filter.so`, built by SwiftPM next to
the gateway) whose config picks what each hook returns, and the third-party example plugin
(examples/plugins/tool-acl) built with plain `make`. Every decision kind from every hook, request-order and
reverse response-order, fail-closed vs failOpen, and response headers on gateway-made errors.
"""

from __future__ import annotations

import subprocess
from typing import Any

import httpx2
import pytest

import harness
from harness import RawSession, expect_error, modern_request, notification, response_for, rpc

pytestmark = pytest.mark.timeout(90)


def filter_plugin(config: dict[str, Any], *, fail_open: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": str(harness.plugin_path("test_filter")), "config": config}
    if fail_open:
        entry["failOpen"] = True
    return entry


@pytest.fixture(scope="module")
def upstream(mprocs):
    return mprocs.upstream("chain-up")


def gateway(procs, upstream, *plugins: dict[str, Any]):
    return procs.gateway({"t": [upstream.url]}, policies={"plugins": list(plugins)})


def served_calls(upstream) -> int:
    """How many tool calls the upstream process served (its `count` tool counts itself too)."""
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(upstream.url, client=hc).initialize()
        return s.call_ok("count")["structuredContent"]["result"]


def test_header_hook_reject_answers_before_the_body_and_never_reaches_upstream(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"tag": "a", "http": "reject", "status": 401, "code": -32001, "message": "go away"}))
    before = served_calls(upstream)
    with httpx2.Client(timeout=10) as hc:
        r = hc.post(gw.url, content=b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"count"}}',
                    headers=harness.base_headers())
    body = expect_error(r, 401, -32001)
    assert body["id"] is None  # the header hook runs before the body is read
    assert body["error"]["message"] == "go away"
    assert served_calls(upstream) == before + 1  # only the probe itself


def test_header_hook_respond_sends_the_plugin_body_as_is(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"http": "respond", "status": 204, "body": "", "content_type": "text/plain"}))
    with httpx2.Client(timeout=10) as hc:
        r = hc.request("OPTIONS", gw.url, headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204, r.text


def test_message_hook_reject_carries_the_request_id_and_data(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"rpc": "reject", "status": 403, "code": -32003, "message": "denied", "data": {"why": "test"}}))
    with httpx2.Client(timeout=10) as hc:
        r = hc.post(gw.url, content=harness.encode_body(rpc("initialize", harness.INIT_PARAMS, req_id="init-7")), headers=harness.base_headers())
    body = expect_error(r, 403, -32003)
    assert body["id"] == "init-7"
    assert body["error"]["data"] == {"why": "test"}


def test_message_hook_respond_answers_with_the_request_id_without_the_upstream(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"rpc": "respond", "status": 200, "result": {"cached": True}}))
    before = served_calls(upstream)
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/call", {"name": "count", "arguments": {}})
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    assert r.status_code == 200, r.text
    assert response_for(r, msg["id"])["result"] == {"cached": True}
    assert served_calls(upstream) == before + 1


def test_message_hook_on_a_notification_answers_202_or_an_id_less_error(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"rpc": "reject", "status": 429, "code": -32029, "message": "slow down"}))
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/list")
        r = hc.post(gw.url, content=harness.encode_body(notification("notifications/cancelled", {"requestId": 1})), headers=headers)
    body = expect_error(r, 429, -32029)
    assert body["id"] is None


def test_response_hook_reject_replaces_the_result_with_an_error(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"response": "reject", "code": -32050, "message": "filtered out"}))
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    res = response_for(r, msg["id"])
    assert res["error"]["code"] == -32050 and res["error"]["message"] == "filtered out"


def test_response_hooks_run_in_reverse_order(procs, upstream):
    """Two instances both replace the result: the one nearest the upstream (listed last) answers."""
    first = filter_plugin({"tag": "first", "response": "respond", "result": {"by": "first"}})
    last = filter_plugin({"tag": "last", "response": "respond", "result": {"by": "last"}})
    gw = gateway(procs, upstream, first, last)
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/list")
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    assert response_for(r, msg["id"])["result"] == {"by": "last"}


def test_request_hooks_run_in_config_order(procs, upstream):
    first = filter_plugin({"tag": "first", "rpc": "reject", "status": 403, "code": -32001, "message": "first said no"})
    last = filter_plugin({"tag": "last", "rpc": "reject", "status": 403, "code": -32002, "message": "last said no"})
    gw = gateway(procs, upstream, first, last)
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/list")
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    assert expect_error(r, 403, -32001)["error"]["message"] == "first said no"


@pytest.mark.parametrize("mode", ["legacy-sse", "modern-sse"])
def test_sse_event_drop_removes_progress_but_keeps_the_result(procs, upstream, mode):
    gw = gateway(procs, upstream, filter_plugin({"sse": "drop"}))
    with httpx2.Client(timeout=20) as hc:
        if mode == "legacy-sse":
            s = RawSession(gw.url, client=hc).initialize()
            msg = rpc("tools/call", {"name": "slow", "arguments": {"steps": 3}, "_meta": {"progressToken": "p1"}})
            r = s.post(msg)
        else:
            msg, headers = modern_request("tools/call", {"name": "slow", "arguments": {"steps": 3}})
            msg["params"]["_meta"]["progressToken"] = "p1"
            r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    all_messages = harness.messages(r)
    assert not [m for m in all_messages if m.get("method") == "notifications/progress"], all_messages
    assert "result" in response_for(r, msg["id"])


def test_without_the_drop_filter_progress_is_relayed(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"sse": "continue"}))
    with httpx2.Client(timeout=20) as hc:
        msg, headers = modern_request("tools/call", {"name": "slow", "arguments": {"steps": 3}})
        msg["params"]["_meta"]["progressToken"] = "p1"
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    progress = [m for m in harness.messages(r) if m.get("method") == "notifications/progress"]
    assert len(progress) == 3


def test_a_failing_plugin_fails_closed_by_default(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"rpc": "error"}))
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/list")
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    assert r.status_code == 500, r.text
    assert r.json()["error"]["code"] == -32603


def test_a_failing_fail_open_plugin_lets_the_request_through(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"rpc": "error"}, fail_open=True))
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/list")
        r = hc.post(gw.url, content=harness.encode_body(msg), headers=headers)
    assert r.status_code == 200
    assert "tools" in response_for(r, msg["id"])["result"]


def test_response_headers_reach_gateway_made_errors_and_upstream_answers(procs, upstream):
    gw = gateway(procs, upstream, filter_plugin({"response_header": ["X-Filter", "seen"]}))
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        ok, _ = s.request("tools/list")
        assert ok.headers.get("x-filter") == "seen"
        lost = s.post(rpc("tools/list"), session_id=harness.flip_char(s.session_id))
        expect_error(lost, 404, -32600)
        assert lost.headers.get("x-filter") == "seen"


def test_upstream_header_edits_reach_the_upstream_and_principal_binds_sessions(procs, upstream):
    """A plugin-set principal is sealed into the session: a gateway whose filter names another principal
    does not accept it (404), one naming the same principal does."""
    key = harness.new_key()
    alice = procs.gateway({"t": [upstream.url]}, keys=[key], route_name="r",
                          policies={"plugins": [filter_plugin({"set_principal": "alice"})]})
    bob = procs.gateway({"t": [upstream.url]}, keys=[key], route_name="r",
                        policies={"plugins": [filter_plugin({"set_principal": "bob"})]})
    alice2 = procs.gateway({"t": [upstream.url]}, keys=[key], route_name="r",
                           policies={"plugins": [filter_plugin({"set_principal": "alice"})]})
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(alice.url, client=hc).initialize()
        s.call_ok("add", {"a": 1, "b": 1})
        expect_error(RawSession(bob.url, client=hc, session_id=s.session_id, protocol_version=s.protocol_version).post(rpc("tools/list")), 404, -32600)
        r, res = RawSession(alice2.url, client=hc, session_id=s.session_id, protocol_version=s.protocol_version).request("tools/list")
        assert r.status_code == 200 and "tools" in res["result"]


def test_third_party_example_plugin_from_config(procs, upstream, tmp_path):
    """examples/plugins/tool-acl, built outside SwiftPM with make, loaded by path from the config."""
    source = harness.REPO_ROOT / "examples" / "plugins" / "tool-acl"
    library = tmp_path / "libmcpgate_tool_acl.so"
    build = subprocess.run(["make", "-C", str(source), f"PLUGIN={library}"], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    assert library.exists(), f"make did not produce {library}"
    acl = {"path": str(library), "config": {"default": "deny", "allowAnonymous": True,
                                             "rules": [{"principal": "*", "allow": ["add", "count"]}]}}
    gw = procs.gateway({"t": [upstream.url]}, policies={"plugins": [acl]})
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        assert s.call_ok("add", {"a": 2, "b": 2})["structuredContent"]["result"] == 4
        r, _ = s.call_tool("whoami")
        expect_error(r, 403, -32001)
        _, listed = s.request("tools/list")
        assert sorted(t["name"] for t in listed["result"]["tools"]) == ["add", "count"]


def _metric_total(gw, name: str) -> float:
    with httpx2.Client(timeout=10) as hc:
        text = hc.get(f"http://127.0.0.1:{gw.stats_port}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_fully_delivered_sse_answer_is_not_a_client_gone_completion(procs, upstream):
    """A plugin's on_complete must not see MCPGATE_COMPLETE_CLIENT_GONE for a legacy SSE answer the client
    received whole and then closed (issue #11, from a third-party plugin author): the client closing after its
    response is not a client gone mid-answer."""
    gw = gateway(procs, upstream, filter_plugin({"tag": "done"}))
    for _ in range(5):
        with httpx2.Client(timeout=20) as hc:
            s = RawSession(gw.url, client=hc).initialize()
            msg = rpc("tools/call", {"name": "slow", "arguments": {"steps": 2}})
            # as SDK clients do: read the stream until the response arrives, then close it at once
            with hc.stream("POST", gw.url, content=harness.encode_body(msg), headers=s.headers()) as r:
                assert r.headers["content-type"].startswith("text/event-stream"), r.headers
                for line in r.iter_lines():
                    if line.startswith("data:") and f'"id":{msg["id"]},' in line.replace(" ", ""):
                        break
                else:
                    raise AssertionError("the stream ended without the response")
            s.delete()
    assert harness.wait_until(lambda: _metric_total(gw, "mcpgate_plugin_test_completed") >= 15, 10), _metric_total(gw, "mcpgate_plugin_test_completed")
    assert _metric_total(gw, "mcpgate_plugin_test_completed_client_gone") == 0
