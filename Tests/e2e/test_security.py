"""What crosses the gateway: the client's bearer token and Mcp-Session-Id are never sent upstream,
and the upstream's session id (and endpoint) is never shown to the client, not even inside the
sealed session id. The `whoami` tool reports the headers the upstream actually received."""

from __future__ import annotations

import base64
import binascii

import anyio
import pytest

from harness import HANDSHAKE_VERSION, MODERN_VERSION, ClientLog, RawSession, sdk_client

TOKEN = "Bearer client-secret-token-0123456789"


@pytest.fixture(scope="module")
def up(mprocs):
    return mprocs.upstream("security-up")


@pytest.fixture(scope="module")
def gw(mprocs, up):
    return mprocs.gateway({"t": [up.url]}, name="gw-security")


async def _whoami(url: str, mode: str) -> tuple[dict, ClientLog]:
    log = ClientLog()
    async with sdk_client(url, mode, headers={"Authorization": TOKEN}, log=log) as c:
        r = await c.call_tool("whoami", {})
        assert not r.is_error, r
        seen = r.structured_content
        await c.call_tool("add", {"a": 1, "b": 2})
    return seen, log


def _decodings(sid: str) -> list[bytes]:
    """The session id's bytes, and its base64url decodings (whole and per '.'-separated part)."""
    out = [sid.encode()]
    for part in [sid, *sid.split(".")]:
        for cut in range(4):  # tolerate a short prefix (version / key id) before the base64 body
            chunk = part[cut:]
            try:
                out.append(base64.urlsafe_b64decode(chunk + "=" * (-len(chunk) % 4)))
            except (binascii.Error, ValueError):
                pass
    return out


@pytest.mark.parametrize("mode", ["legacy", MODERN_VERSION])
def test_direct_whoami_reports_what_the_client_sent(up, mode):
    """Baseline: without a gateway the upstream sees the client's token and session id."""
    seen, log = anyio.run(_whoami, up.url, mode)
    assert seen["authorization"] == TOKEN
    if mode == "legacy":
        assert seen["mcp_session_id"] in log.session_ids
        assert seen["mcp_protocol_version"] == HANDSHAKE_VERSION
    else:
        assert seen["mcp_session_id"] is None
        assert seen["mcp_protocol_version"] == MODERN_VERSION


def test_legacy_token_and_session_ids_do_not_cross_the_gateway(gw, up):
    seen, log = anyio.run(_whoami, gw.url, "legacy")
    assert seen["authorization"] is None, f"client Authorization forwarded upstream: {seen}"
    upstream_sid = seen["mcp_session_id"]
    assert upstream_sid, "the gateway must hold an upstream session for a handshake-era upstream"
    assert seen["mcp_protocol_version"] == HANDSHAKE_VERSION

    client_sids = log.session_ids
    assert len(client_sids) == 1, client_sids
    client_sid = next(iter(client_sids))
    assert client_sid != upstream_sid, "the client's session id was sent upstream"

    # every request the client made carried the gateway's id, and no response showed the upstream's
    for h in log.request_headers:
        if "mcp-session-id" in h:
            assert h["mcp-session-id"] == client_sid
    for h in log.response_headers:
        assert all(upstream_sid not in v for v in h.values()), f"upstream session id leaked in headers: {h}"

    # the sealed id does not carry the upstream id or endpoint in the clear
    secrets_ = [upstream_sid.encode(), str(up.port).encode() + b"/mcp", b"127.0.0.1:" + str(up.port).encode()]
    try:
        secrets_.append(bytes.fromhex(upstream_sid))
    except ValueError:
        pass
    for blob in _decodings(client_sid):
        for s in secrets_:
            assert s not in blob, f"session id {client_sid!r} reveals {s!r}"


def test_modern_token_is_not_forwarded_and_no_session_appears(gw):
    seen, log = anyio.run(_whoami, gw.url, MODERN_VERSION)
    assert seen["authorization"] is None, f"client Authorization forwarded upstream: {seen}"
    assert seen["mcp_protocol_version"] == MODERN_VERSION
    assert not log.session_ids, "no Mcp-Session-Id is minted in the 2026 era"


def test_raw_client_session_id_is_replaced_upstream(gw):
    s = RawSession(gw.url).initialize()
    try:
        seen = s.call_ok("whoami", extra={"Authorization": TOKEN})["structuredContent"]
        assert seen["authorization"] is None
        assert seen["mcp_session_id"] and seen["mcp_session_id"] != s.session_id
        # two client sessions get two distinct upstream sessions and two distinct sealed ids
        t = RawSession(gw.url).initialize()
        other = t.call_ok("whoami")["structuredContent"]["mcp_session_id"]
        assert other != seen["mcp_session_id"]
        assert t.session_id != s.session_id
        t.delete()
        t.close()
    finally:
        s.delete()
        s.close()
