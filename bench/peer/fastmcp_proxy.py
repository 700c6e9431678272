"""The MCP gateway peer: FastMCP's proxy (`fastmcp.server.create_proxy`) in front of one upstream,
served over Streamable HTTP by uvicorn (FastMCP's `run(transport="http")`), one process.

    python fastmcp_proxy.py <port> <upstream URL>
"""

import sys

from fastmcp.server import create_proxy

port, target = int(sys.argv[1]), sys.argv[2]
proxy = create_proxy(target, name="bench-peer")
proxy.run(transport="http", host="127.0.0.1", port=port, path="/mcp", log_level="warning")
