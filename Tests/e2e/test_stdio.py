"""stdio targets (issue #14): the gateway runs the upstream as a child process, one per handshake-era session and a
bounded pool for 2026-07-28 requests, and every way a child can fail reaches the client as a clear error.

- killed mid-call: the call gets -32603 naming the target ("exited"), the session then gets 404 -32600, the SDK
  client raises `MCPError`, and a new session runs on a new process;
- garbage: a banner line is logged once as a warning and the calls succeed; 50 lines of garbage before a result
  do not hurt; a line over `config.stdio.maxLineBytes` gives 502, then 404, and the child is stopped;
- stderr lines reach the gateway's log with `target=<name>`;
- `args` reach the child literally (no shell), `env` is added, `clearEnv` clears, and the gateway's secrets
  (SESSION_KEY, MCPGATE_*) never reach a child;
- descriptors: a child holds its three pipes and nothing of the gateway's (no socket, no other pipe, no log);
- limits: `maxProcessesPerTarget` and `maxProcesses` refuse `initialize` with 503 naming the key, and a DELETE
  frees a slot; `idleTimeout` and the session's expiry stop the child, then 404;
- the pool: 10 concurrent 2026-07-28 calls with `poolSize: 2` all succeed on at most 2 children; an
  `input_required` retry reaches the process that asked, and once that process is gone the retry gets 400 -32602.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx2
import pytest

from harness import (
    INIT_PARAMS,
    RawSession,
    StreamedCall,
    base_headers,
    children,
    encode_body,
    expect_error,
    fd_targets,
    metric,
    modern_request,
    new_key,
    pipe_inodes,
    response_for,
    rpc,
    sdk_client,
    socket_inodes,
    stdio_target,
    tuned_gateway,
    wait_until,
)

pytestmark = [pytest.mark.transports, pytest.mark.timeout(120)]

TINY = stdio_target(server="tiny_stdio.py")


def gateway(procs: Any, targets: dict[str, Any], **kw: Any):
    """A gateway with a generous requestTimeout: `initialize` includes starting a Python SDK server (~1-3 s here)."""
    kw.setdefault("request_timeout", "20s")
    return tuned_gateway(procs, targets, **kw)


def live(gw: Any) -> list[int]:
    """The gateway's children that are not zombies."""
    return sorted(pid for pid, state in children(gw.pid) if state != "Z")


def kids(gw: Any) -> list[int]:
    """Every child of the gateway, zombies included (a zombie is a child not reaped yet)."""
    return sorted(pid for pid, _ in children(gw.pid))


def initialize_raw(url: str) -> httpx2.Response:
    with httpx2.Client(timeout=30) as hc:
        return hc.post(url, content=encode_body(rpc("initialize", INIT_PARAMS)), headers=base_headers())


def expect_target_error(message: dict[str, Any], target: str, fragment: str) -> None:
    err = message.get("error")
    assert isinstance(err, dict) and err.get("code") == -32603, message
    assert (err.get("data") or {}).get("target") == target, f"data.target must name {target!r}: {message}"
    assert fragment in err.get("message", ""), f"{fragment!r} not in {err.get('message')!r}"


def expect_limit(r: httpx2.Response, key: str) -> dict[str, Any]:
    """503 -32603 naming the config key, with Retry-After: 5, and no session minted."""
    body = expect_error(r, 503, -32603)
    assert body is not None
    assert re.search(re.escape(key) + r"(?![A-Za-z])", body["error"]["message"]), f"{key} not named: {body}"
    assert r.headers.get("retry-after") == "5", dict(r.headers)
    assert "mcp-session-id" not in r.headers
    return body


def log_lines(gw: Any) -> list[str]:
    return gw.log_text(10**7).splitlines()


# ---------------------------------------------------------------------------------------------
# faults


