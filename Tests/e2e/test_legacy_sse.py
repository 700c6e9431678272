"""The HTTP+SSE transport (MCP 2024-11-05) at the gateway's `/sse` (issue 14): `GET …/sse` opens a stream whose first
event names where to POST (`/sse?sessionId=<sealed>`); POSTs are answered 202 and every answer, notification and
server request arrives on the stream.

The official SDK's `sse_client` (mcp==2.3.0) must work through it exactly as `Client` works against the upstream
directly (tools, progress before the result, elicitation, resources, templates, prompts), against a single target and
a federated route. Then the raw wire: the endpoint event, every refused `sessionId` (tampered, truncated, expired,
another route, another replica, missing), 415, keep-alive comments, the stream's end, `jwtAuth`, and a rate-limited
call answered as an error event while its POST gets 202.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import sys
import threading
import time
from typing import Any

import anyio
import httpx2
import pytest

from harness import E2E_DIR, INIT_PARAMS, ClientLog, Upstream, dump, flip_char, new_key, notification, rpc, sdk_client, sse_sdk_client, to_yaml, wait_until
from jwt_issuer import Issuer, jwt_plugin_missing

pytestmark = pytest.mark.timeout(120)

SLOW_STEPS = 4  # the upstream sleeps 0.15 s per step


def sse_url(gw: Any, prefix: str = "") -> str:
    return f"http://127.0.0.1:{gw.port}{prefix}/sse"


# ---------------------------------------------------------------------------------------------
# processes


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("lsse-up")


@pytest.fixture(scope="module")
def up2(mprocs):
    return mprocs.upstream("lsse-up2")


@pytest.fixture(scope="module")
def gw(mprocs, up):
    return mprocs.gateway({"t": [up.url]}, name="gw-lsse")


@pytest.fixture(scope="module")
def gw_fed(mprocs, up, up2):
    return mprocs.gateway({"a": [up.url], "b": [up2.url]}, name="gw-lsse-fed")


# ---------------------------------------------------------------------------------------------
# the SDK's sse_client against the SDK's Client on Streamable HTTP


class Names:
    """Tool, resource and prompt names as a route shows them (federated: under the target's prefix)."""

    def __init__(self, target: str | None):
        self.target = target

    def tool(self, name: str) -> str:
        return f"{self.target}_{name}" if self.target else name

    def uri(self, uri: str) -> str:
        return f"{self.target}+{uri}" if self.target else uri


async def scenario(client_cm: Any, log: ClientLog, names: Names) -> tuple[dict[str, Any], dict[str, float]]:
    rec: dict[str, Any] = {}
    times: dict[str, float] = {}
    async with client_cm as c:
        rec["protocol_version"] = c.protocol_version
        rec["tools"] = sorted(t["name"] for t in dump(await c.list_tools())["tools"])
        rec["add"] = dump(await c.call_tool(names.tool("add"), {"a": 2, "b": 3}))

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            log.progress.append((progress, total, message, time.monotonic()))

        rec["slow"] = dump(await c.call_tool(names.tool("slow"), {"steps": SLOW_STEPS}, progress_callback=on_progress))
        times["slow_result"] = time.monotonic()
        rec["progress"] = [(p, t, m) for p, t, m, _ in log.progress]
        rec["greet"] = dump(await c.call_tool(names.tool("greet"), {}))
        rec["ask_name_legacy"] = dump(await c.call_tool(names.tool("ask_name_legacy"), {}))
        rec["static"] = dump(await c.read_resource(names.uri("test://static-text")))
        rec["template"] = dump(await c.read_resource(names.uri("greeting://bob")))
        rec["resources"] = sorted(r["uri"] for r in dump(await c.list_resources())["resources"])
        rec["templates"] = sorted(t["uri_template"] for t in dump(await c.list_resource_templates())["resource_templates"])
        rec["prompts"] = sorted(p["name"] for p in dump(await c.list_prompts())["prompts"])
        rec["prompt"] = dump(await c.get_prompt(names.tool("review"), {"code": "x = 1"}))
    rec["logs"] = [str(x) for x in log.logs if str(x).startswith("did step")]
    rec["elicitations"] = list(log.elicitations)
    return rec, times


def check(rec: dict[str, Any], log: ClientLog, times: dict[str, float], names: Names) -> None:
    assert rec["add"]["structured_content"] == {"result": 5}
    assert rec["slow"]["content"][0]["text"] == f"done {SLOW_STEPS}"
    assert rec["progress"] == [(float(i), float(SLOW_STEPS), f"step {i}") for i in range(1, SLOW_STEPS + 1)]
    first = log.progress[0][3]
    assert times["slow_result"] - first >= 0.25, "the progress events came with the result: the stream was buffered"
    assert rec["logs"] == [f"did step {i}" for i in range(1, SLOW_STEPS + 1)]
    assert rec["greet"]["content"][0]["text"] == "hello gateway"
    assert rec["ask_name_legacy"]["content"][0]["text"] == "gateway"
    assert "What is your name?" in rec["elicitations"] and "Name?" in rec["elicitations"]
    assert rec["static"]["contents"][0]["text"] == "static text"
    assert rec["template"]["contents"][0]["text"] == "Hello, bob!"
    assert names.uri("test://static-text") in rec["resources"]
    assert rec["prompt"]["messages"][0]["content"]["text"] == "Please review:\nx = 1"


def run_pair(sse: str, streamable: str, names: Names) -> None:
    async def both() -> None:
        sse_log, direct_log = ClientLog(), ClientLog()
        through, sse_times = await scenario(sse_sdk_client(sse, log=sse_log), sse_log, names)
        direct, direct_times = await scenario(sdk_client(streamable, "legacy", log=direct_log), direct_log, names)
        check(through, sse_log, sse_times, names)
        check(direct, direct_log, direct_times, names)
        assert [h["sessionid"] for h in sse_log.request_headers if "sessionid" in h], "no sessionId in the endpoint"
        through.pop("protocol_version")  # the SSE client's handshake revision is its own choice
        direct.pop("protocol_version")
        assert through == direct

    anyio.run(both)


def test_sse_client_through_the_gateway_matches_the_upstream_directly(gw, up):
    run_pair(sse_url(gw), up.url, Names(None))


def test_sse_client_on_a_federated_route_matches_streamable_http(gw_fed):
    run_pair(sse_url(gw_fed), gw_fed.url, Names("a"))
    run_pair(sse_url(gw_fed), gw_fed.url, Names("b"))


# ---------------------------------------------------------------------------------------------
# the raw wire


class RawStream:
    """A `GET …/sse` read on a thread: events (and comments) arrive in a queue as they complete."""

    def __init__(self, url: str, headers: dict[str, str] | None = None):
        self.client = httpx2.Client(timeout=httpx2.Timeout(10.0, read=60.0))
        self._cm = self.client.stream("GET", url, headers={"Accept": "text/event-stream", **(headers or {})})
        self.response = self._cm.__enter__()
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.origin = "/".join(url.split("/")[:3])
        if self.response.status_code == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: dict[str, Any] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if event:
                        self.queue.put(event)
                    event = {}
                elif line.startswith(":"):
                    self.queue.put({"comment": line[1:].strip(), "at": time.monotonic()})
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    event[name] = event[name] + "\n" + value if name == "data" and name in event else value
        except Exception:  # noqa: BLE001 - the stream ended one way or another
            pass
        finally:
            self.queue.put(None)

    def next(self, timeout: float = 10.0) -> dict[str, Any] | None:
        return self.queue.get(timeout=timeout)

    def endpoint(self) -> str:
        event = self.next()
        assert event is not None and event.get("event") == "endpoint", event
        return event["data"]

    def message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next `message` event's JSON (comments skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.1, deadline - time.monotonic()))
            assert event is not None, "the stream ended"
            if "comment" in event:
                continue
            assert event.get("event") == "message", event
            return json.loads(event["data"])

    def post(self, endpoint: str, body: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return self.client.post(
            self.origin + endpoint, content=data, headers={"Content-Type": "application/json", **(headers or {})}, timeout=10
        )

    def initialize(self, endpoint: str) -> None:
        msg = rpc("initialize", INIT_PARAMS)
        assert self.post(endpoint, msg).status_code == 202
        answer = self.message()
        assert answer["id"] == msg["id"] and "result" in answer, answer
        assert self.post(endpoint, notification("notifications/initialized")).status_code == 202

    def close(self) -> None:
        """Closes the GET's connection for real (httpx2 leaves a stream read on another thread open)."""
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._cm.__exit__(None, None, None)
        self.client.close()


@pytest.fixture
def stream(gw):
    s = RawStream(sse_url(gw))
    yield s
    s.close()


def test_the_first_event_is_the_endpoint_with_a_relative_url(gw):
    for prefix in ("", "/mcp"):
        s = RawStream(sse_url(gw, prefix))
        try:
            assert s.response.status_code == 200
            assert s.response.headers["content-type"].startswith("text/event-stream")
            endpoint = s.endpoint()
            assert endpoint.startswith(f"{prefix}/sse?sessionId="), endpoint
            assert len(endpoint.split("=", 1)[1]) >= 90
        finally:
            s.close()


def test_a_post_is_202_and_its_answer_comes_on_the_stream(stream):
    endpoint = stream.endpoint()
    stream.initialize(endpoint)
    msg = rpc("tools/call", {"name": "add", "arguments": {"a": 40, "b": 2}})
    r = stream.post(endpoint, msg)
    assert r.status_code == 202 and r.content == b"", (r.status_code, r.text)
    answer = stream.message()
    assert answer["id"] == msg["id"], answer
    assert answer["result"]["structuredContent"] == {"result": 42}, answer
    # Any path of the route takes the id, and so does session_id.
    token = endpoint.split("=", 1)[1]
    msg = rpc("ping")
    assert stream.post(f"/messages/?session_id={token}", msg).status_code == 202
    assert stream.message()["id"] == msg["id"]


def test_refused_session_ids(gw, stream):
    endpoint = stream.endpoint()
    token = endpoint.split("=", 1)[1]
    body = rpc("ping")
    for bad in (flip_char(token), flip_char(token, 5), token[:-3], token[: len(token) // 2], "x" + token, "nonsense"):
        r = stream.post(f"/sse?sessionId={bad}", body)
        assert r.status_code == 404, (bad, r.status_code, r.text)
        assert r.json()["error"]["code"] == -32600
    for missing in ("/sse?sessionId=", "/sse?session_id="):
        assert stream.post(missing, body).status_code == 400
    r = stream.post(endpoint, body, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    assert stream.post(endpoint, body).status_code == 202  # the stream itself is fine


def test_an_expired_session_id_is_404(procs, up):
    g = procs.gateway({"t": [up.url]}, ttl="2s")
    s = RawStream(sse_url(g))
    try:
        endpoint = s.endpoint()
        assert s.post(endpoint, rpc("ping")).status_code == 202
        time.sleep(3.5)
        assert s.post(endpoint, rpc("ping")).status_code == 404
    finally:
        s.close()


def test_a_session_id_of_another_route_is_404(procs, up):
    g = procs.gateway({"t": [up.url]}, start=False)
    route = g.config["binds"][0]["listeners"][0]["routes"][0]
    first = {**route, "name": "first", "matches": [{"path": {"pathPrefix": "/one"}}]}
    second = {**route, "name": "second", "matches": [{"path": {"pathPrefix": "/two"}}]}
    g.config["binds"][0]["listeners"][0]["routes"] = [first, second]
    g.config_path.write_text(to_yaml(g.config) + "\n")
    g.start()
    s = RawStream(sse_url(g, "/one"))
    try:
        endpoint = s.endpoint()
        assert endpoint.startswith("/one/sse?sessionId=")
        assert s.post(endpoint.replace("/one/", "/two/"), rpc("ping")).status_code == 404
        assert s.post(endpoint.replace("/one/sse", "/one/messages"), rpc("ping")).status_code == 202
    finally:
        s.close()


def test_a_session_id_of_another_replica_is_404(procs, up):
    key = new_key()
    a = procs.gateway({"t": [up.url]}, keys=[key])
    b = procs.gateway({"t": [up.url]}, keys=[key])
    s = RawStream(sse_url(a))
    try:
        endpoint = s.endpoint()
        with httpx2.Client(timeout=10) as hc:
            r = hc.post(f"http://127.0.0.1:{b.port}{endpoint}", json=rpc("ping"))
        assert r.status_code == 404, r.text
        assert s.post(endpoint, rpc("ping")).status_code == 202
    finally:
        s.close()


def test_a_silent_stream_gets_keepalive_comments(stream):
    stream.endpoint()
    started = time.monotonic()
    event = stream.next(timeout=17)
    assert event is not None and event.get("comment") == "keepalive", event
    assert 14 <= event["at"] - started <= 17


def _gauge(gw: Any) -> float:
    text = httpx2.get(f"http://127.0.0.1:{gw.stats_port}/metrics", timeout=10).text
    line = next(line for line in text.splitlines() if line.startswith("mcpgate_legacy_sse_streams "))
    return float(line.split()[1])


def test_after_the_get_closes_the_next_post_is_404(procs):
    up = procs.upstream()
    g = procs.gateway({"t": [up.url]})
    s = RawStream(sse_url(g))
    endpoint = s.endpoint()
    s.initialize(endpoint)
    assert _gauge(g) == 1
    origin = s.origin
    s.close()
    deadline = time.monotonic() + 5
    while _gauge(g) != 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gauge(g) == 0
    with httpx2.Client(timeout=10) as hc:
        assert hc.post(origin + endpoint, json=rpc("ping")).status_code == 404
    # The upstream session the stream held is ended (DELETE), as a client's DELETE would.
    assert wait_until(lambda: "DELETE /mcp" in up.log_text(), 5), up.log_text()


@pytest.mark.skipif(jwt_plugin_missing() is not None, reason=jwt_plugin_missing() or "")
def test_jwt_auth_answers_the_post_and_binds_the_stream_to_its_principal(procs, up, tmp_path):
    issuer = Issuer(tmp_path)
    g = procs.gateway({"t": [up.url]}, policies={"jwtAuth": issuer.policy()})
    with httpx2.Client(timeout=10) as hc:
        assert hc.get(sse_url(g), headers={"Accept": "text/event-stream"}).status_code == 401
    s = RawStream(sse_url(g), headers=issuer.bearer("alice"))
    try:
        endpoint = s.endpoint()
        msg = rpc("ping")
        r = s.post(endpoint, msg)
        assert r.status_code == 401, r.text  # no token: the POST's own answer
        assert r.headers.get("www-authenticate", "").startswith("Bearer")
        assert s.post(endpoint, msg, headers=issuer.bearer("bob")).status_code == 404  # another principal
        assert s.post(endpoint, msg, headers=issuer.bearer("alice")).status_code == 202
        answer = s.message()
        assert answer["id"] == msg["id"] and answer["error"]["code"] == -32600, answer  # not initialized yet
    finally:
        s.close()


def test_a_rate_limited_call_is_an_error_event_while_its_post_is_202(procs, up):
    limits = [{"maxTokens": 1, "fillInterval": "1h", "methods": ["tools/call"]}]
    g = procs.gateway({"t": [up.url]}, policies={"localRateLimit": limits})
    s = RawStream(sse_url(g))
    try:
        endpoint = s.endpoint()
        s.initialize(endpoint)
        first = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        assert s.post(endpoint, first).status_code == 202
        assert s.message()["result"]["structuredContent"] == {"result": 3}
        second = rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})
        r = s.post(endpoint, second)
        assert r.status_code == 202, r.text
        answer = s.message()
        assert answer["id"] == second["id"], answer
        assert answer["error"]["code"] == -32029, answer
    finally:
        s.close()


def test_a_2026_message_on_the_stream_is_refused_with_an_event(stream):
    endpoint = stream.endpoint()
    msg = rpc("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}})
    assert stream.post(endpoint, msg).status_code == 202
    answer = stream.message()
    assert answer["id"] == msg["id"] and answer["error"]["code"] == -32600, answer
    assert "Streamable HTTP" in answer["error"]["message"]


# An upstream that speaks to the client outside any call: `announce_later` returns at once, and a moment later the
# server sends notifications/tools/list_changed unrelated to any request (so, in the handshake era, on its standalone
# GET stream, which the gateway relays into the /sse stream).
ANNOUNCER = """
import asyncio, sys
sys.path.insert(0, %r)
import mcp_types as types
from mcp.server.mcpserver import Context
import upstream

port = int(sys.argv[1])
mcp = upstream.build("announcer", port)
tasks = set()

@mcp.tool()
async def announce_later(delay: float, ctx: Context) -> str:
    session = ctx.session

    async def later() -> None:
        await asyncio.sleep(delay)
        await session.send_notification(types.ToolListChangedNotification())

    task = asyncio.get_running_loop().create_task(later())
    tasks.add(task)
    return "scheduled"

mcp.run(transport="streamable-http", host="127.0.0.1", port=port)
""" % str(E2E_DIR / "servers")


class Announcer(Upstream):
    def spawn(self) -> Announcer:
        script = self.logdir / "announcer.py"
        script.write_text(ANNOUNCER)
        self._spawn([sys.executable, str(script), str(self.port)], dict(os.environ, PYTHONUNBUFFERED="1"))
        return self


def test_server_messages_outside_a_call_arrive_on_the_stream(procs):
    up = Announcer("announcer", procs.logdir)
    procs.started.append(up)
    up.start()
    g = procs.gateway({"t": [up.url]})
    s = RawStream(sse_url(g))
    try:
        endpoint = s.endpoint()
        s.initialize(endpoint)
        time.sleep(0.5)  # the relay of the upstream's standalone stream is open by now
        call = rpc("tools/call", {"name": "announce_later", "arguments": {"delay": 0.5}})
        assert s.post(endpoint, call).status_code == 202
        assert s.message()["result"]["content"][0]["text"] == "scheduled"
        announced = s.message(timeout=5)
        assert announced.get("method") == "notifications/tools/list_changed", announced
        ping = rpc("ping")
        assert s.post(endpoint, ping).status_code == 202
        assert s.message()["id"] == ping["id"]
    finally:
        s.close()
