"""Every call works through the gateway exactly as it does against the server directly.

The official SDK client (mcp==2.3.0) runs one scenario in `mode="legacy"` (handshake era,
2025-11-25) and in `mode="2026-07-28"` (sessionless era), once against the upstream directly
and once through mcpgate; each run must give the expected results, and the gateway's results
must equal the direct ones (ignoring `_meta`, where a serverInfo stamp may differ).
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from harness import HANDSHAKE_VERSION, MODERN_VERSION, UPSTREAM_TOOLS, ClientLog, dump, sdk_client

MODES = ["legacy", MODERN_VERSION]
TARGETS = ["direct", "gateway"]
TOOLS = UPSTREAM_TOOLS
SLOW_STEPS = 4  # the upstream sleeps 0.15 s per step


# ---------------------------------------------------------------------------------------------
# processes (one upstream of each kind and one gateway in front of each, for the whole module)


@pytest.fixture(scope="module")
def up_sse(mprocs):
    return mprocs.upstream("parity-sse")


@pytest.fixture(scope="module")
def up_json(mprocs):
    return mprocs.upstream("parity-json", json_response=True)


@pytest.fixture(scope="module")
def gw_sse(mprocs, up_sse):
    return mprocs.gateway({"t": [up_sse.url]}, name="gw-parity-sse")


@pytest.fixture(scope="module")
def gw_json(mprocs, up_json):
    return mprocs.gateway({"t": [up_json.url]}, name="gw-parity-json")


def url_for(request: pytest.FixtureRequest, target: str, kind: str = "sse") -> str:
    if target == "direct":
        return request.getfixturevalue(f"up_{kind}").url
    return request.getfixturevalue(f"gw_{kind}").url


# ---------------------------------------------------------------------------------------------
# scenarios


async def _outcome(coro: Any) -> Any:
    """A result's dump, or ("error", code, message) when the call raised an MCPError."""
    from mcp.shared.exceptions import MCPError

    try:
        return dump(await coro)
    except MCPError as e:
        return {"error": {"code": e.code, "message": e.message}}


async def full_scenario(url: str, mode: str) -> tuple[dict[str, Any], ClientLog, dict[str, float]]:
    log = ClientLog()
    rec: dict[str, Any] = {}
    times: dict[str, float] = {}
    async with sdk_client(url, mode, log=log) as c:
        rec["protocol_version"] = c.protocol_version
        rec["tools"] = dump(await c.list_tools())
        rec["add"] = dump(await c.call_tool("add", {"a": 2, "b": 3}))

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            log.progress.append((progress, total, message, time.monotonic()))

        times["slow_start"] = time.monotonic()
        rec["slow"] = dump(await c.call_tool("slow", {"steps": SLOW_STEPS}, progress_callback=on_progress))
        times["slow_result"] = time.monotonic()
        rec["progress"] = [(p, t, m) for p, t, m, _ in log.progress]
        rec["greet"] = dump(await c.call_tool("greet", {}))
        if mode == "legacy":
            rec["ask_name_legacy"] = dump(await c.call_tool("ask_name_legacy", {}))
        rec["weather"] = dump(await c.call_tool("weather", {"region": "eu-west1", "city": "Zürich"}))
        rec["static"] = dump(await c.read_resource("test://static-text"))
        rec["template"] = dump(await c.read_resource("greeting://bob"))
        rec["resources"] = dump(await c.list_resources())
        rec["templates"] = dump(await c.list_resource_templates())
        rec["prompts"] = dump(await c.list_prompts())
        rec["prompt"] = dump(await c.get_prompt("review", {"code": "x = 1"}))
    rec["logs"] = [str(x) for x in log.logs]
    rec["elicitations"] = list(log.elicitations)
    return rec, log, times


def _text(result: dict[str, Any]) -> str:
    return result["content"][0]["text"]


def check_full(rec: dict[str, Any], log: ClientLog, times: dict[str, float], mode: str) -> None:
    assert rec["protocol_version"] == (HANDSHAKE_VERSION if mode == "legacy" else mode)
    assert {t["name"] for t in rec["tools"]["tools"]} == TOOLS
    weather = next(t for t in rec["tools"]["tools"] if t["name"] == "weather")
    assert weather["input_schema"]["properties"]["region"].get("x-mcp-header") == "Region"

    assert rec["add"]["structured_content"] == {"result": 5}
    assert _text(rec["add"]) == "5"

    assert _text(rec["slow"]) == f"done {SLOW_STEPS}"
    assert rec["progress"] == [(float(i), float(SLOW_STEPS), f"step {i}") for i in range(1, SLOW_STEPS + 1)]
    # streamed, not buffered: the first progress event arrives well before the result
    first = log.progress[0][3]
    assert first < times["slow_result"], "progress after the result"
    assert times["slow_result"] - first >= 0.25, (
        f"first progress only {times['slow_result'] - first:.3f}s before the result: the stream was buffered"
    )
    assert [f"did step {i}" for i in range(1, SLOW_STEPS + 1)] == [x for x in rec["logs"] if x.startswith("did step")]

    assert _text(rec["greet"]) == "hello gateway"
    assert "What is your name?" in rec["elicitations"]
    if mode == "legacy":
        assert _text(rec["ask_name_legacy"]) == "gateway"
        assert "Name?" in rec["elicitations"]
    assert _text(rec["weather"]) == "sunny in Zürich (eu-west1)"

    assert rec["static"]["contents"][0]["text"] == "static text"
    assert rec["static"]["contents"][0]["uri"] == "test://static-text"
    assert rec["template"]["contents"][0]["text"] == "Hello, bob!"
    assert [r["uri"] for r in rec["resources"]["resources"]] == ["test://static-text"]
    assert [t["uri_template"] for t in rec["templates"]["resource_templates"]] == ["greeting://{name}"]
    assert [p["name"] for p in rec["prompts"]["prompts"]] == ["review"]
    assert rec["prompt"]["messages"][0]["content"]["text"] == "Please review:\nx = 1"


