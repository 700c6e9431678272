import Logging
import MCPGateSession
import MCPGateUpstream
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

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
    let replica: ReplicaID
    private let bounds: NIOLockedValueBox<Bounds>
    private let pools = NIOLockedValueBox<[Spec: ChannelPool]>([:])
    private let client: UpstreamClient
    private let logger: Logger
    private let metrics: GatewayMetrics?
    private let sweeper = NIOLockedValueBox<RepeatedTask?>(nil)

    init(client: UpstreamClient, replica: ReplicaID, bounds: Bounds, metrics: GatewayMetrics?, logger: Logger = Logger(label: "mcpgate.channels")) {
        self.client = client
        self.replica = replica
        self.bounds = NIOLockedValueBox(bounds)
        self.metrics = metrics
        self.logger = logger
    }

    /// Takes the bounds of a newly loaded config.
    func configure(_ bounds: Bounds) {
        self.bounds.withLockedValue { $0 = bounds }
    }

    /// What `TargetPool` needs for an sse or stdio `target`: its opener and its pool (made on first use,
    /// kept across reloads while the spec stays the same).
    func channels(for target: Target, replicas: @escaping @Sendable () -> ResolvedEndpoint) -> (opener: TargetPool.ChannelOpener, pool: ChannelPool)? {
        let spec: Spec
        switch target.transport {
        case .streamableHTTP: return nil
        case .sse(let endpoints, _): spec = .sse(target: target.name, urls: endpoints.map(\.url))
        case .stdio(let command): spec = .stdio(command.launch(targetName: target.name, environment: ProcessEnvironment.current))
        }
        let opener: TargetPool.ChannelOpener = { [self] loop, headers in open(spec, replica: replicas, headers: headers, on: loop) }
        let pool = pools.withLockedValue { pools in
            if let pool = pools[spec] { return pool }
            let bounds = self.bounds.withLockedValue { $0 }
            let (size, pending, key) =
                switch spec {
                case .stdio: (bounds.stdio.poolSize, bounds.stdio.maxPendingRequests, "config.stdio.maxPendingRequests")
                case .sse: (bounds.upstream.ssePoolSize, bounds.upstream.sseMaxPendingRequests, "config.upstream.sseMaxPendingRequests")
                }
            let pool = ChannelPool(label: target.name, size: size, maxQueued: pending, queueLimitKey: key) { [self] in
                open(spec, replica: replicas, headers: HTTPHeaders(), on: client.anyEventLoop)
            }
            pools[spec] = pool
            return pool
        }
        return (opener, pool)
    }

    /// Retires the pools whose spec the new config no longer has.
    func retirePools(keeping runtime: GatewayRuntime) {
        let kept = Set(runtime.channelSpecs)
        let retired = pools.withLockedValue { pools -> [ChannelPool] in
            let gone = pools.keys.filter { !kept.contains($0) }
            return gone.compactMap { pools.removeValue(forKey: $0) }
        }
        for pool in retired { pool.retire() }
    }

    /// Opens one channel for `spec` on `loop`: reserves it within the limits, starts the process (or the
    /// upstream SSE session, to the next replica), and registers it.
    func open(
        _ spec: Spec, replica: @Sendable () -> ResolvedEndpoint, headers: HTTPHeaders, on loop: any EventLoop
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
        let opened: EventLoopFuture<(any ChannelTransport, EventLoopFuture<Void>?)>
        let settings: ChannelSettings
        switch spec {
        case .stdio(let launch):
            settings = ChannelSettings(maxPendingRequests: bounds.stdio.maxPendingRequests, pendingLimitKey: "config.stdio.maxPendingRequests")
            opened = UpstreamStdioProcess.start(
                launch, settings: StdioProcessSettings(maxLineBytes: bounds.stdio.maxLineBytes, stopGracePeriod: bounds.stdio.stopGracePeriod),
                on: loop, logger: logger
            ).map { ($0, $0.closeFuture) }
            metrics?.stdioSpawns.increment()
        case .sse:
            settings = ChannelSettings(
                maxPendingRequests: bounds.upstream.sseMaxPendingRequests, pendingLimitKey: "config.upstream.sseMaxPendingRequests")
            opened = UpstreamSSESession.open(
                endpoint: replica(), headers: headers, client: client,
                settings: UpstreamSSESettings(
                    endpointTimeout: TimeAmount(bounds.upstream.sseEndpointTimeout), maxEventBytes: bounds.limits.maxSseEventBytes,
                    maxBodyBytes: bounds.limits.maxResponseBodyBytes),
                on: loop, logger: logger
            ).map { ($0, nil) }
        }
        let registry = self.registry
        let metrics = self.metrics
        let badLines = metrics?.upstreamBadLines
        let kind = spec
        return opened.flatMapError { error in
            registry.abandon(key)
            if case .stdio = kind { metrics?.stdioSpawnFailures.increment() }
            logger.warning("upstream channel could not be opened", metadata: ["target": "\(kind.targetName)", "error": "\(error)"])
            return loop.makeFailedFuture(error)
        }.map { transport, finished in
            let channel = UpstreamChannel(
                key: key, label: kind.targetName, transport: transport, settings: settings, logger: logger,
                scan: { line in JSONRPCEnvelopeScanner.scan(line) }, onBadLine: { badLines?.increment() })
            registry.register(channel, finished: finished)
            if case .stdio = kind {
                metrics?.stdioProcesses.increment()
                channel.whenClosed { _ in metrics?.stdioProcesses.decrement() }
            } else {
                metrics?.upstreamSSESessions.increment()
                channel.whenClosed { _ in metrics?.upstreamSSESessions.decrement() }
            }
            return channel
        }
    }

    /// Starts the once-a-second sweep on `loop`.
    func startSweeping(on loop: any EventLoop) {
        let task = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [self] _ in
            let bounds = self.bounds.withLockedValue { $0 }
            registry.sweep(now: WallClock.nowSeconds, idleTimeout: TimeAmount(bounds.stdio.idleTimeout), sseIdleTimeout: TimeAmount(bounds.upstream.sseIdleTimeout))
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
