"""One raw MCP client for both eras, for the policy tests (rate limit, cache): the same calls as a
handshake-era session (initialize + Mcp-Session-Id) or as self-contained 2026-07-28 POSTs, over httpx2.

Also `ListenStream`: a `subscriptions/listen` stream (2026-07-28) read on a thread, so a test can wait
for a change notification to have crossed the gateway.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx2

from harness import ACCEPT_BOTH, RawSession, messages, modern_meta, modern_request, response_for, rpc

ERAS = ("handshake", "modern")


class EraClient:
    """A client of one era. `headers` (e.g. Authorization) go on every request, initialize included."""

    def __init__(self, url: str, era: str, headers: dict[str, str] | None = None):
        assert era in ERAS, era
        self.url = url
        self.era = era
        self.http = httpx2.Client(timeout=httpx2.Timeout(20.0), headers=headers or {})
        self.session = RawSession(url, client=self.http).initialize() if era == "handshake" else None

    def post(self, method: str, params: dict[str, Any] | None = None) -> tuple[httpx2.Response, Any]:
        """Sends one request; returns the HTTP response and the request id."""
        if self.session is not None:
            msg = rpc(method, params)
            return self.session.post(msg), msg["id"]
        msg, headers = modern_request(method, params)
        return self.http.post(self.url, content=json.dumps(msg).encode(), headers=headers), msg["id"]

    def notify(self, method: str, params: dict[str, Any] | None = None) -> httpx2.Response:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if self.session is not None:
            if params is not None:
                msg["params"] = params
            return self.session.post(msg)
        msg["params"] = dict(params or {}, _meta=modern_meta())
        headers = {"Accept": ACCEPT_BOTH, "Content-Type": "application/json", "MCP-Protocol-Version": "2026-07-28",
                   "Mcp-Method": method}
        return self.http.post(self.url, content=json.dumps(msg).encode(), headers=headers)

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        r, req_id = self.post(method, params)
        assert r.status_code == 200, f"{method}: HTTP {r.status_code}: {r.text[:1000]}"
        m = response_for(r, req_id)
        assert "result" in m, f"{method}: {m}"
        return m["result"]

    def read(self, uri: str) -> str:
        return self.result("resources/read", {"uri": uri})["contents"][0]["text"]

    def tool_names(self) -> set[str]:
        return {t["name"] for t in self.result("tools/list")["tools"]}

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> httpx2.Response:
        r, req_id = self.post("tools/call", {"name": name, "arguments": arguments or {}})
        assert r.status_code == 200, f"tools/call {name}: HTTP {r.status_code}: {r.text[:1000]}"
        res = response_for(r, req_id)
        assert "result" in res and not res["result"].get("isError"), res
        return r

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> EraClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def call_count(url: str) -> int:
    """The upstream's `count` tool: how many tool calls that process served, this one included."""
    with EraClient(url, "modern") as c:
        r = c.call("count")
        return next(m for m in messages(r) if "result" in m)["result"]["structuredContent"]["result"]


class ListenStream:
    """A 2026-07-28 `subscriptions/listen` stream opted in to every list change, read on a thread."""

    def __init__(self, url: str, headers: dict[str, str] | None = None):
        self.url = url
        self.headers = headers or {}
        self.events: list[dict[str, Any]] = []
        self.status: int | None = None
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._response: httpx2.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        params = {
            "notifications": {"toolsListChanged": True, "promptsListChanged": True, "resourcesListChanged": True},
        }
        msg, headers = modern_request("subscriptions/listen", params)
        headers.update(self.headers)
        try:
            with httpx2.Client(timeout=httpx2.Timeout(10.0, read=None)) as hc:
                with hc.stream("POST", self.url, content=json.dumps(msg).encode(), headers=headers) as r:
                    self._response = r
                    self.status = r.status_code
                    data: list[str] = []
                    for line in r.iter_lines():
                        if self._stop.is_set():
                            return
                        if line.startswith("data:"):
                            data.append(line[5:].lstrip(" "))
                        elif line == "" and data:
                            payload = "\n".join(data)
                            data = []
                            if payload.strip():
                                with self._lock:
                                    self.events.append(json.loads(payload))
        except BaseException as e:  # noqa: BLE001 - reported by wait_for
            if not self._stop.is_set():
                self.error = e

    def start(self) -> ListenStream:
        self._thread.start()
        assert self.wait_for("notifications/subscriptions/acknowledged"), (
            f"no acknowledgement on subscriptions/listen (HTTP {self.status}, error {self.error!r}, events {self.events})"
        )
        return self

    def methods(self) -> list[str]:
        with self._lock:
            return [e.get("method", "") for e in self.events]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.methods().count(method) >= count:
                return True
            if self.error is not None or (self.status is not None and self.status != 200):
                return False
            time.sleep(0.02)
        return self.methods().count(method) >= count

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            try:
                self._response.close()
            except Exception:  # noqa: BLE001 - closing from another thread may race the reader
                pass
        self._thread.join(timeout=2.0)
