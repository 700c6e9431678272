import NIOCore
import NIOHTTP1

/// The caller's side of one upstream request sent over a channel: it speaks to its handler (an
/// `UpstreamAnswerReader`) exactly as an HTTP response would, so everything above reads channel answers and
/// HTTP answers alike. A request whose response comes first is answered `200 application/json` with that
/// line; a request that gets other messages first (progress, logs, an elicitation) is answered
/// `200 text/event-stream` with one `message` event per line, the response last. A notification or response
/// is answered `202` once written; `GET` listens (a stream that ends when the channel does); `DELETE` closes
/// the channel.
///
/// Bounded in time like an HTTP request: `requestTimeout` to the first message, `idleTimeout` between the
/// next ones. On a pooled channel the call holds the channel's lease until its response; a call that ends
/// without one (cancelled, timed out) retires the channel, so a late message can never reach the next holder.
///
/// Confined to the caller's event loop; the channel's deliveries hop here, and the future they get back
/// (the reader's) holds the channel's reading (backpressure).
package final class ChannelCall: UpstreamCancellable, ChannelReceiver, @unchecked Sendable {
    private enum Kind {
        case request(JSONRPCID, progressToken: JSONRPCID?)
        case message
        case listen
        case end
    }

    private let eventLoop: any EventLoop
    private let kind: Kind
    private let line: ByteBuffer
    private let headers: HTTPHeaders
    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var handler: (any UpstreamResponseHandler)?
    private var channel: UpstreamChannel?
    private var pool: ChannelPool?
    private var streaming = false
    private var timer: Scheduled<Void>?

    private init(
        kind: Kind, line: ByteBuffer, headers: HTTPHeaders, eventLoop: any EventLoop, requestTimeout: TimeAmount,
        idleTimeout: TimeAmount, handler: any UpstreamResponseHandler
    ) {
        self.kind = kind
        self.line = line
        self.headers = headers
        self.eventLoop = eventLoop
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.handler = handler
    }

    /// Starts `request` over `dispatch`'s channel; callbacks reach `handler` on `eventLoop`. Call on `eventLoop`.
    package static func start(
        _ request: UpstreamRequest, over dispatch: ChannelDispatch, on eventLoop: any EventLoop, requestTimeout: TimeAmount,
        idleTimeout: TimeAmount, handler: any UpstreamResponseHandler
    ) -> ChannelCall {
        let kind: Kind
        switch request.method {
        case .GET: kind = .listen
        case .DELETE: kind = .end
        default: kind = dispatch.id.map { .request($0, progressToken: dispatch.progressToken) } ?? .message
        }
        let call = ChannelCall(
            kind: kind, line: Self.singleLine(request.body ?? ByteBuffer()), headers: request.headers, eventLoop: eventLoop,
            requestTimeout: requestTimeout, idleTimeout: idleTimeout, handler: handler)
        switch dispatch.route {
        case .channel(let channel):
            call.run(on: channel)
        case .pool(let pool, let pinned):
            call.pool = pool
            call.arm(requestTimeout)
            pool.lease(pinned: pinned, on: eventLoop).hop(to: eventLoop).assumeIsolatedUnsafeUnchecked().whenComplete { result in
                switch result {
                case .success(let channel):
                    guard call.handler != nil else { return pool.release(channel, reusable: true) }
                    dispatch.onLease?(channel.key)
                    call.run(on: channel)
                case .failure(let error):
                    call.finish(failure: error as? ChannelFailure ?? .sendFailed(String(describing: error)))
                }
            }
        }
        return call
    }

    /// `body` with CR and LF turned into spaces: in valid JSON they can only be whitespace between tokens
    /// (RFC 8259 §7 forbids them raw inside strings), and a channel message must be one line.
    package static func singleLine(_ body: ByteBuffer) -> ByteBuffer {
        guard body.readableBytesView.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return body }
        var copy = body
        let start = copy.readerIndex
        for offset in 0..<copy.readableBytes {
            if let byte = copy.getInteger(at: start + offset, as: UInt8.self), byte == 0x0A || byte == 0x0D {
                copy.setInteger(UInt8(ascii: " "), at: start + offset)
            }
        }
        return copy
    }

    // MARK: UpstreamCancellable

    /// From any thread: stops waiting; the handler hears `upstreamFailed(UpstreamError.cancelled)`.
    package func cancel() {
        if eventLoop.inEventLoop {
            finish(failure: nil)
        } else {
            eventLoop.execute { self.finish(failure: nil) }
        }
    }

    // MARK: ChannelReceiver (called on the channel's loop)

    package func receive(_ line: ByteBuffer, final: Bool) -> EventLoopFuture<Void>? {
        let delivered = eventLoop.submit { self.deliver(line, final: final) }.flatMap { $0 ?? self.eventLoop.makeSucceededVoidFuture() }
        return delivered
    }

    package func fail(_ failure: ChannelFailure) {
        eventLoop.execute {
            if case .listen = self.kind {
                self.endStream()
            } else {
                self.finish(failure: failure)
            }
        }
    }

    // MARK: On the caller's loop

    private func run(on channel: UpstreamChannel) {
        self.channel = channel
        switch kind {
        case .request(let id, let progressToken):
            arm(requestTimeout)
            channel.request(line, id: id, progressToken: progressToken, headers: headers, receiver: self)
        case .message:
            arm(requestTimeout)
            channel.send(line, headers: headers).hop(to: eventLoop).assumeIsolatedUnsafeUnchecked().whenComplete { result in
                switch result {
                case .success: self.answerEmpty(.accepted)
                case .failure(let error): self.finish(failure: error as? ChannelFailure ?? .sendFailed(String(describing: error)))
                }
            }
        case .listen:
            streaming = true
            _ = handler?.upstreamHead(Self.head(.ok, contentType: "text/event-stream"))
            channel.listen(self)
        case .end:
            channel.close(.closed(.deleted))
            answerEmpty(.ok)
        }
    }

    private func deliver(_ line: ByteBuffer, final: Bool) -> EventLoopFuture<Void>? {
        guard let handler else { return nil }
        if !streaming && final {
            timer?.cancel()
            _ = handler.upstreamHead(Self.head(.ok, contentType: "application/json"))
            _ = handler.upstreamBody(line)
            complete()
            return nil
        }
        if !streaming {
            streaming = true
            _ = handler.upstreamHead(Self.head(.ok, contentType: "text/event-stream"))
        }
        if case .listen = kind {} else { arm(idleTimeout) }
        let written = handler.upstreamBody(SSEEvent.encode(data: line.readableBytesView, allocator: ByteBufferAllocator()))
        if final {
            complete()
        }
        return written
    }

    /// The response arrived: the answer ends and a pooled channel goes back to its pool.
    private func complete() {
        timer?.cancel()
        let handler = self.handler
        self.handler = nil
        releaseLease(reusable: true)
        handler?.upstreamEnd()
    }

    private func answerEmpty(_ status: HTTPResponseStatus) {
        guard let handler else { return }
        var head = Self.head(status, contentType: nil)
        head.headers.add(name: "content-length", value: "0")
        _ = handler.upstreamHead(head)
        complete()
    }

    private func endStream() {
        guard handler != nil else { return }
        complete()
    }

    /// Ends the call without a response: `failure` reaches the handler (nil: the caller cancelled). The channel
    /// forgets the request; a pooled channel is retired.
    private func finish(failure: ChannelFailure?) {
        timer?.cancel()
        guard let handler else { return }
        self.handler = nil
        switch kind {
        case .request(let id, _): channel?.forget(id: id, receiver: self)
        case .listen: channel?.unlisten(self)
        case .message, .end: break
        }
        releaseLease(reusable: false)
        handler.upstreamFailed(failure.map { $0 as any Error } ?? UpstreamError.cancelled)
    }

    private func releaseLease(reusable: Bool) {
        guard let pool, let channel else { return }
        self.pool = nil
        pool.release(channel, reusable: reusable)
    }

    private func arm(_ timeout: TimeAmount) {
        timer?.cancel()
        timer = eventLoop.scheduleTask(in: timeout) { [self] in finish(failure: .timeout) }
    }

    private static func head(_ status: HTTPResponseStatus, contentType: String?) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "content-type", value: contentType) }
        return HTTPResponseHead(version: .http1_1, status: status, headers: headers)
    }
}
