import Prometheus

/// The gateway's own Prometheus metrics, created once at start; the hot path only increments.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let sessionsCreated: Counter
    let sessionsRejected: Counter
    let upstreamFailures: Counter
    /// Upstream requests that found every pooled connection of their endpoint busy and waited for one.
    let upstreamPoolWaits: Counter
    let openStreams: Gauge
    /// Client HTTP+SSE streams (`GET /sse`) open now; each also holds one of `openStreams`.
    let legacySSEStreams: Gauge
    let federationCollisions: Counter
    /// Processes of `stdio` targets running now.
    let stdioProcesses: Gauge
    /// `stdio` processes started, and those that could not be.
    let stdioSpawns: Counter
    let stdioSpawnFailures: Counter
    /// Upstream HTTP+SSE sessions (`sse` targets) open now.
    let upstreamSSESessions: Gauge
    /// Messages from stdio processes or upstream SSE sessions that were not JSON-RPC (ignored).
    let upstreamBadLines: Counter
    /// Indexed by `era * 3 + status class` (2xx, 4xx, 5xx).
    private let responses: [Counter]

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "mcpgate", metricName: metric, unitName: unit, helpText: help)
        }
        sessionsCreated = registry.makeCounter(descriptor: name("sessions_created", "total", "Client sessions sealed on initialize"))
        sessionsRejected = registry.makeCounter(
            descriptor: name("sessions_rejected", "total", "Session ids refused (tampered, expired, unknown key, wrong principal)"))
        upstreamFailures = registry.makeCounter(
            descriptor: name("upstream_failures", "total", "Upstream requests that failed (unreachable, timeout, not MCP)"))
        upstreamPoolWaits = registry.makeCounter(
            descriptor: name(
                "upstream_pool_waits", "total", "Upstream requests that waited for a pooled connection (all maxConnectionsPerEndpoint busy)"
            ))
        openStreams = registry.makeGauge(descriptor: name("open", "streams", "Client SSE streams open now"))
        legacySSEStreams = registry.makeGauge(descriptor: name("legacy_sse", "streams", "Client HTTP+SSE streams (GET /sse) open now"))
        federationCollisions = registry.makeCounter(
            descriptor: name("federation_collisions", "total", "List items dropped because another target already offers the same name"))
        stdioProcesses = registry.makeGauge(descriptor: name("stdio", "processes", "Processes of stdio targets running now"))
        stdioSpawns = registry.makeCounter(descriptor: name("stdio_spawns", "total", "Processes of stdio targets started"))
        stdioSpawnFailures = registry.makeCounter(
            descriptor: name("stdio_spawn_failures", "total", "Processes of stdio targets that could not be started"))
        upstreamSSESessions = registry.makeGauge(
            descriptor: name("upstream_sse", "sessions", "Upstream HTTP+SSE sessions (sse targets) open now"))
        upstreamBadLines = registry.makeCounter(
            descriptor: name("stdio_bad_lines", "total", "Lines from stdio processes or upstream SSE sessions that are not JSON-RPC (ignored)"))
        var responses: [Counter] = []
        for era in [Era.handshake, .sessionless] {
            for status in ["2xx", "4xx", "5xx"] {
                responses.append(
                    registry.makeCounter(
                        descriptor: name("responses", "total", "Responses to MCP requests by protocol era and status class"),
                        labels: [("era", era.rawValue), ("status", status)]))
            }
        }
        self.responses = responses
    }

    func countResponse(era: Era, status: Int) {
        let bucket = status >= 500 ? 2 : status >= 400 ? 1 : 0
        responses[(era == .handshake ? 0 : 3) + bucket].increment()
    }
}
