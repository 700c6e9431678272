import NIOCore
import NIOHTTP1
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// Client headers reach an upstream by allow-list (attack report L12: `X-Remote-User`, `X-Api-Key` and the
/// like were forwarded to upstreams that may trust them).
@Suite("Upstream request headers: allow-list")
struct UpstreamHeadersAllowListTests {
    private let client = HTTPHeaders([
        ("Host", "gw.example"), ("X-Remote-User", "admin"), ("X-Api-Key", "client-secret"), ("Cookie", "s=1"),
        ("X-Forwarded-User", "root"), ("traceparent", "00-abc-def-01"), ("tracestate", "k=v"), ("baggage", "a=b"),
        ("User-Agent", "probe/1"), ("Accept-Language", "de"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "add"),
        ("Mcp-Param-City", "Paris"), ("Last-Event-ID", "7"), ("Authorization", "Bearer t"), ("Accept", "*/*"),
        ("Content-Type", "application/json"), ("Mcp-Session-Id", "client-session"), ("Origin", "http://app.example"),
    ])

    private func names(_ headers: HTTPHeaders) -> Set<String> { Set(headers.map { $0.name.lowercased() }) }

    @Test("by default only MCP, tracing and content-negotiation headers pass")
    func defaultAllowList() {
        let out = UpstreamHeaders.make(
            from: client, forwardAuthorization: false, remoteAddress: nil, accept: UpstreamHeaders.acceptBoth, contentType: true)
        #expect(
            names(out) == [
                "traceparent", "tracestate", "baggage", "user-agent", "accept-language", "mcp-method", "mcp-name", "mcp-param-city",
                "last-event-id", "accept", "content-type",
            ])
        #expect(out["accept"] == [UpstreamHeaders.acceptBoth])
        #expect(out["mcp-param-city"] == ["Paris"])
    }

    @Test("forwardAuthorization still passes the client's Authorization, and only it")
    func authorizationWhenAsked() {
        let out = UpstreamHeaders.make(
            from: client, forwardAuthorization: true, remoteAddress: nil, accept: UpstreamHeaders.acceptBoth, contentType: true)
        #expect(out["authorization"] == ["Bearer t"])
        #expect(!names(out).contains("x-api-key"))
    }

    @Test("configured names are added; reserved and Connection-listed ones still never pass")
    func configuredNames() {
        var headers = client
        headers.add(name: "Connection", value: "x-api-key")
        let configured: Set<String> = ["x-api-key", "x-remote-user", "host", "mcp-session-id"]
        let out = UpstreamHeaders.make(
            from: headers, forwardAuthorization: false, forwardHeaders: configured, remoteAddress: nil,
            accept: UpstreamHeaders.acceptBoth, contentType: false)
        #expect(out["x-remote-user"] == ["admin"])
        #expect(!names(out).contains("x-api-key"))  // named in Connection: hop-by-hop for this request
        #expect(!names(out).contains("host"))
        #expect(!names(out).contains("mcp-session-id"))
    }

    @Test("a redirect to another origin keeps only what describes the message")
    func otherOrigin() {
        var headers = UpstreamHeaders.make(
            from: client, forwardAuthorization: true, forwardHeaders: ["x-api-key"], remoteAddress: nil,
            accept: UpstreamHeaders.acceptBoth, contentType: true)
        headers.add(name: "mcp-session-id", value: "upstream-session")
        headers.add(name: "mcp-protocol-version", value: "2025-11-25")
        headers.add(name: "x-plugin-credential", value: "s3cret")
        let out = UpstreamHeaders.forOtherOrigin(headers)
        #expect(names(out) == ["accept", "content-type", "mcp-protocol-version", "mcp-method", "mcp-name", "mcp-param-city"])
    }
}
