import Logging
import MCPGateSession
import MCPGateUpstream
import PluginAPI
import Synchronization

/// Everything a request needs that was decided at config load: routes with their targets, the session
/// codec with its derived keys, limits. Immutable and `Sendable`; a reload builds a new one and swaps it in
/// (`RuntimeBox`), requests in flight keep the one they started with.
final class GatewayRuntime: Sendable {
    let config: GatewayConfig
    let sessionCodec: SessionCodec
    let requestStates: RequestStateCodec
    /// Seals federated pagination cursors.
    let cursorSealer: Sealer
    /// Seals the `sessionId` of client HTTP+SSE streams (`GET /sse`).
    let legacyStreamCodec: LegacyStreamCodec
    /// Route tables by bind port.
    let routeTables: [Int: RouteTable]
    let limits: Limits
    let sessionTTLSeconds: UInt64
    /// The ids of the session keys (the first seals), for the admin overview: never the keys.
    let sessionKeyIDs: [UInt16]

    /// When a session made at `now` (whole Unix seconds) expires: at least `ttl` seconds later, whatever
    /// fraction of the current second has already passed.
    func sessionExpiry(now: UInt64) -> UInt64 {
        now + sessionTTLSeconds + 1
    }

    /// The channel pools of the runtime's sse and stdio targets (a reload retires the others).
    let channelPools: [ChannelPool]

    /// `health`: where upstream requests are counted for the admin overview (nil: not counted). `channels`:
    /// what serves sse and stdio targets (nil when the config is only checked: they are then built without).
    init(
        config: GatewayConfig, keyring: Keyring, pluginServices: HostServices, health: EndpointHealthBoard? = nil,
        channels: UpstreamChannels? = nil
    ) throws(RuntimeBuildError) {
        self.config = config
        self.sessionCodec = SessionCodec(keyring: keyring)
        self.sessionKeyIDs = keyring.keyIDs
        self.requestStates = RequestStateCodec(keyring: keyring)
        self.cursorSealer = Sealer(keyring: keyring, purpose: .cursor)
        self.legacyStreamCodec = LegacyStreamCodec(keyring: keyring)
        self.limits = config.limits
        self.sessionTTLSeconds = UInt64(max(1, config.session.ttl.components.seconds))
        var tables: [Int: RouteTable] = [:]
        var channelPools: [ChannelPool] = []
        for bind in config.binds {
            var entries: [RouteTable.Entry] = []
            for listener in bind.listeners {
                for route in listener.routes {
                    var pools: [TargetPool] = []
                    for target in route.backend.targets {
                        let pool = try TargetPool(target: target, health: health, channels: channels?.channels(for: target, health: health))
                        if let channelPool = pool.channelPool { channelPools.append(channelPool) }
                        pools.append(pool)
                    }
                    let origins = OriginPolicy(corsAllowOrigins: Self.allowOrigins(route.policies.cors))
                    let runtime = RouteRuntime(
                        identity: route.identity, sealContext: Array(route.identity.utf8), targets: pools, origins: origins,
                        chain: try PolicyChains.build(for: route, services: pluginServices),
                        naming: TargetNaming(mode: route.backend.prefixMode, targetCount: pools.count),
                        failureMode: route.backend.failureMode)
                    entries.append(RouteTable.Entry(hostname: listener.hostname, pathMatches: route.pathMatches, route: runtime))
                }
            }
            let loopbackOnly = bind.address.map { OriginPolicy.isLoopback(name: $0) } ?? false
            tables[bind.port] = RouteTable(entries: entries, loopbackOnly: loopbackOnly)
        }
        self.routeTables = tables
        self.channelPools = channelPools
    }

    private static func allowOrigins(_ cors: JSONValue?) -> [String] {
        guard case .object(let object)? = cors, case .array(let list)? = object["allowOrigins"] else { return [] }
        return list.compactMap { if case .string(let origin) = $0 { origin } else { nil } }
    }
}

/// The runtime currently in force, swapped atomically on reload.
final class RuntimeBox: Sendable {
    private let current: Mutex<GatewayRuntime>

    init(_ runtime: GatewayRuntime) {
        self.current = Mutex(runtime)
        JSONPrescan.nodeLimit.store(runtime.limits.maxJsonNodes, ordering: .relaxed)
    }

    var runtime: GatewayRuntime { current.withLock { $0 } }

    /// Installs a reloaded runtime (and its process-wide settings: the JSON value limit).
    func replace(with runtime: GatewayRuntime) {
        current.withLock { $0 = runtime }
        JSONPrescan.nodeLimit.store(runtime.limits.maxJsonNodes, ordering: .relaxed)
    }
}

/// Process-wide counters every exchange shares (open client streams against `maxOpenStreams`).
final class GatewayCounters: Sendable {
    let openStreams = Atomic<Int>(0)

    /// Reserves a stream slot; false when `limit` streams are already open.
    func openStream(limit: Int) -> Bool {
        let now = openStreams.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limit {
            openStreams.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func closeStream() {
        openStreams.wrappingSubtract(1, ordering: .relaxed)
    }
}
