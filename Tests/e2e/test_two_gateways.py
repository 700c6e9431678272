"""Two gateway processes with the same session key and config serve each other's sessions:
a session opened on A continues on B (POST, GET, DELETE), on the replica A pinned it to.
An unnamed route's identity comes from what it serves (paths and targets), not from its port, so
gateways on 3000 and 3001 need no route name to share sessions (issue #10)."""

from __future__ import annotations

import pytest

from harness import RawSession, expect_error, new_key


@pytest.fixture(scope="module")
def replicas(mprocs):
    return mprocs.upstreams(2, prefix="twin-replica")


@pytest.fixture(scope="module")
def twins(mprocs, replicas):
    key = new_key()
    targets = {"t": [r.url for r in replicas]}
    # same key, same route name (the sealed route identity); only the ports differ
    a = mprocs.gateway(targets, name="gw-A", keys=[key], route_name="shared")
    b = mprocs.gateway(targets, name="gw-B", keys=[key], route_name="shared")
    return a, b


@pytest.fixture(scope="module")
def unnamed_twins(mprocs, replicas):
    key = new_key()
    targets = {"t": [r.url for r in replicas]}
    # same key, same config, no route name: only the ports differ
    a = mprocs.gateway(targets, name="gw-unnamed-A", keys=[key])
    b = mprocs.gateway(targets, name="gw-unnamed-B", keys=[key])
    assert a.port != b.port
    return a, b


@pytest.mark.parametrize("pair", ["twins", "unnamed_twins"])
def test_session_opened_on_a_continues_on_b(pair, request):
    a, b = request.getfixturevalue(pair)
    on_a = RawSession(a.url).initialize(strict=True)  # initialize + notifications/initialized (202) on A
    on_b = RawSession(b.url)
    on_b.session_id = on_a.session_id
    on_b.protocol_version = on_a.protocol_version
    try:
        # POST on B
        r, res = on_b.call_tool("add", {"a": 40, "b": 2})
        assert r.status_code == 200, r.text[:1000]
        assert res["result"]["structuredContent"] == {"result": 42}, res

        # GET stream on B: 200 text/event-stream (headers only, then close)
        status, headers = on_b.open_get_stream()
        assert status == 200, headers
        assert headers.get("content-type", "").startswith("text/event-stream"), headers

        # still usable on A afterwards
        assert on_a.call_ok("add", {"a": 1, "b": 1})["structuredContent"] == {"result": 2}

        # DELETE on B ends the session ...
        d = on_b.delete()
        assert 200 <= d.status_code < 300, f"DELETE: {d.status_code} {d.text[:500]}"

        # ... for both gateways
        for s in (on_b, on_a):
            r, _ = s.call_tool("add", {"a": 1, "b": 2})
            expect_error(r, 404, -32600)
    finally:
        on_a.close()
        on_b.close()


def test_b_reaches_the_replica_a_pinned(twins):
    a, b = twins
    for _ in range(4):
        on_a = RawSession(a.url).initialize()
        on_b = RawSession(b.url)
        on_b.session_id, on_b.protocol_version = on_a.session_id, on_a.protocol_version
        try:
            home = on_a.call_ok("replica")["structuredContent"]["port"]
            for _ in range(3):
                assert on_b.call_ok("replica")["structuredContent"]["port"] == home
            # the upstream session is the same one, too
            wa = on_a.call_ok("whoami")["structuredContent"]["mcp_session_id"]
            wb = on_b.call_ok("whoami")["structuredContent"]["mcp_session_id"]
            assert wa and wa == wb
        finally:
            on_a.delete()
            on_a.close()
            on_b.close()


def test_negotiated_version_travels_in_the_session(twins):
    """B knows the version negotiated on A (it is sealed into the session id): the right one
    is served, another handshake version is refused with 400 -32600 (docs/errors.md)."""
    a, b = twins
    on_a = RawSession(a.url).initialize()
    on_b = RawSession(b.url)
    on_b.session_id, on_b.protocol_version = on_a.session_id, on_a.protocol_version
    try:
        other = "2025-06-18" if on_a.protocol_version != "2025-06-18" else "2025-03-26"
        r = on_b.post({"jsonrpc": "2.0", "id": 77, "method": "tools/list"}, extra={"MCP-Protocol-Version": other})
        expect_error(r, 400, -32600)
        r, res = on_b.request("tools/list", {})
        assert r.status_code == 200 and "tools" in res.get("result", {}), r.text[:500]
    finally:
        on_a.delete()
        on_a.close()
        on_b.close()


def test_unnamed_route_ids_are_refused_on_another_route(mprocs, replicas):
    """Same key, same target, another path: the route identity differs, so A's id is 404 there."""
    key = new_key()
    targets = {"t": [r.url for r in replicas]}
    a = mprocs.gateway(targets, name="gw-route-mcp", keys=[key])
    other = mprocs.gateway(targets, name="gw-route-other", keys=[key], path="/other")
    on_a = RawSession(a.url).initialize()
    elsewhere = RawSession(other.url)
    elsewhere.session_id, elsewhere.protocol_version = on_a.session_id, on_a.protocol_version
    try:
        assert on_a.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
        r, _ = elsewhere.call_tool("add", {"a": 1, "b": 2})
        expect_error(r, 404, -32600)
    finally:
        on_a.delete()
        on_a.close()
        elsewhere.close()
