"""Session pinning: a target with 3 replicas; every call of a session lands on the replica that
`initialize` pinned, and the gateway spreads sessions over more than one replica."""

from __future__ import annotations

from collections import Counter

import anyio
import pytest

from harness import RawSession, sdk_client

SESSIONS = 20
CALLS = 5


@pytest.fixture(scope="module")
def replicas(mprocs):
    return mprocs.upstreams(3, prefix="pin-replica")


@pytest.fixture(scope="module")
def gw(mprocs, replicas):
    return mprocs.gateway({"t": [r.url for r in replicas]}, name="gw-pin")


async def _session_replicas(url: str) -> list[int]:
    ports: list[int] = []
    async with sdk_client(url, "legacy") as c:
        for _ in range(CALLS):
            r = await c.call_tool("replica", {})
            assert not r.is_error, r
            ports.append(r.structured_content["port"])
    return ports


async def _all_sessions(url: str, concurrency: int = 5) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(SESSIONS)]
    limiter = anyio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with limiter:
            out[i] = await _session_replicas(url)

    async with anyio.create_task_group() as tg:
        for i in range(SESSIONS):
            tg.start_soon(one, i)
    return out


@pytest.mark.timeout(120)
def test_every_call_of_a_session_lands_on_its_pinned_replica(gw, replicas):
    per_session = anyio.run(_all_sessions, gw.url)
    ports = {r.port for r in replicas}
    for i, seen in enumerate(per_session):
        assert len(seen) == CALLS
        assert set(seen) <= ports, f"session {i} reached an unknown backend: {seen}"
        assert len(set(seen)) == 1, f"session {i} moved between replicas: {seen}"
    used = Counter(seen[0] for seen in per_session)
    assert len(used) > 1, f"all {SESSIONS} sessions were pinned to one replica: {dict(used)}"


def test_pinning_covers_resources_prompts_and_raw_requests(gw, replicas):
    """Not only tools/call: list and read requests of a raw session also stay on its replica,
    as the per-replica call counters show (only the pinned replica's counter moves)."""
    s = RawSession(gw.url).initialize()
    try:
        home = s.call_ok("replica")["structuredContent"]["port"]
        others = [r for r in replicas if r.port != home]
        before = {}
        for r in others:
            o = RawSession(r.url).initialize()
            before[r.port] = o.call_ok("count")["structuredContent"]["result"]
            o.close()
        for method, params in [
            ("tools/list", {}),
            ("resources/list", {}),
            ("resources/read", {"uri": "test://static-text"}),
            ("prompts/get", {"name": "review", "arguments": {"code": "z"}}),
        ]:
            r, res = s.request(method, params)
            assert r.status_code == 200 and "result" in res, (method, r.status_code, r.text[:500])
        for _ in range(3):
            assert s.call_ok("replica")["structuredContent"]["port"] == home
        for r in others:
            o = RawSession(r.url).initialize()
            # one more call (this count) and nothing from the gateway session
            assert o.call_ok("count")["structuredContent"]["result"] == before[r.port] + 1
            o.close()
    finally:
        s.close()
