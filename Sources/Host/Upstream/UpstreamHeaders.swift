import NIOCore
import NIOHTTP1

/// Which client request headers reach an upstream: an allow-list (attack report L12: a deny-list let
/// `X-Remote-User`, `X-Api-Key` and the like through to upstreams that may trust them). By default only the
/// headers MCP and tracing define pass: `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`, `Last-Event-ID`,
/// `traceparent`, `tracestate`, `baggage`, `User-Agent`, `Accept-Language`. `Accept`, `Content-Type` and
/// `MCP-Protocol-Version` reach the upstream with the gateway's own values, `Mcp-Session-Id` with the
/// upstream's own session. `config.upstream.forwardHeaders` adds names; `Authorization` passes only when the
/// target sets `forwardAuthorization`. Names in `reserved` never pass from the client, whatever is configured.
package enum UpstreamHeaders {
    /// Client headers forwarded without configuration (lowercase).
    package static let forwardedByDefault: Set<String> = [
        "mcp-method", "mcp-name", "last-event-id", "traceparent", "tracestate", "baggage", "user-agent", "accept-language",
    ]
    /// Forwarded by default as a family: the 2026-07-28 mirrored parameters.
    private static let forwardedPrefix = "mcp-param-"

    /// Headers that belong to one hop or to the gateway: never taken from the client, so `forwardHeaders`
    /// may not list them (the config reader refuses them by this set).
    package static let reserved: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "expect", "accept-encoding",
        "mcp-session-id", "mcp-protocol-version", "accept", "content-type",
        "authorization", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
    ]

    /// The headers of an upstream request made for `client`. `forwardHeaders`: the configured extra names,
    /// lowercase.
    package static func make(
        from client: HTTPHeaders,
        forwardAuthorization: Bool,
        forwardHeaders: Set<String> = [],
        remoteAddress: SocketAddress?,
        accept: String,
        contentType: Bool
    ) -> HTTPHeaders {
        var out = HTTPHeaders()
        out.reserveCapacity(client.count + 4)
        var connectionTokens: Set<String> = []
        for value in client["connection"] {
            for token in value.split(separator: ",") { connectionTokens.insert(token.trimmingSpaces().lowercased()) }
        }
        for (name, value) in client {
            let lower = name.lowercased()
            guard forwardedByDefault.contains(lower) || lower.hasPrefix(forwardedPrefix) || forwardHeaders.contains(lower),
                !reserved.contains(lower), !connectionTokens.contains(lower)
            else { continue }
            out.add(name: name, value: value)
        }
        if forwardAuthorization, let authorization = client.first(name: "authorization") {
            out.add(name: "authorization", value: authorization)
        }
        if let ip = remoteAddress?.ipAddress {
            let prior = client["x-forwarded-for"].joined(separator: ", ")
            out.add(name: "x-forwarded-for", value: prior.isEmpty ? ip : prior + ", " + ip)
        }
        out.add(name: "accept", value: accept)
        if contentType { out.add(name: "content-type", value: "application/json") }
        return out
    }

    /// What of `headers` may follow a redirect to another origin (`RedirectPolicy`): only what describes the
    /// message itself (its media types, protocol version and mirrored method, name and parameters, which the
    /// body carries anyway). The client's other headers, `Authorization`, the upstream's `Mcp-Session-Id`,
    /// `X-Forwarded-For` and the filters' additions stay with the configured origin.
    package static func forOtherOrigin(_ headers: HTTPHeaders) -> HTTPHeaders {
        var out = HTTPHeaders()
        for (name, value) in headers {
            let lower = name.lowercased()
            if crossOriginSafe.contains(lower) || lower.hasPrefix(forwardedPrefix) { out.add(name: name, value: value) }
        }
        return out
    }

    private static let crossOriginSafe: Set<String> = ["accept", "content-type", "mcp-protocol-version", "mcp-method", "mcp-name"]

    package static let acceptBoth = "application/json, text/event-stream"
    package static let acceptStream = "text/event-stream"
}
