import Foundation
import Logging
import MCPGateSession
import MCPGateUpstream
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Prometheus
import Synchronization

/// The gateway's channels to `stdio` and `sse` targets, process-wide (they outlive reloads): the registry of
/// every open channel with its limits and owners, the pools serving 2026-07-28 requests (one per target spec,
/// so a reload that keeps a target keeps its processes), how a channel is opened (reserve, spawn or connect,
/// register), and the once-a-second sweep that closes channels whose session expired or that sat idle.
///
/// Thread-safe: the registry and the pool table are locked; the bounds are swapped whole at each reload
/// (a channel keeps the bounds it was opened with).
final class UpstreamChannels: Sendable {
    /// What a channel is opened to: a process to start, or an sse target's replicas.
    enum Spec: Hashable, Sendable {
        case stdio(StdioLaunch)
        case sse(target: String, urls: [String])

        /// The registry's group: the per-target limit counts in it.
        var group: String {
            switch self {
            case .stdio(let launch): "stdio:\(launch.targetName)"
            case .sse(let target, _): "sse:\(target)"
            }
        }

        var targetName: String {
            switch self {
            case .stdio(let launch): launch.targetName
            case .sse(let target, _): target
            }
        }
    }

    /// The bounds in force, from the current config.
    struct Bounds: Sendable {
        var stdio: StdioSettings
        var upstream: UpstreamSettings
        var limits: Limits

        init(_ config: GatewayConfig) {
            stdio = config.stdio
            upstream = config.upstream
            limits = config.limits
        }
    }

    let registry = ChannelRegistry()
    private let bounds: NIOLockedValueBox<Bounds>
    private let pools = NIOLockedValueBox<[Spec: ChannelPool]>([:])
    private let client: UpstreamClient
    private let group: any EventLoopGroup
    private let logger: Logger
    private let metrics: GatewayMetrics?
    private let sweeper = NIOLockedValueBox<RepeatedTask?>(nil)

    init(
        client: UpstreamClient, group: any EventLoopGroup, bounds: Bounds, metrics: GatewayMetrics?,
        logger: Logger = Logger(label: "mcpgate.channels")
    ) {
        self.client = client
        self.group = group
        self.bounds = NIOLockedValueBox(bounds)
        self.metrics = metrics
        self.logger = logger
    }

    /// Takes the bounds of a newly loaded config.
    func configure(_ bounds: Bounds) {
        self.bounds.withLockedValue { $0 = bounds }
    }

    /// What `TargetPool` needs for an sse or stdio `target`: its opener and its pool (made on first use,
    /// kept across reloads while the spec stays the same). An sse target's channels go to its replicas in turn.
    func channels(for target: Target, health: EndpointHealthBoard?) -> (opener: TargetPool.ChannelOpener, pool: ChannelPool)? {
        let spec: Spec
        var replicas: [ResolvedEndpoint] = []
        switch target.transport {
        case .streamableHTTP:
            return nil
        case .sse(let endpoints, let origins):
            spec = .sse(target: target.name, urls: endpoints.map(\.url))
            replicas = endpoints.compactMap { ResolvedEndpoint($0, redirectOrigins: origins, health: health?.health(for: $0.url)) }
        case .stdio(let command):
            spec = .stdio(command.launch(targetName: target.name, environment: ProcessInfo.processInfo.environment))
        }
        let turn = ReplicaTurn(replicas)
        let opener: TargetPool.ChannelOpener = { [self] loop, headers in open(spec, replica: turn.next, headers: headers, on: loop) }
        let pool = pools.withLockedValue { pools in
            if let pool = pools[spec] { return pool }
            let bounds = self.bounds.withLockedValue { $0 }
            let (size, pending, key) =
                switch spec {
                case .stdio: (bounds.stdio.poolSize, bounds.stdio.maxPendingRequests, "config.stdio.maxPendingRequests")
                case .sse: (bounds.upstream.ssePoolSize, bounds.upstream.sseMaxPendingRequests, "config.upstream.sseMaxPendingRequests")
                }
            let group = self.group
            let pool = ChannelPool(label: target.name, size: size, maxQueued: pending, queueLimitKey: key) { [self] in
                open(spec, replica: turn.next, headers: HTTPHeaders(), on: group.any())
            }
            pools[spec] = pool
            return pool
        }
        return (opener, pool)
    }

    /// Retires the pools the new runtime does not use (their target was removed or its command changed).
    func retirePools(keeping used: [ChannelPool]) {
        let kept = Set(used.map(ObjectIdentifier.init))
        let retired = pools.withLockedValue { pools -> [ChannelPool] in
            let gone = pools.filter { !kept.contains(ObjectIdentifier($0.value)) }.map(\.key)
            return gone.compactMap { pools.removeValue(forKey: $0) }
        }
        for pool in retired { pool.retire() }
    }

