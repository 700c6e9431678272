import NIOCore

/// The bounds of one upstream HTTP+SSE session (`UpstreamSSESession`), taken from the config when the session
/// is opened. A plain value.
package struct UpstreamSSESettings: Sendable, Equatable {
    /// How long the upstream may take to name its message endpoint (`config.upstream.sseEndpointTimeout`).
    package var endpointTimeout: TimeAmount
    /// The largest single event on the stream (one message); past it the session closes with `.lineTooLong`.
    package var maxEventBytes: Int
    /// The largest answer body held from a POST (upstreams answer 202 with a short body or none).
    package var maxBodyBytes: Int

    package init(endpointTimeout: TimeAmount, maxEventBytes: Int, maxBodyBytes: Int) {
        self.endpointTimeout = endpointTimeout
        self.maxEventBytes = maxEventBytes
        self.maxBodyBytes = maxBodyBytes
    }
}
