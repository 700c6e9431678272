import Logging

/// What outlives a config reload: the upstream connection pools, what was learned from upstreams, the
/// process-wide counters. Thread-safe; shared by every connection.
final class GatewayServices: Sendable {
    let upstream: UpstreamClient
    let toolHeaders = ToolHeaderRegistry()
    let counters = GatewayCounters()
    let metrics: GatewayMetrics

    init(upstream: UpstreamClient, metrics: GatewayMetrics) {
        self.upstream = upstream
        self.metrics = metrics
    }
}
