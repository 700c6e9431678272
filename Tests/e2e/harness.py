"""Process and protocol helpers for the mcpgate end-to-end tests.

- free ports, upstream MCP servers (Tests/e2e/servers/upstream.py), the gateway binary with a
  generated YAML config, readiness waits and guaranteed cleanup;
- raw HTTP helpers (httpx2, the HTTP client mcp==2.3.0 depends on) for byte-level cases;
- a thin wrapper around the official SDK client (`mcp.Client`).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parent.parent
UPSTREAM_SCRIPT = E2E_DIR / "servers" / "upstream.py"
# The tools servers/upstream.py serves (without --cache-tests).
UPSTREAM_TOOLS = frozenset({"add", "slow", "greet", "ask_name_legacy", "whoami", "replica", "count", "weather", "media"})
# servers/upstream.py --transport stdio serves two more: argv() and env(name).
STDIO_TOOLS = UPSTREAM_TOOLS | {"argv", "env"}
PAGED_SCRIPT = E2E_DIR / "servers" / "paged.py"
SCRIPTED_HOSTILE_SCRIPT = E2E_DIR / "servers" / "hostile_up_scripted.py"
TINY_STDIO_SCRIPT = E2E_DIR / "servers" / "tiny_stdio.py"
HOSTILE_STDIO_SCRIPT = E2E_DIR / "servers" / "hostile_stdio.py"

ACCEPT_BOTH = "application/json, text/event-stream"
HANDSHAKE_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")

# --------------------------------------------------------------------------------------------
# ports and processes


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now and that this run has not handed out."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port")


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# Every process any test started; killed at the end of the session (and at exit) whatever happened.
LIVE: list[ManagedProcess] = []


class ManagedProcess:
    """A child process with its output in a log file, stopped with SIGTERM then SIGKILL."""

    kind = "process"

    def __init__(self, name: str, logdir: Path):
        self.name = name
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.logdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.log_path, "ab")
        log.write(f"\n=== start {time.strftime('%H:%M:%S')}: {' '.join(argv)}\n".encode())
        log.flush()
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    self.proc = subprocess.Popen(
                        argv,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        cwd=str(self.logdir),
                        start_new_session=True,
                    )
                    break
                except OSError as e:  # ETXTBSY: the binary is being relinked by a concurrent build
                    if e.errno != errno.ETXTBSY or time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        finally:
            log.close()
        if self not in LIVE:
            LIVE.append(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was not started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_text(self, limit: int = 8000) -> str:
        try:
            data = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return data if len(data) <= limit else "...\n" + data[-limit:]

    def kill(self) -> None:
        """SIGKILL, no grace (simulates a crash)."""
        if self.alive:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(signal.SIGKILL)
                self.proc.wait(10)
        if self in LIVE:
            LIVE.remove(self)


def stop_all() -> None:
    for p in list(LIVE):
        with contextlib.suppress(Exception):
            p.stop(grace=2.0)


atexit.register(stop_all)


class Upstream(ManagedProcess):
    """One official-SDK MCP server process (servers/upstream.py) on 127.0.0.1:<port>/mcp, or with
    `transport="sse"` the HTTP+SSE transport on 127.0.0.1:<port>/sse (POSTs to /messages/)."""

    kind = "upstream"

    def __init__(
        self,
        name: str,
        logdir: Path,
        port: int | None = None,
        json_response: bool = False,
        cache_tests: bool = False,
        transport: str = "streamable-http",
    ):
        super().__init__(name, logdir)
        assert transport in ("streamable-http", "sse"), f"{transport}: stdio upstreams are started by the gateway"
        self.port = port or free_port()
        self.json_response = json_response
        self.cache_tests = cache_tests
        self.transport = transport

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{'sse' if self.transport == 'sse' else 'mcp'}"

    def spawn(self) -> Upstream:
        argv = [sys.executable, str(UPSTREAM_SCRIPT), "--port", str(self.port), "--name", self.name]
        if self.transport != "streamable-http":
            argv += ["--transport", self.transport]
        if self.json_response:
            argv.append("--json-response")
        if self.cache_tests:
            argv.append("--cache-tests")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._spawn(argv, env)
        return self

    def start(self, timeout: float = 30.0) -> Upstream:
        return self.spawn().wait_ready(timeout)

    def wait_ready(self, timeout: float = 30.0) -> Upstream:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"upstream {self.name} exited with {self.returncode}:\n{self.log_text()}")
            if port_accepts(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"upstream {self.name} did not listen on {self.port} within {timeout}s:\n{self.log_text()}")

    def restart(self) -> Upstream:
        """Kill and start again on the same port: a fresh process that knows none of the old sessions."""
        self.kill()
        deadline = time.monotonic() + 10
        while port_accepts(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.start()


class PagedUpstream(Upstream):
    """upstream.py with tools/list paginated two tools per page (servers/paged.py)."""

    def spawn(self) -> PagedUpstream:
        self._spawn([sys.executable, str(PAGED_SCRIPT), "--port", str(self.port), "--name", self.name, "--page-size", "2"])
        return self


class ScriptedHostile(ManagedProcess):
    """One servers/hostile_up_scripted.py process on 127.0.0.1:<port>/mcp: an upstream that answers as its --mode scripts."""

    kind = "upstream"

    def __init__(self, name: str, logdir: Path, mode: str, arg: str = "", *flags: str, port: int | None = None):
        super().__init__(name, logdir)
        self.port = port or free_port()
        self.argv = [sys.executable, str(SCRIPTED_HOSTILE_SCRIPT), "--port", str(self.port), "--mode", mode, *flags]
        if arg:
            self.argv.append(arg)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sse_url(self) -> str:
        """The GET stream of the HTTP+SSE modes (`sse`, `sse-no-endpoint`, `sse-foreign-endpoint`)."""
        return f"http://127.0.0.1:{self.port}/sse"

    def start(self) -> ScriptedHostile:
        self._spawn(self.argv)
        assert wait_until(lambda: port_accepts(self.port), 15), self.log_text()
        return self

    def received(self, method: str | None = None) -> list[dict[str, Any]]:
        """The requests this server got (optionally only those with this HTTP method)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                item = json.loads(line)
                if method is None or item["method"] == method:
                    out.append(item)
        return out