async def json_scenario(url: str, mode: str) -> dict[str, Any]:
    """Against a json_response=True upstream: no streaming, so no progress or legacy elicitation."""
    log = ClientLog()
    rec: dict[str, Any] = {}
    async with sdk_client(url, mode, log=log) as c:
        rec["protocol_version"] = c.protocol_version
        rec["tools"] = dump(await c.list_tools())
        rec["add"] = dump(await c.call_tool("add", {"a": 20, "b": 22}))
        rec["slow"] = dump(await c.call_tool("slow", {"steps": 2}))
        # legacy: the upstream has no back channel in JSON mode, so the call fails the same way both ways
        rec["greet"] = await _outcome(c.call_tool("greet", {}))
        rec["static"] = dump(await c.read_resource("test://static-text"))
        rec["template"] = dump(await c.read_resource("greeting://ann"))
        rec["prompt"] = dump(await c.get_prompt("review", {"code": "y"}))
    return rec


def check_json(rec: dict[str, Any], mode: str) -> None:
    assert {t["name"] for t in rec["tools"]["tools"]} == TOOLS
    assert rec["add"]["structured_content"] == {"result": 42}
    assert _text(rec["slow"]) == "done 2"
    if mode == MODERN_VERSION:
        assert _text(rec["greet"]) == "hello gateway"
    else:
        assert "error" in rec["greet"] or rec["greet"].get("is_error"), rec["greet"]
    assert rec["static"]["contents"][0]["text"] == "static text"
    assert rec["template"]["contents"][0]["text"] == "Hello, ann!"
    assert rec["prompt"]["messages"][0]["content"]["text"] == "Please review:\ny"


_FULL: dict[tuple[str, str], tuple[dict[str, Any], ClientLog, dict[str, float]]] = {}
_JSON: dict[tuple[str, str], dict[str, Any]] = {}


def run_full(request: pytest.FixtureRequest, mode: str, target: str):
    key = (mode, target)
    if key not in _FULL:
        _FULL[key] = anyio.run(full_scenario, url_for(request, target), mode)
    return _FULL[key]


def run_json(request: pytest.FixtureRequest, mode: str, target: str):
    key = (mode, target)
    if key not in _JSON:
        _JSON[key] = anyio.run(json_scenario, url_for(request, target, "json"), mode)
    return _JSON[key]


# ---------------------------------------------------------------------------------------------
# tests


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("mode", MODES)
def test_every_call_works(request, mode, target):
    rec, log, times = run_full(request, mode, target)
    check_full(rec, log, times, mode)


@pytest.mark.parametrize("mode", MODES)
def test_gateway_results_equal_direct(request, mode):
    gw, _, _ = run_full(request, mode, "gateway")
    direct, _, _ = run_full(request, mode, "direct")
    for key in direct:
        assert gw[key] == direct[key], f"{key} differs through the gateway"
    assert gw.keys() == direct.keys()


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("mode", MODES)
def test_json_response_upstream(request, mode, target):
    check_json(run_json(request, mode, target), mode)


@pytest.mark.parametrize("mode", MODES)
def test_json_response_upstream_equal_direct(request, mode):
    gw = run_json(request, mode, "gateway")
    direct = run_json(request, mode, "direct")
    for key in direct:
        assert gw[key] == direct[key], f"{key} differs through the gateway"


@pytest.mark.parametrize("target", TARGETS)
def test_auto_mode(request, target):
    """The SDK default (`auto`: probe server/discover, else fall back to initialize) works."""

    async def scenario(url: str) -> tuple[str, dict[str, Any], ClientLog]:
        log = ClientLog()
        async with sdk_client(url, "auto", log=log) as c:
            pv = c.protocol_version
            names = {t.name for t in (await c.list_tools()).tools}
            add = dump(await c.call_tool("add", {"a": 1, "b": 2}))
            greet = dump(await c.call_tool("greet", {}))
            prog: list[float] = []

            async def on_progress(p: float, t: float | None, m: str | None) -> None:
                prog.append(p)

            slow = dump(await c.call_tool("slow", {"steps": 2}, progress_callback=on_progress))
        return pv, {"names": names, "add": add, "greet": greet, "slow": slow, "progress": prog}, log

    pv, rec, log = anyio.run(scenario, url_for(request, target))
    assert pv in (MODERN_VERSION, HANDSHAKE_VERSION)
    assert rec["names"] == TOOLS
    assert rec["add"]["structured_content"] == {"result": 3}
    assert _text(rec["greet"]) == "hello gateway"
    assert _text(rec["slow"]) == "done 2"
    assert rec["progress"] == [1.0, 2.0]
