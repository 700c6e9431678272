"""Aggregation (median, min–max), ratios, the issue's targets, and the markdown table."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import urllib.request
from pathlib import Path

METRICS = ("rps", "p50_ms", "p99_ms", "p999_ms", "cpu_cores", "cpu_us_per_req", "peak_rss_mib", "upstream_cpu_cores")


def aggregate(runs: list[dict]) -> dict:
    out: dict = {"median": {}, "min": {}, "max": {}}
    for k in METRICS:
        vals = [r[k] for r in runs]
        out["median"][k] = statistics.median(vals)
        out["min"][k] = min(vals)
        out["max"][k] = max(vals)
    return out


# ---- environment ------------------------------------------------------------------------------------

def _cmd(argv: list[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (p.stdout + p.stderr).strip()
    except Exception as e:  # noqa: BLE001
        return f"unavailable ({e})"


def machine() -> dict:
    model = ""
    for line in _cmd(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    cores = os.cpu_count() or 0
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) // 1024
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\(R\)|\(TM\)|Processor|CPU", "", model, flags=re.I).lower()).strip("-")
    return {"cpu_model": model, "cores": cores, "mem_mib": mem, "kernel": platform.release(),
            "hostname": platform.node(), "slug": f"{slug or 'cpu'}-{cores}c"}


def git_state(root: Path) -> dict:
    commit = _cmd(["git", "-C", str(root), "rev-parse", "HEAD"])
    # what the build compiled beyond the commit: changed and new files of the gateway and its plugins
    dirty = _cmd(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all", "--", "Sources", "Plugins",
                  "Package.swift", "include"])
    return {"commit": commit, "sources_modified": bool(dirty.strip()), "modified": dirty.splitlines()[:20]}


def versions(bench: Path) -> dict:
    v = {"nginx": _cmd(["nginx", "-v"]).replace("nginx version: ", ""),
         "wrk": _cmd(["wrk", "-v"]).splitlines()[0] if _cmd(["wrk", "-v"]) else "",
         "swift": _cmd(["swift", "--version"]).splitlines()[0]}
    peer_py = bench / ".venv-peer" / "bin" / "python"
    if peer_py.exists():
        v["peer"] = _cmd([str(peer_py), "-c", "import importlib.metadata as m; print('fastmcp', m.version('fastmcp'), 'mcp', m.version('mcp'))"])
    return v


def scrape_metrics(port: int, needle: str) -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except Exception:  # noqa: BLE001
        return out
    for line in text.splitlines():
        if line.startswith("#") or needle not in line:
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def metrics_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


# ---- ratios and targets -----------------------------------------------------------------------------

def _find(points: list[dict], workload: str, path: str, tag: str = "") -> dict | None:
    for p in points:
        if p["workload"] == workload and p["path"] == path and p.get("tag", "") == tag and p.get("valid") and p.get("median"):
            return p
    return None


def _ratio(points, workload, a, b, metric="rps") -> float | None:
    pa, pb = _find(points, workload, a), _find(points, workload, b)
    if not pa or not pb or not pb["median"][metric]:
        return None
    return pa["median"][metric] / pb["median"][metric]


RATIO_ROWS = [
    # (workload, numerator path, denominator path)
    ("hs_call", "mcpgate", "direct"), ("hs_call", "mcpgate", "nginx"), ("hs_call", "mcpgate-chain", "nginx"),
    ("hs_call", "mcpgate-chain", "mcpgate"),
    ("modern_call", "mcpgate", "direct"), ("modern_call", "mcpgate", "nginx"), ("modern_call", "mcpgate-chain", "nginx"),
    ("initialize", "mcpgate", "direct"), ("initialize", "mcpgate", "nginx"), ("initialize", "mcpgate-chain", "nginx"),
    ("sse_call", "mcpgate", "direct"), ("sse_call", "mcpgate", "nginx"), ("sse_call", "mcpgate-chain", "nginx"),
    ("tools_list", "mcpgate", "nginx"), ("tools_list", "mcpgate-chain-miss", "nginx"), ("tools_list", "mcpgate-chain-hit", "nginx"),
    ("tools_list", "mcpgate-chain-hit", "direct"),
    ("hs_call_echo", "mcpgate-echo", "direct-echo"), ("hs_call_echo", "mcpgate-echo", "peer"),
    ("modern_call_echo", "mcpgate-echo", "direct-echo"), ("modern_call_echo", "mcpgate-echo", "peer"),
    ("sdk_hs_call", "sdk-mcpgate", "sdk-direct"), ("sdk_hs_call", "sdk-mcpgate", "sdk-nginx"), ("sdk_hs_call", "sdk-mcpgate", "sdk-peer"),
    ("sdk_modern_call", "sdk-mcpgate", "sdk-direct"), ("sdk_modern_call", "sdk-mcpgate", "sdk-nginx"),
    ("sdk_modern_call", "sdk-mcpgate", "sdk-peer"),
]


def ratios(points: list[dict]) -> list[dict]:
    out = []
    for w, a, b in RATIO_ROWS:
        r = _ratio(points, w, a, b)
        if r is not None:
            pa, pb = _find(points, w, a), _find(points, w, b)
            out.append({"workload": w, "numerator": a, "denominator": b, "throughput_ratio": r,
                        "p50_added_ms": pa["median"]["p50_ms"] - pb["median"]["p50_ms"],
                        "p99_added_ms": pa["median"]["p99_ms"] - pb["median"]["p99_ms"]})
    return out


def half_load(points: list[dict], peak: float, rate: float) -> dict:
    out: dict = {"mcpgate_peak_rps": peak, "offered_rps": rate}
    for key in ("direct", "nginx", "mcpgate"):
        p = _find(points, "hs_call", key, "half-load")
        if p:
            out[key] = {"rps": p["median"]["rps"], "p50_ms": p["median"]["p50_ms"], "p99_ms": p["median"]["p99_ms"],
                        "p99_min_ms": p["min"]["p99_ms"], "p99_max_ms": p["max"]["p99_ms"],
                        "p999_ms": p["median"]["p999_ms"]}
    if "direct" in out and "mcpgate" in out:
        out["p99_added_ms"] = out["mcpgate"]["p99_ms"] - out["direct"]["p99_ms"]
        out["p50_added_ms"] = out["mcpgate"]["p50_ms"] - out["direct"]["p50_ms"]
    if "direct" in out and "nginx" in out:
        out["nginx_p99_added_ms"] = out["nginx"]["p99_ms"] - out["direct"]["p99_ms"]
    return out


def targets(result: dict) -> list[dict]:
    pts = result.get("points", [])
    rows = []

    def add(name, goal, value, ok, unit=""):
        rows.append({"target": name, "goal": goal, "measured": value, "unit": unit,
                     "status": "n/a" if value is None else ("met" if ok else "MISSED")})

    r = _ratio(pts, "hs_call", "mcpgate", "nginx")
    add("no-policy throughput vs nginx (handshake tools/call)", ">= 0.8x", r, r is not None and r >= 0.8, "x")
    r = _ratio(pts, "modern_call", "mcpgate", "nginx")
    add("no-policy throughput vs nginx (2026-07-28 tools/call)", ">= 0.8x", r, r is not None and r >= 0.8, "x")
    hl = result.get("half_load", {})
    v = hl.get("p99_added_ms")
    add("p99 added at half of peak load (mcpgate - direct)", "< 1 ms", v, v is not None and v < 1.0, "ms")
    r = _ratio(pts, "hs_call", "mcpgate-chain", "nginx")
    add("full chain throughput vs nginx (handshake tools/call)", ">= 0.6x", r, r is not None and r >= 0.6, "x")
    r = _ratio(pts, "hs_call_echo", "mcpgate-echo", "peer")
    add("throughput vs the peer (handshake tools/call)", ">= 20x", r, r is not None and r >= 20, "x")
    r = _ratio(pts, "modern_call_echo", "mcpgate-echo", "peer")
    add("throughput vs the peer (2026-07-28 tools/call)", ">= 20x", r, r is not None and r >= 20, "x")
    micro = result.get("micro", {}).get("session_codec", {})
    for op in ("seal", "open"):
        vals = [v["p50_us"] for k, v in micro.items() if k.startswith(f"SessionCodec.{op}")]
        worst = max(vals) if vals else None
        add(f"session {op} (worst of 1 and 3 targets, p50)", "< 10 µs", worst, worst is not None and worst < 10, "µs")
    st = result.get("streams", {})
    v = st.get("idle_rss_mib")
    add("idle memory (fresh gateway RSS)", "< 40 MiB", v, v is not None and v < 40, "MiB")
    steps = st.get("steps") or []
    v = steps[-1]["kib_per_stream_total"] if steps else None
    add(f"memory per idle GET stream ({steps[-1]['open'] if steps else 0} open)", "< 16 KiB", v,
        v is not None and v < 16, "KiB")
    return rows


# ---- markdown ---------------------------------------------------------------------------------------

def _f(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float) and abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def _spread(p, k, nd=2):
    return f"{_f(p['median'][k], nd)} ({_f(p['min'][k], nd)}–{_f(p['max'][k], nd)})"


SUMMARY_ROWS = [
    ("hs_call", "handshake tools/call", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain"}),
    ("modern_call", "2026-07-28 tools/call", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain"}),
    ("initialize", "initialize storm", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain"}),
    ("sse_call", "SSE call, 3 progress events", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain"}),
    ("tools_list", "tools/list, chain = cache hit", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain-hit"}),
    ("tools_list", "tools/list, chain = cache miss", {"direct": "direct", "nginx": "nginx", "mcpgate": "mcpgate", "chain": "mcpgate-chain-miss"}),
    ("hs_call_echo", "handshake tools/call, /echo", {"direct": "direct-echo", "mcpgate": "mcpgate-echo", "peer": "peer"}),
    ("modern_call_echo", "2026-07-28 tools/call, /echo", {"direct": "direct-echo", "mcpgate": "mcpgate-echo", "peer": "peer"}),
    ("sdk_hs_call", "SDK server: handshake tools/call", {"direct": "sdk-direct", "nginx": "sdk-nginx", "mcpgate": "sdk-mcpgate", "peer": "sdk-peer"}),
    ("sdk_modern_call", "SDK server: 2026-07-28 tools/call", {"direct": "sdk-direct", "nginx": "sdk-nginx", "mcpgate": "sdk-mcpgate", "peer": "sdk-peer"}),
]


def summary_table(points: list[dict]) -> list[str]:
    """One row per workload: req/s (p99) of each path, and the ratios the issue's targets are about."""
    rows = []
    for w, title, cols in SUMMARY_ROWS:
        got = {c: _find(points, w, key) for c, key in cols.items()}
        if not got.get("mcpgate"):
            continue

        def cell(c):
            p = got.get(c)
            return f"{p['median']['rps']:,.0f} ({p['median']['p99_ms']:.2f})" if p else "–"

        def ratio(a, b):
            pa, pb = got.get(a), got.get(b)
            return f"{pa['median']['rps'] / pb['median']['rps']:.2f}x" if pa and pb and pb["median"]["rps"] else "–"

        rows.append(f"| {title} | {cell('direct')} | {cell('nginx')} | {cell('mcpgate')} | {cell('chain')} | "
                    f"{cell('peer')} | {ratio('mcpgate', 'direct')} | {ratio('mcpgate', 'nginx')} | "
                    f"{ratio('chain', 'nginx')} | {ratio('mcpgate', 'peer')} |")
    if not rows:
        return []
    return ["| workload | direct | nginx | mcpgate | mcpgate full chain | peer | mcpgate/direct | mcpgate/nginx | "
            "chain/nginx | mcpgate/peer |", "|---|---|---|---|---|---|---|---|---|---|"] + rows


