"""Opens many idle handshake-era GET streams through a gateway and holds them (asyncio, one process)."""

from __future__ import annotations

import asyncio


async def _open_one(port: int, path: str, session_id: str, sem: asyncio.Semaphore) -> tuple[asyncio.StreamWriter | None, str]:
    async with sem:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
                   f"Mcp-Session-Id: {session_id}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n")
            writer.write(req.encode())
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status = head.split(b" ", 2)[1].decode()
            if status != "200":
                writer.close()
                return None, status
            return writer, "200"
        except Exception as e:  # noqa: BLE001 - counted, reported
            return None, type(e).__name__


class StreamHolder:
    """Keeps the opened streams (their writers) until `close()`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        self.failures: dict[str, int] = {}

    def open(self, port: int, path: str, session_id: str, count: int, concurrency: int = 100) -> int:
        async def run() -> None:
            sem = asyncio.Semaphore(concurrency)
            results = await asyncio.gather(*(_open_one(port, path, session_id, sem) for _ in range(count)))
            for w, status in results:
                if w is not None:
                    self.writers.append(w)
                else:
                    self.failures[status] = self.failures.get(status, 0) + 1
        self.loop.run_until_complete(run())
        return len(self.writers)

    def close(self) -> None:
        for w in self.writers:
            w.close()
        self.loop.run_until_complete(asyncio.sleep(0.2))
        self.writers.clear()
        self.loop.close()
