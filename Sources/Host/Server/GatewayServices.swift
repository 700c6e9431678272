import Logging
import MCPGateSession
import MCPGateUpstream
import PluginAPI

/// What outlives a config reload: the upstream connection pools, what was learned from upstreams, the
/// process-wide counters. Thread-safe; shared by every connection.
final class GatewayServices: Sendable {
    let upstream: UpstreamClient
    let toolHeaders = ToolHeaderRegistry()
    let federationNames = FederationNames()
    let counters = GatewayCounters()
    /// Client connections open, in all and per address (`maxConnections`, `maxConnectionsPerClient`).
    let connections = ClientConnectionTable()
    /// Bytes of request bodies held by requests in flight (`maxBufferedBodyBytes`).
    let bufferedBodies = ByteBudget()
    let metrics: GatewayMetrics
    /// What was seen of each upstream endpoint (the admin overview's live state).
    let health: EndpointHealthBoard
    /// What plugins reach through the host table: KV store, metrics, clocks, logs. One per process, so KV
    /// entries (rate-limit buckets, cache entries) and plugin metric families survive reloads.
    let plugins: HostServices
    /// This process among the gateway's replicas, drawn at start: sealed into sessions and streams only this
    /// process can serve (stdio and upstream SSE members, client `/sse` streams).
    let replica = ReplicaID.random()
    /// The client HTTP+SSE streams (`GET /sse`) this process holds, by the key sealed into their `sessionId`.
    let legacyStreams = LegacySSEStreamTable()
    /// The channels to sse and stdio targets: processes, upstream SSE sessions, their pools and limits.
    let channels: UpstreamChannels

    /// `channels`: nil makes a set of its own on `upstream` (tests).
    init(
        upstream: UpstreamClient, metrics: GatewayMetrics, plugins: HostServices, health: EndpointHealthBoard = EndpointHealthBoard(),
        channels: UpstreamChannels? = nil
    ) {
        self.upstream = upstream
        self.channels =
            channels
            ?? UpstreamChannels(client: upstream, group: upstream.eventLoopGroup, bounds: UpstreamChannels.Bounds(GatewayConfig()), metrics: metrics)
        self.health = health
        self.metrics = metrics
        self.plugins = plugins
    }
}
