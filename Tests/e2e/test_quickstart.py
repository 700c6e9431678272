"""agentgateway's quick-start configuration runs unchanged (examples/agentgateway-quickstart.yaml, a verbatim
copy of shared/reference/quickstart-config.yaml): port 3000, one target at http://localhost:3005/mcp/ (with
its trailing slash, which the SDK server answers with a 307 to /mcp), and a CORS policy."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import harness
from harness import Upstream

pytestmark = pytest.mark.timeout(60)

QUICKSTART = harness.REPO_ROOT / "examples" / "agentgateway-quickstart.yaml"


def test_quickstart_config_runs_unchanged(procs, tmp_path):
    if harness.port_accepts(3000) or harness.port_accepts(3005):
        pytest.skip("ports 3000/3005 are taken on this machine; the quick-start file names them")
    upstream = procs.upstream("quickstart", port=3005)
    log = open(tmp_path / "gateway.log", "w")
    gateway = subprocess.Popen([str(harness.require_gateway()), "-f", str(QUICKSTART)], stdout=log, stderr=subprocess.STDOUT)
    try:
        assert harness.wait_until(lambda: harness.port_accepts(3000), timeout=20), (tmp_path / "gateway.log").read_text()

        async def scenario() -> tuple[list[str], str]:
            async with Client(streamable_http_client("http://localhost:3000/mcp"), mode="legacy") as client:
                tools = [t.name for t in (await client.list_tools()).tools]
                added = await client.call_tool("add", {"a": 1, "b": 2})
                return tools, added.content[0].text

        tools, added = anyio.run(scenario)
        assert "add" in tools and added == "3"
        with httpx2.Client(timeout=10) as hc:
            preflight = hc.request("OPTIONS", "http://localhost:3000/mcp", headers={
                "Origin": "http://app.example", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type,mcp-protocol-version"})
        assert preflight.status_code in (200, 204), preflight.text
        assert preflight.headers.get("access-control-allow-origin") == "*"
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gateway.kill()
        log.close()
        upstream.stop()
