/// Which channel an upstream request goes over instead of HTTP, and what the caller already knows of the
/// message (so the Upstream room never parses a client message): set on `UpstreamRequest.channel` by the
/// MCP room for targets that are stdio processes or upstream HTTP+SSE sessions.
package struct ChannelDispatch: Sendable {
    package enum Route: Sendable {
        /// A channel held by one client session.
        case channel(UpstreamChannel)
        /// Any channel of a pool, one request at a time; `pinned`: only the channel with this key (a retry
        /// that must reach the process that asked for input).
        case pool(ChannelPool, pinned: UInt64?)
    }

    package var route: Route
    /// The request's id; nil for a notification or a response (answered once written).
    package var id: JSONRPCID?
    /// `params._meta.progressToken` of a request.
    package var progressToken: JSONRPCID?
    /// Told (on the caller's loop) which pooled channel took the request, before it is sent.
    package var onLease: (@Sendable (UInt64) -> Void)?

    package init(route: Route, id: JSONRPCID?, progressToken: JSONRPCID?, onLease: (@Sendable (UInt64) -> Void)? = nil) {
        self.route = route
        self.id = id
        self.progressToken = progressToken
        self.onLease = onLease
    }
}
