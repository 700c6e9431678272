"""Federation fan-out cost: tools/list across 5 targets whose own tools/list takes 20, 40, 60, 80 and 100 ms.
Through the gateway it should cost about the slowest target (100 ms + the gateway's overhead), not the sum
(300 ms). Measures the median and p90 of N sequential tools/list calls on one session, directly against each
target and through the gateway, and writes bench/results/fanout-<date>.md.

Run: .venv/bin/python bench/fanout/run.py [--gateway path/to/mcpgate] [--calls 30]
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DELAYS = [20, 40, 60, 80, 100]
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "fanout-bench", "version": "0"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def session(hc: httpx2.Client, url: str) -> dict[str, str]:
    r = hc.post(url, json=INIT, headers=HEADERS)
    r.raise_for_status()
    headers = dict(HEADERS, **{"MCP-Protocol-Version": "2025-11-25"})
    if sid := r.headers.get("mcp-session-id"):
        headers["Mcp-Session-Id"] = sid
    hc.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


def timings(hc: httpx2.Client, url: str, calls: int) -> list[float]:
    headers = session(hc, url)
    out = []
    for i in range(calls + 2):
        start = time.perf_counter()
        r = hc.post(url, json={"jsonrpc": "2.0", "id": 100 + i, "method": "tools/list"}, headers=headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert r.status_code == 200 and "tools" in r.text, r.text[:300]
        if i >= 2:  # warm-up
            out.append(elapsed)
    return out


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):.1f} ms (p90 {ordered[int(len(ordered) * 0.9) - 1]:.1f}, min {ordered[0]:.1f}, max {ordered[-1]:.1f})"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", default=str(REPO / ".build" / "debug" / "mcpgate"))
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()
    procs: list[subprocess.Popen] = []
    tmp = Path(tempfile.mkdtemp(prefix="mcpgate-fanout-"))
    try:
        ports = [free_port() for _ in DELAYS]
        for port, delay in zip(ports, DELAYS):
            procs.append(subprocess.Popen([sys.executable, str(HERE / "delayed_server.py"), "--port", str(port), "--delay-ms", str(delay)],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_port(port)
        gw_port, ready_port = free_port(), free_port()
        targets = "\n".join(f"          - name: t{d}\n            mcp: {{ host: http://127.0.0.1:{port}/mcp }}" for port, d in zip(ports, DELAYS))
        (tmp / "gw.yaml").write_text(f"""config:
  session: {{ keys: ["{secrets.token_hex(32)}"] }}
  readinessAddr: 127.0.0.1:{ready_port}
binds:
- port: {gw_port}
  address: 127.0.0.1
  listeners:
  - routes:
    - backends:
      - mcp:
          targets:
{targets}
""")
        procs.append(subprocess.Popen([args.gateway, "-f", str(tmp / "gw.yaml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(gw_port)
        with httpx2.Client(timeout=30) as hc:
            rows = [(f"target t{d} directly", timings(hc, f"http://127.0.0.1:{port}/mcp", args.calls)) for port, d in zip(ports, DELAYS)]
            gateway = timings(hc, f"http://127.0.0.1:{gw_port}/mcp", args.calls)
        slowest = max(statistics.median(v) for _, v in rows)
        total = sum(statistics.median(v) for _, v in rows)
        lines = [
            f"# Federation fan-out: tools/list across {len(DELAYS)} targets ({datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"{args.calls} sequential calls per path on one session, median (p90, min, max). Load average at end: {os.getloadavg()[0]:.2f}.",
            "",
            "| path | tools/list latency |",
            "|---|---|",
            *[f"| {name} | {summary(values)} |" for name, values in rows],
            f"| **mcpgate, 5 targets federated** | **{summary(gateway)}** |",
            "",
            f"Slowest target {slowest:.1f} ms, sum of targets {total:.1f} ms: the gateway costs "
            f"{statistics.median(gateway) / slowest:.2f}x the slowest target and {statistics.median(gateway) / total:.2f}x the sum.",
        ]
        text = "\n".join(lines) + "\n"
        out = REPO / "bench" / "results" / f"fanout-{datetime.date.today()}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(text)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
