"""The SDK client scenario every transport must pass the same way (test_sdk_parity.py, test_transport_parity.py).

`full_scenario` runs one `mcp.Client` session against servers/upstream.py (directly or through the gateway)
and records every result; `check_full` holds it to the expected values. Comparing two records (`_meta`
aside, see `harness.dump`) is how the parity tests show the gateway changes nothing.

The client is made by `connect(mode, log)`: a URL string means Streamable HTTP through `harness.sdk_client`;
`transport_client` wraps any other SDK transport (`sse_client(url)`, `StdioServerParameters(...)`) the same way.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from harness import HANDSHAKE_VERSION, UPSTREAM_TOOLS, ClientLog, dump, sdk_client

SLOW_STEPS = 4  # the upstream sleeps 0.15 s per step

# (mode, log) -> an async context manager yielding a connected mcp.Client
Connect = Callable[[str, ClientLog], contextlib.AbstractAsyncContextManager[Any]]


@contextlib.asynccontextmanager
async def transport_client(transport: Any, mode: str, log: ClientLog, *, elicit_name: str = "gateway") -> AsyncIterator[Any]:
    """`mcp.Client` over `transport` (anything `Client` takes) with the callbacks `sdk_client` installs:
    elicitation answered with `elicit_name`, log messages recorded at level info."""
    from mcp import Client, types

    async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        log.elicitations.append(params.message)
        return types.ElicitResult(action="accept", content={"name": elicit_name})

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        log.logs.append(params.data)

    async with Client(
        transport,
        mode=mode,
        elicitation_callback=on_elicit,
        logging_callback=on_log,
        log_level="info",
        read_timeout_seconds=30.0,
    ) as c:
        yield c


def _connector(target: str | Connect) -> Connect:
    if isinstance(target, str):
        return lambda mode, log: sdk_client(target, mode, log=log)
    return target


async def full_scenario(target: str | Connect, mode: str) -> tuple[dict[str, Any], ClientLog, dict[str, float]]:
    """Every call of the parity scenario; `target` is a Streamable HTTP URL or a `Connect`."""
    log = ClientLog()
    rec: dict[str, Any] = {}
    times: dict[str, float] = {}
    async with _connector(target)(mode, log) as c:
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


def text(result: dict[str, Any]) -> str:
    return result["content"][0]["text"]


def check_full(
    rec: dict[str, Any], log: ClientLog, times: dict[str, float], mode: str, *, tools: frozenset[str] = UPSTREAM_TOOLS
) -> None:
    """The expected results of `full_scenario`; `tools` is the upstream's tool set (`harness.STDIO_TOOLS` for stdio)."""
    assert rec["protocol_version"] == (HANDSHAKE_VERSION if mode == "legacy" else mode)
    assert {t["name"] for t in rec["tools"]["tools"]} == tools
    weather = next(t for t in rec["tools"]["tools"] if t["name"] == "weather")
    assert weather["input_schema"]["properties"]["region"].get("x-mcp-header") == "Region"

    assert rec["add"]["structured_content"] == {"result": 5}
    assert text(rec["add"]) == "5"

    assert text(rec["slow"]) == f"done {SLOW_STEPS}"
    assert rec["progress"] == [(float(i), float(SLOW_STEPS), f"step {i}") for i in range(1, SLOW_STEPS + 1)]
    # streamed, not buffered: the first progress event arrives well before the result
    first = log.progress[0][3]
    assert first < times["slow_result"], "progress after the result"
    assert times["slow_result"] - first >= 0.25, (
        f"first progress only {times['slow_result'] - first:.3f}s before the result: the stream was buffered"
    )
    assert [f"did step {i}" for i in range(1, SLOW_STEPS + 1)] == [x for x in rec["logs"] if x.startswith("did step")]

    assert text(rec["greet"]) == "hello gateway"
    assert "What is your name?" in rec["elicitations"]
    if mode == "legacy":
        assert text(rec["ask_name_legacy"]) == "gateway"
        assert "Name?" in rec["elicitations"]
    assert text(rec["weather"]) == "sunny in Zürich (eu-west1)"

    assert rec["static"]["contents"][0]["text"] == "static text"
    assert rec["static"]["contents"][0]["uri"] == "test://static-text"
    assert rec["template"]["contents"][0]["text"] == "Hello, bob!"
    assert [r["uri"] for r in rec["resources"]["resources"]] == ["test://static-text"]
    assert [t["uri_template"] for t in rec["templates"]["resource_templates"]] == ["greeting://{name}"]
    assert [p["name"] for p in rec["prompts"]["prompts"]] == ["review"]
    assert rec["prompt"]["messages"][0]["content"]["text"] == "Please review:\nx = 1"
