import Dispatch
import Logging
import NIOCore
import NIOPosix
import PluginAPI
import Synchronization
import Prometheus
import MCPGateUpstream
import MCPGateSession

/// The running gateway: loads the runtime from a config, binds the client ports and the admin endpoints,
/// reloads on SIGHUP (keys, routes, targets, limits; binds and admin addresses need a restart) and drains
/// on SIGTERM/SIGINT.
public final class Gateway: Sendable {
    private let configPath: String
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let runtimeBox: RuntimeBox
    private let services: GatewayServices
    private let state = GatewayState()
    /// The key generated at start when none is configured (kept across reloads so sessions survive them).
    private let generatedKeyring: Keyring?
    private let startConfig: GatewayConfig

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
        self.runtimeBox = RuntimeBox(try GatewayRuntime(config: config, keyring: keyring, pluginServices: pluginServices))
        let metrics = GatewayMetrics()
        self.services = GatewayServices(
            upstream: UpstreamClient(eventLoopGroup: group, settings: config.upstream, poolWaits: metrics.upstreamPoolWaits, logger: logger),
            metrics: metrics, plugins: pluginServices)
        self.startConfig = config
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, lets open exchanges finish (up to 10 s) and returns.
    public func run() async throws {
        let listeners = try await GatewayListeners.bind(config: startConfig, group: group, runtimeBox: runtimeBox, services: services, logger: logger)
        let admin = try await AdminServer.start(config: startConfig, group: group, hooks: adminHooks(), logger: logger)
        let kvStore = services.plugins.kvStore
        let purge = group.next().scheduleRepeatedTask(initialDelay: .seconds(10), delay: .seconds(10)) { _ in
            _ = (kvStore as? InMemoryKVStore)?.purgeExpired()
        }
        // Off the event loops: a trim walks the heap.
        let trim = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                MemoryTrim.trimIfNeeded()
            }
        }
        defer { trim.cancel() }
        state.ready.store(true, ordering: .relaxed)
        logger.info("mcpgate ready", metadata: ["config": "\(configPath)"])

        let stop = await waitForSignals()
        logger.info("shutting down", metadata: ["signal": "\(stop)"])
        state.ready.store(false, ordering: .relaxed)
        await listeners.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while services.connections.total > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        purge.cancel()
        await admin.close()
        await services.upstream.shutdown()
        try? await group.shutdownGracefully()
    }

    /// Re-reads the config file and swaps the runtime in; the old one keeps serving on failure.
    public func reload() async -> Result<String, any Error> {
        do {
            let (config, warnings) = try ConfigLoader.load(path: configPath)
            for warning in warnings { logger.warning("\(warning)") }
            let keyring = try config.session.keys.isEmpty ? (generatedKeyring ?? Keyring.generated()) : Keyring(masterKeys: config.session.keys)
            let runtime = try GatewayRuntime(config: config, keyring: keyring, pluginServices: services.plugins)
            if config.binds.map(\.port) != startConfig.binds.map(\.port) || config.binds.map(\.address) != startConfig.binds.map(\.address) {
                logger.warning("binds changed in \(configPath): listening ports change only on restart")
            }
            runtimeBox.replace(with: runtime)
            logger.info("configuration reloaded", metadata: ["config": "\(configPath)"])
            return .success("reloaded \(configPath)")
        } catch {
            logger.error("reload failed, keeping the running configuration: \(error)")
            return .failure(error)
        }
    }

    private func adminHooks() -> AdminServer.Hooks {
        AdminServer.Hooks(
            isReady: { [state] in state.ready.load(ordering: .relaxed) },
            metricsText: { [services] in services.metrics.registry.emitToBuffer() + Array(services.plugins.metrics.prometheusText().utf8) },
            configSummary: { [runtimeBox] in ConfigSummary.json(runtimeBox.runtime.config) },
            reload: { [weak self] in await self?.reload() ?? .failure(RuntimeBuildError("gateway stopped")) },
            adminToken: { [runtimeBox] in runtimeBox.runtime.config.adminToken })
    }

    /// Waits for SIGTERM or SIGINT; SIGHUP reloads meanwhile.
    private func waitForSignals() async -> Int32 {
        for signalNumber in [SIGTERM, SIGINT, SIGHUP] { signal(signalNumber, SIG_IGN) }
        let queue = DispatchQueue(label: "mcpgate.signals")
        return await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let resumed = Mutex(false)
            var sources: [any DispatchSourceSignal] = []
            for signalNumber in [SIGTERM, SIGINT] {
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler {
                    let first = resumed.withLock { done in
                        defer { done = true }
                        return !done
                    }
                    if first { continuation.resume(returning: signalNumber) }
                }
                source.resume()
                sources.append(source)
            }
            let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
            hangup.setEventHandler { [weak self] in
                guard let self else { return }
                Task { _ = await self.reload() }
            }
            hangup.resume()
            sources.append(hangup)
            SignalSources.keep(sources)
        }
    }
}

/// Keeps the signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) static var retained: [any DispatchSourceSignal] = []
    static func keep(_ sources: [any DispatchSourceSignal]) { retained = sources }
}

/// Flags the admin endpoints read while the gateway runs.
private final class GatewayState: Sendable {
    let ready = Atomic<Bool>(false)
}