def markdown(result: dict) -> str:
    mc = result["machine"]
    s = result["settings"]
    L = []
    L.append(f"# mcpgate benchmark, {result['started'][:16].replace('T', ' ')} UTC ({result.get('mode', 'full')})")
    L.append("")
    L.append(f"Machine: {mc['cpu_model']}, {mc['cores']} cores, {mc['mem_mib'] // 1024} GiB, Linux {mc['kernel']}. "
             f"Commit {result['git']['commit'][:10]}{' (Sources modified)' if result['git']['sources_modified'] else ''}.")
    qw = result.get("quiet_wait") or {}
    L.append(f"Load average at start {result['load_start']}, at end {result['load_end']}"
             + (f"; waited {qw.get('waited_s', 0)} s for a quiet machine, quiet: {qw.get('quiet')}" if qw else "") + ".")
    L.append(f"wrk {s['wrk_threads']} thread, {s['connections']} connections, {s['runs']} runs × {s['duration_s']:g} s per "
             f"point (+{s['warmup_s']:g} s warm-up), interleaved across paths; median (min–max). nginx proxy "
             f"worker_processes {s['proxy_nginx_workers']} (mcpgate runs {s['mcpgate_event_loops']} event loops); static "
             f"upstream nginx worker_processes {s['upstream_nginx_workers']}. Everything shares the 2 cores: load "
             f"generator, upstream and the path measured.")
    present = [k for k, v in result.get("plugins", {}).items() if v == "present"]
    missing = [k for k, v in result.get("plugins", {}).items() if v != "present"]
    L.append(f"Full chain: {', '.join(result.get('chain_policies', [])) or 'none'} "
             f"(plugins present: {', '.join(present) or 'none'}; missing: {', '.join(missing) or 'none'}).")
    L.append(f"Elapsed {result.get('elapsed_s', 0):.0f} s.")
    L.append("")
    summary = summary_table(result.get("points", []))
    if summary:
        L.append("### Summary: median req/s (p99 ms)")
        L.append("")
        L.extend(summary)
        L.append("")
    if result.get("points"):
        L.append("CPU = cores used by the measured process (for `direct`, the upstream); CPU/req = its CPU µs per "
                 "request; RSS = its peak RSS (VmHWM, reset before each run; nginx: master + workers).")
        L.append("")
        by_w: dict[str, list[dict]] = {}
        titles = {}
        for p in result["points"]:
            k = p["workload"] + (f" ({p['tag']})" if p.get("tag") else "")
            by_w.setdefault(k, []).append(p)
            titles[k] = p["title"] + (f", {p['tag']}" if p.get("tag") else "")
        for k, pts in by_w.items():
            L.append(f"### {titles[k]}")
            L.append("")
            L.append("| path | req/s | p50 ms | p99 ms | p99.9 ms | CPU | CPU µs/req | RSS MiB |")
            L.append("|---|---|---|---|---|---|---|---|")
            for p in pts:
                if not p.get("median"):
                    L.append(f"| {p['label']} | not measured: {p.get('error', '')[:150]} | | | | | | |")
                    continue
                bad = "" if p.get("valid") else f" ⚠ {p.get('error', '')[:80]}"
                L.append(f"| {p['label']}{bad} | {_spread(p, 'rps', 0)} | {_spread(p, 'p50_ms', 3)} | "
                         f"{_spread(p, 'p99_ms', 2)} | {_f(p['median']['p999_ms'])} | {_f(p['median']['cpu_cores'])} | "
                         f"{_f(p['median']['cpu_us_per_req'], 1)} | {_f(p['median']['peak_rss_mib'], 1)} |")
            L.append("")
    if result.get("ratios"):
        L.append("### Ratios (median throughput; latency added at the same closed-loop load)")
        L.append("")
        L.append("| workload | ratio | throughput | p50 added ms | p99 added ms |")
        L.append("|---|---|---|---|---|")
        for r in result["ratios"]:
            L.append(f"| {r['workload']} | {r['numerator']} / {r['denominator']} | {r['throughput_ratio']:.2f}x | "
                     f"{r['p50_added_ms']:+.3f} | {r['p99_added_ms']:+.3f} |")
        L.append("")
    hl = result.get("half_load")
    if hl:
        L.append(f"### p99 added at half load: {hl['offered_rps']:.0f} req/s offered (half of mcpgate's "
                 f"{hl['mcpgate_peak_rps']:.0f} req/s peak), handshake tools/call")
        L.append("")
        L.append("| path | achieved req/s | p50 ms | p99 ms (min–max) | p99.9 ms |")
        L.append("|---|---|---|---|---|")
        for key in ("direct", "nginx", "mcpgate"):
            if key in hl:
                x = hl[key]
                L.append(f"| {key} | {x['rps']:.0f} | {x['p50_ms']:.3f} | {x['p99_ms']:.3f} ({x['p99_min_ms']:.3f}–"
                         f"{x['p99_max_ms']:.3f}) | {x['p999_ms']:.3f} |")
        if "p99_added_ms" in hl:
            L.append("")
            L.append(f"p99 added by mcpgate: **{hl['p99_added_ms']:.3f} ms** (p50 added {hl['p50_added_ms']:.3f} ms); "
                     f"by nginx: {hl.get('nginx_p99_added_ms', 0):.3f} ms.")
        L.append("")
    cm = result.get("cache_metrics_during_tools_list")
    if cm:
        L.append("Cache plugin counters during the tools/list points: " +
                 ", ".join(f"`{k}` +{v:.0f}" for k, v in sorted(cm.items())))
        L.append("")
    st = result.get("streams")
    if st:
        L.append("### Idle memory and idle GET streams (fresh gateway, asyncio upstream holding each stream)")
        L.append("")
        L.append(f"Idle RSS after start: **{st['idle_rss_mib']:.1f} MiB**; after one initialize "
                 f"{st['rss_after_initialize_mib']:.1f} MiB; 3 s after closing every stream {st['rss_after_close_mib']:.1f} MiB "
                 f"({st.get('gateway_fds_after_close', '?')} fds open, open-streams gauge "
                 f"{', '.join(f'{v:.0f}' for v in (st.get('open_streams_gauge_after_close') or {}).values()) or '?'}); "
                 f"peak {st['peak_rss_mib']:.1f} MiB." + (
                     f" Opening {st['reopened']} streams again after that: {st['rss_after_reopen_mib']:.1f} MiB."
                     if st.get("reopened") else ""))
        L.append("")
        L.append("| streams open | RSS MiB | KiB per stream (from idle) | KiB per stream (this step) | gateway fds | failures |")
        L.append("|---|---|---|---|---|---|")
        for x in st["steps"]:
            L.append(f"| {x['open']} of {x['target']} | {x['rss_mib']:.1f} | {x['kib_per_stream_total']:.1f} | "
                     f"{x['kib_per_stream_step']:.1f} | {x['gateway_fds']} | {x['failures'] or 'none'} |")
        L.append("")
    mi = result.get("micro")
    if mi:
        L.append("### Micro-benchmarks")
        L.append("")
        L.append("| benchmark | p50 | p90 | p99 | allocations | harness |")
        L.append("|---|---|---|---|---|---|")
        for group in ("session_codec", "rpc_parse"):
            for name, v in (mi.get(group) or {}).items():
                L.append(f"| {name} | {v['p50_us']:.3f} µs | {v.get('p90_us', 0):.3f} µs | {v.get('p99_us', 0):.3f} µs | "
                         f"{v.get('mallocs', '–')} | ordo-one/benchmark |")
        for name, v in (mi.get("plugin_chain") or {}).items():
            L.append(f"| filter chain: {name} | {v / 1000:.3f} µs | | | | PluginChainBench (best of 5) |")
        for err in mi.get("errors", []):
            L.append(f"| error | {err[:200]} | | | | |")
        L.append("")
    if result.get("targets"):
        L.append("### Targets (issue 3)")
        L.append("")
        L.append("| target | goal | measured | status |")
        L.append("|---|---|---|---|")
        for t in result["targets"]:
            v, unit = t["measured"], t["unit"]
            shown = "–" if v is None else f"{v:.2f} {unit}"
            L.append(f"| {t['target']} | {t['goal']} | {shown} | {t['status']} |")
        L.append("")
    if result.get("notes"):
        L.append("Notes: " + "; ".join(result["notes"]))
        L.append("")
    return "\n".join(L) + "\n"


