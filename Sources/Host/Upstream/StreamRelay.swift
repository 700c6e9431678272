import NIOCore
import NIOHTTP1
import Prometheus

/// Relays a handshake-era GET stream (the server's standalone SSE channel) from the pinned upstream to the
/// client, event by event, and keeps an idle stream alive with SSE comments so intermediaries do not cut it.
///
/// Confined to the exchange's event loop.
final class StreamRelay: UpstreamResponseHandler {
    /// How often an idle stream gets a `: keepalive` comment.
    static let keepAliveInterval = TimeAmount.seconds(15)

    private let exchange: Exchange
    private let target: TargetPool
    private var framer: SSEFramer
    private var streaming = false
    private var errorBody: (HTTPResponseStatus, ByteBuffer)?
    private var lastWrite = NIODeadline.now()
    private var keepAlive: RepeatedTask?

    init(exchange: Exchange, target: TargetPool) {
        self.exchange = exchange
        self.target = target
        self.framer = SSEFramer(maxEventBytes: exchange.runtime.limits.maxSseEventBytes)
    }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        switch head.status.code {
        case 200 where contentType.hasPrefix("text/event-stream"):
            streaming = true
            exchange.startStream(status: .ok, headers: MessageRelay.streamHeaders)
            startKeepAlive()
        case 404:
            exchange.services.metrics.sessionsRejected.increment()
            exchange.fail(.sessionNotFound)
            exchange.upstreamCall?.cancel()
        case 405:
            exchange.fail(GatewayError(.methodNotAllowed, code: -32600, "The server offers no standalone stream", headers: [("allow", "POST, DELETE")]))
            exchange.upstreamCall?.cancel()
        default:
            errorBody = (head.status, exchange.allocator.buffer(capacity: 0))
        }
        return nil
    }

    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        if let (status, body) = errorBody {
            var body = body
            var buffer = buffer
            if body.readableBytes < 4096 { body.writeBuffer(&buffer) }
            errorBody = (status, body)
            return nil
        }
        guard streaming else { return nil }
        let events: [SSEEvent]
        do {
            events = try framer.feed(buffer)
        } catch {
            close()
            return nil
        }
        guard !events.isEmpty else { return nil }
        var out = exchange.allocator.buffer(capacity: events.reduce(0) { $0 + $1.raw.readableBytes })
        for event in events {
            if exchange.filtersWantEvents, let data = event.data {
                let message = try? data.withUnsafeReadableBytes { RPCMessage.parse($0) }.get()
                guard exchange.filterEvent(event, message: message) else { continue }
            }
            var raw = event.raw
            out.writeBuffer(&raw)
        }
        lastWrite = .now()
        guard let written = exchange.writeStream(out) else {
            close()
            return nil
        }
        return written
    }

    func upstreamEnd() {
        if let (status, body) = errorBody {
            errorBody = nil
            let text = String(decoding: body.readableBytesView.prefix(512), as: UTF8.self)
            if status.code >= 500 {
                exchange.fail(.upstream(.badGateway, target: target.name, "Upstream answered HTTP \(status.code) to GET"))
            } else {
                exchange.fail(GatewayError(status, code: -32600, text.isEmpty ? "Upstream refused the stream (\(status.code))" : text))
            }
            return
        }
        close()
    }

    func upstreamFailed(_ error: any Error) {
        guard !exchange.clientGone else {
            keepAlive?.cancel()
            return
        }
        if streaming {
            close()
        } else {
            exchange.services.metrics.upstreamFailures.increment()
            exchange.fail(UpstreamFailure(error, target: target.name).gatewayError)
        }
    }

    private func close() {
        keepAlive?.cancel()
        keepAlive = nil
        exchange.upstreamCall?.cancel()
        if streaming {
            streaming = false
            exchange.endStream()
        }
    }

    private func startKeepAlive() {
        let interval = Self.keepAliveInterval
        let bound = NIOLoopBound(self, eventLoop: exchange.eventLoop)
        keepAlive = exchange.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            bound.value.keepAliveTick(task, interval: interval)
        }
        exchange.onFinish.append { [weak self] in self?.keepAlive?.cancel() }
    }

    private func keepAliveTick(_ task: RepeatedTask, interval: TimeAmount) {
        guard streaming else {
            task.cancel()
            return
        }
        guard NIODeadline.now() - lastWrite >= interval, framer.pendingBytes == 0 else { return }
        var comment = exchange.allocator.buffer(capacity: 14)
        comment.writeString(": keepalive\n\n")
        lastWrite = .now()
        if exchange.writeStream(comment) == nil { close() }
    }
}

/// Relays the upstream's answer to a handshake-era DELETE (ending its session).
final class DeleteRelay: UpstreamResponseHandler {
    private let exchange: Exchange
    private let target: TargetPool
    private var status: HTTPResponseStatus?

    init(exchange: Exchange, target: TargetPool) {
        self.exchange = exchange
        self.target = target
    }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        status = head.status
        return nil
    }

    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? { nil }

    func upstreamEnd() {
        switch status?.code ?? 502 {
        case 200..<300:
            exchange.respond(status: .ok, headers: HTTPHeaders(), body: nil)
        case 404:
            exchange.fail(.sessionNotFound)
        case 405:
            exchange.fail(GatewayError(.methodNotAllowed, code: -32600, "The server does not allow ending sessions", headers: [("allow", "GET, POST")]))
        case let code:
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream answered HTTP \(code) to DELETE"))
        }
    }

    func upstreamFailed(_ error: any Error) {
        guard !exchange.clientGone else { return }
        exchange.services.metrics.upstreamFailures.increment()
        exchange.fail(UpstreamFailure(error, target: target.name).gatewayError)
    }
}
