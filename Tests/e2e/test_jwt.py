"""The bundled JWT filter (`policies.jwtAuth`, Plugins/jwt) through the live gateway, in front of a
real MCP server, in both protocol eras.

Tokens and keys come from PyJWT + cryptography (Plugins/jwt/tests/mint_tokens.py, the same cases the
C unit tests replay): every algorithm accepted, every rejection refused with 401/403 and the right
`WWW-Authenticate`. Also: RFC 9728 protected-resource metadata, sessions bound to the principal,
the upstream never seeing the client's token (unless `forwardAuthorization`), scopes per tool, and a
JWKS served over HTTPS with key rotation.
"""

from __future__ import annotations

import http.server
import json
import ssl
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

import harness
from harness import MODERN_VERSION, RawSession, base_headers, encode_body, modern_request, rpc, to_yaml

sys.path.insert(0, str(harness.REPO_ROOT / "Plugins" / "jwt" / "tests"))
import mint_tokens as mt  # noqa: E402

LEEWAY = 3600  # tokens are minted at import (collection), possibly minutes before this module runs: "within the leeway" cases (exp = now - leeway/3) stay valid for 40 min
KEYS = mt.make_keys()
_NOW = int(time.time())
CORE = mt.core_cases(KEYS, _NOW, leeway=LEEWAY)
SCOPES = mt.scope_cases(KEYS, _NOW)
OK_CASES = [c for c in CORE if c["expect"] == "ok"]
REJECTED = [c for c in CORE if c["expect"] == "reject"]
ERAS = ["legacy", MODERN_VERSION]


def _missing_plugin() -> str | None:
    if not harness.gateway_binary().is_file():
        return None  # harness.require_gateway() skips with its own message
    for name in ("jwt", "cors"):
        if not harness.plugin_path(name).is_file():
            return f"{harness.plugin_path(name)} is missing: build it with `swift build`"
    return None


pytestmark = pytest.mark.skipif(_missing_plugin() is not None, reason=_missing_plugin() or "")


def _jwt_policy(jwks_path: Path, **extra: Any) -> dict[str, Any]:
    return {"issuer": mt.ISSUER, "audiences": [mt.AUDIENCE], "leeway": f"{LEEWAY}s", "jwks": {"file": str(jwks_path)}, **extra}


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(mt.jwks(KEYS)))
    return path


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("jwt-up")


@pytest.fixture(scope="module")
def gw(mprocs, up, jwks_file):
    return mprocs.gateway({"t": [up.url]}, name="gw-jwt", policies={"jwtAuth": _jwt_policy(jwks_file)})


@pytest.fixture(scope="module")
def gw_scoped(mprocs, up, jwks_file):
    policy = _jwt_policy(jwks_file, toolScopes={"add": ["calc"], "admin_*": ["admin"]})
    return mprocs.gateway({"t": [up.url]}, name="gw-jwt-scopes", policies={"jwtAuth": policy})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(url: str, era: str, token: str | None, method: str = "tools/list", params: dict | None = None,
          extra: dict[str, str] | None = None) -> httpx2.Response:
    """One request that needs no session: initialize (legacy) or a self-contained 2026 request."""
    if era == "legacy":
        msg = rpc("initialize", harness.INIT_PARAMS) if method == "tools/list" else rpc(method, params)
        headers = base_headers()
    else:
        msg, headers = modern_request(method, params)
    if token is not None:
        headers.update(_auth(token))
    headers.update(extra or {})
    return httpx2.post(url, content=encode_body(msg), headers=headers, timeout=15)


def _challenge(resp: httpx2.Response) -> dict[str, str]:
    """WWW-Authenticate: Bearer k="v", ... as a dict (the scheme under the key "")."""
    value = resp.headers.get("www-authenticate", "")
    assert value.startswith("Bearer"), f"expected a Bearer challenge, got {value!r} (HTTP {resp.status_code})"
    out = {"": "Bearer"}
    rest = value[len("Bearer"):].strip()
    while rest:
        name, _, rest = rest.partition("=")
        assert rest.startswith('"'), value
        end = rest.index('"', 1)
        out[name.strip().lstrip(",").strip()] = rest[1:end]
        rest = rest[end + 1:].lstrip(", ")
    return out


