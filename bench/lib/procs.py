"""Processes the benchmark starts (each in its own process group, stopped at exit whatever happens) and
what /proc says about them: CPU time, RSS and peak RSS."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

LIVE: list["Proc"] = []


def raise_nofile() -> int:
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


class Proc:
    """A child process with its output in `log`; `pids()` is it and its descendants (nginx workers)."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None):
        self.name = name
        self.argv = argv
        self.log = log
        fh = open(log, "ab")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                                      env=env, cwd=str(cwd) if cwd else None, start_new_session=True)
        fh.close()
        LIVE.append(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        out = [self.pid]
        i = 0
        while i < len(out):
            try:
                children = Path(f"/proc/{out[i]}/task/{out[i]}/children").read_text().split()
            except OSError:
                children = []
            out.extend(int(c) for c in children)
            i += 1
        return out

    def wait_port(self, port: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail(self.log)}")
            if port_accepts(port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on {port} within {timeout}s:\n{tail(self.log)}")

    def wait_http(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail(self.log)}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception as e:  # noqa: BLE001 - anything means "not yet"
                last = repr(e)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready at {url} within {timeout}s ({last}):\n{tail(self.log)}")

    def stop(self, grace: float = 5.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        if self in LIVE:
            LIVE.remove(self)


def stop_all() -> None:
    for p in reversed(list(LIVE)):
        with contextlib.suppress(Exception):
            p.stop(grace=3.0)


atexit.register(stop_all)


def _on_signal(signum: int, _frame: object) -> None:
    stop_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def tail(path: Path, n: int = 4000) -> str:
    try:
        t = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return t[-n:]


# ---- /proc ----------------------------------------------------------------------------------------

def cpu_ticks(pids: list[int]) -> int:
    """utime + stime of these processes (all their threads), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pids: list[int]) -> int:
    return sum(status_kib(p, "VmRSS") for p in pids)


def hwm_kib(pids: list[int]) -> int:
    """Peak RSS (VmHWM), summed over the processes (for nginx: master + workers)."""
    return sum(status_kib(p, "VmHWM") for p in pids)


def reset_hwm(pids: list[int]) -> bool:
    """Resets VmHWM to the current RSS (writing 5 to clear_refs; Linux ≥ 4.0), so a peak is per point."""
    ok = True
    for p in pids:
        try:
            Path(f"/proc/{p}/clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
