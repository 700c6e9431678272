import Foundation

/// An upstream endpoint with what the hot path needs precomputed at load: origin, request target and
/// `Host` value (`target`; nil when the URL is not absolute http(s), which fails requests, not the load),
/// and the redirects it may follow.
package struct ResolvedEndpoint: Sendable {
    package var endpoint: UpstreamEndpoint
    package let target: UpstreamTarget?
    package let redirects: RedirectPolicy
    /// Where requests to this endpoint are counted for the admin overview; nil: not counted.
    package var health: EndpointHealth?
    /// Set when the endpoint is reached over a channel (a stdio process, an upstream HTTP+SSE session) rather
    /// than by HTTP requests to `endpoint`: a session's own channel, or the target's pool.
    package var channel: ChannelDispatch.Route?

    /// `redirectOrigins`: the target's `redirectOrigins`, in `UpstreamTarget.origin` form.
    package init?(_ endpoint: UpstreamEndpoint, redirectOrigins: [String] = [], health: EndpointHealth? = nil) {
        guard URL(string: endpoint.url) != nil else { return nil }
        self.endpoint = endpoint
        self.target = UpstreamTarget(url: endpoint.url)
        self.redirects = RedirectPolicy(origin: target?.origin ?? "", allowedOrigins: Set(redirectOrigins))
        self.health = health
    }

    /// The same endpoint, reached over `channel`.
    package func over(_ channel: ChannelDispatch.Route) -> ResolvedEndpoint {
        var copy = self
        copy.channel = channel
        return copy
    }
}