def _prm_url(gw) -> str:
    return f"http://127.0.0.1:{gw.port}/.well-known/oauth-protected-resource/mcp"


# ------------------------------------------------------------------------------------------------
# every algorithm, every rejection


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("case", OK_CASES, ids=[c["name"] for c in OK_CASES])
def test_valid_token_is_accepted(gw, case, era):
    r = _post(gw.url, era, case["token"])
    assert r.status_code == 200, f"{case['name']}: HTTP {r.status_code} {r.headers.get('www-authenticate')} {r.text[:300]}"
    assert "www-authenticate" not in r.headers


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("case", REJECTED, ids=[c["name"] for c in REJECTED])
def test_bad_token_is_refused(gw, case, era):
    r = _post(gw.url, era, case["token"])
    assert r.status_code == case["status"], f"{case['name']}: HTTP {r.status_code}: {r.text[:300]}"
    ch = _challenge(r)
    assert ch.get("error") == case["error"], ch
    assert case["description"] in ch.get("error_description", ""), ch
    assert ch.get("resource_metadata") == _prm_url(gw), ch
    body = harness.expect_error(r, case["status"], -32600)
    assert body["error"]["data"]["error"] == case["error"], body


@pytest.mark.parametrize("era", ERAS)
def test_missing_token_gets_the_discovery_challenge(gw, era):
    r = _post(gw.url, era, None)
    assert r.status_code == 401, r.text[:300]
    ch = _challenge(r)
    assert "error" not in ch, ch
    assert ch["resource_metadata"] == _prm_url(gw)
    harness.expect_error(r, 401, -32600)
    # Another scheme is no bearer token.
    r = _post(gw.url, era, None, extra={"Authorization": "Basic YWxpY2U6cHc="})
    assert r.status_code == 401 and "error" not in _challenge(r)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("alg", sorted({a for _, a, _ in mt.ALGORITHMS} | {"EdDSA-Ed448"}))
def test_sdk_client_with_every_algorithm(gw, alg, era):
    """The official SDK client (both eras) with a bearer token signed with each algorithm: a whole
    session, and the upstream never sees the token."""
    kid, name, attr = next((k, a, t) for k, a, t in mt.ALGORITHMS if a == alg or (alg == "EdDSA-Ed448" and k == "ed448"))
    token = mt.sign(KEYS, kid, name, attr, mt.claims(int(time.time()), sub=f"user-{alg}"))

    async def run() -> dict:
        async with harness.sdk_client(gw.url, "legacy" if era == "legacy" else era, headers=_auth(token)) as c:
            tools = await c.list_tools()
            assert "whoami" in [t.name for t in tools.tools]
            added = await c.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}, added
            r = await c.call_tool("whoami", {})
            assert not r.is_error, r
            return r.structured_content

    seen = anyio.run(run)
    assert seen["authorization"] is None, "the client's token reached the upstream"


@pytest.mark.parametrize("era", ERAS)
def test_sdk_client_with_an_expired_token_fails(gw, era):
    token = mt.sign(KEYS, "rsa", "RS256", "rsa", mt.claims(int(time.time()), exp=int(time.time()) - LEEWAY - 60))

    async def run() -> None:
        with anyio.fail_after(30):
            async with harness.sdk_client(gw.url, "legacy" if era == "legacy" else era, headers=_auth(token)) as c:
                await c.list_tools()

    with pytest.raises(BaseException) as info:
        anyio.run(run)
    assert "401" in repr(info.value) or "Unauthorized" in repr(info.value) or info.type is not TimeoutError, info.value


# ------------------------------------------------------------------------------------------------
# protected-resource metadata


