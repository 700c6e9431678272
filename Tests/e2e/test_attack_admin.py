"""The attack suite, admin endpoints (M5 of the attack run 2026-12, issue #11).

The admin API (`config.adminAddr`: `GET /config`, `POST /reload`) checks Host like the MCP listener does
(DNS rebinding), refuses a request whose `Origin` is not its own (a web page's cross-site POST), refuses a
`/reload` body type a form can send (CORS-simple requests), and takes a bearer token when `config.adminToken`
(or `MCPGATE_ADMIN_TOKEN`) is set; an admin address beyond loopback without a token is refused at load.
Every case runs inside `attack_guard` (canary served, gateway alive, RSS back).
"""

from __future__ import annotations

import os
import time

import httpx2
import pytest

from harness import TunedGateway, attack_guard, free_port, tuned_gateway, wait_until

TOKEN = "attack-suite-admin-token-0123456789"


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("attack-admin-up")


@pytest.fixture(scope="module")
def gw(mprocs, up) -> TunedGateway:
    return tuned_gateway(mprocs, {"t": [up.url]}, name="gw-attack-admin")


def admin(gw: TunedGateway, method: str, path: str, **headers: str) -> httpx2.Response:
    h = {k.replace("_", "-"): v for k, v in headers.items()}
    with httpx2.Client(timeout=10) as hc:
        return hc.request(method, gw.admin_url + path, headers=h, content=b"{}" if method == "POST" else None)


def reloads(gw: TunedGateway) -> int:
    return gw.log_text(200000).count("configuration reloaded")


@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1.attacker.example:{port}", "evil.example:{port}"])
def test_admin_request_with_a_foreign_host_is_421(gw, host):
    """M5, report case 366: after DNS rebinding, `GET /config` arrives with a foreign Host: 421, not the
    topology."""
    with attack_guard(gw):
        r = admin(gw, "GET", "/config", Host=host.format(port=gw.admin_port))
        assert r.status_code == 421, f"Host {host}: HTTP {r.status_code} {r.text[:200]}"


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_admin_request_with_a_loopback_host_is_served(gw, host):
    """M5 guard: the operator's own `curl http://127.0.0.1:PORT/config` (or localhost) is served."""
    with attack_guard(gw):
        r = admin(gw, "GET", "/config", Host=host.format(port=gw.admin_port))
        assert r.status_code == 200, f"Host {host}: HTTP {r.status_code} {r.text[:200]}"


@pytest.mark.parametrize("method, path", [("POST", "/reload"), ("GET", "/config")])
def test_admin_request_from_a_foreign_origin_is_403_and_does_nothing(gw, method, path):
    """M5, report case 364: a browser request from another site (`Origin: http://evil.example`) gets 403;
    a POST /reload does not reload."""
    with attack_guard(gw):
        before = reloads(gw)
        r = admin(gw, method, path, Origin="http://evil.example", Content_Type="application/json")
        assert r.status_code == 403, f"{method} {path}: HTTP {r.status_code} {r.text[:200]}"
        time.sleep(0.2)
        assert reloads(gw) == before, "the configuration was reloaded"


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_reload_with_a_form_content_type_is_415(gw, ctype):
    """M5, report case 365: `POST /reload` as a CORS-simple request (a type an HTML form or a no-cors fetch
    can send) gets 415 and does not reload."""
    with attack_guard(gw):
        before = reloads(gw)
        r = admin(gw, "POST", "/reload", Content_Type=ctype)
        assert r.status_code == 415, f"Content-Type {ctype}: HTTP {r.status_code} {r.text[:200]}"
        assert reloads(gw) == before


@pytest.mark.parametrize("ctype", [None, "application/json"])
def test_reload_without_a_body_type_or_with_json_is_served(gw, ctype):
    """M5 guard: `curl -X POST .../reload` (no type) and a JSON POST still reload."""
    with attack_guard(gw):
        before = reloads(gw)
        r = admin(gw, "POST", "/reload", **({"Content_Type": ctype} if ctype else {}))
        assert r.status_code == 200, f"HTTP {r.status_code} {r.text[:200]}"
        assert wait_until(lambda: reloads(gw) == before + 1, 2.0)


@pytest.mark.parametrize("where", ["config", "environment"])
def test_admin_token_is_required_on_every_admin_request_when_set(procs, up, where):
    """M5: with `config.adminToken` (or `MCPGATE_ADMIN_TOKEN`) set, admin requests without
    `Authorization: Bearer <token>`, or with another token, get 401; with it they are served."""
    kw = {"settings": {"adminToken": TOKEN}} if where == "config" else {"env": {"MCPGATE_ADMIN_TOKEN": TOKEN}}
    gw = tuned_gateway(procs, {"t": [up.url]}, **kw)
    with attack_guard(gw):
        for method, path in (("GET", "/config"), ("POST", "/reload")):
            assert admin(gw, method, path).status_code == 401, f"{method} {path} without a token"
            assert admin(gw, method, path, Authorization="Bearer wrong-token").status_code == 401, f"{method} {path} wrong token"
            assert admin(gw, method, path, Authorization=f"Basic {TOKEN}").status_code == 401, f"{method} {path} not a bearer"
            r = admin(gw, method, path, Authorization=f"Bearer {TOKEN}")
            assert r.status_code == 200, f"{method} {path} with the token: HTTP {r.status_code} {r.text[:200]}"


def test_admin_address_beyond_loopback_without_a_token_is_refused_at_load(procs, up):
    """M5: `adminAddr` on a non-loopback address with no admin token is a config error: the gateway
    exits at load naming adminToken. (192.0.2.1 is TEST-NET-1, never a local address, so nothing ever
    listens beyond loopback even on a build that would accept it.)"""
    gw = TunedGateway("gw-admin-exposed", procs.logdir, {"t": [up.url]}, settings={"adminAddr": f"192.0.2.1:{free_port()}"})
    procs.started.append(gw)
    env = {k: v for k, v in os.environ.items() if k not in ("SESSION_KEY", "MCPGATE_ADMIN_TOKEN")}
    gw._spawn([str(gw.binary), "-f", str(gw.config_path)], env)
    assert wait_until(lambda: not gw.alive, 10), "the gateway did not exit"
    log = gw.log_text()
    assert gw.returncode != 0 and "adminToken" in log, f"exit {gw.returncode}, log:\n{log}"
