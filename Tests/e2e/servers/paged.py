"""The e2e upstream (upstream.py) whose tools/list is paginated with a small page size, as some MCP servers
do: the gateway must keep every target's cursor when it federates lists.

Run: python paged.py --port P [--name N] [--page-size K]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from upstream import build  # noqa: E402

from mcp.types import ListToolsResult, PaginatedRequestParams  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="paged")
    p.add_argument("--page-size", type=int, default=2)
    args = p.parse_args()
    mcp = build(args.name, args.port)
    every_tool = mcp.list_tools

    async def paged_list_tools(ctx, params):  # noqa: ANN001 - the SDK's handler signature
        tools = await every_tool()
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + args.page_size
        return ListToolsResult(tools=tools[start:end], next_cursor=str(end) if end < len(tools) else None)

    mcp._lowlevel_server.add_request_handler("tools/list", PaginatedRequestParams, paged_list_tools)
    mcp.run(transport="streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
