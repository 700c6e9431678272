"""`policies.cache` (the bundled cache plugin, Plugins/cache) on the live gateway, in front of the
official-SDK upstream, in both eras.

The upstream runs with --cache-tests: its 2026-07-28 results carry ttlMs 60000, public for lists,
private for resources/read. Handshake-era results carry no hints and get the configured `ttl`.
Its resource `count://{key}` answers "<key> read <n> times", so a cache in front of it shows as a
count that stays put. Its tool `register_tool` adds a tool and announces tools/list_changed: on the
call's SSE stream in the handshake era, and on subscriptions/listen streams at 2026-07-28.
"""

from __future__ import annotations

import json
import uuid

import anyio
import httpx2
import pytest

from era_client import ERAS, EraClient, ListenStream
from harness import messages, modern_request, response_for
from jwt_issuer import Issuer, jwt_plugin_missing

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def upstream(mprocs):
    return mprocs.upstream("cache-up", cache_tests=True)


@pytest.fixture(scope="module")
def gw(mprocs, upstream):
    return mprocs.gateway({"t": [upstream.url]}, name="gw-cache", policies={"cache": {"ttl": "30s"}})


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("era", ERAS)
def test_a_resource_read_twice_reaches_the_upstream_once(gw, upstream, era):
    key = unique(f"once-{era}")
    uri = f"count://{key}"
    with EraClient(gw.url, era) as c:
        r1, id1 = c.post("resources/read", {"uri": uri})
        r2, id2 = c.post("resources/read", {"uri": uri})
        assert r1.status_code == r2.status_code == 200, (r1.text[:500], r2.text[:500])
        first = next(m for m in messages(r1) if m.get("id") == id1)["result"]
        second = next(m for m in messages(r2) if m.get("id") == id2)["result"]  # the hit carries its own id
        assert id1 != id2
        assert first["contents"][0]["text"] == f"{key} read 1 times"
        assert second["contents"][0]["text"] == f"{key} read 1 times"
        if era == "modern":
            # the spec's hints survive, ttlMs counting down from the upstream's 60000
            assert second["cacheScope"] == "private" and second["resultType"] == "complete"
            assert 0 < second["ttlMs"] <= 60000
        else:
            assert "ttlMs" not in second
    # another client (a new session in the handshake era) is served the same entry: no credentials,
    # so both are the anonymous authorization context
    with EraClient(gw.url, era) as other:
        assert other.read(uri) == f"{key} read 1 times"
    # the upstream itself has seen exactly one read
    with EraClient(upstream.url, era) as direct:
        assert direct.read(uri) == f"{key} read 2 times"


@pytest.mark.parametrize("era", ERAS)
def test_only_the_same_era_and_version_share_an_entry(gw, upstream, era):
    key = unique("versions")
    uri = f"count://{key}"
    other_era = "modern" if era == "handshake" else "handshake"
    with EraClient(gw.url, era) as c, EraClient(gw.url, other_era) as o:
        assert c.read(uri) == f"{key} read 1 times"
        assert o.read(uri) == f"{key} read 2 times"
        assert c.read(uri) == f"{key} read 1 times"
        assert o.read(uri) == f"{key} read 2 times"


def test_a_list_changed_notification_makes_the_next_list_go_upstream_handshake(gw):
    with EraClient(gw.url, "handshake") as c:
        c.tool_names()
        quiet, loud = unique("quiet"), unique("loud")
        # a change without a notification: the list is served from the cache, so it is stale
        c.call("register_tool", {"tool_name": quiet, "notify": False})
        assert quiet not in c.tool_names()
        # with one: the notification travels on the call's SSE stream, through the gateway's filters
        r = c.call("register_tool", {"tool_name": loud, "notify": True})
        assert "notifications/tools/list_changed" in [m.get("method") for m in messages(r)], r.text[:1000]
        names = c.tool_names()
        assert {quiet, loud} <= names, sorted(names)
        # and the fresh list is cached again
        c.call("register_tool", {"tool_name": unique("later"), "notify": False})
        assert c.tool_names() == names


def test_a_list_changed_notification_makes_the_next_list_go_upstream_modern(gw):
    listen = ListenStream(gw.url).start()
    try:
        with EraClient(gw.url, "modern") as c:
            c.tool_names()
            quiet, loud = unique("quiet"), unique("loud")
            c.call("register_tool", {"tool_name": quiet, "notify": False})
            assert quiet not in c.tool_names()  # the upstream's ttlMs 60000 public entry
            c.call("register_tool", {"tool_name": loud, "notify": True})
            assert listen.wait_for("notifications/tools/list_changed"), (
                f"the list_changed notification never reached the listen stream: {listen.methods()}"
            )
            names = c.tool_names()
            assert {quiet, loud} <= names, sorted(names)
    finally:
        listen.close()