# --------------------------------------------------------------------------------------------
# the gateway


def plugin_path(name: str) -> Path:
    """A plugin built next to the gateway binary by SwiftPM (`libmcpgate_<name>.so`)."""
    return gateway_binary().parent / f"libmcpgate_{name}.so"


def gateway_binary() -> Path:
    env = os.environ.get("MCPGATE_BIN")
    return Path(env) if env else REPO_ROOT / ".build" / "debug" / "mcpgate"


def require_gateway() -> Path:
    path = gateway_binary()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(
            f"mcpgate binary not found at {path}: build it with `swift build` "
            "(or point MCPGATE_BIN at it) to run the gateway end-to-end tests"
        )
    return path


def new_key() -> str:
    return secrets.token_hex(32)


_YAML_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./:@-]*|[0-9]+(ms|s|m|h)")
_YAML_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict) and not v:
        return "{}"
    if isinstance(v, list) and not v:
        return "[]"
    s = str(v)
    if _YAML_PLAIN.fullmatch(s) and s.lower() not in _YAML_RESERVED and ": " not in s:
        return s
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts/lists/scalars (enough for gateway configs; no PyYAML needed)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}{k}: {_yaml_scalar(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict) and v:
                inner = to_yaml(v, indent + 1).split("\n")
                inner[0] = f"{pad}- " + inner[0][len(pad) + 2 :]
                lines.extend(inner)
            elif isinstance(v, list) and v:
                lines.append(f"{pad}-")
                lines.append(to_yaml(v, indent + 1))
            else:
                lines.append(f"{pad}- {_yaml_scalar(v)}")
    else:
        lines.append(pad + _yaml_scalar(obj))
    return "\n".join(lines)


# target name -> endpoint URLs (one = `mcp: {host}`, several = `mcp: {hosts}`), or a dict that is the target's
# body as written (`{"sse": {"host": url}}`, `stdio_target(...)`); the name is added to it.
Targets = dict[str, list[str] | dict[str, Any]]


def gateway_config(
    *,
    port: int,
    readiness_port: int,
    stats_port: int,
    admin_port: int,
    targets: Targets,
    keys: list[str],
    ttl: str = "1h",
    max_body: int = 65536,
    request_timeout: str = "10s",
    connect_timeout: str = "2s",
    route_name: str | None = None,
    policies: dict[str, Any] | None = None,
    failure_mode: str | None = None,
    prefix_mode: str | None = None,
    path: str | None = None,
    stdio: dict[str, Any] | None = None,
    upstream_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`stdio` becomes `config.stdio` (maxProcesses, poolSize, idleTimeout, ...); `upstream_extra` is merged
    into `config.upstream` (sseEndpointTimeout, sseMaxPendingRequests, ...)."""
    tgts: list[dict[str, Any]] = []
    for name, spec in targets.items():
        if isinstance(spec, dict):
            tgts.append({"name": name, **spec})
            continue
        mcp = {"host": spec[0]} if len(spec) == 1 else {"hosts": list(spec)}
        tgts.append({"name": name, "mcp": mcp})
    route: dict[str, Any] = {"name": route_name} if route_name else {}
    if path:
        route["matches"] = [{"path": {"exact": path}}]
    if policies:
        route["policies"] = policies
    backend: dict[str, Any] = {"targets": tgts}
    if failure_mode:
        backend["failureMode"] = failure_mode
    if prefix_mode:
        backend["prefixMode"] = prefix_mode
    route["backends"] = [{"mcp": backend}]
    config: dict[str, Any] = {
        "session": {"keys": list(keys), "ttl": ttl},
        "readinessAddr": f"127.0.0.1:{readiness_port}",
        "statsAddr": f"127.0.0.1:{stats_port}",
        "adminAddr": f"127.0.0.1:{admin_port}",
        "limits": {"maxRequestBodyBytes": max_body},
        "upstream": {"requestTimeout": request_timeout, "connectTimeout": connect_timeout, **(upstream_extra or {})},
    }
    if stdio:
        config["stdio"] = dict(stdio)
    return {
        "config": config,
        "binds": [
            {
                "port": port,
                "address": "127.0.0.1",
                "listeners": [{"routes": [route]}],
            }
        ],
    }


class Gateway(ManagedProcess):
    """The mcpgate binary run as `mcpgate -f <tmp>/config.yaml`, ready when /healthz/ready is 200."""

    kind = "gateway"

    def __init__(
        self,
        name: str,
        logdir: Path,
        targets: Targets,
        *,
        keys: list[str] | None = None,
        ttl: str = "1h",
        max_body: int = 65536,
        request_timeout: str = "10s",
        connect_timeout: str = "2s",
        route_name: str | None = None,
        policies: dict[str, Any] | None = None,
        failure_mode: str | None = None,
        prefix_mode: str | None = None,
        path: str | None = None,
        stdio: dict[str, Any] | None = None,
        upstream_extra: dict[str, Any] | None = None,
    ):
        """`policies` is the route's `policies` block (cors, jwtAuth, localRateLimit, cache, plugins).
        `route_name` names the route; its identity is sealed into session ids. Without a name the
        identity is derived from what the route serves (its paths and target names), never from
        its port, so gateways on different ports serving the same route open each other's
        sessions. `path` makes the route match that exact path only (default: every path).
        `stdio` is `config.stdio` and `upstream_extra` is merged into `config.upstream` (issue #14 keys)."""
        super().__init__(name, logdir)
        self.binary = require_gateway()
        self.port = free_port()
        self.readiness_port = free_port()
        self.stats_port = free_port()
        self.admin_port = free_port()
        self.keys = keys or [new_key()]
        self.config = gateway_config(
            port=self.port,
            readiness_port=self.readiness_port,
            stats_port=self.stats_port,
            admin_port=self.admin_port,
            targets=targets,
            keys=self.keys,
            ttl=ttl,
            max_body=max_body,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            route_name=route_name,
            policies=policies,
            failure_mode=failure_mode,
            prefix_mode=prefix_mode,
            path=path,
            stdio=stdio,
            upstream_extra=upstream_extra,
        )
        self.path = path or "/mcp"
        self.config_path = self.logdir / f"{name}.yaml"
        self.config_path.write_text(to_yaml(self.config) + "\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def ready_url(self) -> str:
        return f"http://127.0.0.1:{self.readiness_port}/healthz/ready"

    def start(self, timeout: float = 30.0) -> Gateway:
        env = {k: v for k, v in os.environ.items() if k != "SESSION_KEY"}
        self._spawn([str(self.binary), "-f", str(self.config_path)], env)
        deadline = time.monotonic() + timeout
        last = "no answer"
        with httpx2.Client(timeout=1.0) as hc:
            while time.monotonic() < deadline:
                if not self.alive:
                    pytest.fail(
                        f"gateway {self.name} exited with {self.returncode} before it was ready.\n"
                        f"config {self.config_path}:\n{self.config_path.read_text()}\nlog:\n{self.log_text()}",
                        pytrace=False,
                    )
                try:
                    r = hc.get(self.ready_url)
                    if r.status_code == 200:
                        return self
                    last = f"HTTP {r.status_code}"
                except httpx2.HTTPError as e:
                    last = repr(e)
                time.sleep(0.1)
        log = self.log_text()
        self.stop()
        pytest.fail(
            f"gateway {self.name} not ready at {self.ready_url} within {timeout}s ({last}).\nlog:\n{log}",
            pytrace=False,
        )

    def __enter__(self) -> Gateway:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# stdio and sse targets (issue #14), and counting a process's children and descriptors


def stdio_target(
    *flags: str,
    server: str = "upstream.py",
    env: dict[str, str] | None = None,
    clear_env: bool | None = None,
    cmd: str | None = None,
) -> dict[str, Any]:
    """A `stdio:` target body running `servers/<server>` with this Python (`cmd` overrides the executable).
    upstream.py gets `--transport stdio` first; `flags` follow as further arguments, passed literally."""
    script = E2E_DIR / "servers" / server
    args = [str(script)]
    if server == "upstream.py":
        args += ["--transport", "stdio"]
    args += list(flags)
    body: dict[str, Any] = {"cmd": cmd or sys.executable, "args": args}
    if env is not None:
        body["env"] = dict(env)
    if clear_env is not None:
        body["clearEnv"] = clear_env
    return {"stdio": body}


def sse_target(url: str) -> dict[str, Any]:
    """An `sse:` target body in the URL form (`{host: http://127.0.0.1:P/sse}`)."""
    return {"sse": {"host": url}}


def _stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after `(comm)`: state, ppid, pgrp, session, ... (None when gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def children(pid: int) -> list[tuple[int, str]]:
    """(child pid, state) for every process whose parent is `pid`; a state `Z` is a zombie not reaped yet."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            fields = _stat_fields(d)
            if fields is not None and int(fields[1]) == pid:
                out.append((int(d), fields[0]))
    return out


def session_members(sid: int) -> list[int]:
    """Every process whose session id is `sid` (a stdio child made with setsid leads its own: grandchildren too)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            fields = _stat_fields(d)
            if fields is not None and int(fields[3]) == sid:
                out.append(int(d))
    return out


def fd_targets(pid: int) -> dict[int, str]:
    """Each open descriptor of `pid` and what it points at (`pipe:[N]`, `socket:[N]`, `anon_inode:...`, a path)."""
    out: dict[int, str] = {}
    base = Path(f"/proc/{pid}/fd")
    for entry in base.iterdir():
        try:
            out[int(entry.name)] = os.readlink(entry)
        except OSError:
            continue  # closed while listing
    return out


def fd_kinds(pid: int) -> Counter[str]:
    """How many descriptors of each kind `pid` holds: "pipe", "socket", "anon_inode" or "file"."""
    kinds: Counter[str] = Counter()
    for target in fd_targets(pid).values():
        kind = target.split(":", 1)[0] if target.startswith(("pipe:", "socket:", "anon_inode:")) else "file"
        kinds[kind] += 1
    return kinds


def socket_inodes(pid: int) -> set[str]:
    """The `socket:[N]` targets of `pid`'s descriptors."""
    return {t for t in fd_targets(pid).values() if t.startswith("socket:")}


def pipe_inodes(pid: int) -> set[str]:
    """The `pipe:[N]` targets of `pid`'s descriptors."""
    return {t for t in fd_targets(pid).values() if t.startswith("pipe:")}


class StreamedCall:
    """One request POSTed on a thread of its own and read to the end, for calls a test acts on while they run
    (kill the process serving it, restart the upstream, fill a limit). `started` is set once the first SSE
    data line arrived or the answer is complete; `message` is then the JSON-RPC response with the request's id,
    whether it came as application/json (any status) or as an event on a 200 stream."""

    def __init__(self, session: RawSession, msg: dict[str, Any], timeout: float = 30.0, extra: dict[str, str] | None = None):
        import threading

        self.msg = msg
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.text = ""
        self.message: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.started = threading.Event()
        self.done = threading.Event()
        self._args = (session, timeout, extra)
        self._thread = threading.Thread(target=self._run, daemon=True)

    @classmethod
    def tool(cls, session: RawSession, name: str, arguments: dict[str, Any] | None = None, *, progress_token: Any = None,
             timeout: float = 30.0) -> StreamedCall:
        params: dict[str, Any] = {"name": name, "arguments": arguments or {}}
        if progress_token is not None:
            params["_meta"] = {"progressToken": progress_token}
        return cls(session, rpc("tools/call", params), timeout).start()

    def start(self) -> StreamedCall:
        self._thread.start()
        return self

    def _run(self) -> None:
        session, timeout, extra = self._args
        lines: list[str] = []
        try:
            with httpx2.Client(timeout=httpx2.Timeout(timeout)) as hc:
                with hc.stream("POST", session.url, content=encode_body(self.msg), headers=session.headers(extra)) as r:
                    self.status = r.status_code
                    self.headers = {k.lower(): v for k, v in r.headers.items()}
                    for line in r.iter_lines():
                        lines.append(line)
                        if line.startswith("data:"):
                            self.started.set()
            self.text = "\n".join(lines) + "\n"
            if self.headers.get("content-type", "").startswith("text/event-stream"):
                found = parse_sse(self.text)
            else:
                found = [json.loads(self.text)] if self.text.strip() else []
            self.message = next((m for m in found if m.get("id") == self.msg["id"] and ("result" in m or "error" in m)), None)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.started.set()
            self.done.set()

    def wait(self, timeout: float = 30.0) -> StreamedCall:
        assert self.done.wait(timeout), f"{self.msg['params'].get('name')} did not end within {timeout}s"
        assert self.error is None, repr(self.error)
        return self

    def response(self, timeout: float = 30.0) -> dict[str, Any]:
        """The final JSON-RPC response (waits for the end)."""
        self.wait(timeout)
        assert self.message is not None, f"no response with id {self.msg['id']}: HTTP {self.status}: {self.text[:1000]}"
        return self.message


def metric(stats_port: int, name: str) -> float | None:
    """The value of an unlabelled sample `name` on the gateway's /metrics (None when absent)."""
    text = httpx2.get(f"http://127.0.0.1:{stats_port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


# --------------------------------------------------------------------------------------------
# raw HTTP / JSON-RPC helpers


def parse_sse(text: str) -> list[dict[str, Any]]:
    """JSON messages of an SSE body (events with empty data, comments and ids are skipped)."""
    out: list[dict[str, Any]] = []
    data: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if data:
                payload = "\n".join(data)
                if payload.strip():
                    out.append(json.loads(payload))
                data = []
            continue
        if line.startswith(":"):
            continue
        fieldname, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if fieldname == "data":
            data.append(value)
    if data and "\n".join(data).strip():
        out.append(json.loads("\n".join(data)))
    return out


def messages(resp: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a response, whether it came as application/json or as SSE."""
    ctype = resp.headers.get("content-type", "")
    if ctype.startswith("text/event-stream"):
        return parse_sse(resp.text)
    if not resp.content:
        return []
    body = resp.json()
    return body if isinstance(body, list) else [body]


def response_for(resp: httpx2.Response, req_id: Any) -> dict[str, Any]:
    for m in messages(resp):
        if "id" in m and m["id"] == req_id and ("result" in m or "error" in m):
            return m
    raise AssertionError(
        f"no JSON-RPC response with id {req_id!r} in HTTP {resp.status_code} "
        f"{resp.headers.get('content-type')}: {resp.text[:2000]}"
    )


def expect_error(
    resp: httpx2.Response,
    status: int,
    code: int | None = None,
    *,
    jsonrpc_body: bool = True,
) -> dict[str, Any] | None:
    """Assert the HTTP status, and (when `jsonrpc_body`) one JSON-RPC error object with `code`."""
    assert resp.status_code == status, (
        f"expected HTTP {status}, got {resp.status_code} {resp.headers.get('content-type')}: {resp.text[:1000]}"
    )
    if not jsonrpc_body or code is None:
        return None
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), f"error body must be application/json, got {ctype!r}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("jsonrpc") == "2.0", body
    assert "id" in body, f"error response must carry id (null when unreadable): {body}"
    assert "result" not in body, body
    err = body.get("error")
    assert isinstance(err, dict) and isinstance(err.get("code"), int), body
    assert err["code"] == code, f"expected JSON-RPC code {code}, got {err['code']}: {body}"
    assert isinstance(err.get("message"), str) and err["message"], body
    return body


_ids = iter(range(1000, 10**9))


def next_id() -> int:
    return next(_ids)


def rpc(method: str, params: dict[str, Any] | None = None, req_id: Any = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": next_id() if req_id is None else req_id, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def notification(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def base_headers(accept: str = ACCEPT_BOTH, content_type: str | None = "application/json") -> dict[str, str]:
    h = {"Accept": accept}
    if content_type:
        h["Content-Type"] = content_type
    return h


def encode_body(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


INIT_PARAMS = {
    "protocolVersion": HANDSHAKE_VERSION,
    "capabilities": {"elicitation": {"form": {}}},
    "clientInfo": {"name": "mcpgate-e2e-raw", "version": "0"},
}


@dataclass
class RawSession:
    """A handshake-era session driven byte by byte over httpx2 (one keep-alive client)."""

    url: str
    client: httpx2.Client = field(default_factory=lambda: httpx2.Client(timeout=httpx2.Timeout(15.0)))
    session_id: str | None = None
    protocol_version: str | None = None
    init_result: dict[str, Any] | None = None
    initialized_response: httpx2.Response | None = None

    def headers(self, extra: dict[str, str] | None = None, session_id: str | None = None) -> dict[str, str]:
        h = base_headers()
        sid = session_id if session_id is not None else self.session_id
        if sid is not None:
            h["Mcp-Session-Id"] = sid
        if self.protocol_version:
            h["MCP-Protocol-Version"] = self.protocol_version
        if extra:
            h.update(extra)
        return h

    def initialize(self, strict: bool = False) -> RawSession:
        """initialize + notifications/initialized. The notification's answer is kept in
        `initialized_response` and only checked (202) when `strict`, so that one gateway bug there
        fails the tests about notifications rather than every test that needs a session."""
        msg = rpc("initialize", INIT_PARAMS)
        r = self.client.post(self.url, content=encode_body(msg), headers=base_headers())
        assert r.status_code == 200, f"initialize: HTTP {r.status_code}: {r.text[:1000]}"
        sid = r.headers.get("mcp-session-id")
        assert sid, f"initialize answered without Mcp-Session-Id: {dict(r.headers)}"
        assert all(0x21 <= ord(c) <= 0x7E for c in sid), f"session id must be visible ASCII: {sid!r}"
        res = response_for(r, msg["id"])
        assert "result" in res, res
        self.session_id = sid
        self.init_result = res["result"]
        self.protocol_version = res["result"]["protocolVersion"]
        n = self.post(notification("notifications/initialized"))
        self.initialized_response = n
        if strict:
            assert n.status_code == 202, f"notifications/initialized: HTTP {n.status_code}: {n.text[:500]}"
        return self

    def post(self, body: Any, extra: dict[str, str] | None = None, session_id: str | None = None) -> httpx2.Response:
        return self.client.post(self.url, content=encode_body(body), headers=self.headers(extra, session_id))

    def request(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> tuple[httpx2.Response, dict[str, Any]]:
        msg = rpc(method, params)
        r = self.post(msg, **kw)
        return r, response_for(r, msg["id"]) if r.status_code == 200 else {}

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None, **kw: Any) -> tuple[httpx2.Response, dict[str, Any]]:
        return self.request("tools/call", {"name": name, "arguments": arguments or {}}, **kw)

    def call_ok(self, name: str, arguments: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        r, res = self.call_tool(name, arguments, **kw)
        assert r.status_code == 200, f"tools/call {name}: HTTP {r.status_code}: {r.text[:1000]}"
        assert "result" in res, f"tools/call {name}: {res}"
        assert not res["result"].get("isError"), res
        return res["result"]

    def delete(self, session_id: str | None = None) -> httpx2.Response:
        return self.client.delete(self.url, headers=self.headers(session_id=session_id))

    def open_get_stream(self, session_id: str | None = None, timeout: float = 10.0) -> tuple[int, dict[str, str]]:
        """GET the standalone SSE stream, read only the status and headers, then close it."""
        h = self.headers(session_id=session_id)
        h["Accept"] = "text/event-stream"
        h.pop("Content-Type", None)
        with self.client.stream("GET", self.url, headers=h, timeout=httpx2.Timeout(timeout)) as r:
            return r.status_code, dict(r.headers)

    def close(self) -> None:
        self.client.close()


def modern_meta(version: str = MODERN_VERSION) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "mcpgate-e2e-raw", "version": "0"},
    }


def modern_request(
    method: str,
    params: dict[str, Any] | None = None,
    *,
    version: str = MODERN_VERSION,
    meta: bool = True,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A well-formed 2026-07-28 POST (body, headers); tweak either to make it bad."""
    p = dict(params or {})
    if meta:
        p["_meta"] = modern_meta(version)
    msg = rpc(method, p)
    h = base_headers()
    h["MCP-Protocol-Version"] = version
    h["Mcp-Method"] = method
    if method in ("tools/call", "prompts/get") and "name" in p:
        h["Mcp-Name"] = p["name"]
    if method == "resources/read" and "uri" in p:
        h["Mcp-Name"] = p["uri"]
    if headers:
        h.update(headers)
    return msg, h


def flip_char(s: str, index: int | None = None) -> str:
    """Change one character of a base64url-ish string to another visible ASCII character."""
    i = len(s) // 2 if index is None else index
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    c = s[i]
    repl = alphabet[(alphabet.index(c) + 17) % len(alphabet)] if c in alphabet else "A"
    return s[:i] + repl + s[i + 1 :]


# --------------------------------------------------------------------------------------------
# the official SDK client


@dataclass
class ClientLog:
    progress: list[tuple[float, float | None, str | None, float]] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)
    elicitations: list[str] = field(default_factory=list)
    response_headers: list[dict[str, str]] = field(default_factory=list)
    request_headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def session_ids(self) -> set[str]:
        return {h["mcp-session-id"] for h in self.response_headers if "mcp-session-id" in h}


@contextlib.asynccontextmanager
async def sdk_client(
    url: str,
    mode: str,
    *,
    headers: dict[str, str] | None = None,
    log: ClientLog | None = None,
    elicit_name: str = "gateway",
) -> AsyncIterator[Any]:
    """`mcp.Client` over Streamable HTTP with elicitation, logging and header capture."""
    from mcp import Client, types
    from mcp.client.streamable_http import streamable_http_client

    rec = log if log is not None else ClientLog()

    async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        rec.elicitations.append(params.message)
        return types.ElicitResult(action="accept", content={"name": elicit_name})

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        rec.logs.append(params.data)

    async def on_request(request: httpx2.Request) -> None:
        rec.request_headers.append({k.lower(): v for k, v in request.headers.items()})

    async def on_response(response: httpx2.Response) -> None:
        rec.response_headers.append({k.lower(): v for k, v in response.headers.items()})

    async with httpx2.AsyncClient(
        headers=headers or {},
        timeout=httpx2.Timeout(30.0, read=60.0),
        event_hooks={"request": [on_request], "response": [on_response]},
    ) as hc:
        async with Client(
            streamable_http_client(url, http_client=hc),
            mode=mode,
            elicitation_callback=on_elicit,
            logging_callback=on_log,
            log_level="info",
            read_timeout_seconds=30.0,
        ) as c:
            yield c


def strip_meta(obj: Any) -> Any:
    """Drop `meta`/`_meta` keys recursively (serverInfo stamps may legitimately differ)."""
    if isinstance(obj, dict):
        return {k: strip_meta(v) for k, v in obj.items() if k not in ("meta", "_meta")}
    if isinstance(obj, list):
        return [strip_meta(v) for v in obj]
    return obj


def dump(model: Any) -> Any:
    return strip_meta(model.model_dump(mode="json", exclude_none=True))


def wait_until(pred: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"mcpgate-e2e-{prefix}-"))


def tails(procs: Iterable[ManagedProcess]) -> str:
    return "\n".join(f"--- {p.kind} {p.name} ({p.log_path}) ---\n{p.log_text(4000)}" for p in procs)


# --------------------------------------------------------------------------------------------
# the attack suite (test_attack_*.py): tuned gateways, a canary client, RSS, raw HTTP exchanges

# The canary connects from this address. Every attacker in the suite connects from 127.0.0.1, so caps per
# client address (config.limits.maxConnectionsPerClient) apply to the attacker and not to the canary.
CANARY_ADDRESS = "127.0.0.2"
HOSTILE_SCRIPT = E2E_DIR / "servers" / "hostile_mcp.py"


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in, dicts recursively (a new dict; the inputs are not changed)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


class TunedGateway(Gateway):
    """A `Gateway` whose generated config gets `settings` merged into `config:` and `route` into its route,
    with `routes_before` matched ahead of it; optionally run under RLIMIT_NOFILE `nofile` (soft and hard, set
    in the child before it execs the gateway) and with `env` added to its environment."""

    def __init__(
        self,
        name: str,
        logdir: Path,
        targets: Targets,
        *,
        settings: dict[str, Any] | None = None,
        route: dict[str, Any] | None = None,
        routes_before: list[dict[str, Any]] | None = None,
        nofile: int | None = None,
        env: dict[str, str] | None = None,
        **kw: Any,
    ):
        super().__init__(name, logdir, targets, **kw)
        self.nofile = nofile
        self.extra_env = dict(env or {})
        self.config["config"] = deep_merge(self.config["config"], settings or {})
        routes = self.config["binds"][0]["listeners"][0]["routes"]
        routes[0] = deep_merge(routes[0], route or {})
        routes[:0] = list(routes_before or [])
        self.config_path.write_text(to_yaml(self.config) + "\n")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def _spawn(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        if self.nofile:
            limit = (self.nofile, self.nofile)
            setter = f"import os, resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, {limit}); os.execv(sys.argv[1], sys.argv[1:])"
            argv = [sys.executable, "-c", setter, *argv]
        super()._spawn(argv, {**(env if env is not None else os.environ), **self.extra_env})

    def stop(self, grace: float = 2.0) -> None:
        """SIGTERM, then SIGKILL after 2 s: an attack case may leave connections that a drain would wait for."""
        super().stop(grace)

    def start(self, timeout: float = 30.0) -> TunedGateway:
        try:
            super().start(timeout)
        except pytest.fail.Exception:
            refused = re.findall(r"(?im)^.*(?:expected one of the keys|unknown key|is not supported).*$", self.log_text())
            if refused:
                pytest.fail(
                    f"gateway {self.name} refused its config, so this mcpgate lacks a setting the fix adds:\n"
                    + "\n".join(refused[:3]),
                    pytrace=False,
                )
            raise
        return self


def tuned_gateway(procs: Any, targets: Targets, **kw: Any) -> TunedGateway:
    """Starts a `TunedGateway` that `procs` (the conftest fixture) stops after the test."""
    require_gateway()
    g = TunedGateway(kw.pop("name", None) or procs._name("gw"), procs.logdir, targets, **kw)
    procs.started.append(g)
    return g.start()


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Canary:
    """A well-behaved client: `tools/call add` every `interval` s on its own session, each call on a fresh
    connection from CANARY_ADDRESS (so it lands on every event loop in turn and needs the accept path).
    Records each call's latency and every failure (non-200, an error result, an exception)."""

    def __init__(self, url: str, interval: float = 0.2, timeout: float = 5.0):
        import threading

        self.url = url
        self.interval = interval
        self.latencies: list[float] = []
        self.failures: list[str] = []
        transport = httpx2.HTTPTransport(
            local_address=CANARY_ADDRESS, limits=httpx2.Limits(max_keepalive_connections=0)
        )
        self.session = RawSession(url, client=httpx2.Client(transport=transport, timeout=httpx2.Timeout(timeout)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)

    def start(self) -> Canary:
        self.session.initialize()
        self._call()  # one served call before the case starts
        assert not self.failures, f"the canary was not served before the case: {self.failures}"
        self._thread.start()
        return self

    def _call(self) -> None:
        t0 = time.monotonic()
        try:
            r, res = self.session.call_tool("add", {"a": 20, "b": 22})
            if r.status_code != 200 or res.get("result", {}).get("structuredContent") != {"result": 42}:
                self.failures.append(f"HTTP {r.status_code}: {r.text[:200]}")
        except Exception as e:  # noqa: BLE001 - every failure counts, whatever its kind
            self.failures.append(repr(e)[:200])
        self.latencies.append(time.monotonic() - t0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._call()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._call()  # and one after the case
        self.session.close()

    def assert_served(self, max_latency: float) -> None:
        worst = max(self.latencies, default=0.0)
        assert not self.failures, (
            f"the concurrent client was not served: {len(self.failures)} of {len(self.latencies)} calls failed, "
            f"e.g. {self.failures[:3]}"
        )
        assert worst < max_latency, (
            f"the concurrent client waited up to {worst:.2f} s (bound {max_latency} s) over {len(self.latencies)} calls"
        )


# RSS may stay this far above its start after a case. glibc keeps freed memory in per-thread arenas and
# the gateway runs one event loop per core, so a few MiB per loop never come back; a debug build also keeps
# larger buffers. The defects this guards against grew RSS by hundreds of MiB, so 64 MiB still tells them apart.
RSS_MARGIN_KIB = 64 * 1024


@contextlib.contextmanager
def attack_guard(
    gw: TunedGateway, canary_url: str | None = None, *, max_latency: float = 2.0, rss_margin_kib: int = RSS_MARGIN_KIB
) -> Iterable[Canary]:
    """Runs a case with a canary on `canary_url` (default the gateway's /mcp) throughout. After the case
    (when the body passed): the gateway is alive, the canary was served within `max_latency` every time,
    and RSS came back within `rss_margin_kib` of where it was before the case."""
    canary = Canary(canary_url or gw.url).start()
    before = rss_kib(gw.pid)
    try:
        yield canary
    finally:
        if gw.alive:
            canary.stop()
    assert gw.alive, f"the gateway died during the case (exit {gw.returncode}):\n{gw.log_text(3000)}"
    canary.assert_served(max_latency)
    bound = before + rss_margin_kib
    wait_until(lambda: rss_kib(gw.pid) <= bound, timeout=5.0, step=0.25)
    after = rss_kib(gw.pid)
    assert after <= bound, f"RSS {before // 1024} MiB before the case, {after // 1024} MiB after (bound +{rss_margin_kib // 1024} MiB)"


@dataclass
class HTTPReply:
    """One HTTP response as read from a raw socket."""

    version: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def parse_http_replies(data: bytes) -> list[HTTPReply]:
    """Every complete response in `data`, in order: bodies framed by Content-Length, chunked encoding, or
    (when neither is given) the end of the data. Informational (1xx) responses are included."""
    out: list[HTTPReply] = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = data[:end].decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
        reply = HTTPReply(version, int(status), headers, b"")
        rest = data[end + 4 :]
        if reply.status < 200 or reply.status in (204, 304):
            body, data = b"", rest
        elif reply.header("content-length") is not None:
            n = int(reply.header("content-length") or 0)
            body, data = rest[:n], rest[n:]
        elif "chunked" in (reply.header("transfer-encoding") or "").lower():
            body, data = b"", rest
            while True:
                line_end = data.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(data[:line_end].split(b";")[0], 16)
                if size == 0:
                    data = data[line_end + 2 :].split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in data[line_end:] else b""
                    break
                body += data[line_end + 2 : line_end + 2 + size]
                data = data[line_end + 2 + size + 2 :]
        else:
            body, data = rest, b""
        reply.body = body
        out.append(reply)
    return out


@dataclass
class RawExchange:
    """What a raw socket got back: the bytes, whether the server closed, and when (seconds after sending)."""

    data: bytes
    closed: bool
    closed_after: float | None

    @property
    def replies(self) -> list[HTTPReply]:
        return parse_http_replies(self.data)

    @property
    def first(self) -> HTTPReply:
        replies = self.replies
        assert replies, f"no HTTP response (closed={self.closed}): {self.data[:300]!r}"
        return replies[0]


def read_until_closed(sock: socket.socket, wait: float, t0: float | None = None) -> RawExchange:
    """Reads until the server closes or `wait` seconds pass."""
    t0 = time.monotonic() if t0 is None else t0
    data = b""
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return RawExchange(data, False, None)
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return RawExchange(data, False, None)
        except ConnectionResetError:
            return RawExchange(data, True, time.monotonic() - t0)
        if not chunk:
            return RawExchange(data, True, time.monotonic() - t0)
        data += chunk


def raw_http(port: int, payload: bytes, wait: float = 2.0) -> RawExchange:
    """Sends `payload` on a new connection to 127.0.0.1:`port` and reads until closed or `wait` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(payload)
        return read_until_closed(s, wait, t0)


def raw_post(path: str, body: bytes, headers: dict[str, str] | list[tuple[str, str]], version: str = "HTTP/1.1") -> bytes:
    """The bytes of a POST with `body` (Content-Length added unless a length or Transfer-Encoding is given)."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    names = {k.lower() for k, _ in items}
    if "content-length" not in names and "transfer-encoding" not in names:
        items.append(("Content-Length", str(len(body))))
    head = f"POST {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n"
    return head.encode("latin-1") + body


class HostileUpstream(ManagedProcess):
    """servers/hostile_mcp.py on 127.0.0.1:<port>: an MCP upstream whose tools misbehave on purpose."""

    kind = "hostile-upstream"

    def __init__(self, name: str, logdir: Path):
        super().__init__(name, logdir)
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> HostileUpstream:
        self._spawn([sys.executable, str(HOSTILE_SCRIPT), "--port", str(self.port)], dict(os.environ, PYTHONUNBUFFERED="1"))
        if not wait_until(lambda: port_accepts(self.port) or not self.alive, 15):
            raise RuntimeError(f"hostile upstream did not listen:\n{self.log_text()}")
        assert self.alive, self.log_text()
        return self

    def received(self) -> list[dict[str, Any]]:
        """The requests it received so far: method, path and lowercased headers of each."""
        with httpx2.Client(timeout=5) as hc:
            return hc.get(f"http://127.0.0.1:{self.port}/_received").json()


def hostile_upstream(procs: Any, name: str | None = None) -> HostileUpstream:
    u = HostileUpstream(name or procs._name("hostile"), procs.logdir)
    procs.started.append(u)
    return u.start()


@contextlib.asynccontextmanager
async def sse_sdk_client(
    url: str,
    headers: dict[str, str] | None = None,
    log: ClientLog | None = None,
    elicit_name: str = "gateway",
) -> AsyncIterator[Any]:
    """`mcp.Client` over the HTTP+SSE transport (2024-11-05: `sse_client`, `mode="legacy"`), the twin of `sdk_client`:
    the same elicitation and logging callbacks, and the endpoint's `sessionId` recorded in `log.request_headers`
    under the key `sessionid`."""
    from mcp import Client, types
    from mcp.client.sse import sse_client

    rec = log if log is not None else ClientLog()

    async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        rec.elicitations.append(params.message)
        return types.ElicitResult(action="accept", content={"name": elicit_name})

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        rec.logs.append(params.data)

    def on_session(session_id: str) -> None:
        rec.request_headers.append({"sessionid": session_id})

    async with Client(
        sse_client(url, headers=headers, timeout=30.0, sse_read_timeout=60.0, on_session_created=on_session),
        mode="legacy",
        elicitation_callback=on_elicit,
        logging_callback=on_log,
        log_level="info",
        read_timeout_seconds=30.0,
    ) as c:
        yield c
