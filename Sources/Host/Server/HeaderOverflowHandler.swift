import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// Turns the HTTP decoder's `headerOverflow` into the gateway's 431 refusal. The header limit itself
/// (`config.limits.maxHeaderBytes`) is enforced inside NIO's parser (`NIOHTTPDecoderLimitConfiguration`, set by
/// `ClientPipeline`); this handler passes the overflow on as a `GatewayError` (431, JSON-RPC code -32600), which
/// `MCPExchangeHandler` answers like any refusal: a JSON-RPC error body, `connection: close`, the rest of the
/// request discarded for a moment. It sits in front of NIO's `HTTPServerProtocolErrorHandler`, which would
/// otherwise answer a bare 400. Every other error passes unchanged.
///
/// Confined to its channel's event loop; not `Sendable`.
final class HeaderOverflowHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// The limit in force when the connection opened, for the message.
    private let maxHeaderBytes: Int

    init(maxHeaderBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// The answer to a request whose head is larger than `limit` bytes.
    static func refusal(limit: Int) -> GatewayError {
        GatewayError(.init(statusCode: 431), code: -32600, "Request headers exceed \(limit) bytes")
    }

    /// The decoder's limits for `maxHeaderBytes`: no single header, and not all of them together, may be larger.
    static func decoderLimits(maxHeaderBytes: Int) -> NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = maxHeaderBytes
        limits.maxHeaderFieldSize = maxHeaderBytes
        return limits
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .headerOverflow? = error as? HTTPParserError {
            context.fireErrorCaught(Self.refusal(limit: maxHeaderBytes))
        } else {
            context.fireErrorCaught(error)
        }
    }
}
