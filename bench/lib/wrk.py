"""Runs wrk with bench/wrk/mcp.lua and reads the summary its done() writes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

WRK_LUA = Path(__file__).resolve().parent.parent / "wrk" / "mcp.lua"


def run(url: str, body: str, headers: dict[str, str], *, duration: float, threads: int, connections: int,
        id_mode: str = "fixed", delay_ms: float | None = None, out: Path, timeout_s: int = 10) -> dict:
    env = dict(os.environ,
               BENCH_BODY=body,
               BENCH_HEADERS="\n".join(f"{k}: {v}" for k, v in headers.items()),
               BENCH_ID_MODE=id_mode,
               BENCH_OUT=str(out))
    if delay_ms:
        env["BENCH_DELAY_MS"] = f"{delay_ms:.4f}"
    if out.exists():
        out.unlink()
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", f"--timeout={timeout_s}s",
            "-s", str(WRK_LUA), url]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration + timeout_s + 30)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    data = json.loads(out.read_text())
    secs = data["duration_us"] / 1e6
    data["rps"] = data["requests"] / secs if secs > 0 else 0.0
    data["error_count"] = sum(data["errors"].values())
    return data