    /// Opens one channel for `spec` on `loop`: reserves it within the limits, starts the process (or the
    /// upstream SSE session, to the next replica), and registers it.
    func open(
        _ spec: Spec, replica: @Sendable () -> ResolvedEndpoint?, headers: HTTPHeaders, on loop: any EventLoop
    ) -> EventLoopFuture<UpstreamChannel> {
        let bounds = self.bounds.withLockedValue { $0 }
        let key: UInt64
        do {
            switch spec {
            case .stdio:
                key = try registry.reserve(
                    group: spec.group,
                    perGroup: ChannelRegistry.Limit(bounds.stdio.maxProcessesPerTarget, key: "config.stdio.maxProcessesPerTarget"),
                    total: ChannelRegistry.Limit(bounds.stdio.maxProcesses, key: "config.stdio.maxProcesses"))
            case .sse:
                let streams = ChannelRegistry.Limit(bounds.limits.maxOpenStreams, key: "config.limits.maxOpenStreams")
                key = try registry.reserve(group: spec.group, perGroup: streams, total: streams)
            }
        } catch {
            return loop.makeFailedFuture(error)
        }
        let logger = self.logger
        let registry = self.registry
        let metrics = self.metrics
        let badLines = metrics?.upstreamBadLines
        let targetName = spec.targetName
        /// The channel over an opened transport, registered (on the transport's loop).
        @Sendable func channel(
            over transport: any ChannelTransport, settings: ChannelSettings, finished: EventLoopFuture<Void>?, idleTimeout: TimeAmount,
            gauge: Gauge?
        ) -> UpstreamChannel {
            let channel = UpstreamChannel(
                key: key, label: targetName, transport: transport, settings: settings, logger: logger,
                onBadLine: { badLines?.increment() })
            registry.register(channel, finished: finished, idleTimeout: idleTimeout)
            gauge?.increment()
            channel.whenClosed { _ in gauge?.decrement() }
            return channel
        }
        let opened: EventLoopFuture<UpstreamChannel>
        switch spec {
        case .stdio(let launch):
            let settings = ChannelSettings(
                maxPendingRequests: bounds.stdio.maxPendingRequests, pendingLimitKey: "config.stdio.maxPendingRequests")
            let idleTimeout = TimeAmount(bounds.stdio.idleTimeout)
            metrics?.stdioSpawns.increment()
            opened = UpstreamStdioProcess.start(
                launch, settings: StdioProcessSettings(maxLineBytes: bounds.stdio.maxLineBytes, stopGracePeriod: bounds.stdio.stopGracePeriod),
                on: loop, logger: logger
            ).map { process in
                channel(over: process, settings: settings, finished: process.closeFuture, idleTimeout: idleTimeout, gauge: metrics?.stdioProcesses)
            }
        case .sse:
            guard let endpoint = replica() else {
                registry.abandon(key)
                return loop.makeFailedFuture(ChannelFailure.endpointRefused("no valid replica URL"))
            }
            let settings = ChannelSettings(
                maxPendingRequests: bounds.upstream.sseMaxPendingRequests, pendingLimitKey: "config.upstream.sseMaxPendingRequests")
            let idleTimeout = TimeAmount(bounds.upstream.sseIdleTimeout)
            opened = UpstreamSSESession.open(
                endpoint: endpoint, headers: headers, client: client,
                settings: UpstreamSSESettings(
                    endpointTimeout: TimeAmount(bounds.upstream.sseEndpointTimeout), maxEventBytes: bounds.limits.maxSseEventBytes,
                    maxBodyBytes: bounds.limits.maxResponseBodyBytes),
                on: loop, logger: logger
            ).map { session in
                channel(over: session, settings: settings, finished: nil, idleTimeout: idleTimeout, gauge: metrics?.upstreamSSESessions)
            }
        }
        let isStdio: Bool = if case .stdio = spec { true } else { false }
        return opened.flatMapError { error in
            registry.abandon(key)
            if isStdio { metrics?.stdioSpawnFailures.increment() }
            logger.warning("upstream channel could not be opened", metadata: ["target": "\(targetName)", "error": "\(error)"])
            return loop.makeFailedFuture(error)
        }
    }

    /// Starts the once-a-second sweep on `loop`.
    func startSweeping(on loop: any EventLoop) {
        let registry = self.registry
        let task = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            registry.sweep(now: WallClock.nowSeconds)
        }
        sweeper.withLockedValue { $0 = task }
    }

    /// Stops the sweep, retires every pool, closes every channel and waits until each process is reaped.
    func shutdown() async {
        sweeper.withLockedValue { $0?.cancel() }
        let all = pools.withLockedValue { pools -> [ChannelPool] in
            defer { pools = [:] }
            return Array(pools.values)
        }
        for pool in all { pool.retire() }
        await registry.shutdown()
    }
}

/// An sse target's replicas taken in turn (round robin, an atomic cursor).
private final class ReplicaTurn: Sendable {
    private let replicas: [ResolvedEndpoint]
    private let cursor = Atomic<Int>(0)

    init(_ replicas: [ResolvedEndpoint]) {
        self.replicas = replicas
    }

    @Sendable func next() -> ResolvedEndpoint? {
        guard !replicas.isEmpty else { return nil }
        let turn = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return replicas[(turn & Int.max) % replicas.count]
    }
}
