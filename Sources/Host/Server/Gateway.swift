import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOPosix
import PluginAPI
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The running gateway: loads the runtime from a config, binds the client ports and the admin endpoints,
/// reloads on SIGHUP (keys, routes, targets, limits; binds and admin addresses need a restart) and drains
/// on SIGTERM/SIGINT. Thread-safe: its state is immutable or atomic (`RuntimeBox`, `Readiness`).
public final class Gateway: Sendable {
    private let configPath: String
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let runtimeBox: RuntimeBox
    private let services: GatewayServices
    /// Set while the listeners serve; cleared as soon as a shutdown starts (the readiness endpoint).
    private let readiness = Readiness()
    /// The key generated at start when none is configured (kept across reloads so sessions survive them).
    private let generatedKeyring: Keyring?
    private let startConfig: GatewayConfig
    /// The config file, the start time and the last reload, for the admin overview.
    private let status: GatewayStatus

    /// Loads `configPath` and prepares (but does not bind) the gateway.
    public init(configPath: String, logger: Logger) throws {
        self.configPath = configPath
        self.logger = logger
        // Before the config is read: the default maxConnections follows the descriptor limit.
        FileDescriptorLimit.raiseSoftLimit()
        let (config, warnings) = try ConfigLoader.load(path: configPath)
        for warning in warnings { logger.warning("\(warning)") }
        let keyring: Keyring
        if config.session.keys.isEmpty {
            keyring = Keyring.generated()
            generatedKeyring = keyring
        } else {
            keyring = try Keyring(masterKeys: config.session.keys)
            generatedKeyring = nil
        }
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let pluginServices = HostServices(logSink: SwiftLogPluginSink(logger: logger))
        let health = EndpointHealthBoard()
        let metrics = GatewayMetrics()
        let upstream = UpstreamClient(eventLoopGroup: group, settings: config.upstream, poolWaits: metrics.upstreamPoolWaits, logger: logger)
        let channels = UpstreamChannels(
            client: upstream, group: group, bounds: UpstreamChannels.Bounds(config), metrics: metrics, logger: logger)
        self.services = GatewayServices(upstream: upstream, metrics: metrics, plugins: pluginServices, health: health, channels: channels)
        self.runtimeBox = RuntimeBox(
            try GatewayRuntime(config: config, keyring: keyring, pluginServices: pluginServices, health: health, channels: channels))
        channels.startSweeping(on: group.any())
        self.startConfig = config
        self.status = GatewayStatus(configFile: configPath)
    }

