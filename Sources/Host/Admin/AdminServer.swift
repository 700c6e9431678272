import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The operator endpoints, each on its configured address: readiness (`/healthz/ready`), Prometheus
/// metrics (`/metrics`) and the admin API and UI (`/config`, `POST /reload`, `/ui/`, `/ui/api/*`; `AdminHandler`).
/// Small, separate from client traffic; the admin API guards itself against the browser (`AdminGuard`).
final class AdminServer: Sendable {
    /// What the admin endpoints need from the running gateway.
    struct Hooks: Sendable {
        var isReady: @Sendable () -> Bool
        var metricsText: @Sendable () -> [UInt8]
        var configSummary: @Sendable () -> String
        var reload: @Sendable () async -> Result<String, any Error>
        /// The admin token now in force (it follows reloads), if any.
        var adminToken: @Sendable () -> String?
        /// The overview document for the UI (`Overview`), as JSON text.
        var overview: @Sendable () async -> String
        /// The largest request body the admin server takes (the playground relay's POSTs).
        var maxRequestBodyBytes: @Sendable () -> Int
        /// How the playground relay reaches MCP endpoints.
        var relayClient: UpstreamClient
        /// The UI's files.
        var uiAssets: UIAssets
    }

    enum Role: Sendable { case readiness, stats, admin }

    private let channels: [any Channel]

    private init(channels: [any Channel]) { self.channels = channels }

    static func start(config: GatewayConfig, group: any EventLoopGroup, hooks: Hooks, logger: Logger) async throws -> AdminServer {
        var byAddress: [String: (SocketAddressSpec, Set<Role>)] = [:]
        for (spec, role) in [(config.readinessAddr, Role.readiness), (config.statsAddr, .stats), (config.adminAddr, .admin)] {
            guard let spec else { continue }
            byAddress[spec.description, default: (spec, [])].1.insert(role)
        }
        var channels: [any Channel] = []
        for (_, (spec, roles)) in byAddress.sorted(by: { $0.key < $1.key }) {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(AdminHandler(roles: roles, hooks: hooks))
                    }
                }
                .bind(host: spec.host, port: spec.port).get()
            logger.info("admin endpoint listening", metadata: ["address": "\(spec)", "serves": "\(roles.map { "\($0)" }.sorted())"])
            channels.append(channel)
        }
        return AdminServer(channels: channels)
    }

    func close() async {
        for channel in channels { try? await channel.close() }
    }
}
