"""The e2e upstream (upstream.py) plus a tool whose name is 70 characters long, so a federated gateway must
shorten its prefixed form to 64 characters and map it back.

Run: python longname.py --port P [--name N]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from upstream import build  # noqa: E402

LONG_NAME = "summarize_the_quarterly_financial_statements_for_every_business_unit_x"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="longname")
    args = p.parse_args()
    mcp = build(args.name, args.port)

    def long_tool() -> str:
        return f"long tool of {args.name}"

    mcp.add_tool(long_tool, name=LONG_NAME, description="a tool with a 70-character name")
    mcp.run(transport="streamable-http", host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