    /// Serves until SIGTERM or SIGINT, then drains and returns (`ClientListenersService`): the gateway runs as one
    /// swift-service-lifecycle `ServiceGroup` of the maintenance chores, the admin endpoints, the SIGHUP reload and
    /// the client listeners. A graceful shutdown takes them down in reverse order: the listeners first (not ready
    /// at once, then the drain within `config.limits.shutdownGracePeriod`), then reload, admin and chores; then the
    /// upstream pools and the event loops close.
    public func run() async throws {
        try await serve()
        // Processes and upstream SSE sessions end after the listeners drained, before the upstream pools close.
        await services.channels.shutdown()
        await services.upstream.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Binds, then runs the service group until it has shut down. What it made (the listeners and their quiescing
    /// helpers) is released when it returns, while the event loops still run.
    private func serve() async throws {
        let listeners = try await GatewayListeners.bind(
            config: startConfig, group: group, runtimeBox: runtimeBox, services: services, logger: logger)
        let admin = try await AdminServer.start(config: startConfig, group: group, hooks: adminHooks(), logger: logger)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: MaintenanceService(kvStore: services.plugins.kvStore as? InMemoryKVStore)),
                    .init(service: AdminServerService(admin: admin)),
                    .init(service: HangupReloadService(signals: hangups) { [weak self] in _ = await self?.reload() }),
                    .init(
                        service: ClientListenersService(
                            listeners: listeners, runtimeBox: runtimeBox, readiness: readiness, eventLoop: group.next(), logger: logger)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await serviceGroup.run()
    }

    /// Re-reads the config file and swaps the runtime in; the old one keeps serving on failure.
    public func reload() async -> Result<String, any Error> {
        do {
            let (config, warnings) = try ConfigLoader.load(path: configPath)
            for warning in warnings { logger.warning("\(warning)") }
            let keyring =
                try config.session.keys.isEmpty ? (generatedKeyring ?? Keyring.generated()) : Keyring(masterKeys: config.session.keys)
            services.channels.configure(UpstreamChannels.Bounds(config))
            let runtime = try GatewayRuntime(
                config: config, keyring: keyring, pluginServices: services.plugins, health: services.health, channels: services.channels)
            if config.binds.map(\.port) != startConfig.binds.map(\.port) || config.binds.map(\.address) != startConfig.binds.map(\.address)
            {
                logger.warning("binds changed in \(configPath): listening ports change only on restart")
            }
            runtimeBox.replace(with: runtime)
            services.channels.retirePools(keeping: runtime.channelPools)
            logger.info("configuration reloaded", metadata: ["config": "\(configPath)"])
            status.recordReload(ok: true, message: "reloaded \(configPath)")
            return .success("reloaded \(configPath)")
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error)")
            status.recordReload(ok: false, message: "\(error)")
            return .failure(error)
        }
    }

    private func adminHooks() -> AdminServer.Hooks {
        AdminServer.Hooks(
            isReady: { [readiness] in readiness.isReady },
            metricsText: { [services] in services.metrics.registry.emitToBuffer() + Array(services.plugins.metrics.prometheusText().utf8) },
            configSummary: { [runtimeBox] in ConfigSummary.json(runtimeBox.runtime.config) },
            reload: { [weak self] in await self?.reload() ?? .failure(RuntimeBuildError("gateway stopped")) },
            adminToken: { [runtimeBox] in runtimeBox.runtime.config.adminToken },
            overview: { [runtimeBox, services, status, group] in
                await Self.overview(runtime: runtimeBox.runtime, services: services, status: status, group: group)
            },
            maxRequestBodyBytes: { [runtimeBox] in runtimeBox.runtime.config.limits.maxRequestBodyBytes },
            relayClient: services.upstream,
            uiAssets: UIAssets())
    }

    /// The admin overview: the running config with each replica's counters and a connect probe (1 s at most).
    private static func overview(runtime: GatewayRuntime, services: GatewayServices, status: GatewayStatus, group: any EventLoopGroup) async
        -> String
    {
        let config = runtime.config
        let endpoints = config.binds.flatMap { $0.listeners.flatMap { $0.routes.flatMap { $0.backend.targets.flatMap(\.endpoints) } } }
        let probes = await EndpointProbe.check(endpoints, group: group, timeout: .seconds(1))
        let keysFrom = config.session.keysFromEnvironment ? "environment" : config.session.keys.isEmpty ? "generated" : "config"
        let facts = Overview.Facts(
            configFile: status.configFile, startedAtMs: status.startedAtMs, lastReload: status.lastReload,
            keyIDs: runtime.sessionKeyIDs, keysFrom: keysFrom)
        let document = Overview.document(
            config: config, facts: facts,
            replica: { url in Overview.Replica(health: services.health.health(for: url).snapshot(), probe: probes[url]) },
            plugin: { reference in
                // Built-in policies name their bundled plugin, others give a path; both were loaded with the config.
                let path = reference.hasPrefix("/") ? reference : (try? PluginLoader.locateBundledPlugin(named: reference))
                guard let path, let loaded = try? PluginLoader.load(path: path) else { return nil }
                return Overview.Plugin(
                    path: loaded.path, name: loaded.name, version: loaded.info.version, secretMembers: loaded.secretConfigMembers)
            })
        return document.jsonText
    }
}
