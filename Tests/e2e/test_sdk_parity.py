"""Every call works through the gateway exactly as it does against the server directly.

The official SDK client (mcp==2.3.0) runs one scenario in `mode="legacy"` (handshake era,
2025-11-25) and in `mode="2026-07-28"` (sessionless era), once against the upstream directly
and once through mcpgate; each run must give the expected results, and the gateway's results
must equal the direct ones (ignoring `_meta`, where a serverInfo stamp may differ).
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from harness import HANDSHAKE_VERSION, MODERN_VERSION, UPSTREAM_TOOLS, ClientLog, dump, sdk_client
from scenarios import check_full, full_scenario
from scenarios import text as _text

MODES = ["legacy", MODERN_VERSION]
TARGETS = ["direct", "gateway"]
TOOLS = UPSTREAM_TOOLS


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
# scenarios (full_scenario and check_full live in scenarios.py, shared with test_transport_parity.py)


async def _outcome(coro: Any) -> Any:
    """A result's dump, or ("error", code, message) when the call raised an MCPError."""
    from mcp.shared.exceptions import MCPError

    try:
        return dump(await coro)
    except MCPError as e:
        return {"error": {"code": e.code, "message": e.message}}


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