def test_a_child_killed_mid_call_fails_the_call_then_the_session(procs):
    gw = gateway(procs, {"p": stdio_target()})
    s = RawSession(gw.url).initialize()
    [child] = live(gw)
    call = StreamedCall.tool(s, "slow", {"steps": 40}, progress_token="kill-me")
    assert call.started.wait(15) and call.status == 200, (call.status, call.text[:500])
    os.kill(child, signal.SIGKILL)
    message = call.response(15)
    assert call.status in (200, 502), call.status  # an error event on the open stream, or 502 if nothing was sent
    expect_target_error(message, "p", "exited")
    assert wait_until(lambda: child not in kids(gw), 3), f"the killed child was not reaped: {children(gw.pid)}"

    r, _ = s.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    s.close()

    from mcp.shared.exceptions import MCPError

    async def sdk() -> tuple[int, int]:
        before = live(gw)
        async with sdk_client(gw.url, "legacy") as c:
            first = (await c.call_tool("replica", {})).structured_content["pid"]
            assert first not in before and first in live(gw), (first, before, live(gw))
            os.kill(first, signal.SIGKILL)
            await anyio.to_thread.run_sync(lambda: wait_until(lambda: first not in kids(gw), 3))
            with pytest.raises(MCPError) as ei:
                await c.call_tool("add", {"a": 1, "b": 2})
            assert ei.value.code == -32600, (ei.value.code, ei.value.message)
        async with sdk_client(gw.url, "legacy") as c:  # re-initialize: a new process
            second = (await c.call_tool("replica", {})).structured_content["pid"]
            assert (await c.call_tool("add", {"a": 3, "b": 4})).structured_content == {"result": 7}
        return first, second

    first, second = anyio.run(sdk)
    assert first != second
    assert gw.alive


def test_garbage_on_stdout_is_logged_once_and_skipped(procs):
    gw = gateway(procs, {"g": stdio_target("--banner", server="hostile_stdio.py")})
    s = RawSession(gw.url).initialize()
    assert s.call_ok("add", {"a": 2, "b": 2})["structuredContent"] == {"result": 4}
    banner = [line for line in log_lines(gw) if "hostile_stdio says hello" in line]
    assert len(banner) == 1, f"the banner must be logged once: {banner}"
    assert "warning" in banner[0].lower() and "target=g" in banner[0], banner[0]

    assert s.call_ok("spew", {"n": 50})["content"][0]["text"] == "spewed 50"
    # warnings are rate-limited per process (one per 10 s): 50 more bad lines add at most one
    assert sum("garbage line" in line for line in log_lines(gw)) <= 1, [l for l in log_lines(gw) if "garbage line" in l][:5]
    assert s.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    bad = metric(gw.stats_port, "mcpgate_stdio_bad_lines_total")
    assert bad is not None and bad >= 51, bad
    s.close()


def test_a_line_over_max_line_bytes_stops_the_child(procs):
    gw = gateway(procs, {"g": stdio_target(server="hostile_stdio.py")}, settings={"stdio": {"maxLineBytes": "64KiB"}})
    s = RawSession(gw.url).initialize()
    [child] = live(gw)
    r, _ = s.call_tool("huge")
    body = expect_error(r, 502, -32603)
    assert body is not None
    expect_target_error(body, "g", "larger than 65536 bytes")
    r, _ = s.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    assert wait_until(lambda: kids(gw) == [], 6), f"the child ({child}) was not stopped: {children(gw.pid)}"
    s.close()


def test_stderr_lines_reach_the_log_with_the_target(procs):
    gw = gateway(procs, {"noisy": stdio_target(server="hostile_stdio.py")})
    s = RawSession(gw.url).initialize()
    assert s.call_ok("stderr", {"n": 3})["content"][0]["text"] == "wrote 3"

    def logged() -> list[str]:
        return [line for line in log_lines(gw) if "hostile stderr line" in line and "target=noisy" in line]

    assert wait_until(lambda: len(logged()) == 3, 5), logged() or gw.log_text(3000)
    assert [re.search(r"hostile stderr line (\d) of 3", line).group(1) for line in logged()] == ["1", "2", "3"]
    s.close()


ODD_ARGS = ["a b", "$(id)", ";", "*", "'q'", "é", "$HOME", "x\ty"]


def test_args_reach_the_child_literally(procs):
    gw = gateway(procs, {"a": stdio_target(*ODD_ARGS)})
    s = RawSession(gw.url).initialize()
    got = s.call_ok("argv")["structuredContent"]["result"]
    assert got == ["--transport", "stdio", *ODD_ARGS], got
    s.close()