def readme_block(result: dict, results_file: str) -> str:
    """The block README.md quotes between `<!-- bench:begin -->` and `<!-- bench:end -->`."""
    mc = result["machine"]
    qw = result.get("quiet_wait") or {}
    plugins = result.get("plugins", {})
    missing = [k for k, v in plugins.items() if v != "present"]
    L = [f"Measured {result['started'][:16].replace('T', ' ')} UTC on {mc['cpu_model']} ({mc['cores']} cores, "
         f"{mc['mem_mib'] // 1024} GiB), commit {result['git']['commit'][:10]}, load average "
         f"{result['load_start'][0]:.2f} at start and {result['load_end'][0]:.2f} at end"
         + ("" if qw.get("quiet", True) else " (the machine never got quiet)") + f"; `{results_file}`. "
         f"wrk 1 thread × {result['settings']['connections']} connections on the same 2 cores as the upstream and the "
         f"path measured; median of {result['settings']['runs']} runs of {result['settings']['duration_s']:g} s, req/s "
         f"(p99 ms). Full chain: {', '.join(result.get('chain_policies', [])) or 'none'}"
         + (f" (missing plugins: {', '.join(missing)})" if missing else "") + "."]
    L.append("")
    L.extend(summary_table(result.get("points", [])))
    hl = result.get("half_load") or {}
    st = result.get("streams") or {}
    L.append("")
    extra = []
    if "p99_added_ms" in hl:
        extra.append(f"At half of mcpgate's peak ({hl['offered_rps']:.0f} req/s offered) the p99 it adds over the direct "
                     f"path is {hl['p99_added_ms']:.2f} ms (nginx: {hl.get('nginx_p99_added_ms', 0):.2f} ms).")
    if st:
        steps = st.get("steps") or []
        if steps:
            extra.append(f"Idle gateway: {st['idle_rss_mib']:.1f} MiB RSS; {steps[-1]['open']} idle GET streams held "
                         f"open cost {steps[-1]['kib_per_stream_total']:.1f} KiB each.")
    mi = result.get("micro") or {}
    if mi.get("session_codec"):
        seal = max((v["p50_us"] for k, v in mi["session_codec"].items() if "seal" in k), default=None)
        opn = max((v["p50_us"] for k, v in mi["session_codec"].items() if "open" in k), default=None)
        if seal is not None and opn is not None:
            extra.append(f"Session seal {seal:.1f} µs, open {opn:.1f} µs (p50, worst of 1 and 3 targets).")
    if mi.get("rpc_parse"):
        extra.append("JSON-RPC parse: " + ", ".join(f"{k.split(', ', 1)[1]} {v['p50_us']:.2f} µs"
                                                   for k, v in mi["rpc_parse"].items()) + " (p50).")
    pc = mi.get("plugin_chain") or {}
    if "4 no-ops, added" in pc:
        extra.append(f"Filter chain: four no-op plugins add {pc['4 no-ops, added'] / 1000:.2f} µs per request.")
    if extra:
        L.append(" ".join(extra))
        L.append("")
    L.append("| target (issue 3) | goal | measured | |")
    L.append("|---|---|---|---|")
    for t in result.get("targets", []):
        v = t["measured"]
        shown = "not measured" if v is None else f"{v:.2f} {t['unit']}"
        L.append(f"| {t['target']} | {t['goal']} | {shown} | {t['status']} |")
    return "\n".join(L)


def update_readme(readme: "Path", result: dict, results_file: str) -> None:
    text = readme.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    a, b = text.index(begin) + len(begin), text.index(end)
    readme.write_text(text[:a] + "\n" + readme_block(result, results_file) + "\n" + text[b:])
