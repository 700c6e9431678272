import NIOCore
import NIOHTTP1

/// Which client request headers reach an upstream. End-to-end headers pass (custom headers, `Mcp-Method`,
/// `Mcp-Name`, `Mcp-Param-*`, trace context, `Last-Event-ID`); hop-by-hop headers and everything that
/// belongs to the client-to-gateway leg do not: the client's `Mcp-Session-Id` (the upstream gets its own),
/// `Origin`/`Host` (the upstream's DNS-rebinding guard would refuse them), cookies, and `Authorization`
/// unless the target asks for it.
enum UpstreamHeaders {
    private static let neverForwarded: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "expect", "accept-encoding",
        "cookie", "origin", "referer", "mcp-session-id", "mcp-protocol-version", "accept", "content-type",
        "authorization", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded",
    ]

    /// The headers of an upstream request made for `client`.
    static func make(
        from client: HTTPHeaders,
        forwardAuthorization: Bool,
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
            if neverForwarded.contains(lower) || connectionTokens.contains(lower) { continue }
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

    static let acceptBoth = "application/json, text/event-stream"
    static let acceptStream = "text/event-stream"
}
