import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// The first handler of a client connection's pipeline, in front of the HTTP codec: it sees the raw bytes, so it
/// knows when a request *starts* arriving, which the codec only reports once the whole head is in. It tells
/// `MCPExchangeHandler` (through `onBytes`), which then bounds the head by `requestHeaderTimeout`; and it can
/// answer a request whose head never completed with a raw `408` (the HTTP codec cannot: no request exists yet).
///
/// Passes every byte on unchanged; the per-read cost is one flag test. Confined to the channel's event loop.
final class RequestStartWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Called on the first bytes that arrive while `watching` is set (then `watching` clears itself).
    var onBytes: (() -> Void)?
    /// Set while the connection waits for a request head.
    var watching = true
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if watching {
            watching = false
            onBytes?()
        }
        context.fireChannelRead(data)
    }

    /// Writes `response` (a complete HTTP/1.1 response, already serialized) straight to the socket, past the HTTP
    /// codec, then closes the connection.
    func writeRawAndClose(_ response: String) {
        guard let context else { return }
        let buffer = context.channel.allocator.buffer(string: response)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Sits between the HTTP pipelining helper and NIO's protocol-error handler: once the connection is closing (its
/// last request said `Connection: close`, or it was refused), a parse error in bytes pipelined after that request
/// is not answered with an unsolicited 400 (the error is dropped; `MCPExchangeHandler` closes the connection once its
/// last answer is written: closing here, while that answer's end is still unflushed, would cut it).
final class ClosingConnectionErrorFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    /// Set by `MCPExchangeHandler` when no further request will be served on this connection.
    var closing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closing && error is HTTPParserError { return }
        context.fireErrorCaught(error)
    }
}