def test_protected_resource_metadata(gw):
    for path, resource in (("/.well-known/oauth-protected-resource/mcp", f"http://127.0.0.1:{gw.port}/mcp"),
                           ("/.well-known/oauth-protected-resource", f"http://127.0.0.1:{gw.port}")):
        r = httpx2.get(f"http://127.0.0.1:{gw.port}{path}", timeout=10)  # no token: it is public
        assert r.status_code == 200, r.text[:300]
        assert r.headers["content-type"].startswith("application/json")
        doc = r.json()
        assert doc["resource"] == resource, doc
        assert doc["authorization_servers"] == [mt.ISSUER], doc
        assert doc["bearer_methods_supported"] == ["header"], doc
    # The 401's resource_metadata URL is the document's.
    ch = _challenge(_post(gw.url, "legacy", None))
    assert httpx2.get(ch["resource_metadata"], timeout=10).json()["resource"] == f"http://127.0.0.1:{gw.port}/mcp"


def test_configured_resource_metadata(procs, up, jwks_file):
    policy = _jwt_policy(jwks_file, requiredScopes=["mcp"],
                         resourceMetadata={"resource": "https://mcp.example/mcp", "scopesSupported": ["mcp", "extra"],
                                           "resourceDocumentation": "https://mcp.example/docs"})
    g = procs.gateway({"t": [up.url]}, policies={"jwtAuth": policy})
    doc = httpx2.get(f"http://127.0.0.1:{g.port}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
    assert doc == {"resource": "https://mcp.example/mcp", "scopes_supported": ["mcp", "extra"],
                   "resource_documentation": "https://mcp.example/docs", "authorization_servers": [mt.ISSUER],
                   "bearer_methods_supported": ["header"]}
    ch = _challenge(_post(g.url, "legacy", None))
    assert ch == {"": "Bearer", "scope": "mcp",
                  "resource_metadata": "https://mcp.example/.well-known/oauth-protected-resource/mcp"}
    # A valid token without the route's scope: 403 insufficient_scope.
    r = _post(g.url, MODERN_VERSION, mt.sign(KEYS, "rsa", "RS256", "rsa", mt.claims(int(time.time()))))
    assert r.status_code == 403
    assert _challenge(r)["error"] == "insufficient_scope"
    r = _post(g.url, MODERN_VERSION, mt.sign(KEYS, "rsa", "RS256", "rsa", mt.claims(int(time.time()), scope="mcp")))
    assert r.status_code == 200, r.text[:300]


# ------------------------------------------------------------------------------------------------
# principal binding, token passthrough


def _token(sub: str, **kw: Any) -> str:
    return mt.sign(KEYS, "ec256", "ES256", "ec256", mt.claims(int(time.time()), sub=sub, **kw))


def test_session_is_bound_to_the_principal(gw):
    alice = RawSession(gw.url, client=httpx2.Client(headers=_auth(_token("alice")), timeout=15)).initialize(strict=True)
    try:
        r, res = alice.call_tool("add", {"a": 1, "b": 1})
        assert r.status_code == 200 and res["result"]["structuredContent"] == {"result": 2}, r.text[:300]
        # bob presents alice's session id with his own (valid) token: 404, as for an unknown session.
        r = alice.post(rpc("tools/list"), extra=_auth(_token("bob")))
        harness.expect_error(r, 404, -32600)
        # alice with a fresh token of her own keeps her session.
        r = alice.post(rpc("tools/list"), extra=_auth(_token("alice", jti="2")))
        assert r.status_code == 200, r.text[:300]
        # and without any token she is asked to authenticate, not told the session is gone.
        h = alice.headers()
        r = httpx2.post(gw.url, content=encode_body(rpc("tools/list")), headers=h, timeout=15)
        assert r.status_code == 401
    finally:
        alice.close()


@pytest.mark.parametrize("era", ERAS)
def test_upstream_never_sees_the_token_unless_forwarded(procs, up, jwks_file, era):
    g = procs.gateway({"t": [up.url]}, policies={"jwtAuth": _jwt_policy(jwks_file)}, start=False)
    g.config["binds"][0]["listeners"][0]["routes"][0]["backends"][0]["mcp"]["targets"][0]["forwardAuthorization"] = True
    g.config_path.write_text(to_yaml(g.config) + "\n")
    g.start()
    token = _token("alice")

    async def whoami(url: str) -> dict:
        async with harness.sdk_client(url, "legacy" if era == "legacy" else era, headers=_auth(token)) as c:
            return (await c.call_tool("whoami", {})).structured_content

    gw_default = procs.gateway({"t": [up.url]}, policies={"jwtAuth": _jwt_policy(jwks_file)})
    assert anyio.run(whoami, gw_default.url)["authorization"] is None
    # forwardAuthorization: true is the passthrough switch.
    assert anyio.run(whoami, g.url)["authorization"] == f"Bearer {token}"


# ------------------------------------------------------------------------------------------------
# scopes per tool


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("case", SCOPES, ids=[c["name"] for c in SCOPES])
def test_tool_scopes(gw_scoped, case, era):
    token = case["token"]
    tool = case["tool"]
    if era == "legacy":
        s = RawSession(gw_scoped.url, client=httpx2.Client(headers=_auth(token), timeout=15)).initialize()
        try:
            r, _ = s.call_tool(tool, {"a": 1, "b": 2} if tool == "add" else {})
        finally:
            s.close()
    else:
        msg, headers = modern_request("tools/call", {"name": tool, "arguments": {"a": 1, "b": 2} if tool == "add" else {}})
        headers.update(_auth(token))
        r = httpx2.post(gw_scoped.url, content=encode_body(msg), headers=headers, timeout=15)
    if case["expect"] == "ok":
        assert "www-authenticate" not in r.headers, r.headers
        assert r.status_code == 200, r.text[:300]
    else:
        assert r.status_code == 403, r.text[:300]
        ch = _challenge(r)
        assert ch["error"] == "insufficient_scope" and ch["scope"] == case["scope"], ch
        assert ch["resource_metadata"] == _prm_url(gw_scoped)
        body = r.json()
        assert body["error"]["code"] == -32600 and body["id"] is not None, body


# ------------------------------------------------------------------------------------------------
# JWKS from an HTTPS URL, refreshed in the background, rotated


class _JWKSServer:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate, serving a JWKS it can swap."""

    def __init__(self, directory: Path):
        cert, key = mt.self_signed("localhost", "127.0.0.1")
        self.ca = directory / "ca.pem"
        self.ca.write_bytes(cert)
        (directory / "key.pem").write_bytes(key)
        self.document = json.dumps(mt.jwks(KEYS)).encode()
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.document)))
                self.end_headers()
                self.wfile.write(outer.document)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca, directory / "key.pem")
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_jwks_url_over_https_with_rotation(procs, up, tmp_path):
    server = _JWKSServer(tmp_path)
    try:
        policy = {"issuer": mt.ISSUER, "audiences": [mt.AUDIENCE],
                  "jwks": {"url": server.url, "caFile": str(server.ca), "refreshInterval": "1h", "minRefreshInterval": "1s"}}
        g = procs.gateway({"t": [up.url]}, policies={"jwtAuth": policy})
        assert _post(g.url, "legacy", _token("alice")).status_code == 200
        rotated = mt.sign(KEYS, "rotated", "ES256", "rotated", mt.claims(int(time.time()), sub="carol"))
        assert _post(g.url, MODERN_VERSION, rotated).status_code == 401  # not published yet
        server.document = json.dumps(mt.jwks(KEYS, rotated=True)).encode()
        # The unknown kid asked the background refresher for an early fetch (at most once a second).
        deadline = time.monotonic() + 15
        status = 401
        while time.monotonic() < deadline and status != 200:
            time.sleep(0.3)
            status = _post(g.url, MODERN_VERSION, rotated).status_code
        assert status == 200, f"rotated key not picked up ({server.hits} fetches)\n{g.log_text()}"
        assert _post(g.url, "legacy", _token("alice")).status_code == 200
        metrics = httpx2.get(f"http://127.0.0.1:{g.stats_port}/metrics", timeout=10).text
        assert "mcpgate_plugin_jwt_jwks_refreshes_total" in metrics, metrics[:2000]
        assert "mcpgate_plugin_jwt_requests_total" in metrics
    finally:
        server.close()