def test_environment_is_inherited_without_gateway_secrets_or_cleared(procs):
    key = new_key()
    gateway_env = {
        "SESSION_KEY": key,
        "MCPGATE_ADMIN_TOKEN": "e2e-admin-token-0123456789",
        "MCPGATE_E2E_SECRET": "e2e-secret",
        "E2E_INHERITED": "from-gateway",
        "E2E_OVERLAY": "from-gateway",
    }
    names = ["SESSION_KEY", "MCPGATE_ADMIN_TOKEN", "MCPGATE_E2E_SECRET", "E2E_INHERITED", "E2E_OVERLAY", "E2E_GIVEN", "PATH"]

    def env_of(gw: Any) -> dict[str, Any]:
        s = RawSession(gw.url).initialize()
        try:
            return {n: s.call_ok("env", {"name": n})["structuredContent"]["result"] for n in names}
        finally:
            s.close()

    inherit = gateway(
        procs, {"p": stdio_target(env={"E2E_GIVEN": "given", "E2E_OVERLAY": "from-target"})}, keys=[key], env=gateway_env
    )
    got = env_of(inherit)
    assert got["SESSION_KEY"] is None and got["MCPGATE_ADMIN_TOKEN"] is None and got["MCPGATE_E2E_SECRET"] is None, got
    assert got["E2E_INHERITED"] == "from-gateway" and got["PATH"], got
    assert got["E2E_GIVEN"] == "given" and got["E2E_OVERLAY"] == "from-target", got

    cleared = gateway(procs, {"p": stdio_target(env={"E2E_GIVEN": "given"}, clear_env=True)}, keys=[key], env=gateway_env)
    got = env_of(cleared)
    assert got == {n: ("given" if n == "E2E_GIVEN" else None) for n in names}, got


def test_children_hold_only_their_own_pipes(procs):
    up_route = {"matches": [{"path": {"exact": "/up"}}], "backends": [{"mcp": {"targets": [{"name": "up", **stdio_target()}]}}]}
    gw = gateway(procs, {"tiny": TINY}, routes_before=[up_route])
    tiny_sessions = []
    before = live(gw)
    for _ in range(2):
        tiny_sessions.append(RawSession(gw.url).initialize())  # keeps its connection open: the gateway holds its socket
    tiny_pids = [p for p in live(gw) if p not in before]
    assert len(tiny_pids) == 2, children(gw.pid)
    for pid in tiny_pids:
        fds = fd_targets(pid)
        assert sorted(fds) == [0, 1, 2], f"tiny_stdio {pid} holds more than its stdio: {fds}"
        assert all(t.startswith("pipe:") for t in fds.values()), fds
        assert len(set(fds.values())) == 3, f"stdin, stdout and stderr must be three pipes: {fds}"
    assert not (pipe_inodes(tiny_pids[0]) & pipe_inodes(tiny_pids[1])), "two children share a pipe"

    before = live(gw)
    up = RawSession(f"http://127.0.0.1:{gw.port}/up").initialize()
    sdk_pid = up.call_ok("replica")["structuredContent"]["pid"]
    assert sdk_pid not in before and sdk_pid in live(gw)
    gateway_sockets = socket_inodes(gw.pid)
    assert gateway_sockets, "the gateway has sockets (listeners, clients)"
    assert not (socket_inodes(sdk_pid) & gateway_sockets), "the child holds a socket of the gateway's"
    # the SDK server dups its stdin and stdout while it serves (mcp/server/stdio.py), so its pipes are still
    # at most three, none of another child's
    assert len(pipe_inodes(sdk_pid)) <= 3, fd_targets(sdk_pid)
    assert not (pipe_inodes(sdk_pid) & (pipe_inodes(tiny_pids[0]) | pipe_inodes(tiny_pids[1])))
    assert str(gw.log_path) not in fd_targets(sdk_pid).values(), "the child holds the gateway's log"
    for s in [*tiny_sessions, up]:
        s.close()


# ---------------------------------------------------------------------------------------------
# limits and lifetimes


def test_max_processes_per_target_refuses_initialize_until_a_delete(procs):
    gw = gateway(procs, {"t": TINY}, settings={"stdio": {"maxProcessesPerTarget": 3}})
    sessions = [RawSession(gw.url).initialize() for _ in range(3)]
    assert len(live(gw)) == 3
    expect_limit(initialize_raw(gw.url), "config.stdio.maxProcessesPerTarget")
    assert sessions[0].delete().status_code in (200, 202, 204)
    assert wait_until(lambda: len(kids(gw)) == 2, 5), children(gw.pid)
    fourth = RawSession(gw.url).initialize()
    assert fourth.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    for s in [*sessions, fourth]:
        s.close()


