"""A minimal MCP upstream for the idle-stream test: answers `initialize` (with an `Mcp-Session-Id`),
notifications (202), and GET with an SSE stream that it holds open without sending anything more,
the way an MCP server holds a handshake-era GET stream while it has nothing to say. asyncio, so
thousands of held streams cost it little.

    python hold_upstream.py <port>
"""

from __future__ import annotations

import asyncio
import json
import sys

SESSION = b"bench-hold-session"
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {
    "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
    "serverInfo": {"name": "bench-hold", "version": "1"}}}, separators=(",", ":")).encode()

held = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global held
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ", 1)[0]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = b""
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            if method == "GET":
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
                             b"transfer-encoding: chunked\r\n\r\n")
                await writer.drain()
                held += 1
                try:
                    await reader.read()  # until the gateway closes it
                finally:
                    held -= 1
                return
            if method == "POST" and b'"initialize"' in body:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: " + SESSION +
                             b"\r\ncontent-length: " + str(len(INIT)).encode() + b"\r\n\r\n" + INIT)
            elif method == "POST" and b'"id"' not in body:
                writer.write(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
