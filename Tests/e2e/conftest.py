"""Fixtures for the mcpgate end-to-end tests: upstream MCP servers and gateway processes.

`procs` (per test) and `mprocs` (per module) start processes and always stop them afterwards;
on a failing test the logs of every process still running are attached to the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import harness
from harness import Gateway, ManagedProcess, Targets, Upstream


class Procs:
    """Starts upstreams and gateways into one log directory and stops them all on close()."""

    def __init__(self, logdir: Path):
        self.logdir = logdir
        self.started: list[ManagedProcess] = []
        self._n = 0

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def upstream(
        self,
        name: str | None = None,
        *,
        json_response: bool = False,
        port: int | None = None,
        cache_tests: bool = False,
        transport: str = "streamable-http",
    ) -> Upstream:
        """servers/upstream.py on /mcp, or with `transport="sse"` on /sse (its `url` says which)."""
        u = Upstream(
            name or self._name("up"), self.logdir, port=port, json_response=json_response, cache_tests=cache_tests,
            transport=transport,
        )
        self.started.append(u)
        return u.start()

    def upstreams(self, n: int, prefix: str = "replica", *, json_response: bool = False) -> list[Upstream]:
        # start them together, then wait: python start-up dominates
        us = [Upstream(self._name(prefix), self.logdir, json_response=json_response) for _ in range(n)]
        self.started.extend(us)
        for u in us:
            u.spawn()
        return [u.wait_ready() for u in us]

    def gateway(self, targets: Targets, *, name: str | None = None, start: bool = True, **kw: Any) -> Gateway:
        harness.require_gateway()
        g = Gateway(name or self._name("gw"), self.logdir, targets, **kw)
        self.started.append(g)
        return g.start() if start else g

    def close(self) -> None:
        for p in reversed(self.started):
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - cleanup must go on
                pass


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture(scope="module")
def mprocs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Procs]:
    p = Procs(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    try:
        yield p
    finally:
        p.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.failed and harness.LIVE:
        for p in harness.LIVE:
            report.sections.append((f"{p.kind} {p.name} log ({p.log_path})", p.log_text(6000)))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    harness.stop_all()


def pytest_report_header(config: pytest.Config) -> list[str]:
    b = harness.gateway_binary()
    state = "present" if b.is_file() else "MISSING (gateway tests will be skipped)"
    return [f"mcpgate binary: {b} [{state}]"]
