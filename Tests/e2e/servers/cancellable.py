"""The e2e upstream (upstream.py) plus two tools that show whether a request was cancelled: `sleepy(seconds)`
sleeps with progress every 100 ms, and `lifecycle()` reports how many `sleepy` calls started, finished and
were cancelled in this process (the SDK server cancels a 2026-07-28 handler when its client disconnects).

Run: python cancellable.py --port P [--name N]
"""

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from upstream import build  # noqa: E402

from mcp.server.mcpserver import Context  # noqa: E402

_lifecycle = {"started": 0, "finished": 0, "cancelled": 0}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="cancellable")
    args = p.parse_args()
    mcp = build(args.name, args.port)

    @mcp.tool()
    async def sleepy(seconds: float, ctx: Context) -> str:
        """Sleeps `seconds`, reporting progress every 100 ms."""
        _lifecycle["started"] += 1
        try:
            steps = max(1, int(seconds * 10))
            for step in range(steps):
                await ctx.report_progress(step + 1, steps)
                await asyncio.sleep(0.1)
        except asyncio.CancelledError:
            _lifecycle["cancelled"] += 1
            raise
        _lifecycle["finished"] += 1
        return "slept"

    @mcp.tool()
    def lifecycle() -> dict[str, int]:
        """How many sleepy calls started, finished and were cancelled."""
        return dict(_lifecycle)

    mcp.run(transport="streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
