"""A 2026-07-28 client that disconnects cancels its upstream request (the spec: closing the response stream IS
the cancellation); the gateway must close the upstream request too, not let it run to the end."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx2
import pytest

import harness
from harness import Upstream, modern_request

pytestmark = pytest.mark.timeout(60)

SERVER = Path(__file__).resolve().parent / "servers" / "cancellable.py"


class CancellableUpstream(Upstream):
    def spawn(self) -> "CancellableUpstream":
        self._spawn([sys.executable, str(SERVER), "--port", str(self.port), "--name", self.name])
        return self


def lifecycle(url: str) -> dict[str, int]:
    with httpx2.Client(timeout=10) as hc:
        msg, headers = modern_request("tools/call", {"name": "lifecycle", "arguments": {}})
        r = hc.post(url, content=harness.encode_body(msg), headers=headers)
        return harness.response_for(r, msg["id"])["result"]["structuredContent"]


def start_and_disconnect(url: str) -> None:
    """Starts a 5 s call, reads its first progress event, then drops the connection."""
    msg, headers = modern_request("tools/call", {"name": "sleepy", "arguments": {"seconds": 5}})
    msg["params"]["_meta"]["progressToken"] = "t"
    with httpx2.Client(timeout=10) as hc:
        with hc.stream("POST", url, content=harness.encode_body(msg), headers=headers) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if "notifications/progress" in line:
                    break


@pytest.mark.parametrize("through", ["direct", "gateway"])
def test_client_disconnect_cancels_the_upstream_request(procs, through):
    upstream = CancellableUpstream("sleepy", procs.logdir)
    procs.started.append(upstream)
    upstream.spawn().wait_ready()
    url = upstream.url if through == "direct" else procs.gateway({"t": [upstream.url]}).url
    start_and_disconnect(url)
    assert harness.wait_until(lambda: lifecycle(upstream.url)["cancelled"] == 1, timeout=4.0), lifecycle(upstream.url)
    time.sleep(0.2)
    assert lifecycle(upstream.url) == {"started": 1, "finished": 0, "cancelled": 1}
