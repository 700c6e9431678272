import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The operator endpoints, each on its configured address: readiness (`/healthz/ready`), Prometheus
/// metrics (`/metrics`) and the admin API (`/config`, `POST /reload`). Small, separate from client traffic.
///
/// The admin API guards itself against the browser (attack run M5): without a token it answers only requests whose
/// `Host` is a loopback name (DNS rebinding gets 421); a request carrying an `Origin` other than its own origin gets
/// 403 (no cross-site `POST /reload`); `POST /reload` takes no body type a plain HTML form can send (415); and with
/// `config.adminToken` every admin request needs `Authorization: Bearer <token>` (401).
final class AdminServer: Sendable {
    /// What the admin endpoints need from the running gateway.
    struct Hooks: Sendable {
        var isReady: @Sendable () -> Bool
        var metricsText: @Sendable () -> [UInt8]
        var configSummary: @Sendable () -> String
        var reload: @Sendable () async -> Result<String, any Error>
        /// The admin token now in force (it follows reloads), if any.
        var adminToken: @Sendable () -> String?
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
final class AdminHandler: ChannelInboundHandler {
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
                write(
                    context: context, status: ready ? .ok : .serviceUnavailable, type: "text/plain",
                    body: Array((ready ? "ready\n" : "not ready\n").utf8))
            case (.GET, "/metrics") where roles.contains(.stats):
                write(context: context, status: .ok, type: "text/plain; version=0.0.4", body: hooks.metricsText())
            case (.GET, "/config") where roles.contains(.admin):
                if let refusal = Self.refusal(of: head, token: hooks.adminToken()) {
                    write(
                        context: context, status: refusal.status, type: "text/plain", body: Array((refusal.message + "\n").utf8),
                        extra: refusal.headers)
                    return
                }
                write(context: context, status: .ok, type: "application/json", body: Array(hooks.configSummary().utf8))
            case (.POST, "/reload") where roles.contains(.admin):
                if let refusal = Self.refusal(of: head, token: hooks.adminToken()) ?? Self.reloadBodyRefusal(head) {
                    write(
                        context: context, status: refusal.status, type: "text/plain", body: Array((refusal.message + "\n").utf8),
                        extra: refusal.headers)
                    return
                }
                let reload = hooks.reload
                let promise = context.eventLoop.makePromise(of: Result<String, any Error>.self)
                promise.completeWithTask { await reload() }
                promise.futureResult.assumeIsolated().whenSuccess { [weak self] result in
                    switch result {
                    case .success(let message):
                        self?.write(context: context, status: .ok, type: "text/plain", body: Array((message + "\n").utf8))
                    case .failure(let error):
                        self?.write(context: context, status: .badRequest, type: "text/plain", body: Array("\(error)\n".utf8))
                    }
                }
            default:
                write(context: context, status: .notFound, type: "text/plain", body: Array("not found\n".utf8))
            }
        }
    }

    /// Why an admin API request is refused, if it is.
    struct Refusal {
        var status: HTTPResponseStatus
        var message: String
        var headers: [(String, String)] = []
    }

    /// The checks every admin API request passes: the token when one is configured, else a loopback `Host`
    /// (DNS rebinding); and no foreign `Origin` (a page on another site).
    static func refusal(of head: HTTPRequestHead, token: String?) -> Refusal? {
        let hosts = head.headers["host"]
        guard hosts.count == 1, let host = hosts.first else {
            return Refusal(status: .badRequest, message: "exactly one Host header is required")
        }
        if let token {
            let presented = head.headers.first(name: "authorization").flatMap { value -> Substring? in
                let parts = value.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
                return parts[1]
            }
            guard let presented, constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
                return Refusal(
                    status: .unauthorized, message: "the admin API needs Authorization: Bearer <config.adminToken>",
                    headers: [("www-authenticate", "Bearer realm=\"mcpgate-admin\"")])
            }
        } else if !OriginPolicy.isLoopbackAuthority(host) {
            return Refusal(
                status: .misdirectedRequest, message: "Host \(host) is not a loopback name; the admin API answers loopback names only")
        }
        if let origin = head.headers.first(name: "origin"), origin.lowercased() != "http://" + host.lowercased() {
            return Refusal(status: .forbidden, message: "requests from another origin (\(origin)) are refused")
        }
        return nil
    }

    /// `POST /reload` carries no body; a type an HTML form or a CORS-simple request can send is refused.
    static func reloadBodyRefusal(_ head: HTTPRequestHead) -> Refusal? {
        guard let type = head.headers.first(name: "content-type") else { return nil }
        let media = (type.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces().lowercased()
        guard media == "application/json" else {
            return Refusal(status: .unsupportedMediaType, message: "POST /reload takes no body (or application/json), not \(media)")
        }
        return nil
    }

    /// Compares without an early exit on the first differing byte.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }

    private func write(
        context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, body: [UInt8], extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("content-type", type), ("content-length", String(body.count))])
        headers.add(contentsOf: extra)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
