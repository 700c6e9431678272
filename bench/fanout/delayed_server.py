"""An official MCP Python SDK server whose tools/list takes a fixed time (`--delay-ms`): the upstreams of the
federation fan-out benchmark (bench/fanout/run.py)."""

import argparse
import asyncio

from mcp.server.mcpserver import MCPServer
from mcp.types import ListToolsResult, PaginatedRequestParams


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--delay-ms", type=int, required=True)
    args = p.parse_args()
    mcp = MCPServer(f"delay{args.delay_ms}", version="1.0.0")

    @mcp.tool()
    def echo(text: str) -> str:
        return text

    every_tool = mcp.list_tools

    async def slow_list(ctx, params):  # noqa: ANN001 - the SDK's handler signature
        await asyncio.sleep(args.delay_ms / 1000)
        return ListToolsResult(tools=await every_tool())

    mcp._lowlevel_server.add_request_handler("tools/list", PaginatedRequestParams, slow_list)
    mcp.run(transport="streamable-http", host="127.0.0.1", port=args.port, json_response=True)


if __name__ == "__main__":
    main()
