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
    /// `sse` targets: how long an upstream HTTP+SSE session may take to name its POST endpoint (the `endpoint`
    /// event) after its GET was sent; past it the session is not opened (504). Default 10s.
    public var sseEndpointTimeout: Duration
    /// `sse` targets: an upstream HTTP+SSE session with no request, waiter or listener for this long is closed
    /// (its client session then gets 404). Default 10m.
    public var sseIdleTimeout: Duration
    /// `sse` targets: most requests awaiting their answer on one upstream HTTP+SSE session (or waiting for a
    /// pooled one); past it a request gets 503. Default 64.
    public var sseMaxPendingRequests: Int
    /// `sse` targets: most upstream HTTP+SSE sessions per target serving 2026-07-28 requests (one request each
    /// at a time; more wait). Default 2.
    public var ssePoolSize: Int

    public init(
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(60),
        streamIdleTimeout: Duration = .seconds(300),
        maxConnectionsPerEndpoint: Int = 512,
        poolIdleTimeout: Duration = .seconds(60),
        forwardHeaders: Set<String> = [],
        sseEndpointTimeout: Duration = .seconds(10),
        sseIdleTimeout: Duration = .seconds(600),
        sseMaxPendingRequests: Int = 64,
        ssePoolSize: Int = 2
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.streamIdleTimeout = streamIdleTimeout
        self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        self.poolIdleTimeout = poolIdleTimeout
        self.forwardHeaders = forwardHeaders
        self.sseEndpointTimeout = sseEndpointTimeout
        self.sseIdleTimeout = sseIdleTimeout
        self.sseMaxPendingRequests = sseMaxPendingRequests
        self.ssePoolSize = ssePoolSize
    }
}
