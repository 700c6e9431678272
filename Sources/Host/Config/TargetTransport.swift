import MCPGateUpstream

/// How the gateway reaches one target: the transport key under `targets[]` (`mcp`, `sse` or `stdio`) with what
/// it says. A plain value, built at load.
public enum TargetTransport: Sendable, Equatable {
    /// `mcp`: a Streamable HTTP server, one URL or interchangeable replicas (one pinned per session), and the
    /// origins besides the endpoints' own that a 307/308 may lead to (`redirectOrigins`).
    case streamableHTTP(endpoints: [UpstreamEndpoint], redirectOrigins: [String])
    /// `sse`: an HTTP+SSE server of protocol 2024-11-05 (a GET stream, POSTs to the endpoint it names), one URL
    /// or replicas, and `redirectOrigins` as for `mcp`.
    case sse(endpoints: [UpstreamEndpoint], redirectOrigins: [String])
    /// `stdio`: a local process the gateway starts, speaking JSON-RPC lines on stdin and stdout.
    case stdio(StdioCommand)

    /// The config key that names this transport: `mcp`, `sse` or `stdio`.
    public var key: String {
        switch self {
        case .streamableHTTP: "mcp"
        case .sse: "sse"
        case .stdio: "stdio"
        }
    }
}
