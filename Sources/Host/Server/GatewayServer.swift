import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Builds a client connection's pipeline: the request-start watcher (raw bytes), the HTTP/1.1 codec (its decoder
/// bounded by `maxHeaderBytes`), pipelining assistance, the closing-connection error filter, the header-overflow
/// answer, NIO's protocol-error answers, then the MCP exchange handler. Connections past `maxConnections`, or past
/// `maxConnectionsPerClient` from one address, are closed at accept.
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
            try sync.addHandler(errorFilter, position: .after(pipelining))
            try sync.addHandler(HeaderOverflowHandler(maxHeaderBytes: limits.maxHeaderBytes), position: .after(errorFilter))
            try sync.addHandler(
                MCPExchangeHandler(
                    runtimeBox: runtimeBox, services: services, bindPort: bindPort, watcher: watcher, errorFilter: errorFilter,
                    logger: logger))
        }
    }
}

/// Binds the configured ports and serves MCP clients on them.
final class GatewayListeners: Sendable {
    let channels: [any Channel]

    private init(channels: [any Channel]) {
        self.channels = channels
    }

    static func bind(
        config: GatewayConfig,
        group: any EventLoopGroup,
        runtimeBox: RuntimeBox,
        services: GatewayServices,
        logger: Logger
    ) async throws -> GatewayListeners {
        var channels: [any Channel] = []
        do {
            for bind in config.binds {
                let port = bind.port
                let bootstrap = ServerBootstrap(group: group)
                    // When accept fails for want of descriptors (EMFILE/ENFILE), stop accepting for a moment instead
                    // of spinning on the readable listening socket (NIO's async bind adds it; this bind does not).
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false))
                        }
                    }
                    .serverChannelOption(.backlog, value: 1024)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                    .childChannelOption(.maxMessagesPerRead, value: 16)
                    .childChannelInitializer { channel in
                        ClientPipeline.configure(channel: channel, runtimeBox: runtimeBox, services: services, bindPort: port, logger: logger)
                    }
                let channel = try await bindAny(bootstrap, address: bind.address, port: port)
                logger.info("listening for MCP clients", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                channels.append(channel)
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return GatewayListeners(channels: channels)
    }

    /// Binds `address`, or when none is given all interfaces (IPv6 dual-stack, else IPv4).
    private static func bindAny(_ bootstrap: ServerBootstrap, address: String?, port: Int) async throws -> any Channel {
        if let address {
            return try await bootstrap.bind(host: address, port: port).get()
        }
        do {
            return try await bootstrap.bind(host: "::", port: port).get()
        } catch {
            return try await bootstrap.bind(host: "0.0.0.0", port: port).get()
        }
    }

    func close() async {
        for channel in channels { try? await channel.close() }
    }
}
