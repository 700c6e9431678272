"""Upstream sessions per client are bounded by a rate limit on `initialize` (attack run L14: the stateless gateway
keeps no session table, so `localRateLimit` with `methods: [initialize]` is how an operator caps them;
docs/sessions.md)."""

from __future__ import annotations

from harness import RawSession, expect_error


def test_initialize_budget_per_client_address(procs):
    up = procs.upstream("budget-up")
    policies = {"localRateLimit": [{"name": "sessions", "maxTokens": 3, "fillInterval": "1h", "key": ["ip"], "methods": ["initialize"]}]}
    gw = procs.gateway({"t": [up.url]}, policies=policies)
    opened = []
    try:
        for _ in range(3):
            opened.append(RawSession(gw.url).initialize())
        # the fourth initialize from this address is refused, and reaches no upstream
        extra = RawSession(gw.url)
        r = extra.post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}})
        expect_error(r, 429)
        assert "retry-after" in {k.lower() for k in r.headers}, dict(r.headers)
        extra.close()
        # sessions already open keep working: their calls are not counted against the budget
        for s in opened:
            for _ in range(3):
                assert s.call_ok("add", {"a": 1, "b": 2})["structuredContent"] == {"result": 3}
    finally:
        for s in opened:
            s.delete()
            s.close()
