"""bench/run's measuring half: starts the upstreams, nginx, mcpgate and the peer on loopback, drives
the MCP workloads through each with wrk, and writes bench/results/. See bench/README.md.

Run through bench/run (which builds first); `bench.py --help` lists the knobs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import gateway, micro, nginx, probe, procs, report, wrk  # noqa: E402
from lib import messages as m  # noqa: E402
from lib.streams import StreamHolder  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PLUGINS = ("cors", "jwt", "ratelimit", "cache")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---- paths and workloads ----------------------------------------------------------------------------

@dataclass
class Path_:
    """One way to reach the upstream: directly, through nginx, mcpgate or the peer."""
    key: str
    label: str
    port: int
    front: procs.Proc  # the process measured (CPU, RSS); for `direct` the upstream itself
    extra_headers: dict[str, str] = field(default_factory=dict)
    path_map: dict[str, str] = field(default_factory=dict)  # upstream route -> client path
    id_mode: str = "fixed"
    connections: int | None = None  # None: --connections
    timeout_s: int = 10

    def client_path(self, route: str) -> str:
        return self.path_map.get(route, route)


@dataclass
class Workload:
    key: str
    title: str
    route: str  # upstream endpoint: /mcp (JSON), /sse (SSE), /echo (ids echoed), or the SDK server's /mcp
    era: str  # "handshake" (session established up front), "modern", "initialize"
    body: str
    check: object  # probe check: Answer -> problem or None
    extra_headers: dict[str, str] = field(default_factory=dict)
    modern_method: str = "tools/call"
    modern_name: str | None = "add"


def _needs(pred, what):
    return lambda a: None if pred(a) else what


CHECK_CALL = _needs(lambda a: (a.result() or {}).get("content") and (a.result() or {}).get("isError") is False,
                    "no successful tools/call result")
CHECK_LIST = _needs(lambda a: (a.result() or {}).get("tools"), "no tools/list result")
CHECK_INIT = _needs(lambda a: (a.result() or {}).get("protocolVersion") and "mcp-session-id" in a.headers,
                    "no initialize result or no Mcp-Session-Id")
CHECK_SSE = _needs(lambda a: a.content_type.startswith("text/event-stream")
                   and sum(1 for x in a.messages if x.get("method") == "notifications/progress") == 3
                   and a.result() is not None, "not an SSE stream with 3 progress events and the result")


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="mcpgate-bench-"))
        self.tmp.chmod(0o755)  # nginx workers (another user when started as root) reach the /echo socket
        self.points: list[dict] = []
        self.sessions: dict[tuple[str, str], str] = {}
        self.notes: list[str] = []
        self.bin = Path(args.bin).resolve()
        self.plugin_dir = Path(args.plugin_dir) if args.plugin_dir else None
        self.present_plugins = {p for p in PLUGINS if self.plugin_dir and (self.plugin_dir / f"libmcpgate_{p}.so").exists()}
        self.token = ""
        self._bodies: dict[str, str] = {}

    # ---- processes -----------------------------------------------------------------------------

    def start_upstream_nginx(self) -> tuple[procs.Proc, int]:
        d = self.tmp / "upstream-nginx"
        port = procs.free_port()
        lens = {"notify": len(m.INITIALIZED), "list": len(m.with_id(m.TOOLS_LIST))}
        conf = nginx.write(d, nginx.upstream_config(d, port, str(self.args.upstream_workers), lens))
        p = procs.Proc("upstream-nginx", ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")], d / "out.log")
        p.wait_port(port)
        return p, port

    def start_proxy_nginx(self, name: str, upstream_port: int) -> tuple[procs.Proc, int]:
        d = self.tmp / name
        port = procs.free_port()
        conf = nginx.write(d, nginx.proxy_config(d, port, upstream_port, str(self.args.nginx_workers)))
        p = procs.Proc(name, ["nginx", "-p", str(d), "-c", str(conf), "-e", str(d / "error.log")], d / "out.log")
        p.wait_port(port)
        return p, port

    def start_gateway(self, name: str, routes: dict[str, str], policies: dict | None = None,
                      policy_routes: set[str] | None = None) -> tuple[procs.Proc, int]:
        d = self.tmp / name
        d.mkdir(parents=True, exist_ok=True)
        port, ready, stats = procs.free_port(), procs.free_port(), procs.free_port()
        cfg = d / "config.yaml"
        cfg.write_text(gateway.config(port=port, ready_port=ready, stats_port=stats, routes=routes,
                                      policies=policies, policy_routes=policy_routes))
        env = {k: v for k, v in os.environ.items() if k not in ("SESSION_KEY", "SESSION_KEYS")}
        if self.plugin_dir:
            env["MCPGATE_PLUGIN_DIR"] = str(self.plugin_dir)
        p = procs.Proc(name, [str(self.bin), "-f", str(cfg)], d / "gateway.log", env=env, cwd=d)
        p.wait_http(f"http://127.0.0.1:{ready}/healthz/ready")
        p.stats_port = stats  # type: ignore[attr-defined]
        return p, port

    def start_peer(self, name: str, upstream_url: str) -> tuple[procs.Proc, int] | None:
        py = BENCH / ".venv-peer" / "bin" / "python"
        if not py.exists():
            self.notes.append("peer: bench/.venv-peer missing (bench/run installs it); peer not measured")
            return None
        port = procs.free_port()
        d = self.tmp / name
        d.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, FASTMCP_SHOW_SERVER_BANNER="false", FASTMCP_CHECK_FOR_UPDATES="off",
                   FASTMCP_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        p = procs.Proc(name, [str(py), str(BENCH / "peer" / "fastmcp_proxy.py"), str(port), upstream_url],
                       d / "peer.log", env=env, cwd=d)
        p.wait_port(port, timeout=120)
        return p, port

    # ---- measuring -----------------------------------------------------------------------------

    def headers_for(self, w: Workload, path: Path_) -> dict[str, str]:
        if w.era == "modern":
            h = m.modern_headers(w.modern_method, w.modern_name)
        elif w.era == "initialize":
            h = m.handshake_headers(None)
        else:
            h = m.handshake_headers(self.session(path, w.route))
        h.update(path.extra_headers)
        h.update(w.extra_headers)
        return h

    def session(self, path: Path_, route: str) -> str:
        key = (path.key, route)
        if key not in self.sessions:
            h = m.handshake_headers(None)
            h.update(path.extra_headers)
            self.sessions[key] = probe.handshake(path.port, path.client_path(route), h, m.with_id(m.INITIALIZE),
                                                 m.INITIALIZED)
        return self.sessions[key]

    def measure(self, w: Workload, paths: list[Path_], upstream: procs.Proc, *, runs: int | None = None,
                delay_ms: float | None = None, tag: str = "") -> list[dict]:
        """Runs `w` through every path, interleaved (run 1 of each path, then run 2, …) so that a burst of
        noise on the shared machine lands on all paths alike."""
        runs = runs or self.args.runs
        a = self.args
        if a.only and w.key not in a.only:
            return []
        points = []
        for path in paths:
            point = {"workload": w.key, "title": w.title, "path": path.key, "label": path.label, "tag": tag,
                     "url": f"http://127.0.0.1:{path.port}{path.client_path(w.route)}", "runs": [], "valid": True,
                     "id_mode": path.id_mode, "delay_ms": delay_ms}
            try:
                h = self.headers_for(w, path)
                ans = probe.expect(probe.post(path.port, path.client_path(w.route), h, m.with_id(w.body)),
                                   check=w.check, what=f"{w.key} via {path.key}")
                point["probe"] = ans.summary()
                point["_headers"] = h
                # warm-up (not recorded): connections, pools, JIT-free but caches and allocator arenas
                point["connections"] = path.connections or a.connections
                wrk.run(point["url"], w.body, h, duration=a.warmup, threads=a.threads, connections=point["connections"],
                        id_mode=path.id_mode, delay_ms=delay_ms, out=self.tmp / "warmup.json", timeout_s=path.timeout_s)
            except Exception as e:  # noqa: BLE001 - a path that cannot serve the workload is reported, not fatal
                point["valid"] = False
                point["error"] = str(e)[:600]
                log(f"  {w.key} via {path.key}: SKIPPED: {str(e)[:300]}")
            points.append(point)
        for r in range(runs):
            for path, point in zip(paths, points):
                if "error" in point:
                    continue
                point["runs"].append(self.one_run(point, path, upstream, delay_ms))
                last = point["runs"][-1]
                log(f"  {w.key:<18} {path.key:<14} run {r + 1}/{runs}: {last['rps']:9.0f} req/s  "
                    f"p50 {last['p50_ms']:.3f} ms  p99 {last['p99_ms']:.3f} ms  cpu {last['cpu_cores']:.2f}  "
                    f"err {last['errors']}")
        for point in points:
            point.pop("_headers", None)
            if point["runs"]:
                point.update(report.aggregate(point["runs"]))
                total = sum(x["requests"] for x in point["runs"])
                errs = sum(x["errors"] for x in point["runs"])
                if total == 0 or errs > 0.001 * total:
                    point["valid"] = False
                    point["error"] = f"{errs} errors in {total} requests (non-2xx, timeouts or socket errors)"
        self.points.extend(points)
        return points

    def one_run(self, point: dict, path: Path_, upstream: procs.Proc, delay_ms: float | None) -> dict:
        a = self.args
        front_pids = path.front.pids()
        up_pids = upstream.pids()
        procs.reset_hwm(front_pids)
        f0, u0, t0 = procs.cpu_ticks(front_pids), procs.cpu_ticks(up_pids), time.monotonic()
        res = wrk.run(point["url"], self._bodies[point["workload"]], point["_headers"],
                      duration=a.duration * (a.peer_duration_factor if path.key.endswith("peer") else 1),
                      threads=a.threads, connections=point["connections"], id_mode=path.id_mode,
                      delay_ms=delay_ms, out=self.tmp / "run.json", timeout_s=path.timeout_s)
        wall = time.monotonic() - t0
        f1, u1 = procs.cpu_ticks(front_pids), procs.cpu_ticks(up_pids)
        lat = res["latency_us"]
        front_cpu = (f1 - f0) / procs.CLK_TCK
        return {
            "rps": res["rps"], "requests": res["requests"], "errors": res["error_count"], "error_kinds": res["errors"],
            "p50_ms": lat["p50"] / 1000, "p90_ms": lat["p90"] / 1000, "p99_ms": lat["p99"] / 1000,
            "p999_ms": lat["p99.9"] / 1000, "max_ms": lat["max"] / 1000, "mean_ms": lat["mean"] / 1000,
            "cpu_cores": front_cpu / wall, "cpu_us_per_req": 1e6 * front_cpu / max(res["requests"], 1),
            "upstream_cpu_cores": (u1 - u0) / procs.CLK_TCK / wall,
            "peak_rss_mib": procs.hwm_kib(front_pids) / 1024, "wall_s": wall,
        }

    # ---- the run ---------------------------------------------------------------------------------

    def run(self) -> dict:
        a = self.args
        started = time.monotonic()
        result: dict = {"schema": 1}
        result["started"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        result["load_start"] = procs.loadavg()
        result["machine"] = report.machine()
        result["git"] = report.git_state(ROOT)
        result["settings"] = {
            "runs": a.runs, "duration_s": a.duration, "warmup_s": a.warmup, "wrk_threads": a.threads,
            "connections": a.connections, "proxy_nginx_workers": a.nginx_workers,
            "upstream_nginx_workers": a.upstream_workers, "mcpgate_event_loops": os.cpu_count(),
            "nofile": procs.raise_nofile(),
        }
        result["versions"] = report.versions(BENCH)
        result["plugins"] = {p: ("present" if p in self.present_plugins else "missing") for p in PLUGINS}
        if a.plugin_sources:
            result["plugin_sources"] = json.loads(Path(a.plugin_sources).read_text())
        log(f"tmp {self.tmp}; plugins present: {sorted(self.present_plugins) or 'none'}")

        if not a.skip_load:
            self.static_section(result)
            if not a.skip_sdk:
                self.sdk_section()
        if not a.skip_streams:
            result["streams"] = self.streams_section()
        if a.micro:
            log("micro-benchmarks")
            result["micro"] = micro.run_all(ROOT, BENCH, a.scratch, self.tmp, quick=a.quick)
        result["points"] = self.points
        result["ratios"] = report.ratios(self.points)
        result["targets"] = report.targets(result)
        result["notes"] = self.notes
        result["load_end"] = procs.loadavg()
        result["elapsed_s"] = round(time.monotonic() - started, 1)
        result["quiet_wait"] = json.loads(os.environ.get("BENCH_QUIET_WAIT", "null"))
        return result

    def static_section(self, result: dict) -> None:
        a = self.args
        up, up_port = self.start_upstream_nginx()
        upstream_url = f"http://127.0.0.1:{up_port}"
        proxy, proxy_port = self.start_proxy_nginx("proxy-nginx", up_port)
        routes = {r: upstream_url + r for r in ("/mcp", "/sse", "/echo")}
        gw, gw_port = self.start_gateway("mcpgate", routes)
        time.sleep(0.5)
        result["mcpgate_rss_after_start_mib"] = procs.rss_kib([gw.pid]) / 1024
        jwks, self.token = gateway.jwt_material(self.tmp)
        policies = gateway.chain_policies(jwks, self.present_plugins)
        result["chain_policies"] = sorted(policies)
        chain = None
        if policies:
            chain, chain_port = self.start_gateway("mcpgate-chain", routes, policies, {"/mcp", "/sse"})
        peer = self.start_peer("peer", upstream_url + "/echo")

        direct = Path_("direct", "upstream direct (floor)", up_port, up)
        pnginx = Path_("nginx", f"nginx reverse proxy ({a.nginx_workers} workers)", proxy_port, proxy)
        pgw = Path_("mcpgate", "mcpgate, no policies", gw_port, gw)
        paths = [direct, pnginx, pgw]
        pchain = None
        if chain:
            chain_headers = {}
            if "jwt" in self.present_plugins:
                chain_headers["Authorization"] = f"Bearer {self.token}"
            if "cors" in self.present_plugins:
                chain_headers["Origin"] = gateway.ORIGIN
            pchain = Path_("mcpgate-chain", "mcpgate, full chain (" + ", ".join(sorted(policies)) + ")",
                           chain_port, chain, extra_headers=chain_headers)
            paths.append(pchain)

        def W(key, title, route, era, body, check, **kw) -> Workload:
            self._bodies[key] = body
            return Workload(key, title, route, era, body, check, **kw)

        hs_call = W("hs_call", "handshake-era tools/call (JSON), established session", "/mcp", "handshake", m.TOOLS_CALL, CHECK_CALL)
        modern = W("modern_call", "2026-07-28 tools/call (JSON), sessionless", "/mcp", "modern", m.MODERN_TOOLS_CALL, CHECK_CALL)
        init = W("initialize", "initialize storm (a new sealed session per request)", "/mcp", "initialize", m.INITIALIZE, CHECK_INIT)
        sse = W("sse_call", "tools/call streamed as SSE: 3 progress events + result", "/sse", "handshake",
                m.TOOLS_CALL_PROGRESS, CHECK_SSE)
        lst = W("tools_list", "handshake-era tools/list (the cacheable request)", "/mcp", "handshake", m.TOOLS_LIST, CHECK_LIST)

        log("handshake-era tools/call")
        self.measure(hs_call, paths, up)
        log("2026-07-28 tools/call")
        self.measure(modern, paths, up)
        log("initialize storm")
        self.measure(init, paths, up)
        log("SSE-streamed tools/call with progress")
        self.measure(sse, paths, up)

        log("tools/list: the cache's miss (store) path and hit path")
        list_paths = [direct, pnginx, pgw]
        if pchain:
            if "cache" in self.present_plugins:
                miss = Path_("mcpgate-chain-miss", pchain.label + ", cache miss+store (Cache-Control: no-cache)",
                             pchain.port, chain, extra_headers=dict(pchain.extra_headers, **{"Cache-Control": "no-cache"}))
                hit = Path_("mcpgate-chain-hit", pchain.label + ", cache hit", pchain.port, chain,
                            extra_headers=pchain.extra_headers)
                list_paths += [miss, hit]
                self.sessions[(miss.key, "/mcp")] = self.session(pchain, "/mcp")
                self.sessions[(hit.key, "/mcp")] = self.session(pchain, "/mcp")
            else:
                list_paths.append(pchain)
        before = report.scrape_metrics(chain.stats_port, "cache_") if chain else {}
        self.measure(lst, list_paths, up)
        if chain:
            result["cache_metrics_during_tools_list"] = report.metrics_delta(
                before, report.scrape_metrics(chain.stats_port, "cache_"))

        # The peer gets the /echo endpoint (a real MCP client needs its own ids back); mcpgate and the direct
        # floor are measured on the same endpoint with the same numbered requests.
        if peer:
            ppeer = Path_("peer", f"FastMCP 4.1.2 proxy (peer), {a.peer_connections} connections", peer[1], peer[0],
                          path_map={"/echo": "/mcp"}, id_mode="counter", connections=a.peer_connections, timeout_s=30)
            decho = Path_("direct-echo", "upstream direct, /echo", up_port, up, id_mode="counter")
            gecho = Path_("mcpgate-echo", "mcpgate, no policies, /echo", gw_port, gw, id_mode="counter")
            log("peer comparison (upstream /echo, numbered requests)")
            self_hs_echo = W("hs_call_echo", "handshake-era tools/call, ids echoed (peer comparison)", "/echo",
                             "handshake", m.TOOLS_CALL, CHECK_CALL)
            self.measure(self_hs_echo, [decho, gecho, ppeer], up)
            self.measure(W("modern_call_echo", "2026-07-28 tools/call, ids echoed (peer comparison)", "/echo", "modern",
                           m.MODERN_TOOLS_CALL, CHECK_CALL), [decho, gecho, ppeer], up)
            # The peer at the load every other path gets: how much of it completes within a run.
            p32 = Path_("peer-32", f"FastMCP 4.1.2 proxy (peer), {a.connections} connections", peer[1], peer[0],
                        path_map={"/echo": "/mcp"}, id_mode="counter", timeout_s=30)
            self.measure(self_hs_echo, [p32], up, runs=1, tag=f"{a.connections} connections")

        # p99 added at half of mcpgate's peak: a fixed offered load (each connection paced by wrk's delay()).
        peak = next((p.get("median", {}).get("rps") for p in self.points
                     if p["workload"] == "hs_call" and p["path"] == "mcpgate" and p.get("valid")), None)
        if peak:
            rate = peak / 2
            delay_ms = 1000.0 * a.connections / rate
            log(f"half load: {rate:.0f} req/s offered ({a.connections} connections, {delay_ms:.2f} ms apart each)")
            self.measure(hs_call, [direct, pnginx, pgw], up, delay_ms=delay_ms, tag="half-load")
            result["half_load"] = report.half_load(self.points, peak, rate)

        for p in [peer[0] if peer else None, chain, gw, proxy, up]:
            if p:
                p.stop()

    def sdk_section(self) -> None:
        """The realistic run: the official Python SDK server (Tests/e2e/servers/upstream.py) as upstream."""
        py = ROOT / ".venv" / "bin" / "python"
        if not py.exists():
            self.notes.append("sdk: .venv missing (scripts/setup); realistic run skipped")
            return
        port = procs.free_port()
        d = self.tmp / "sdk-upstream"
        d.mkdir(parents=True, exist_ok=True)
        up = procs.Proc("sdk-upstream", [str(py), str(ROOT / "Tests/e2e/servers/upstream.py"), "--port", str(port),
                                         "--name", "bench-sdk"], d / "sdk.log", env=dict(os.environ, PYTHONUNBUFFERED="1"))
        up.wait_port(port, timeout=120)
        url = f"http://127.0.0.1:{port}/mcp"
        proxy, proxy_port = self.start_proxy_nginx("proxy-nginx-sdk", port)
        gw, gw_port = self.start_gateway("mcpgate-sdk", {"/mcp": url})
        peer = self.start_peer("peer-sdk", url)
        paths = [Path_("sdk-direct", "Python SDK server direct", port, up, id_mode="counter"),
                 Path_("sdk-nginx", "nginx -> SDK server", proxy_port, proxy, id_mode="counter"),
                 Path_("sdk-mcpgate", "mcpgate -> SDK server", gw_port, gw, id_mode="counter")]
        if peer:
            paths.append(Path_("sdk-peer", f"FastMCP proxy -> SDK server, {self.args.peer_connections} connections",
                               peer[1], peer[0], id_mode="counter", connections=self.args.peer_connections, timeout_s=30))
        for key, title, era, body in (
                ("sdk_hs_call", "Python SDK upstream: handshake-era tools/call", "handshake", m.TOOLS_CALL),
                ("sdk_modern_call", "Python SDK upstream: 2026-07-28 tools/call", "modern", m.MODERN_TOOLS_CALL)):
            self._bodies[key] = body
            log(title)
            self.measure(Workload(key, title, "/mcp", era, body, CHECK_CALL), paths, up)
        for p in [peer[0] if peer else None, gw, proxy, up]:
            if p:
                p.stop()

    def streams_section(self) -> dict:
        """Idle memory of a fresh gateway, then N idle GET streams through it: RSS per stream."""
        log("idle GET streams")
        hold_port = procs.free_port()
        d = self.tmp / "hold"
        d.mkdir(parents=True, exist_ok=True)
        hold = procs.Proc("hold-upstream", [sys.executable, str(BENCH / "lib" / "hold_upstream.py"), str(hold_port)],
                          d / "hold.log")
        hold.wait_port(hold_port)
        gw, gw_port = self.start_gateway("mcpgate-streams", {"/mcp": f"http://127.0.0.1:{hold_port}/mcp"})
        time.sleep(1.0)
        out: dict = {"idle_rss_mib": procs.rss_kib([gw.pid]) / 1024, "steps": []}
        sid = probe.handshake(gw_port, "/mcp", m.handshake_headers(None), m.with_id(m.INITIALIZE), m.INITIALIZED)
        time.sleep(0.3)
        base = procs.rss_kib([gw.pid])
        out["rss_after_initialize_mib"] = base / 1024
        holder = StreamHolder()
        opened = 0
        prev_n, prev_rss = 0, base
        try:
            for n in self.args.streams:
                want = n - opened
                if want <= 0:
                    continue
                t0 = time.monotonic()
                holder.open(gw_port, "/mcp", sid, want)
                opened = len(holder.writers)
                time.sleep(1.5)
                rss = procs.rss_kib([gw.pid])
                step = {"target": n, "open": opened, "failures": dict(holder.failures), "rss_mib": rss / 1024,
                        "open_seconds": round(time.monotonic() - t0, 2),
                        "kib_per_stream_total": (rss - base) / max(opened, 1),
                        "kib_per_stream_step": (rss - prev_rss) / max(opened - prev_n, 1),
                        "gateway_fds": len(os.listdir(f"/proc/{gw.pid}/fd"))}
                out["steps"].append(step)
                log(f"  {opened} streams open: RSS {rss / 1024:.1f} MiB, {step['kib_per_stream_total']:.1f} KiB/stream"
                    f" (failures {holder.failures or 'none'})")
                prev_n, prev_rss = opened, rss
        finally:
            holder.close()
        time.sleep(3.0)
        out["rss_after_close_mib"] = procs.rss_kib([gw.pid]) / 1024
        out["gateway_fds_after_close"] = len(os.listdir(f"/proc/{gw.pid}/fd"))
        out["open_streams_gauge_after_close"] = report.scrape_metrics(gw.stats_port, "open_streams")
        # Open as many again: if RSS grows by as much again, the closed streams' memory leaked; if it stays,
        # the allocator kept it for reuse.
        if opened:
            again = StreamHolder()
            try:
                again.open(gw_port, "/mcp", sid, opened)
                time.sleep(1.5)
                out["reopened"] = len(again.writers)
                out["rss_after_reopen_mib"] = procs.rss_kib([gw.pid]) / 1024
            finally:
                again.close()
        out["peak_rss_mib"] = procs.hwm_kib([gw.pid]) / 1024
        out["max_open_streams_setting"] = 20000
        out["nofile_limit"] = procs.raise_nofile()
        gw.stop()
        hold.stop()
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", help="the mcpgate binary (required unless --update-readme)")
    ap.add_argument("--plugin-dir", help="directory with libmcpgate_<policy>.so (MCPGATE_PLUGIN_DIR)")
    ap.add_argument("--plugin-sources", help="JSON file: where each plugin came from (bench/run writes it)")
    ap.add_argument("--scratch", default=str(ROOT / ".build-bench"), help="SwiftPM scratch path of the release build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (the machine has 2 cores)")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--peer-connections", type=int, default=4,
                    help="wrk connections for the peer (at --connections it completes almost nothing)")
    ap.add_argument("--peer-duration-factor", type=float, default=2.0, help="peer runs last this many times longer")
    ap.add_argument("--nginx-workers", default="2", help="worker_processes of the nginx reverse proxy")
    ap.add_argument("--upstream-workers", default="1", help="worker_processes of the static nginx upstream")
    ap.add_argument("--streams", default="1000,5000", help="idle GET stream counts, ascending")
    ap.add_argument("--quick", action="store_true", help="smoke test: 1 run of 2 s per point, 200,1000 streams")
    ap.add_argument("--micro", action="store_true", help="also run the micro-benchmarks")
    ap.add_argument("--micro-only", action="store_true", help="only the micro-benchmarks")
    ap.add_argument("--skip-sdk", action="store_true")
    ap.add_argument("--skip-streams", action="store_true")
    ap.add_argument("--skip-load", action="store_true", help="skip the wrk workloads")
    ap.add_argument("--only", default="", help="comma-separated workload keys to measure (development)")
    ap.add_argument("--out-dir", default=str(BENCH / "results"))
    ap.add_argument("--no-write", action="store_true", help="print the table, write no results file")
    ap.add_argument("--update-readme", metavar="RESULTS.json",
                    help="only rewrite README.md's Benchmarks block from a results file, then exit")
    a = ap.parse_args()
    if a.update_readme:
        src = Path(a.update_readme).resolve()
        report.update_readme(ROOT / "README.md", json.loads(src.read_text()), str(src.relative_to(ROOT)))
        return 0
    if a.quick:
        a.runs, a.duration, a.warmup = 1, 2.0, 1.0
        if a.streams == "1000,5000":
            a.streams = "200,1000"
    if a.micro_only:
        a.micro, a.skip_load, a.skip_streams = True, True, True
    a.only = {x for x in a.only.split(",") if x}
    a.streams = [int(x) for x in str(a.streams).split(",") if x]
    procs.raise_nofile()
    bench = Bench(a)
    result = bench.run()
    result["mode"] = "quick" if a.quick else ("micro-only" if a.micro_only else "full")
    md = report.markdown(result)
    print(md)
    if not a.no_write:
        out = Path(a.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{datetime.now().strftime('%Y-%m-%d-%H%M')}-{result['machine']['slug']}"
        (out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
        (out / f"{stem}.md").write_text(md)
        (out / "latest.md").write_text(md)
        log(f"wrote {out / stem}.json, .md and latest.md")
    shutil.rmtree(bench.tmp, ignore_errors=True) if not os.environ.get("BENCH_KEEP_TMP") else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
