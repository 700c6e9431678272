"""Federation (issue 7): three official Python SDK servers behind one gateway endpoint, one of them paginating
its tools list two at a time, driven by the official SDK client in both eras.

Every tool of every server is listed exactly once under its `{target}_{name}`, is callable, and its progress
and elicitation work through the gateway; resources and prompts are prefixed and routed; a target killed
mid-session is skipped (failOpen) or reported (failClosed), and once it is back the client is told to
re-initialize (its upstream session is gone) and then everything works again.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import harness
from harness import PagedUpstream, RawSession, Upstream, expect_error, rpc

pytestmark = pytest.mark.timeout(120)

TOOLS = harness.UPSTREAM_TOOLS
TARGETS = ("alpha", "beta", "gamma")


@pytest.fixture(scope="module")
def servers(mprocs) -> dict[str, Upstream]:
    paged = PagedUpstream("beta", mprocs.logdir)
    mprocs.started.append(paged)
    paged.spawn()
    alpha = mprocs.upstream("alpha")
    gamma = mprocs.upstream("gamma")
    return {"alpha": alpha, "beta": paged.wait_ready(), "gamma": gamma}


@pytest.fixture(scope="module")
def gateway(mprocs, servers):
    return mprocs.gateway({name: [servers[name].url] for name in TARGETS})


async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "federated"})


async def all_tools(client: Client) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(20):
        page = await client.list_tools(cursor=cursor)
        names += [tool.name for tool in page.tools]
        cursor = page.next_cursor
        if not cursor:
            return names
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_every_tool_of_every_server_is_listed_once_and_callable(gateway, mode):
    anyio.run(_every_tool_scenario, gateway.url, mode)


async def _every_tool_scenario(url: str, mode: str) -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with Client(streamable_http_client(url), mode=mode, elicitation_callback=on_elicit) as client:
        names = await all_tools(client)
        assert len(names) == len(set(names)), f"listed twice: {sorted(names)}"
        assert set(names) == {f"{target}_{tool}" for target in TARGETS for tool in TOOLS}
        for target in TARGETS:
            added = await client.call_tool(f"{target}_add", {"a": 2, "b": 40})
            assert added.structured_content == {"result": 42}
            replica = await client.call_tool(f"{target}_replica", {})
            assert replica.structured_content["name"] == target, replica
        done = await client.call_tool("beta_slow", {"steps": 3}, progress_callback=on_progress)
        assert done.content[0].text == "done 3"
        assert progress == [1.0, 2.0, 3.0]
        greeted = await client.call_tool("gamma_greet", {})
        assert greeted.content[0].text == "hello federated"
        if mode == "legacy":
            asked = await client.call_tool("alpha_ask_name_legacy", {})
            assert asked.content[0].text == "federated"


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_resources_and_prompts_are_prefixed_and_routed(gateway, mode):
    anyio.run(_resources_scenario, gateway.url, mode)


async def _resources_scenario(url: str, mode: str) -> None:
    async with Client(streamable_http_client(url), mode=mode) as client:
        uris = sorted(str(r.uri) for r in (await client.list_resources()).resources)
        assert uris == [f"{target}+test://static-text" for target in TARGETS]
        templates = sorted(t.uri_template for t in (await client.list_resource_templates()).resource_templates)
        assert templates == [f"{target}+greeting://{{name}}" for target in TARGETS]
        read = await client.read_resource("beta+greeting://ann")
        assert read.contents[0].text == "Hello, ann!"
        assert str(read.contents[0].uri) == "beta+greeting://ann"
        prompts = sorted(p.name for p in (await client.list_prompts()).prompts)
        assert prompts == [f"{target}_review" for target in TARGETS]
        got = await client.get_prompt("alpha_review", {"code": "x = 1"})
        assert "x = 1" in got.messages[0].content.text


def test_initialize_merges_capabilities_and_names_the_gateway(gateway):
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(gateway.url, client=hc).initialize()
        assert s.init_result["serverInfo"]["name"] == "mcpgate"
        assert set(s.init_result["capabilities"]) >= {"tools", "resources", "prompts"}
        for target in TARGETS:
            assert f"[{target}]" in s.init_result["instructions"]


def test_unknown_and_unprefixed_names_are_clear_errors(gateway):
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(gateway.url, client=hc).initialize()
        for name in ("add", "delta_add", "alpha_nope"):
            r, res = s.call_tool(name, {"a": 1, "b": 2})
            if "error" in res:
                assert res["error"]["code"] in (-32602, -32601), res
            else:
                assert res["result"].get("isError"), res  # the upstream's own answer for an unknown tool


def test_a_tampered_composite_cursor_is_invalid_params(gateway):
    with httpx2.Client(timeout=10) as hc:
        s = RawSession(gateway.url, client=hc).initialize()
        _, first = s.request("tools/list")
        cursor = first["result"]["nextCursor"]
        _, bad = s.request("tools/list", {"cursor": harness.flip_char(cursor)})
        assert bad["error"]["code"] == -32602


def _federation(procs, mode: str) -> tuple[dict[str, Upstream], harness.Gateway]:
    ups = {name: procs.upstream(name) for name in TARGETS}
    gw = procs.gateway({name: [ups[name].url] for name in TARGETS}, failure_mode=mode)
    return ups, gw


def test_fail_open_keeps_the_other_targets_working_when_one_dies(procs):
    ups, gw = _federation(procs, "failOpen")
    with httpx2.Client(timeout=15) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        ups["beta"].kill()
        assert s.call_ok("alpha_add", {"a": 1, "b": 1})["structuredContent"]["result"] == 2
        _, listed = s.request("tools/list")
        names = {t["name"] for t in listed["result"]["tools"]}
        assert {f"alpha_{t}" for t in TOOLS} <= names and not any(n.startswith("beta_") for n in names)
        r, res = s.call_tool("beta_add", {"a": 1, "b": 1})
        assert res.get("error", {}).get("data", {}).get("target") == "beta" or r.status_code == 502, r.text


def test_fail_closed_reports_the_dead_target_and_recovers_after_reinitialize(procs):
    ups, gw = _federation(procs, "failClosed")
    with httpx2.Client(timeout=15) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        ups["gamma"].kill()
        r = s.post(rpc("tools/list"))
        body = expect_error(r, 502, -32603)
        assert body["error"]["data"]["target"] == "gamma"
        assert s.call_ok("alpha_add", {"a": 2, "b": 2})["structuredContent"]["result"] == 4
        ups["gamma"].restart()
        # gamma is back but lost its sessions: the client is told to re-initialize (404), never half-alive.
        r = s.post(rpc("tools/list"))
        expect_error(r, 404, -32600)
        fresh = RawSession(gw.url, client=hc).initialize()
        _, listed = fresh.request("tools/list")
        assert len(listed["result"]["tools"]) == len(TARGETS) * len(TOOLS)
        assert fresh.call_ok("gamma_add", {"a": 3, "b": 3})["structuredContent"]["result"] == 6


def test_initialize_fails_closed_naming_the_target_that_is_down(procs):
    ups, gw = _federation(procs, "failClosed")
    ups["alpha"].kill()
    with httpx2.Client(timeout=15) as hc:
        r = hc.post(gw.url, content=harness.encode_body(rpc("initialize", harness.INIT_PARAMS)), headers=harness.base_headers())
    body = expect_error(r, 502, -32603)
    assert body["error"]["data"]["target"] == "alpha"
    assert "mcp-session-id" not in r.headers


LONGNAME = Path(__file__).resolve().parent / "servers" / "longname.py"
LONG_TOOL = "summarize_the_quarterly_financial_statements_for_every_business_unit_x"


class LongNameUpstream(Upstream):
    def spawn(self) -> LongNameUpstream:
        self._spawn([sys.executable, str(LONGNAME), "--port", str(self.port), "--name", self.name])
        return self


def test_long_tool_names_are_shortened_to_64_and_callable_on_a_replica_that_never_listed(procs):
    """The shortened name maps back on another gateway replica that has not seen the list (it lists on demand)."""
    long_server = LongNameUpstream("analytics", procs.logdir)
    procs.started.append(long_server)
    long_server.spawn().wait_ready()
    other = procs.upstream("other")
    targets = {"analytics": [long_server.url], "other": [other.url]}
    key = harness.new_key()
    listing = procs.gateway(targets, keys=[key], route_name="fed")
    fresh = procs.gateway(targets, keys=[key], route_name="fed")
    with httpx2.Client(timeout=15) as hc:
        s = RawSession(listing.url, client=hc).initialize()
        _, listed = s.request("tools/list")
        names = [t["name"] for t in listed["result"]["tools"]]
        assert all(len(n) <= 64 for n in names), names
        shortened = [n for n in names if n.startswith("analytics_summarize")]
        assert len(shortened) == 1 and len(shortened[0]) == 64, names
        on_fresh = RawSession(fresh.url, client=hc, session_id=s.session_id, protocol_version=s.protocol_version)
        assert on_fresh.call_ok(shortened[0])["content"][0]["text"] == "long tool of analytics"


def test_never_mode_exposes_own_names_reports_collisions_and_routes_to_the_first_owner(procs):
    ups = {name: procs.upstream(name) for name in ("alpha", "beta")}
    gw = procs.gateway({name: [ups[name].url] for name in ("alpha", "beta")}, prefix_mode="never")
    with httpx2.Client(timeout=15) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        # No list seen yet: the gateway lists the targets to learn who offers `replica`.
        assert s.call_ok("replica")["structuredContent"]["name"] == "alpha"
        _, listed = s.request("tools/list")
        assert sorted(t["name"] for t in listed["result"]["tools"]) == sorted(TOOLS)
        metrics = hc.get(f"http://127.0.0.1:{gw.stats_port}/metrics").text
        assert "mcpgate_federation_collisions_total" in metrics
        collisions = [line for line in metrics.splitlines() if line.startswith("mcpgate_federation_collisions_total")]
        assert collisions and float(collisions[0].split()[-1]) >= len(TOOLS), collisions


# ---------------------------------------------------------------------------------------------
# issue #14: target kinds are interchangeable in a federation (h: mcp, s: sse, p: stdio)

MODES = ["legacy", "2026-07-28"]
KINDS = ("h", "s", "p")


@pytest.fixture(scope="module")
def hsp_upstreams(mprocs) -> dict[str, Upstream]:
    return {"h": mprocs.upstream("h"), "s": mprocs.upstream("s", transport="sse")}


def hsp_targets(ups: dict[str, Upstream], p: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"h": [ups["h"].url], "s": harness.sse_target(ups["s"].url), "p": p or harness.stdio_target("--name", "p")}


@pytest.fixture(scope="module")
def hsp_gateway(mprocs, hsp_upstreams):
    return mprocs.gateway(hsp_targets(hsp_upstreams), name="gw-hsp", request_timeout="20s")


@pytest.mark.transports
@pytest.mark.parametrize("mode", MODES)
def test_mcp_sse_and_stdio_targets_federate(hsp_gateway, mode):
    anyio.run(_hsp_scenario, hsp_gateway.url, mode)


async def _hsp_scenario(url: str, mode: str) -> None:
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with Client(streamable_http_client(url), mode=mode, elicitation_callback=on_elicit) as client:
        names = await all_tools(client)
        assert len(names) == len(set(names)), f"listed twice: {sorted(names)}"
        expected = {f"{k}_{t}" for k in ("h", "s") for t in TOOLS} | {f"p_{t}" for t in harness.STDIO_TOOLS}
        assert set(names) == expected, sorted(set(names) ^ expected)
        for kind in KINDS:
            added = await client.call_tool(f"{kind}_add", {"a": 2, "b": 40})
            assert added.structured_content == {"result": 42}, (kind, added)
            replica = await client.call_tool(f"{kind}_replica", {})
            assert replica.structured_content["name"] == kind, replica
        assert (await client.call_tool("p_replica", {})).structured_content["port"] is None
        done = await client.call_tool("p_slow", {"steps": 3}, progress_callback=on_progress)
        assert done.content[0].text == "done 3"
        assert progress == [1.0, 2.0, 3.0]
        read = await client.read_resource("p+test://static-text")
        assert read.contents[0].text == "static text" and str(read.contents[0].uri) == "p+test://static-text"
        got = await client.get_prompt("p_review", {"code": "x = 1"})
        assert "x = 1" in got.messages[0].content.text
        for kind in ("s", "p"):
            greeted = await client.call_tool(f"{kind}_greet", {})
            assert greeted.content[0].text == "hello federated", (kind, greeted)


@pytest.mark.transports
def test_fail_open_serves_the_others_when_the_stdio_command_crashes(procs, hsp_upstreams):
    crashing = harness.stdio_target("--exit", "3", server="hostile_stdio.py")
    gw = procs.gateway(hsp_targets(hsp_upstreams, p=crashing), failure_mode="failOpen", request_timeout="20s")
    with httpx2.Client(timeout=30) as hc:
        s = RawSession(gw.url, client=hc).initialize()
        _, listed = s.request("tools/list")
        names = {t["name"] for t in listed["result"]["tools"]}
        assert {f"h_{t}" for t in TOOLS} | {f"s_{t}" for t in TOOLS} <= names, sorted(names)
        assert not any(n.startswith("p_") for n in names), sorted(names)
        assert s.call_ok("h_add", {"a": 1, "b": 1})["structuredContent"]["result"] == 2
        assert s.call_ok("s_add", {"a": 2, "b": 2})["structuredContent"]["result"] == 4
        r, res = s.call_tool("p_add", {"a": 1, "b": 1})
        # The same answer as for an HTTP target down at initialize: not part of this session.
        assert res["error"]["code"] == -32602 and "not part of this session" in res["error"]["message"], r.text
    assert gw.alive


@pytest.mark.transports
def test_delete_stops_the_stdio_member(hsp_gateway):
    def live() -> set[int]:
        return {pid for pid, state in harness.children(hsp_gateway.pid) if state != "Z"}

    before = live()
    with httpx2.Client(timeout=30) as hc:
        s = RawSession(hsp_gateway.url, client=hc).initialize()
        pid = s.call_ok("p_replica")["structuredContent"]["pid"]
        assert pid not in before and pid in live(), (pid, before, live())
        assert s.delete().status_code in (200, 202, 204)
    assert harness.wait_until(lambda: pid not in {p for p, _ in harness.children(hsp_gateway.pid)}, 6), (
        f"p's child {pid} outlived the DELETE: {harness.children(hsp_gateway.pid)}"
    )