def test_max_processes_counts_every_target(procs):
    route_b = {"matches": [{"path": {"exact": "/b"}}], "backends": [{"mcp": {"targets": [{"name": "b", **TINY}]}}]}
    gw = gateway(procs, {"a": TINY}, routes_before=[route_b], settings={"stdio": {"maxProcesses": 4}})
    url_b = f"http://127.0.0.1:{gw.port}/b"
    sessions = [RawSession(u).initialize() for u in (gw.url, gw.url, url_b, url_b)]
    assert len(live(gw)) == 4
    for url in (gw.url, url_b):
        body = expect_limit(initialize_raw(url), "config.stdio.maxProcesses")
        assert "maxProcessesPerTarget" not in body["error"]["message"], body
    for s in sessions:
        s.close()


def test_an_idle_session_stops_its_child(procs):
    gw = gateway(procs, {"t": TINY}, settings={"stdio": {"idleTimeout": "2s"}})
    s = RawSession(gw.url).initialize()
    assert s.call_ok("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}
    last = time.monotonic()
    [child] = live(gw)
    time.sleep(1.0)
    assert child in live(gw), "stopped before the idle timeout"
    assert wait_until(lambda: kids(gw) == [], 2 + 4 - (time.monotonic() - last)), children(gw.pid)
    r, _ = s.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    s.close()


def test_an_expired_session_stops_its_child(procs):
    gw = gateway(procs, {"t": TINY}, ttl="2s")
    s = RawSession(gw.url).initialize()
    t0 = time.monotonic()
    assert len(live(gw)) == 1
    assert wait_until(lambda: kids(gw) == [], 2 + 4), children(gw.pid)
    assert time.monotonic() - t0 >= 1.0
    r, _ = s.call_tool("add", {"a": 1, "b": 1})
    expect_error(r, 404, -32600)
    s.close()


# ---------------------------------------------------------------------------------------------
# 2026-07-28: the pool


@pytest.fixture(scope="module")
def pool_gw(mprocs):
    from harness import TunedGateway

    g = TunedGateway("gw-stdio-pool", mprocs.logdir, {"t": stdio_target()}, request_timeout="20s",
                     settings={"stdio": {"poolSize": 2}})
    mprocs.started.append(g)
    return g.start()


def modern_post(url: str, method: str, params: dict[str, Any], *, elicitation: bool = False) -> tuple[httpx2.Response, Any]:
    msg, headers = modern_request(method, params)
    if elicitation:
        msg["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {"form": {}}}
    with httpx2.Client(timeout=30) as hc:
        return hc.post(url, content=json.dumps(msg).encode(), headers=headers), msg["id"]


def test_pool_of_two_serves_ten_concurrent_calls(pool_gw):
    seen: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.append(len(live(pool_gw)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    def one(i: int) -> str:
        r, rid = modern_post(pool_gw.url, "tools/call", {"name": "slow", "arguments": {"steps": 2}})
        assert r.status_code == 200, r.text[:500]
        res = response_for(r, rid)
        assert "result" in res, res
        return res["result"]["content"][0]["text"]

    try:
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(one, range(10)))
    finally:
        stop.set()
        sampler.join(5)
    assert results == ["done 2"] * 10
    assert max(seen) <= 2, f"more than poolSize children at once: {max(seen)}"
    assert 1 <= len(live(pool_gw)) <= 2


def test_input_required_retry_is_pinned_to_the_process_that_asked(pool_gw):
    def ask() -> tuple[str, str]:
        r, rid = modern_post(pool_gw.url, "tools/call", {"name": "greet", "arguments": {}}, elicitation=True)
        assert r.status_code == 200, r.text[:500]
        res = response_for(r, rid)["result"]
        assert res.get("resultType") == "input_required", res
        return res["requestState"], next(iter(res["inputRequests"]))

    def retry(state: str, key: str) -> tuple[httpx2.Response, Any]:
        params = {"name": "greet", "arguments": {}, "requestState": state,
                  "inputResponses": {key: {"action": "accept", "content": {"name": "pinned"}}}}
        return modern_post(pool_gw.url, "tools/call", params, elicitation=True)

    # served by the process that holds the upstream's state (the SDK's requestState key is per process)
    for _ in range(3):
        state, key = ask()
        r, rid = retry(state, key)
        assert r.status_code == 200, r.text[:500]
        assert response_for(r, rid)["result"]["content"][0]["text"] == "hello pinned"

    state, key = ask()
    for pid in live(pool_gw):
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: kids(pool_gw) == [], 5), children(pool_gw.pid)
    r, _ = retry(state, key)
    body = expect_error(r, 400, -32602)
    assert body is not None and "requestState" in body["error"]["message"], body
