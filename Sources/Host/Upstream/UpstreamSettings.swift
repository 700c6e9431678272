/// `config.upstream`: how the gateway talks to MCP servers.
public struct UpstreamSettings: Sendable, Equatable {
    /// TCP (+TLS) connect timeout. Default 5s.
    public var connectTimeout: Duration
    /// Time from sending a request to receiving the response head. Default 60s.
    public var requestTimeout: Duration
    /// Longest silence on an open upstream response body (a POST's answer or a GET stream; SSE comments count
    /// as traffic) before it is ended. Default 5m.
    public var streamIdleTimeout: Duration
    /// Pooled keep-alive connections per endpoint and event loop, for requests; a request that finds them all
    /// busy waits for one. Standing GET streams use connections of their own, outside this limit. Default 512.
    public var maxConnectionsPerEndpoint: Int
    /// An idle pooled connection is closed after this long. Default 60s.
    public var poolIdleTimeout: Duration
    /// Client headers forwarded upstream besides the default allow-list (`UpstreamHeaders`), lowercase.
    public var forwardHeaders: Set<String>

    public init(
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(60),
        streamIdleTimeout: Duration = .seconds(300),
        maxConnectionsPerEndpoint: Int = 512,
        poolIdleTimeout: Duration = .seconds(60),
        forwardHeaders: Set<String> = []
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.streamIdleTimeout = streamIdleTimeout
        self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        self.poolIdleTimeout = poolIdleTimeout
        self.forwardHeaders = forwardHeaders
    }
}
