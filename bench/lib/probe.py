"""One request through a path, read whole and checked, before a point is measured: a point whose
answer is not the MCP answer expected (an error, a missing session header, no progress events) is
not worth a number."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    messages: list[dict] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def result(self) -> dict | None:
        for msg in self.messages:
            if "result" in msg:
                return msg["result"]
        return None

    def summary(self) -> dict:
        return {"status": self.status, "content_type": self.content_type,
                "messages": len(self.messages), "body_bytes": len(self.body),
                "first": self.body[:160].decode("utf-8", "replace")}


def parse_sse(text: str) -> list[dict]:
    out: list[dict] = []
    data: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n") + [""]:
        if line == "":
            if data:
                payload = "\n".join(data).strip()
                if payload:
                    out.append(json.loads(payload))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" ") if line.startswith("data: ") else line[5:])
    return out


def post(port: int, path: str, headers: dict[str, str], body: str, timeout: float = 30.0) -> Answer:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body.encode(), headers=headers)
        r = conn.getresponse()
        raw = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()
    ans = Answer(r.status, hdrs, raw)
    if hdrs.get("content-type", "").startswith("text/event-stream"):
        ans.messages = parse_sse(raw.decode("utf-8", "replace"))
    elif raw and hdrs.get("content-type", "").startswith("application/json"):
        parsed = json.loads(raw)
        ans.messages = parsed if isinstance(parsed, list) else [parsed]
    return ans


class ProbeFailed(RuntimeError):
    pass


def expect(ans: Answer, *, status: int = 200, check=None, what: str = "") -> Answer:
    if ans.status != status:
        raise ProbeFailed(f"{what}: HTTP {ans.status} (wanted {status}): {ans.body[:400]!r}")
    if check is not None:
        problem = check(ans)
        if problem:
            raise ProbeFailed(f"{what}: {problem}: {ans.body[:400]!r}")
    return ans


def handshake(port: int, path: str, base_headers: dict[str, str], init_body: str, initialized_body: str) -> str:
    """initialize + notifications/initialized; returns the session id the path hands out."""
    ans = expect(post(port, path, base_headers, init_body), what="initialize",
                 check=lambda a: None if a.result() and "mcp-session-id" in a.headers else "no result or no Mcp-Session-Id")
    sid = ans.headers["mcp-session-id"]
    h = dict(base_headers, **{"Mcp-Session-Id": sid, "MCP-Protocol-Version": ans.result()["protocolVersion"]})
    expect(post(port, path, h, initialized_body), status=202, what="notifications/initialized")
    return sid
