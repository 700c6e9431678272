"""sse and stdio targets (issue #14) give the SDK client exactly what the server gives it directly.

The parity scenario of test_sdk_parity.py (scenarios.py: tools, `add`, `slow` with progress streamed ahead of the
result, `greet` by elicitation (legacy) or input_required + a retry that must reach the same process (2026-07-28),
`ask_name_legacy`, resources, templates, prompts, `weather` with `Mcp-Param-Region`) runs in `mode="legacy"` and
`mode="2026-07-28"`:
- **direct**: `Client(sse_client(url))` against `upstream.py --transport sse`, and
  `Client(StdioServerParameters(python upstream.py --transport stdio))`;
- **through the gateway** (Streamable HTTP in front): an `sse: {host: URL}` target, the same upstream as
  `sse: {host, port, path}`, and a `stdio:` target. Each must pass the checks and equal direct, `_meta` aside.

The `test_direct_*` tests also prove the new test servers behave as their docstrings say (tiny_stdio.py,
hostile_stdio.py, the HTTP+SSE modes of hostile_up_scripted.py), so the gateway tests built on them mean
what they say. They need no gateway and always run; the gateway tests carry the `transports` marker.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any

import anyio
import httpx2
import pytest

import harness
from harness import MODERN_VERSION, STDIO_TOOLS, UPSTREAM_SCRIPT, UPSTREAM_TOOLS, ClientLog, ScriptedHostile, stdio_target
from scenarios import check_full, full_scenario, transport_client

pytestmark = pytest.mark.timeout(120)

MODES = ["legacy", MODERN_VERSION]
KINDS = ["sse", "sse-parts", "stdio"]  # sse-parts: the {host, port, path} form of the same sse upstream
TOOLS_OF = {"sse": UPSTREAM_TOOLS, "sse-parts": UPSTREAM_TOOLS, "stdio": STDIO_TOOLS}
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
}


# ---------------------------------------------------------------------------------------------
# processes: one sse upstream and three gateways for the module (the stdio upstream is a child of each user)


@pytest.fixture(scope="module")
def up_sse(mprocs):
    return mprocs.upstream("parity-sse-up", transport="sse")


@pytest.fixture(scope="module")
def gw_sse(mprocs, up_sse):
    return mprocs.gateway({"t": harness.sse_target(up_sse.url)}, name="gw-parity-ssetarget", request_timeout="20s")


@pytest.fixture(scope="module")
def gw_sse_parts(mprocs, up_sse):
    body = {"sse": {"host": "127.0.0.1", "port": up_sse.port, "path": "/sse"}}
    return mprocs.gateway({"t": body}, name="gw-parity-sseparts", request_timeout="20s")


@pytest.fixture(scope="module")
def gw_stdio(mprocs):
    return mprocs.gateway({"t": stdio_target()}, name="gw-parity-stdio", request_timeout="20s")


def stdio_params(*args: str, env: dict[str, str] | None = None) -> Any:
    from mcp import StdioServerParameters

    return StdioServerParameters(command=sys.executable, args=[str(UPSTREAM_SCRIPT), "--transport", "stdio", *args], env=env)


def direct_connect(request: pytest.FixtureRequest, kind: str):
    from mcp.client.sse import sse_client

    if kind == "stdio":
        return lambda mode, log: transport_client(stdio_params(), mode, log)
    url = request.getfixturevalue("up_sse").url
    return lambda mode, log: transport_client(sse_client(url), mode, log)


_FULL: dict[tuple[str, str, str], tuple[dict[str, Any], ClientLog, dict[str, float]]] = {}


def run_full(request: pytest.FixtureRequest, kind: str, mode: str, where: str):
    key = (kind, mode, where)
    if key not in _FULL:
        if where == "direct":
            target = direct_connect(request, "stdio" if kind == "stdio" else "sse")
        elif where == "gateway-sse":
            # The gateway's own HTTP+SSE endpoint (2024-11-05) in front of the target.
            from mcp.client.sse import sse_client

            gw = request.getfixturevalue({"sse": "gw_sse", "sse-parts": "gw_sse_parts", "stdio": "gw_stdio"}[kind])
            url = f"http://127.0.0.1:{gw.port}/sse"
            target = lambda mode, log: transport_client(sse_client(url, timeout=30.0, sse_read_timeout=60.0), mode, log)  # noqa: E731
        else:
            target = request.getfixturevalue({"sse": "gw_sse", "sse-parts": "gw_sse_parts", "stdio": "gw_stdio"}[kind]).url
        _FULL[key] = anyio.run(full_scenario, target, mode)
    return _FULL[key]


# ---------------------------------------------------------------------------------------------
# direct: the servers themselves


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["sse", "stdio"])
def test_direct_every_call_works(request, kind, mode):
    rec, log, times = run_full(request, kind, mode, "direct")
    check_full(rec, log, times, mode, tools=TOOLS_OF[kind])


def test_direct_stdio_upstream_reports_argv_env_and_no_port():
    from mcp import Client

    odd = ["a b", "$(id)", ";", "*", "'q'", "é"]

    async def scenario() -> dict[str, Any]:
        async with Client(stdio_params(*odd, env={"E2E_PARITY": "yes"}), mode="legacy") as c:
            return {
                "argv": (await c.call_tool("argv", {})).structured_content["result"],
                "env": (await c.call_tool("env", {"name": "E2E_PARITY"})).structured_content["result"],
                "unset": (await c.call_tool("env", {"name": "E2E_NOT_SET"})).structured_content["result"],
                "replica": (await c.call_tool("replica", {})).structured_content,
                "whoami": (await c.call_tool("whoami", {})).structured_content,
            }

    got = anyio.run(scenario)
    assert got["argv"] == ["--transport", "stdio", *odd]
    assert got["env"] == "yes" and got["unset"] is None
    assert got["replica"]["port"] is None and got["replica"]["name"] == "upstream"
    assert got["whoami"]["mcp_session_id"] is None and got["whoami"]["authorization"] is None


def test_direct_http_upstream_has_no_stdio_tools(mprocs, up_sse):
    """argv() and env() exist only over stdio: the HTTP transports keep UPSTREAM_TOOLS, which other suites pin."""

    async def names() -> set[str]:
        from mcp import Client
        from mcp.client.sse import sse_client

        async with Client(sse_client(up_sse.url), mode="legacy") as c:
            return {t.name for t in (await c.list_tools()).tools}

    assert anyio.run(names) == UPSTREAM_TOOLS


class StdioProc:
    """A stdio server on pipes, driven line by line."""

    def __init__(self, script: str, *args: str):
        self.p = subprocess.Popen(
            [sys.executable, str(harness.E2E_DIR / "servers" / script), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True, bufsize=0,
        )
        self.buf = b""

    def send(self, msg: dict[str, Any] | bytes) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(msg if isinstance(msg, bytes) else json.dumps(msg).encode() + b"\n")
        self.p.stdin.flush()

    def line(self, timeout: float = 10.0) -> bytes:
        """The next stdout line, its newline included (read unbuffered, so select sees every byte not taken)."""
        assert self.p.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, f"no line within {timeout}s (have {self.buf[:200]!r})"
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            assert chunk, f"stdout closed (have {self.buf[:200]!r})"
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def rest(self) -> bytes:
        """Whatever is left on stdout up to its end."""
        assert self.p.stdout is not None
        out, self.buf = self.buf + self.p.stdout.read(), b""
        return out

    def answer(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.send(msg)
        return json.loads(self.line())

    def close(self) -> int:
        if self.p.stdin and not self.p.stdin.closed:
            self.p.stdin.close()
        try:
            return self.p.wait(5)
        finally:
            if self.p.poll() is None:
                self.p.kill()


INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": harness.INIT_PARAMS}


def call(rid: int, name: str, arguments: dict[str, Any] | None = None, modern: bool = False, token: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
    meta = dict(ENVELOPE) if modern else {}
    if token is not None:
        meta["progressToken"] = token
    if meta:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def test_direct_tiny_stdio_serves_both_eras_and_starts_fast():
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=[str(harness.TINY_STDIO_SCRIPT)])

    async def scenario(mode: str) -> tuple[str, list[str], Any]:
        async with Client(params, mode=mode) as c:
            names = [t.name for t in (await c.list_tools()).tools]
            return c.protocol_version, names, (await c.call_tool("add", {"a": 2, "b": 40})).structured_content

    assert anyio.run(scenario, "legacy") == ("2025-11-25", ["add"], {"result": 42})
    assert anyio.run(scenario, MODERN_VERSION) == (MODERN_VERSION, ["add"], {"result": 42})

    # raw: start-up time, the era lock both ways, ping, a parse error, the descriptors it holds
    t0 = time.monotonic()
    legacy = StdioProc("tiny_stdio.py")
    try:
        assert legacy.answer(INIT)["result"]["protocolVersion"] == "2025-11-25"
        started = time.monotonic() - t0
        assert sorted(os.listdir(f"/proc/{legacy.p.pid}/fd")) == ["0", "1", "2"]
        legacy.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert legacy.answer({"jsonrpc": "2.0", "id": 2, "method": "ping"}) == {"jsonrpc": "2.0", "id": 2, "result": {}}
        assert legacy.answer(call(3, "add", {"a": 1, "b": 2}))["result"]["structuredContent"] == {"result": 3}
        assert legacy.answer(call(4, "add", {"a": 1, "b": 2}, modern=True))["error"]["code"] == -32600
        legacy.send(b"not json\n")
        assert json.loads(legacy.line()) == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
    finally:
        assert legacy.close() == 0
    assert started < 2.0, f"tiny_stdio took {started:.2f}s to answer initialize"

    modern = StdioProc("tiny_stdio.py")
    try:
        res = modern.answer(call(1, "add", {"a": 5, "b": 6}, modern=True))["result"]
        assert res["structuredContent"] == {"result": 11} and res["resultType"] == "complete"
        assert modern.answer(INIT)["error"]["code"] == -32022
        assert modern.answer({"jsonrpc": "2.0", "id": 3, "method": "ping", "params": {"_meta": ENVELOPE}})["error"]["code"] == -32601
    finally:
        assert modern.close() == 0


def test_direct_hostile_stdio_modes():
    # --banner: one line that is not JSON, then a normal server
    p = StdioProc("hostile_stdio.py", "--banner")
    try:
        assert p.line() == b"hostile_stdio says hello\n"
        assert p.answer(INIT)["result"]["serverInfo"]["name"] == "hostile-stdio"
        assert p.answer(call(2, "add", {"a": 1, "b": 1}))["result"]["structuredContent"] == {"result": 2}
        # spew(n): n lines that are not JSON, then the result
        p.send(call(3, "spew", {"n": 3}))
        garbage = [p.line() for _ in range(3)]
        assert all(not line.startswith(b"{") for line in garbage), garbage
        assert json.loads(p.line())["result"]["content"][0]["text"] == "spewed 3"
        # huge: one line over 200 KiB that is a valid answer
        p.send(call(4, "huge"))
        big = p.line()
        assert len(big) > 200 * 1024 and json.loads(big)["id"] == 4
        # stderr(n): n lines on stderr, then the result
        assert p.answer(call(5, "stderr", {"n": 2}))["result"]["content"][0]["text"] == "wrote 2"
        # crash: a progress notification (when asked for) and exit 3, no answer
        p.send(call(6, "crash", token="tok"))
        note = json.loads(p.line())
        assert note["method"] == "notifications/progress" and note["params"]["progressToken"] == "tok"
        assert p.p.wait(5) == 3
        assert p.rest() == b""
        assert p.p.stderr is not None
        err = p.p.stderr.read().decode().splitlines()
        assert [line.split(" pid ")[0] for line in err] == ["hostile stderr line 1 of 2", "hostile stderr line 2 of 2"], err
    finally:
        p.close()

    # the 2026-07-28 envelope is answered too
    p = StdioProc("hostile_stdio.py")
    try:
        res = p.answer(call(1, "spew", {"n": 0}, modern=True))["result"]
        assert res["resultType"] == "complete" and res["content"][0]["text"] == "spewed 0"
    finally:
        assert p.close() == 0

    # --no-answer: reads, never writes, exits on EOF
    p = StdioProc("hostile_stdio.py", "--no-answer")
    p.send(INIT)
    assert p.p.stdout is not None
    assert select.select([p.p.stdout], [], [], 1.0)[0] == [], "--no-answer wrote something"
    assert p.close() == 0 and p.rest() == b""

    # --exit CODE: a server that fails to start
    p = StdioProc("hostile_stdio.py", "--exit", "3")
    assert p.p.wait(5) == 3


def test_direct_scripted_sse_modes(mprocs, caplog):
    from mcp import Client
    from mcp.client.sse import sse_client

    working = ScriptedHostile("scripted-sse", mprocs.logdir, "sse").start()
    mprocs.started.append(working)
    foreign = ScriptedHostile("scripted-sse-foreign", mprocs.logdir, "sse-foreign-endpoint").start()
    mprocs.started.append(foreign)
    silent = ScriptedHostile("scripted-sse-silent", mprocs.logdir, "sse-no-endpoint").start()
    mprocs.started.append(silent)

    async def use(url: str) -> Any:
        async with Client(sse_client(url, timeout=3.0), mode="legacy", read_timeout_seconds=10) as c:
            return (await c.call_tool("add", {"a": 20, "b": 22})).structured_content

    assert anyio.run(use, working.sse_url) == {"result": 42}
    assert harness.wait_until(lambda: len(working.received("GET-closed")) == 1, 5), working.log_text()

    # the SDK client refuses an endpoint of another origin, as the gateway must (it never connects; it logs why)
    async def connect_or_time_out(url: str) -> str:
        with anyio.move_on_after(3):
            async with sse_client(url, timeout=3.0):
                return "connected"
        return "never connected"

    with caplog.at_level("ERROR", logger="mcp.client.sse"):
        assert anyio.run(connect_or_time_out, foreign.sse_url) == "never connected"
    assert "Endpoint origin does not match connection origin: http://127.0.0.2:1/messages/" in caplog.text

    # no endpoint: the stream opens (200 text/event-stream) and stays silent
    with httpx2.Client(timeout=httpx2.Timeout(5.0, read=1.5)) as hc:
        with hc.stream("GET", silent.sse_url, headers={"Accept": "text/event-stream"}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            with pytest.raises(httpx2.ReadTimeout):
                next(r.iter_raw())
    assert harness.wait_until(lambda: len(silent.received("GET-closed")) == 1, 5), silent.log_text()
    # an unknown session id gets 404
    with httpx2.Client(timeout=5) as hc:
        r = hc.post(f"{working.origin}/messages/?session_id=feedface", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# through the gateway


@pytest.mark.transports
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_gateway_every_call_works(request, kind, mode):
    rec, log, times = run_full(request, kind, mode, "gateway")
    check_full(rec, log, times, mode, tools=TOOLS_OF[kind])


@pytest.mark.transports
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_gateway_results_equal_direct(request, kind, mode):
    gw, _, _ = run_full(request, kind, mode, "gateway")
    direct, _, _ = run_full(request, kind, mode, "direct")
    for key in direct:
        assert gw[key] == direct[key], f"{key} differs through the gateway ({kind} target, {mode})"
    assert gw.keys() == direct.keys()


@pytest.mark.transports
@pytest.mark.parametrize("kind", ["sse", "stdio"])
def test_gateway_http_sse_endpoint_equals_direct(request, kind):
    """The SDK's `sse_client` through the gateway's `/sse`, in front of an sse target and a stdio target: every call
    works (progress ahead of the result, elicitation on the stream) and the results equal the server's direct ones."""
    rec, log, times = run_full(request, kind, "legacy", "gateway-sse")
    check_full(rec, log, times, "legacy", tools=TOOLS_OF[kind])
    direct, _, _ = run_full(request, kind, "legacy", "direct")
    assert rec.keys() == direct.keys()
    for key in direct:
        assert rec[key] == direct[key], f"{key} differs through the gateway's /sse ({kind} target)"
