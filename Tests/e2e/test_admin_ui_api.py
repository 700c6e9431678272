"""The admin UI's server side (issue #13) without a browser: the `/ui/` files and their security headers, the
overview (`GET /ui/api/overview`: the configured routes and replicas with live state, key ids, reloads, secrets
redacted), and the playground relay (`/ui/api/relay`): MCP requests to any endpoint, answered as they arrive, with
`MCPGate-Authorization` as the endpoint's `Authorization` and the admin token never passed on.

The browser side is Tests/e2e/test_ui.py (headless Chromium).
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx2
import pytest

import harness
import jwt_issuer
from harness import ACCEPT_BOTH, rpc

pytestmark = pytest.mark.timeout(90)

ADMIN_TOKEN = "ui-api-admin-token-0123456789"
HMAC_SECRET = "aG1hYy1zZWNyZXQtdGhhdC1tdXN0LW5ldmVyLXNob3c"  # base64url of a secret the overview must not show
PASSPHRASE = "plugin-marked-passphrase-never-shown"


def admin_url(gw: harness.Gateway, path: str) -> str:
    return f"http://127.0.0.1:{gw.admin_port}{path}"


def overview(gw: harness.Gateway, **headers: str) -> dict[str, Any]:
    r = httpx2.get(admin_url(gw, "/ui/api/overview"), headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def only_replica(doc: dict[str, Any], target: str) -> dict[str, Any]:
    for bind in doc["binds"]:
        for listener in bind["listeners"]:
            for route in listener["routes"]:
                for t in route["backend"]["targets"]:
                    if t["name"] == target:
                        return t["replicas"][0]
    raise AssertionError(f"no target {target} in {json.dumps(doc)[:2000]}")


def relay(gw: harness.Gateway, endpoint: str | None, body: Any = None, method: str = "POST", **headers: str) -> httpx2.Response:
    h = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json", **headers}
    if endpoint is not None:
        h["MCPGate-Endpoint"] = endpoint
    content = json.dumps(body).encode() if body is not None else None
    return httpx2.request(method, admin_url(gw, "/ui/api/relay"), headers=h, content=content, timeout=20)


def initialize_through_relay(gw: harness.Gateway, endpoint: str, **headers: str) -> str:
    init = rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    r = relay(gw, endpoint, init, **headers)
    assert r.status_code == 200, r.text
    session = r.headers["mcp-session-id"]
    note = relay(gw, endpoint, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                 **{"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25", **headers})
    assert note.status_code == 202, note.text
    return session


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("ui-api-up")


@pytest.fixture(scope="module")
def gw(mprocs, up):
    return mprocs.gateway({"tools": [up.url]}, name="gw-ui-api")


# ---------------------------------------------------------------------------------------------- the files

def test_ui_redirects_and_serves_the_page_with_a_strict_csp(gw):
    r = httpx2.get(admin_url(gw, "/ui"), timeout=5)
    assert r.status_code == 308 and r.headers["location"] == "/ui/"
    for path in ("/ui/", "/ui/playground", "/ui/overview"):
        page = httpx2.get(admin_url(gw, path), timeout=5)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert '<script type="module"' in page.text
    missing = httpx2.get(admin_url(gw, "/ui/js/no-such-file.js"), timeout=5)
    assert missing.status_code == 404


def test_ui_paths_cannot_climb_out_of_the_ui(gw):
    for path, status in (("/ui/../../../../etc/passwd.txt", 404), ("/ui/js/../../../../etc/hostname.js", 404),
                         ("/ui/%2e%2e/%2e%2e/etc/passwd.txt", 404), ("/ui/../../../../etc/passwd", 200)):
        with socket.create_connection(("127.0.0.1", gw.admin_port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{gw.admin_port}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        text = answer.decode(errors="replace")
        # A path without a file extension is one of the page's own routes: the page, never the file.
        assert text.startswith(f"HTTP/1.1 {status}"), (path, text[:200])
        assert "root:" not in text


# ---------------------------------------------------------------------------------------------- the overview

def test_overview_shows_the_route_its_target_and_live_replica_state(gw, up):
    doc = overview(gw)
    assert doc["configFile"] == str(gw.config_path)
    route = doc["binds"][0]["listeners"][0]["routes"][0]
    assert route["endpoint"] == f"http://127.0.0.1:{gw.port}/mcp"
    replica = only_replica(doc, "tools")
    assert replica["url"] == up.url and replica["reachable"] is True and replica["probeError"] is None
    assert len(doc["session"]["keyIds"]) == 1 and doc["session"]["keysFrom"] == "config"
    assert gw.keys[0] not in json.dumps(doc)

    before = replica["requests"]
    session = harness.RawSession(gw.url).initialize()
    session.call_ok("add", {"a": 1, "b": 2})
    after = only_replica(overview(gw), "tools")
    assert after["requests"] >= before + 3  # initialize, notifications/initialized, tools/call
    assert after["sessionsOpened"] >= 1 and after["lastOkAt"] is not None and after["inFlight"] == 0
    session.delete()
    assert only_replica(overview(gw), "tools")["sessionsClosed"] >= 1


def test_overview_shows_an_unreachable_replica_and_its_last_error(procs):
    dead = f"http://127.0.0.1:{harness.free_port()}/mcp"
    gw = procs.gateway({"down": [dead]}, name="gw-ui-dead")
    replica = only_replica(overview(gw), "down")
    assert replica["reachable"] is False and replica["probeError"] == "connection refused"
    r = harness.RawSession(gw.url).post(rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                                          "clientInfo": {"name": "t", "version": "1"}}))
    assert r.status_code == 502
    replica = only_replica(overview(gw), "down")
    assert replica["failures"] >= 1 and replica["lastError"] and replica["lastErrorAt"]


def test_overview_redacts_secrets_the_plugin_marks_and_those_the_config_names(procs, up):
    if reason := jwt_issuer.jwt_plugin_missing():
        pytest.skip(reason)
    policies = {
        "jwtAuth": {"issuer": jwt_issuer.ISSUER, "audiences": [jwt_issuer.AUDIENCE],
                    "jwks": {"keys": [{"kty": "oct", "kid": "h1", "alg": "HS256", "k": HMAC_SECRET}]}},
        "plugins": [{"path": str(harness.plugin_path("test_filter")),
                     "config": {"tag": "t", "passphrase": PASSPHRASE, "nested": {"passphrase": PASSPHRASE}}}],
    }
    gw = procs.gateway({"tools": [up.url]}, name="gw-ui-secrets", policies=policies)
    text = httpx2.get(admin_url(gw, "/ui/api/overview"), timeout=10).text
    assert HMAC_SECRET not in text and PASSPHRASE not in text
    doc = json.loads(text)
    kinds = {p["kind"]: p for p in doc["binds"][0]["listeners"][0]["routes"][0]["policies"]}
    assert kinds["jwtAuth"]["config"]["jwks"]["keys"][0]["k"] == "[redacted]"
    assert kinds["jwtAuth"]["config"]["jwks"]["keys"][0]["kid"] == "h1"
    assert kinds["plugin"]["config"]["passphrase"] == "[redacted]"
    assert kinds["plugin"]["config"]["nested"]["passphrase"] == "[redacted]"
    assert kinds["plugin"]["config"]["tag"] == "t"
    assert kinds["jwtAuth"]["plugin"]["name"] == "jwt" and kinds["jwtAuth"]["path"].endswith("libmcpgate_jwt.so")
    assert kinds["plugin"]["plugin"] == {"name": "test_behavior", "version": "1.0.0"}


def test_overview_records_reloads_good_and_bad(procs, up):
    gw = procs.gateway({"tools": [up.url]}, name="gw-ui-reload")
    assert overview(gw)["lastReload"] is None
    r = httpx2.post(admin_url(gw, "/reload"), timeout=10)
    assert r.status_code == 200, r.text
    good = overview(gw)["lastReload"]
    assert good["ok"] is True and str(gw.config_path) in good["message"]
    original = gw.config_path.read_text()
    gw.config_path.write_text(original + "\nbogus: [\n")
    try:
        assert httpx2.post(admin_url(gw, "/reload"), timeout=10).status_code == 400
        bad = overview(gw)["lastReload"]
        assert bad["ok"] is False and bad["message"] and bad["at"] >= good["at"]
    finally:
        gw.config_path.write_text(original)


# ---------------------------------------------------------------------------------------------- the relay

def test_relay_carries_a_session_and_streams_progress_before_the_result(gw):
    session = initialize_through_relay(gw, gw.url)
    call = rpc("tools/call", {"name": "slow", "arguments": {"steps": 4}, "_meta": {"progressToken": "p"}})
    headers = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json", "MCPGate-Endpoint": gw.url,
               "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    with httpx2.Client(timeout=20) as hc, hc.stream("POST", admin_url(gw, "/ui/api/relay"), headers=headers,
                                                   content=json.dumps(call).encode()) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data:"):
                arrivals.append((time.monotonic() - started, line))
    methods = [json.loads(data[5:]).get("method", "result") for _, data in arrivals]
    assert methods[0] == "notifications/progress" and methods[-1] == "result"
    # The tool sleeps 0.15 s per step: streamed, the first progress arrives well before the result.
    assert arrivals[-1][0] - arrivals[0][0] >= 0.3, arrivals
    assert relay(gw, gw.url, method="DELETE", **{"Mcp-Session-Id": session}).status_code in (200, 202, 204)


def test_relay_refuses_bad_requests_with_clear_errors(gw):
    missing = relay(gw, None, rpc("ping"))
    assert missing.status_code == 400 and "MCPGate-Endpoint" in missing.json()["error"]
    for bad in ("ftp://127.0.0.1/mcp", "not a url", "http://user:pw@127.0.0.1/mcp"):
        r = relay(gw, bad, rpc("ping"))
        assert r.status_code == 400, bad
        assert "pw" not in r.text
    dead = f"http://127.0.0.1:{harness.free_port()}/mcp"
    r = relay(gw, dead, rpc("ping"))
    assert r.status_code == 502 and r.headers["mcpgate-relay-error"] == "1"
    assert r.json()["error"] == f"connection refused: {dead}"
    too_big = httpx2.post(admin_url(gw, "/ui/api/relay"), headers={"MCPGate-Endpoint": gw.url},
                          content=b"x" * (65536 + 1), timeout=10)
    assert too_big.status_code == 413
    put = relay(gw, gw.url, rpc("ping"), method="PUT")
    assert put.status_code == 405


def test_relay_to_a_jwt_route_passes_only_the_typed_authorization(procs, up, tmp_path):
    if reason := jwt_issuer.jwt_plugin_missing():
        pytest.skip(reason)
    issuer = jwt_issuer.Issuer(tmp_path)
    gw = procs.gateway({"tools": [up.url]}, name="gw-ui-jwt", policies={"jwtAuth": issuer.policy()}, start=False)
    gw.config["config"]["adminToken"] = ADMIN_TOKEN
    gw.config_path.write_text(harness.to_yaml(gw.config) + "\n")
    gw.start()
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    init = rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}})
    # The admin token opens the admin API and is never the route's Authorization: the route says 401.
    refused = relay(gw, gw.url, init, **admin)
    assert refused.status_code == 401 and "mcpgate-relay-error" not in refused.headers
    assert refused.headers["www-authenticate"].lower().startswith("bearer")
    typed = relay(gw, gw.url, init, **admin, **{"MCPGate-Authorization": f"Bearer {issuer.token('alice')}"})
    assert typed.status_code == 200, typed.text
    assert typed.headers["mcp-session-id"]
    # Without the admin token, nothing of the admin API answers; the page itself does (it asks for the token).
    no_token = relay(gw, gw.url, init, **{"MCPGate-Authorization": f"Bearer {issuer.token('alice')}"})
    assert no_token.status_code == 401 and no_token.headers["www-authenticate"].startswith("Bearer realm=")
    assert httpx2.get(admin_url(gw, "/ui/api/overview"), timeout=5).status_code == 401
    assert httpx2.get(admin_url(gw, "/ui/"), timeout=5).status_code == 200


def test_a_browser_that_goes_away_cancels_the_relayed_call(gw, up):
    session = initialize_through_relay(gw, gw.url)
    call = rpc("tools/call", {"name": "slow", "arguments": {"steps": 40}, "_meta": {"progressToken": "p"}})
    headers = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json", "MCPGate-Endpoint": gw.url,
               "Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    with httpx2.Client(timeout=20) as hc, hc.stream("POST", admin_url(gw, "/ui/api/relay"), headers=headers,
                                                   content=json.dumps(call).encode()) as r:
        for line in r.iter_lines():
            if line.startswith("data:"):
                assert only_replica(overview(gw), "tools")["inFlight"] == 1
                break  # leaving the line iterator closes the response: the browser is gone
    # The 40-step call would run 6 s; closed after its first event, the upstream request ends with it.
    assert harness.wait_until(lambda: only_replica(overview(gw), "tools")["inFlight"] == 0, timeout=4)
