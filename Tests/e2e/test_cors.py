"""The bundled CORS filter (`policies.cors`, Plugins/cors) through the live gateway, with the JWT filter
behind it: preflights are answered before authentication, and every answer to an allowed origin —
upstream results and SSE streams, the gateway's own errors, 401/403 of the JWT filter — carries the
Access-Control-* headers a browser needs to read it. Checked byte-level with httpx (as curl would) and
with a real browser: headless Chromium running `fetch` from a page on another origin, reading
`Mcp-Session-Id` and `WWW-Authenticate`.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

import harness
from harness import HANDSHAKE_VERSION, MODERN_VERSION, base_headers, encode_body, modern_request, rpc

sys.path.insert(0, str(harness.REPO_ROOT / "Plugins" / "jwt" / "tests"))
import mint_tokens as mt  # noqa: E402

KEYS = mt.make_keys()
APP = "http://app.example"


def _missing_plugin() -> str | None:
    if not harness.gateway_binary().is_file():
        return None
    for name in ("jwt", "cors"):
        if not harness.plugin_path(name).is_file():
            return f"{harness.plugin_path(name)} is missing: build it with `swift build`"
    return None


pytestmark = pytest.mark.skipif(_missing_plugin() is not None, reason=_missing_plugin() or "")


def _token(sub: str = "alice", **kw: Any) -> str:
    return mt.sign(KEYS, "ec256", "ES256", "ec256", mt.claims(int(time.time()), sub=sub, **kw))


class _Page:
    """A page server on its own origin (127.0.0.1:<port>): serves one HTML page and collects the
    JSON its script POSTs back to /report."""

    def __init__(self, html: str):
        self.html = html.encode()
        self.reports: list[Any] = []
        self.got = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(outer.html)))
                self.end_headers()
                self.wfile.write(outer.html)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.reports.append(json.loads(body))
                outer.got.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(mt.jwks(KEYS)))
    return path


@pytest.fixture(scope="module")
def page():
    p = _Page("")
    yield p
    p.close()


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("cors-up")


def _policies(jwks_file: Path, cors: dict[str, Any], **jwt: Any) -> dict[str, Any]:
    return {
        "cors": cors,
        "jwtAuth": {"issuer": mt.ISSUER, "audiences": [mt.AUDIENCE], "jwks": {"file": str(jwks_file)}, **jwt},
    }


@pytest.fixture(scope="module")
def gw(mprocs, up, jwks_file, page):
    cors = {"allowOrigins": [APP, page.origin], "exposeHeaders": ["Mcp-Session-Id", "WWW-Authenticate"], "maxAge": 600}
    return mprocs.gateway({"t": [up.url]}, name="gw-cors",
                          policies=_policies(jwks_file, cors, toolScopes={"add": ["calc"]}))


def _preflight(url: str, origin: str, method: str = "POST", headers: str | None = None) -> httpx2.Response:
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        h["Access-Control-Request-Headers"] = headers
    return httpx2.request("OPTIONS", url, headers=h, timeout=10)


def _vary(r: httpx2.Response) -> set[str]:
    return {v.strip().lower() for line in r.headers.get_list("vary") for v in line.split(",")}


def _init(url: str, origin: str | None, token: str | None) -> httpx2.Response:
    h = base_headers()
    if origin:
        h["Origin"] = origin
    if token:
        h["Authorization"] = f"Bearer {token}"
    return httpx2.post(url, content=encode_body(rpc("initialize", harness.INIT_PARAMS)), headers=h, timeout=15)


# ------------------------------------------------------------------------------------------------
# curl-style


def test_preflight_is_answered_before_authentication(gw):
    requested = "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id"
    r = _preflight(gw.url, APP, headers=requested)
    assert r.status_code == 204, r.text[:300]
    assert r.headers["access-control-allow-origin"] == APP
    assert "origin" in _vary(r)
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"} <= allowed
    assert {m.strip() for m in r.headers["access-control-allow-methods"].split(",")} >= {"GET", "POST", "DELETE"}
    assert r.headers["access-control-max-age"] == "600"
    assert "www-authenticate" not in r.headers, "the preflight reached authentication"
    assert "access-control-allow-credentials" not in r.headers


def test_preflight_for_2026_headers_echoes_mcp_param(gw):
    r = _preflight(gw.url, APP, headers="content-type,mcp-protocol-version,mcp-method,mcp-name,mcp-param-region,x-evil")
    assert r.status_code == 204
    allowed = [h.strip() for h in r.headers["access-control-allow-headers"].split(",")]
    assert "mcp-param-region" in allowed and "mcp-method" in allowed and "mcp-name" in allowed, allowed
    assert "x-evil" not in allowed


def test_preflight_from_another_origin_gets_no_cors_headers(gw):
    for origin in ("https://evil.example", "http://app.example.evil", "https://app.example"):
        r = _preflight(gw.url, origin, headers="authorization")
        assert r.status_code == 403, (origin, r.status_code)
        assert not any(k.lower().startswith("access-control-") for k in r.headers), dict(r.headers)
        assert "www-authenticate" not in r.headers


def test_preflight_of_the_metadata_endpoint(gw):
    r = _preflight(f"http://127.0.0.1:{gw.port}/.well-known/oauth-protected-resource/mcp", APP, method="GET")
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == APP
    r = httpx2.get(f"http://127.0.0.1:{gw.port}/.well-known/oauth-protected-resource/mcp", headers={"Origin": APP}, timeout=10)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == APP, dict(r.headers)


def test_actual_requests_carry_cors_headers(gw):
    # Authenticated initialize: the session id is exposed.
    r = _init(gw.url, APP, _token())
    assert r.status_code == 200, r.text[:300]
    assert r.headers["access-control-allow-origin"] == APP
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"mcp-session-id", "www-authenticate"} <= exposed
    sid = r.headers["mcp-session-id"]
    h = base_headers()
    h.update({"Origin": APP, "Authorization": f"Bearer {_token()}", "Mcp-Session-Id": sid, "MCP-Protocol-Version": HANDSHAKE_VERSION})
    # An SSE answer relayed from the upstream.
    r = httpx2.post(gw.url, content=encode_body(rpc("tools/call", {"name": "whoami", "arguments": {}})), headers=h, timeout=15)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == APP, dict(r.headers)
    seen = harness.messages(r)[-1]["result"]["structuredContent"]
    assert seen["origin"] is None and seen["authorization"] is None, seen  # neither reaches the upstream

    # 401 from the JWT filter: readable, with WWW-Authenticate exposed.
    r = _init(gw.url, APP, None)
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == APP
    assert "www-authenticate" in r.headers["access-control-expose-headers"].lower()
    r = _init(gw.url, APP, "not.a.token")
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == APP

    # 403 from the JWT filter's message hook (tool scope).
    r = httpx2.post(gw.url, content=encode_body(rpc("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})), headers=h, timeout=15)
    assert r.status_code == 403 and r.headers["access-control-allow-origin"] == APP, r.text[:300]

    # Errors the gateway makes itself: unknown session (404), missing session (400).
    bad = dict(h, **{"Mcp-Session-Id": "nope"})
    r = httpx2.post(gw.url, content=encode_body(rpc("tools/list")), headers=bad, timeout=15)
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == APP
    no_sid = {k: v for k, v in h.items() if k != "Mcp-Session-Id"}
    r = httpx2.post(gw.url, content=encode_body(rpc("tools/list")), headers=no_sid, timeout=15)
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == APP

    # 2026-07-28 request.
    msg, mh = modern_request("tools/list")
    mh.update({"Origin": APP, "Authorization": f"Bearer {_token()}"})
    r = httpx2.post(gw.url, content=encode_body(msg), headers=mh, timeout=15)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == APP


def test_no_origin_no_cors_headers_and_foreign_origin_refused(gw):
    r = _init(gw.url, None, _token())
    assert r.status_code == 200
    assert not any(k.lower().startswith("access-control-") for k in r.headers)
    r = _init(gw.url, "https://evil.example", _token())
    assert r.status_code == 403  # the gateway's Origin check (docs/errors.md)
    assert "access-control-allow-origin" not in r.headers


def test_credentials_never_with_a_star(procs, up, jwks_file):
    cors = {"allowOrigins": ["*"], "allowCredentials": True, "allowHeaders": ["*"]}
    g = procs.gateway({"t": [up.url]}, policies=_policies(jwks_file, cors))
    r = _preflight(g.url, APP, headers="authorization,mcp-param-city")
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == APP
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-allow-headers"].lower() == "authorization,mcp-param-city"
    assert "origin" in _vary(r)
    r = _init(g.url, APP, None)
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == APP and r.headers["access-control-allow-credentials"] == "true"
    assert "origin" in _vary(r)
    # Without credentials a star stays a star.
    g2 = procs.gateway({"t": [up.url]}, policies=_policies(jwks_file, {"allowOrigins": ["*"]}))
    r = _init(g2.url, "https://anywhere.example", _token())
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"


# ------------------------------------------------------------------------------------------------
# a real browser


_SCRIPT = """
<!doctype html><title>mcp page</title><pre id="out">running</pre>
<script>
const GW = %(gw)s, TOKEN = %(token)s;
const J = (m) => JSON.stringify(m);
const base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"};
(async () => {
  const out = {origin: location.origin};
  try {
    let r = await fetch(GW, {method: "POST", headers: base,
      body: J({jsonrpc: "2.0", id: 1, method: "initialize", params: %(init)s})});
    out.unauthenticated = {status: r.status, wwwAuthenticate: r.headers.get("WWW-Authenticate")};
    const auth = Object.assign({Authorization: "Bearer " + TOKEN}, base);
    r = await fetch(GW, {method: "POST", headers: auth,
      body: J({jsonrpc: "2.0", id: 1, method: "initialize", params: %(init)s})});
    const sid = r.headers.get("Mcp-Session-Id");
    out.initialize = {status: r.status, sessionId: sid, body: await r.text()};
    const s = Object.assign({"Mcp-Session-Id": sid, "MCP-Protocol-Version": "%(version)s"}, auth);
    r = await fetch(GW, {method: "POST", headers: s, body: J({jsonrpc: "2.0", method: "notifications/initialized"})});
    out.initialized = r.status;
    r = await fetch(GW, {method: "POST", headers: s,
      body: J({jsonrpc: "2.0", id: 2, method: "tools/call", params: {name: "add", arguments: {a: 2, b: 40}}})});
    out.call = {status: r.status, body: await r.text()};
    const m = Object.assign({"MCP-Protocol-Version": "%(modern)s", "Mcp-Method": "tools/call", "Mcp-Name": "weather",
      "Mcp-Param-Region": "eu"}, auth);
    r = await fetch(GW, {method: "POST", headers: m, body: J({jsonrpc: "2.0", id: 3, method: "tools/call",
      params: {name: "weather", arguments: {region: "eu", city: "Paris"}, _meta: %(meta)s}})});
    out.modern = {status: r.status, body: await r.text()};
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById("out").textContent = J(out);
  await fetch("/report", {method: "POST", body: J(out)});
})();
</script>
"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run_page(page: _Page, gw_url: str, token: str, profile: Path) -> dict[str, Any]:
    page.html = (_SCRIPT % {
        "gw": json.dumps(gw_url), "token": json.dumps(token), "init": json.dumps(harness.INIT_PARAMS),
        "version": HANDSHAKE_VERSION, "modern": MODERN_VERSION, "meta": json.dumps(harness.modern_meta()),
    }).encode()
    page.reports.clear()
    page.got.clear()
    browser = subprocess.Popen(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", f"http://127.0.0.1:{page.port}/"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert page.got.wait(60), "the page never reported back"
    finally:
        try:
            output, _ = browser.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            browser.kill()
            output, _ = browser.communicate()
    report = page.reports[0]
    report["_dump"] = output.decode(errors="replace")[-2000:]
    return report


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_headless_chromium_fetch_from_another_origin(gw, page, tmp_path):
    report = _run_page(page, gw.url, _token("browser-user", scope="calc"), tmp_path / "profile")
    assert "error" not in report, report
    assert report["unauthenticated"]["status"] == 401, report
    assert report["unauthenticated"]["wwwAuthenticate"].startswith("Bearer resource_metadata="), report
    assert report["initialize"]["status"] == 200, report
    assert report["initialize"]["sessionId"], f"the page could not read Mcp-Session-Id: {report}"
    assert report["initialized"] == 202, report
    assert report["call"]["status"] == 200 and '"result":42' in report["call"]["body"].replace(" ", ""), report
    assert report["modern"]["status"] == 200 and "sunny in Paris (eu)" in report["modern"]["body"], report


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_headless_chromium_blocked_from_an_origin_not_allowed(procs, up, jwks_file, page, tmp_path):
    g = procs.gateway({"t": [up.url]}, policies=_policies(jwks_file, {"allowOrigins": [APP]}))
    report = _run_page(page, g.url, _token(), tmp_path / "profile")
    assert "Failed to fetch" in report.get("error", ""), report