def test_no_cache_request_header_refreshes_the_entry(gw):
    key = unique("refresh")
    uri = f"count://{key}"
    with EraClient(gw.url, "handshake") as c:
        assert c.read(uri) == f"{key} read 1 times"
        c.http.headers["Cache-Control"] = "no-cache"
        assert c.read(uri) == f"{key} read 2 times"
        del c.http.headers["Cache-Control"]
        assert c.read(uri) == f"{key} read 2 times"


def test_concurrent_reads_of_one_resource_all_succeed_and_settle_on_one_entry(gw, upstream):
    """40 clients read one fresh resource at once (every event loop, racing lookups and fills): all
    succeed, and afterwards one entry answers. The upstream saw at most one read per racing miss."""
    key = unique("race")
    uri = f"count://{key}"

    async def read_all(n: int) -> list[str]:
        out: list[str] = [""] * n
        limits = httpx2.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(30.0), limits=limits) as hc:

            async def one(i: int) -> None:
                msg, headers = modern_request("resources/read", {"uri": uri})
                r = await hc.post(gw.url, content=json.dumps(msg).encode(), headers=headers)
                assert r.status_code == 200, r.text[:500]
                out[i] = response_for(r, msg["id"])["result"]["contents"][0]["text"]

            async with anyio.create_task_group() as tg:
                for i in range(n):
                    tg.start_soon(one, i)
        return out

    texts = anyio.run(read_all, 40)
    counts = sorted(int(t.split(" read ")[1].split()[0]) for t in texts)
    with EraClient(gw.url, "modern") as c:
        settled = c.read(uri)
    assert settled in texts, (settled, texts)
    with EraClient(upstream.url, "modern") as direct:
        upstream_reads = int(direct.read(uri).split(" read ")[1].split()[0]) - 1
    assert upstream_reads == len(set(counts)) and upstream_reads <= 40, (upstream_reads, counts)


def test_tool_calls_are_never_cached(gw, upstream):
    with EraClient(gw.url, "modern") as c:
        results = []
        for _ in range(3):
            r = c.call("count")
            results.append(next(m for m in messages(r) if "result" in m)["result"]["structuredContent"]["result"])
        assert results[1] == results[0] + 1 and results[2] == results[1] + 1, results


# --------------------------------------------------------------------------------------------
# private entries and principals (needs the JWT plugin)


@pytest.fixture(scope="module")
def auth_gw(mprocs, upstream, tmp_path_factory):
    reason = jwt_plugin_missing()
    if reason:
        pytest.skip(reason)
    issuer = Issuer(tmp_path_factory.mktemp("cache-jwt"))
    g = mprocs.gateway(
        {"t": [upstream.url]}, name="gw-cache-jwt", policies={"jwtAuth": issuer.policy(), "cache": {"ttl": "30s"}}
    )
    return g, issuer


@pytest.mark.parametrize("era", ERAS)
def test_alices_private_entry_is_never_served_to_bob(auth_gw, upstream, era):
    gw, issuer = auth_gw
    key = unique(f"private-{era}")
    uri = f"count://{key}"
    with EraClient(gw.url, era, issuer.bearer("alice")) as alice, EraClient(gw.url, era, issuer.bearer("bob")) as bob:
        assert alice.read(uri) == f"{key} read 1 times"
        assert alice.read(uri) == f"{key} read 1 times"  # alice's own entry
        assert bob.read(uri) == f"{key} read 2 times"  # never alice's
        assert bob.read(uri) == f"{key} read 2 times"  # bob's own entry
        assert alice.read(uri) == f"{key} read 1 times"
    with EraClient(gw.url, era, issuer.bearer("alice")) as alice_again:
        assert alice_again.read(uri) == f"{key} read 1 times"
    with EraClient(upstream.url, era) as direct:
        assert direct.read(uri) == f"{key} read 3 times"


def test_public_lists_are_shared_between_principals(auth_gw):
    gw, issuer = auth_gw
    with EraClient(gw.url, "modern", issuer.bearer("carol")) as carol, EraClient(
        gw.url, "modern", issuer.bearer("dave")
    ) as dave:
        before = carol.tool_names()
        carol.call("register_tool", {"tool_name": unique("shared"), "notify": False})
        # dave gets carol's public (ttlMs 60000) list from the cache: without the new tool
        assert dave.tool_names() == before
