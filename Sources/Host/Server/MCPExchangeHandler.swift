import Logging
import NIOCore
import NIOHTTP1

/// The last handler of a client connection's pipeline: it reads one HTTP request at a time within the
/// configured bounds (header bytes, body bytes), hands it to an `Exchange`, and offers that exchange the
/// ways to answer (`ExchangeResponder`): a whole response, or a stream of body parts.
///
/// Confined to its channel's event loop, like every NIO handler; not `Sendable`.
final class MCPExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Reading a body into `body`.
        case reading(HTTPRequestHead)
        /// The request was refused before its end arrived; the rest is discarded and the connection closes.
        case discarding
        /// An exchange is answering.
        case exchanging
    }

    private let runtimeBox: RuntimeBox
    private let services: GatewayServices
    private let bindPort: Int
    private let logger: Logger
    private var state = State.idle
    private var body: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    private var keepAlive = true
    private var responseStarted = false
    private var idleTimer: Scheduled<Void>?

    init(runtimeBox: RuntimeBox, services: GatewayServices, bindPort: Int, logger: Logger) {
        self.runtimeBox = runtimeBox
        self.services = services
        self.bindPort = bindPort
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        armIdleTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        idleTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        exchange?.clientDisconnected()
        exchange = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            idleTimer?.cancel()
            keepAlive = head.isKeepAlive
            responseStarted = false
            let limits = runtimeBox.runtime.limits
            var headerBytes = head.uri.utf8.count
            for (name, value) in head.headers { headerBytes += name.utf8.count + value.utf8.count + 4 }
            if headerBytes > limits.maxHeaderBytes {
                refuse(GatewayError(.init(statusCode: 431), code: -32600, "Request headers exceed \(limits.maxHeaderBytes) bytes"))
                return
            }
            let exchange = Exchange(
                request: ExchangeRequest(head: head, body: context.channel.allocator.buffer(capacity: 0), bindPort: bindPort, remoteAddress: context.channel.remoteAddress),
                runtime: runtimeBox.runtime, services: services, responder: self, eventLoop: context.eventLoop, logger: logger)
            self.exchange = exchange
            state = .reading(head)
            body = nil
            guard exchange.begin() else {
                // Answered from the head (preflight, authentication, routing): the body is not needed.
                if case .idle = state { state = .discarding }
                return
            }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxRequestBodyBytes {
                refuse(Self.bodyTooLarge(limits))
                return
            }
        case .body(var chunk):
            guard case .reading = state else { return }
            let limit = runtimeBox.runtime.limits.maxRequestBodyBytes
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
                refuse(Self.bodyTooLarge(runtimeBox.runtime.limits))
                return
            }
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            switch state {
            case .reading:
                state = .exchanging
                let request = body ?? context.channel.allocator.buffer(capacity: 0)
                body = nil
                exchange?.run(body: request)
            case .discarding:
                state = .idle
                body = nil
            case .idle, .exchanging:
                break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("client connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private static func bodyTooLarge(_ limits: Limits) -> GatewayError {
        GatewayError(.payloadTooLarge, code: -32600, "Request body exceeds \(limits.maxRequestBodyBytes) bytes")
    }

    /// Answers a request that is refused while its body may still be arriving; the connection closes after.
    private func refuse(_ error: GatewayError) {
        keepAlive = false
        body = nil
        if let exchange {
            exchange.fail(error)
        } else {
            writeWhole(status: error.status, headers: Self.jsonHeaders(extra: error.headers), body: error.body(idJSON: "null"))
        }
        state = .discarding
    }

    private func armIdleTimer() {
        guard let context else { return }
        let timeout = TimeAmount(runtimeBox.runtime.limits.clientIdleTimeout)
        idleTimer?.cancel()
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, let context = self.context, case .idle = self.state else { return }
            context.close(promise: nil)
        }
    }

    static func jsonHeaders(extra: [(String, String)] = []) -> HTTPHeaders {
        var headers = HTTPHeaders([("content-type", "application/json")])
        headers.add(contentsOf: extra)
        return headers
    }

    private func writeWhole(status: HTTPResponseStatus, headers: HTTPHeaders, body: String) {
        guard let context else { return }
        var headers = headers
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        headers.replaceOrAdd(name: "content-length", value: String(buffer.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if buffer.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let closeAfter = !keepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if closeAfter { context.close(promise: nil) }
        }
    }
}

extension MCPExchangeHandler: ExchangeResponder {
    var isConnected: Bool { context?.channel.isActive ?? false }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        guard let context, !responseStarted else { return }
        responseStarted = true
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body?.readableBytes ?? 0))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        finish(context: context)
    }

    func respond(_ error: GatewayError, idJSON: String) {
        var buffer = allocator.buffer(capacity: 128)
        buffer.writeString(error.body(idJSON: idJSON))
        respond(status: error.status, headers: Self.jsonHeaders(extra: error.headers), body: buffer)
    }

    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard let context, !responseStarted else { return }
        responseStarted = true
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
    }

    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive else { return nil }
        return context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))))
    }

    func endStream() {
        guard let context else { return }
        finish(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        let closeAfter = !keepAlive
        exchange = nil
        state = .idle
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if closeAfter { context.close(promise: nil) }
        }
        if !closeAfter { armIdleTimer() }
    }
}

/// What an exchange may do to answer its client. Every method must be called on the connection's event
/// loop; each exchange answers exactly once (`respond`, or `startStream` … `endStream`).
protocol ExchangeResponder: AnyObject {
    var isConnected: Bool { get }
    var allocator: ByteBufferAllocator { get }
    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?)
    func respond(_ error: GatewayError, idJSON: String)
    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders)
    /// Writes and flushes one part; the future completes when it reached the socket (nil: client gone).
    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>?
    func endStream()
}

/// One client HTTP request, read whole within the limits.
struct ExchangeRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var bindPort: Int
    var remoteAddress: SocketAddress?
}
