"""The micro-benchmarks: bench/micro (ordo-one/benchmark: session seal/open, JSON-RPC parse) and
bench/PluginChainBench (the filter chain's dispatch cost). bench/run builds them before the machine
is measured; here they only run, and their output is parsed into numbers."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

UNIT_US = {"ns": 0.001, "μs": 1.0, "µs": 1.0, "us": 1.0, "ms": 1000.0, "s": 1e6}


def _scale(unit: str) -> float:
    return UNIT_US.get(unit.strip(), 1.0)


def _number(cell: str) -> float:
    cell = cell.strip().replace(",", "").replace("_", "")
    mult = 1.0
    if cell and cell[-1] in "KMG":
        mult = {"K": 1e3, "M": 1e6, "G": 1e9}[cell[-1]]
        cell = cell[:-1]
    return float(cell) * mult


def parse_ordo_markdown(text: str) -> dict[str, dict]:
    """Per benchmark: p50/p90/p99 wall clock in µs per operation (the `*` rows are per scaled
    iteration, i.e. per operation) and the p50 malloc count per operation."""
    out: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = line[4:].strip()
            current = current.split(":", 1)[1].strip() if ":" in current else current
            continue
        if current is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or not cells[0]:
            continue
        label = cells[0]
        try:
            p0, p25, p50, p75, p90, p99, p100 = (_number(c) for c in cells[1:8])
        except ValueError:
            continue
        m = re.search(r"\((ns|μs|µs|us|ms|s)\)", label)
        if label.startswith("Time (wall clock)") and m:
            f = _scale(m.group(1))
            out.setdefault(current, {}).update(p50_us=p50 * f, p90_us=p90 * f, p99_us=p99 * f, min_us=p0 * f)
        elif label.startswith("Malloc (total)"):
            out.setdefault(current, {})["mallocs"] = p50
    return out


def run_all(root: Path, bench: Path, scratch: str, tmp: Path, quick: bool = False) -> dict:
    res: dict = {"errors": []}
    micro = bench / "micro"
    argv = ["swift", "package", "--package-path", str(micro), "benchmark", "--format", "markdown", "--no-progress"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    (tmp / "micro.txt").write_text(p.stdout + p.stderr)
    if p.returncode != 0:
        res["errors"].append(f"bench/micro: exit {p.returncode}: {(p.stdout + p.stderr)[-600:]}")
    parsed = parse_ordo_markdown(p.stdout)
    res["session_codec"] = {k: v for k, v in parsed.items() if k.startswith("SessionCodec")}
    res["rpc_parse"] = {k: v for k, v in parsed.items() if k.startswith("RPCMessage")}
    res["raw_ordo_output_tail"] = p.stdout[-4000:]

    binpath = subprocess.run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--show-bin-path"],
                             capture_output=True, text=True, cwd=root).stdout.strip()
    chain = Path(binpath) / "PluginChainBench"
    if chain.exists():
        p = subprocess.run([str(chain), "50000" if quick else "200000"], capture_output=True, text=True, timeout=900)
        res["plugin_chain_output"] = p.stdout
        pc = {}
        for line in p.stdout.splitlines():
            mm = re.match(r"\s*(no plugins|1 no-op|4 no-ops)\s*:\s*(\d+) ns/request", line)
            if mm:
                pc[mm.group(1)] = float(mm.group(2))
        if "no plugins" in pc and "4 no-ops" in pc:
            pc["4 no-ops, added"] = pc["4 no-ops"] - pc["no plugins"]
        res["plugin_chain"] = pc
    else:
        res["errors"].append(f"PluginChainBench not built at {chain}")
    return res
