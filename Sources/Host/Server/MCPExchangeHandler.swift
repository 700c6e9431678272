import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// The last handler of a client connection's pipeline: it reads one HTTP request at a time within the
/// configured bounds (header bytes, body bytes, a deadline for every phase), hands it to an `Exchange`, and
/// gives that exchange a `ClientResponse` to answer with.
///
/// Deadlines, each ending the connection: `clientIdleTimeout` while idle between requests;
/// `requestHeaderTimeout` from the first byte of a request to its complete head (a raw 408, written by the
/// `RequestStartWatcher`, since no request exists yet for the codec); `requestBodyTimeout` from the head to the end
/// of the body (408); and after an early answer (401, 413, …) the rest of the body is discarded for at most
/// `lingerTime` before the connection closes. Reads stop while the client does not take what is written
/// (`channel.isWritable` false), so a client that never reads cannot grow the outbound buffer.
///
/// Confined to its channel's event loop, like every NIO handler; not `Sendable`.
final class MCPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Reading a body into `body`.
        case reading
        /// The request was answered before its end arrived; the rest is discarded, then the connection closes.
        case refused
        /// An exchange is answering.
        case exchanging
        /// The last response of the connection is out (or going out); nothing more is read or answered.
        case closing
    }

    /// The longest the rest of a refused request's body is read and discarded before the connection closes
    /// (closing at once could reset the connection before the client read its answer).
    static let lingerTime = TimeAmount.seconds(2)

    private let runtimeBox: RuntimeBox
    private let services: GatewayServices
    private let bindPort: Int
    private let watcher: RequestStartWatcher
    private let errorFilter: ClosingConnectionErrorFilter
    private let logger: Logger
    private var state = State.idle {
        didSet {
            if case .closing = state { errorFilter.closing = true }
        }
    }
    private var body: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var exchange: Exchange?
    /// The answer of the request being served; only it may write (`isServing`).
    private(set) var response: ClientResponse?
    private var sequence: UInt64 = 0
    private var keepAlive = true
    /// The version the client spoke: an HTTP/1.0 client gets HTTP/1.0 answers (no chunked encoding).
    private var requestVersion = HTTPVersion.http1_1
    /// What the connection waits for now, and until when.
    private var deadline = Deadline(phase: .none, at: .distantFuture)
    /// Checks `deadline` every `tick` for the life of the connection (no timer scheduled per request).
    private var ticker: RepeatedTask?
    /// Bytes of the current request's body counted against the process-wide `maxBufferedBodyBytes`.
    private var reservedBodyBytes = 0
    /// A `read` held back while the client was not taking what was written.
    private var readHeld = false

    init(
        runtimeBox: RuntimeBox, services: GatewayServices, bindPort: Int, watcher: RequestStartWatcher,
        errorFilter: ClosingConnectionErrorFilter, logger: Logger
    ) {
        self.runtimeBox = runtimeBox
        self.services = services
        self.bindPort = bindPort
        self.watcher = watcher
        self.errorFilter = errorFilter
        self.logger = logger
    }

    private var limits: Limits { runtimeBox.runtime.limits }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        watcher.onBytes = { [weak self] in self?.requestStarted() }
        let tick = Deadline.tick(for: limits)
        let weakSelf = NIOLoopBound(WeakHandler(self), eventLoop: context.eventLoop)
        ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in
            weakSelf.value.handler?.checkDeadline()
        }
        awaitRequest()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        watcher.onBytes = nil
        ticker?.cancel()
        ticker = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        ticker = nil
        MemoryTrim.noteLargeFree(bytes: body?.capacity ?? 0)
        body = nil
        releaseBody()
        exchange?.clientDisconnected()
        exchange = nil
        response = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            receiveHead(head, context: context)
        case .body(var chunk):
            guard case .reading = state else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > limits.maxRequestBodyBytes {
                refuse(Self.bodyTooLarge(limits))
                return
            }
            guard services.bufferedBodies.reserve(chunk.readableBytes, limit: limits.maxBufferedBodyBytes) else {
                refuse(
                    GatewayError(
                        .serviceUnavailable, code: -32603,
                        "Server busy: request bodies being received already hold config.limits.maxBufferedBodyBytes",
                        headers: [("retry-after", "1")]))
                return
            }
            reservedBodyBytes += chunk.readableBytes
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            switch state {
            case .reading:
                state = .exchanging
                deadline = Deadline(phase: .none, at: .distantFuture)
                let request = body ?? context.channel.allocator.buffer(capacity: 0)
                body = nil
                exchange?.run(body: request)
            case .refused:
                // The refused request's rest is in: go on with the next request, or close.
                if keepAlive {
                    awaitRequest()
                } else {
                    state = .closing
                    context.close(promise: nil)
                }
            case .idle, .exchanging, .closing:
                break
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch (error, state) {
        case (let refusal as GatewayError, .idle):
            // A head the decoder refused (`HeaderOverflowHandler`): answered like a refused request, no exchange.
            watcher.watching = false
            sequence &+= 1
            response = ClientResponse(connection: self, sequence: sequence)
            refuse(refusal)
        case (let refusal as GatewayError, .reading):
            refuse(refusal)  // trailers the decoder refused
        case (is ByteToMessageDecoderError, .refused):
            break  // the rest of a request the decoder refused, discarded until the linger ends
        default:
            logger.debug("client connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    /// The shutdown grace period ended (`ShutdownGraceHandler`): an open stream ends cleanly (the quiescing HTTP
    /// pipeline then closes the connection); a request still unanswered, or still arriving, loses its connection.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ShutdownGraceExpiredEvent else { return context.fireUserInboundEventTriggered(event) }
        exchange?.endForShutdown()
        if response != nil { context.close(promise: nil) }
    }

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Requests

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        watcher.watching = false
        sequence &+= 1
        let response = ClientResponse(connection: self, sequence: sequence)
        self.response = response
        requestVersion = head.version.minor == 0 ? .http1_0 : .http1_1
        keepAlive = head.isKeepAlive
        // Nothing pipelined after a `Connection: close` request is answered, not even a parse error.
        if !keepAlive { errorFilter.closing = true }
        state = .reading
        body = nil
        arm(.body, limits.requestBodyTimeout)

        if let refusal = Self.refusal(of: head, limits: limits) {
            // A CONNECT answer has no body framing (NIO strips it): only the close can end it for the client.
            refuse(refusal, closeAtOnce: head.method == .CONNECT)
            return
        }
        var head = head
        if let path = Self.originFormPath(of: head.uri) { head.uri = path }
        let exchange = Exchange(
            request: ExchangeRequest(
                head: head, body: context.channel.allocator.buffer(capacity: 0), bindPort: bindPort,
                remoteAddress: context.channel.remoteAddress),
            runtime: runtimeBox.runtime, services: services, responder: response, eventLoop: context.eventLoop, logger: logger)
        self.exchange = exchange
        // False: answered from the head (preflight, authentication, routing); the rest of the body is discarded
        // (`refused`) for at most `lingerTime`.
        guard exchange.begin() else { return }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxRequestBodyBytes {
            refuse(Self.bodyTooLarge(limits))
            return
        }
        if let expectation = head.headers.first(name: "expect") {
            guard expectation.lowercased() == "100-continue" else {
                refuse(GatewayError(.expectationFailed, code: -32600, "Expectation Failed: only 100-continue is supported"))
                return
            }
            if head.version.minor >= 1 {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
            }
        }
    }

    /// Answers a request that is refused while its body may still be arriving; the connection closes after (at
    /// once when `closeAtOnce`, else when the body ends or the linger does).
    private func refuse(_ error: GatewayError, closeAtOnce: Bool = false) {
        keepAlive = false
        MemoryTrim.noteLargeFree(bytes: body?.capacity ?? 0)
        body = nil
        releaseBody()
        state = closeAtOnce ? .closing : .refused
        if let exchange {
            exchange.fail(error)
        } else {
            response?.respond(error, idJSON: "null")
        }
    }

    // MARK: Deadlines

    /// Waits for the next request: `clientIdleTimeout` until bytes arrive, then `requestHeaderTimeout`.
    private func awaitRequest() {
        state = .idle
        watcher.watching = true
        arm(.idle, limits.clientIdleTimeout)
    }

    /// The first bytes of a request arrived (told by the watcher): its head must be complete in time.
    private func requestStarted() {
        guard case .idle = state else { return }
        arm(.header, limits.requestHeaderTimeout)
    }

    private func arm(_ phase: Deadline.Phase, _ timeout: Duration) {
        deadline = Deadline(phase: phase, at: .now() + TimeAmount(timeout))
    }

    private func arm(_ phase: Deadline.Phase, _ timeout: TimeAmount) {
        deadline = Deadline(phase: phase, at: .now() + timeout)
    }

    /// Runs on every tick: acts on a deadline that has passed.
    private func checkDeadline() {
        guard deadline.phase != .none, deadline.at <= .now(), let context else { return }
        let phase = deadline.phase
        deadline = Deadline(phase: .none, at: .distantFuture)
        switch phase {
        case .none:
            break
        case .idle, .linger:
            context.close(promise: nil)
        case .header:
            guard case .idle = state else { return }
            logger.debug("request head timed out")
            state = .closing
            let body = GatewayError(.requestTimeout, code: -32600, "Request timeout: the request head did not arrive in time").body(
                idJSON: "null")
            watcher.writeRawAndClose(
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
                    + "connection: close\r\n\r\n" + body)
        case .body:
            guard case .reading = state else { return }
            // The body did not arrive in time: 408, then close.
            logger.debug("request body timed out")
            keepAlive = false
            state = .closing
            let error = GatewayError(.requestTimeout, code: -32600, "Request timeout: the request body did not arrive in time")
            if let exchange {
                exchange.fail(error)
            } else {
                response?.respond(error, idJSON: "null")
            }
            if response != nil { context.close(promise: nil) }
        }
    }

    // MARK: Writing (for `ClientResponse`)

    /// Whether `response` answers the request being served now.
    func isServing(_ response: ClientResponse) -> Bool {
        self.response === response && context != nil
    }

    var isActive: Bool { context?.channel.isActive ?? false }

    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    func writeWhole(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        guard let context else { return }
        var headers = headers
        headers.replaceOrAdd(name: "content-length", value: String(body?.readableBytes ?? 0))
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: requestVersion, status: status, headers: headers))), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        finish(context: context)
    }

    func writeStreamHead(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard let context else { return }
        var headers = headers
        // An HTTP/1.0 client cannot read chunked encoding: its stream is delimited by the connection's close.
        if requestVersion == .http1_0 { keepAlive = false }
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        context.writeAndFlush(
            wrapOutboundOut(.head(HTTPResponseHead(version: requestVersion, status: status, headers: headers))), promise: nil)
    }

    func writeStreamPart(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard let context, context.channel.isActive else { return nil }
        return context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))))
    }

    func writeStreamEnd() {
        guard let context else { return }
        finish(context: context)
    }

    /// Ends the response; the connection then closes (not keep-alive) or waits for the next request.
    /// Gives the current body's bytes back to the process-wide budget.
    private func releaseBody() {
        services.bufferedBodies.release(reservedBodyBytes)
        reservedBodyBytes = 0
    }

    private func finish(context: ChannelHandlerContext) {
        let closeAfter = !keepAlive
        releaseBody()
        exchange = nil
        response = nil
        switch state {
        case .reading, .refused:
            // Answered before the request's end arrived: keep reading (and discarding) its rest, briefly.
            state = .refused
            arm(.linger, Self.lingerTime)
        case .idle, .exchanging:
            if closeAfter { state = .closing } else { awaitRequest() }
        case .closing:
            break
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [weak self] _ in
            guard closeAfter else { return }
            // A refused request whose rest is still arriving closes when it ends or when the linger ends.
            if let self, case .refused = self.state { return }
            context.close(promise: nil)
        }
    }
}
