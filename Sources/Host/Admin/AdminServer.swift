import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The operator endpoints, each on its configured address: readiness (`/healthz/ready`), Prometheus
/// metrics (`/metrics`) and the admin API (`/config`, `POST /reload`). Small, separate from client traffic.
final class AdminServer: Sendable {
    /// What the admin endpoints need from the running gateway.
    struct Hooks: Sendable {
        var isReady: @Sendable () -> Bool
        var metricsText: @Sendable () -> [UInt8]
        var configSummary: @Sendable () -> String
        var reload: @Sendable () async -> Result<String, any Error>
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

/// Answers one admin connection's requests.
private final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let roles: Set<AdminServer.Role>
    private let hooks: AdminServer.Hooks
    private var head: HTTPRequestHead?

    init(roles: Set<AdminServer.Role>, hooks: AdminServer.Hooks) {
        self.roles = roles
        self.hooks = hooks
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            switch (head.method, path) {
            case (.GET, "/healthz/ready") where roles.contains(.readiness):
                let ready = hooks.isReady()
                write(context: context, status: ready ? .ok : .serviceUnavailable, type: "text/plain", body: Array((ready ? "ready\n" : "not ready\n").utf8))
            case (.GET, "/metrics") where roles.contains(.stats):
                write(context: context, status: .ok, type: "text/plain; version=0.0.4", body: hooks.metricsText())
            case (.GET, "/config") where roles.contains(.admin):
                write(context: context, status: .ok, type: "application/json", body: Array(hooks.configSummary().utf8))
            case (.POST, "/reload") where roles.contains(.admin):
                let reload = hooks.reload
                let promise = context.eventLoop.makePromise(of: Result<String, any Error>.self)
                promise.completeWithTask { await reload() }
                promise.futureResult.assumeIsolated().whenSuccess { [weak self] result in
                    switch result {
                    case .success(let message): self?.write(context: context, status: .ok, type: "text/plain", body: Array((message + "\n").utf8))
                    case .failure(let error): self?.write(context: context, status: .badRequest, type: "text/plain", body: Array("\(error)\n".utf8))
                    }
                }
            default:
                write(context: context, status: .notFound, type: "text/plain", body: Array("not found\n".utf8))
            }
        }
    }

    private func write(context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, body: [UInt8]) {
        let headers = HTTPHeaders([("content-type", type), ("content-length", String(body.count))])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
