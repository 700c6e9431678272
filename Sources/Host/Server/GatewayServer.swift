import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import Synchronization

/// Builds a client connection's pipeline: the request-start watcher (raw bytes), the HTTP/1.1 codec (its decoder
/// bounded by `maxHeaderBytes`), the shutdown clock, pipelining assistance, the closing-connection error filter, the
/// header-overflow answer, NIO's protocol-error answers, then the MCP exchange handler. Connections past
/// `maxConnections`, or past `maxConnectionsPerClient` from one address, are closed at accept.
enum ClientPipeline {
    static func configure(
        channel: any Channel,
        runtimeBox: RuntimeBox,
        services: GatewayServices,
        bindPort: Int,
        logger: Logger
    ) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let limits = runtimeBox.runtime.limits
            let address = channel.remoteAddress?.ipAddress
            if let refusal = services.connections.open(
                address: address, limit: limits.maxConnections, perClientLimit: limits.effectiveMaxConnectionsPerClient)
            {
                switch refusal {
                case .tooManyConnections(let limit):
                    logger.warning("connection refused: \(limit) connections already open (config.limits.maxConnections)")
                case .tooManyFromClient(let address, let limit):
                    logger.warning(
                        "connection refused: \(limit) connections already open from \(address) (config.limits.maxConnectionsPerClient)")
                }
                channel.close(promise: nil)
                return
            }
            channel.closeFuture.whenComplete { _ in services.connections.close(address: address) }
            let sync = channel.pipeline.syncOperations
            let watcher = RequestStartWatcher()
            let errorFilter = ClosingConnectionErrorFilter()
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withErrorHandling: true, withOutboundHeaderValidation: true,
                withEncoderConfiguration: HTTPResponseEncoder.Configuration(),
                withDecoderLimitConfiguration: HeaderOverflowHandler.decoderLimits(maxHeaderBytes: limits.maxHeaderBytes))
            let pipelining = try sync.handler(type: HTTPServerPipelineHandler.self)
            try sync.addHandler(watcher, position: .first)
            try sync.addHandler(ShutdownGraceHandler(runtimeBox: runtimeBox), position: .before(pipelining))
            try sync.addHandler(errorFilter, position: .after(pipelining))
            try sync.addHandler(HeaderOverflowHandler(maxHeaderBytes: limits.maxHeaderBytes), position: .after(errorFilter))
            try sync.addHandler(
                MCPExchangeHandler(
                    runtimeBox: runtimeBox, services: services, bindPort: bindPort, watcher: watcher, errorFilter: errorFilter,
                    logger: logger))
        }
    }
}

/// Binds the configured ports and serves MCP clients on them. Each listening channel has its NIOExtras
/// `ServerQuiescingHelper`, which tracks the connections it accepted, so `quiesce()` can stop accepting and drain
/// them. Immutable after `bind`; `Sendable`.
final class GatewayListeners: Sendable {
    let channels: [any Channel]
    private let quiescingHelpers: [ServerQuiescingHelper]
    private let group: any EventLoopGroup

    private init(channels: [any Channel], quiescingHelpers: [ServerQuiescingHelper], group: any EventLoopGroup) {
        self.channels = channels
        self.quiescingHelpers = quiescingHelpers
        self.group = group
    }

    static func bind(
        config: GatewayConfig,
        group: any EventLoopGroup,
        runtimeBox: RuntimeBox,
        services: GatewayServices,
        logger: Logger
    ) async throws -> GatewayListeners {
        var bound: [(channel: any Channel, quiescing: ServerQuiescingHelper)] = []
        do {
            for bind in config.binds {
                let port = bind.port
                // A fresh helper per attempt: a helper collects the connections of the one channel it was made for.
                let bootstrap = { (quiescing: ServerQuiescingHelper) in
                    ServerBootstrap(group: group)
                        // When accept fails for want of descriptors (EMFILE/ENFILE), stop accepting for a moment instead
                        // of spinning on the readable listening socket (NIO's async bind adds it; this bind does not).
                        .serverChannelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let sync = channel.pipeline.syncOperations
                                try sync.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false))
                                try sync.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                            }
                        }
                        .serverChannelOption(.backlog, value: 1024)
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                        .childChannelOption(.maxMessagesPerRead, value: 16)
                        .childChannelInitializer { channel in
                            ClientPipeline.configure(
                                channel: channel, runtimeBox: runtimeBox, services: services, bindPort: port, logger: logger)
                        }
                }
                let listener = try await bindAny(bootstrap, group: group, address: bind.address, port: port)
                logger.info("listening for MCP clients", metadata: ["address": "\(listener.channel.localAddress.map { "\($0)" } ?? "?")"])
                bound.append(listener)
            }
        } catch {
            for listener in bound { try? await listener.channel.close() }
            throw error
        }
        return GatewayListeners(channels: bound.map(\.channel), quiescingHelpers: bound.map(\.quiescing), group: group)
    }

    /// Binds `address`, or when none is given all interfaces (IPv6 dual-stack, else IPv4).
    private static func bindAny(
        _ bootstrap: (ServerQuiescingHelper) -> ServerBootstrap, group: any EventLoopGroup, address: String?, port: Int
    ) async throws -> (channel: any Channel, quiescing: ServerQuiescingHelper) {
        func attempt(_ host: String) async throws -> (channel: any Channel, quiescing: ServerQuiescingHelper) {
            let quiescing = ServerQuiescingHelper(group: group)
            return (try await bootstrap(quiescing).bind(host: host, port: port).get(), quiescing)
        }
        if let address {
            return try await attempt(address)
        }
        do {
            return try await attempt("::")
        } catch {
            return try await attempt("0.0.0.0")
        }
    }

    /// Stops accepting on every port and tells every open connection to quiesce (`ChannelShouldQuiesceEvent`: an
    /// idle one closes at once, a busy one after its response; `ShutdownGraceHandler` bounds the rest). The future
    /// completes once every connection has closed.
    func quiesce() -> EventLoopFuture<Void> {
        let drained = quiescingHelpers.map { helper in
            let promise = group.next().makePromise(of: Void.self)
            helper.initiateShutdown(promise: promise)
            return promise.futureResult
        }
        return EventLoopFuture.andAllComplete(drained, on: group.next())
    }
}
