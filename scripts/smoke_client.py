"""Drives a running gateway the way a new user's first client would: the official MCP SDK client, once per
protocol era (handshake-era `legacy`, then sessionless 2026-07-28): initialize, tools/list, tools/call add(2, 3).
Exits non-zero (with the reason) on any failure.  usage: smoke_client.py URL
"""

from __future__ import annotations

import asyncio
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def run(url: str, mode: str) -> None:
    async with Client(streamable_http_client(url), mode=mode, read_timeout_seconds=30.0) as client:
        tools = await client.list_tools()
        names = sorted(tool.name for tool in tools.tools)
        if "add" not in names:
            raise SystemExit(f"{mode}: tools/list has no 'add' tool: {names}")
        result = await client.call_tool("add", {"a": 2, "b": 3})
        text = " ".join(getattr(part, "text", "") for part in result.content)
        if result.is_error or "5" not in text:
            raise SystemExit(f"{mode}: tools/call add(2, 3) answered {result!r}")
        print(f"smoke: {mode}: initialize ok, tools/list {len(names)} tools, tools/call add(2, 3) = {text.strip()}")


def main() -> None:
    url = sys.argv[1]
    for mode in ("legacy", "2026-07-28"):
        asyncio.run(run(url, mode))


if __name__ == "__main__":
    main()
