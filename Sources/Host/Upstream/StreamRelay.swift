import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// Relays handshake-era GET streams (the servers' standalone SSE channels) to the client as one stream:
/// one upstream for a single-target session, every target's fanned in for a federated one. Events are
/// relayed whole as they complete; a federated route's events get their names and server-request ids
/// rewritten. An idle stream is kept alive with SSE comments so intermediaries do not cut it.
///
/// Confined to the exchange's event loop.
final class StreamRelay {
    /// How often an idle stream gets a `: keepalive` comment.
    static let keepAliveInterval = TimeAmount.seconds(15)

    private let exchange: Exchange
    private let targets: [String]
    private let rewriter: FederationRewriter?
    private var framers: [SSEFramer]
    /// Upstream answers that are not streams, by member.
    private var refusals: [Int: HTTPResponseStatus] = [:]
    private var open: Set<Int> = []
    private var pending: Int
    private var streaming = false
    /// Set once the relay ended the client's stream or gave up: later upstream callbacks (cancelling reports
    /// them synchronously) change nothing and write nothing.
    private var closed = false
    private var lastWrite = NIODeadline.now()
    private var keepAlive: RepeatedTask?

    init(exchange: Exchange, members: [String], rewriter: FederationRewriter?) {
        self.exchange = exchange
        self.targets = members
        self.rewriter = rewriter
        self.framers = members.map { _ in SSEFramer(maxEventBytes: exchange.runtime.limits.maxSseEventBytes) }
        self.pending = members.count
    }

    /// The upstream handler for member `index`.
    func member(_ index: Int) -> any UpstreamResponseHandler {
        Member(relay: self, index: index)
    }

    private final class Member: UpstreamResponseHandler {
        let relay: StreamRelay
        let index: Int
        init(relay: StreamRelay, index: Int) {
            self.relay = relay
            self.index = index
        }
        func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? { relay.head(head, member: index) }
        func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? { relay.body(buffer, member: index) }
        func upstreamEnd() { relay.ended(member: index) }
        func upstreamFailed(_ error: any Error) { relay.ended(member: index, error: error) }
    }

    private func head(_ head: HTTPResponseHead, member: Int) -> EventLoopFuture<Void>? {
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        guard head.status == .ok, contentType.hasPrefix("text/event-stream") else {
            refusals[member] = head.status
            return nil
        }
        open.insert(member)
        if !streaming && !exchange.answered {
            streaming = true
            exchange.startStream(status: .ok, headers: MessageRelay.streamHeaders)
            startKeepAlive()
        }
        return nil
    }

    private func body(_ buffer: ByteBuffer, member: Int) -> EventLoopFuture<Void>? {
        guard streaming, open.contains(member) else { return nil }
        let events: [SSEEvent]
        do {
            events = try framers[member].feed(buffer)
        } catch {
            // A GET stream answers no request, so there is no JSON-RPC error to send: the stream ends, and
            // the client reconnects as it would after any drop.
            exchange.logger.warning(
                "ending a stream: an upstream SSE event is larger than maxSseEventBytes",
                metadata: ["target": "\(targets[member])", "limit": "\(exchange.runtime.limits.maxSseEventBytes)"])
            close()
            return nil
        }
        guard !events.isEmpty else { return nil }
        var out = exchange.allocator.buffer(capacity: events.reduce(0) { $0 + $1.raw.readableBytes })
        for event in events {
            if (rewriter != nil || exchange.filtersWantEvents), let data = event.data,
                case .success(let message) = data.withUnsafeReadableBytes({ RPCMessage.parse($0) })
            {
                guard exchange.filterEvent(event, message: message) else { continue }
                if let rewriter, rewriter.rewriteServerMessage(message, target: targets[member]) {
                    var encoded = SSEEvent.encode(data: message.document.serialized(), eventType: event.eventType ?? "message", allocator: exchange.allocator)
                    out.writeBuffer(&encoded)
                    continue
                }
            }
            var raw = event.raw
            if rewriter != nil, event.id != nil {
                // Event ids of several upstreams would collide in one stream: federated streams carry none.
                var encoded = SSEEvent.encode(data: event.data.map { Array($0.readableBytesView) } ?? [], eventType: event.eventType, allocator: exchange.allocator)
                out.writeBuffer(&encoded)
                continue
            }
            out.writeBuffer(&raw)
        }
        lastWrite = .now()
        guard let written = exchange.writeStream(out) else {
            close()
            return nil
        }
        return written
    }

    private func ended(member: Int, error: (any Error)? = nil) {
        guard !closed else { return }
        pending -= 1
        open.remove(member)
        if let error, !exchange.clientGone {
            exchange.logger.debug("upstream stream ended", metadata: ["target": "\(targets[member])", "error": "\(error)"])
            if refusals[member] == nil && !streaming { refusals[member] = .badGateway }
        }
        guard pending == 0 || (streaming && open.isEmpty && pending == 0) else { return }
        if streaming {
            close()
            return
        }
        // No upstream offered a stream: answer with the most telling refusal.
        let statuses = Array(refusals.values)
        if statuses.contains(.notFound) {
            exchange.services.metrics.sessionsRejected.increment()
            exchange.fail(.sessionNotFound)
        } else if !statuses.isEmpty && statuses.allSatisfy({ $0 == .methodNotAllowed }) {
            exchange.fail(GatewayError(.methodNotAllowed, code: -32600, "The server offers no standalone stream", headers: [("allow", "POST, DELETE")]))
        } else {
            exchange.services.metrics.upstreamFailures.increment()
            exchange.fail(.upstream(.badGateway, target: targets.joined(separator: ","), "No upstream stream could be opened"))
        }
    }

    /// Ends the client's stream (once) and stops every member's upstream request.
    private func close() {
        guard !closed else { return }
        closed = true
        keepAlive?.cancel()
        keepAlive = nil
        let wasStreaming = streaming
        streaming = false
        exchange.cancelUpstream()
        if wasStreaming { exchange.endStream() }
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
        guard NIODeadline.now() - lastWrite >= interval, framers.allSatisfy({ $0.pendingBytes == 0 }) else { return }
        var comment = exchange.allocator.buffer(capacity: 14)
        comment.writeString(": keepalive\n\n")
        lastWrite = .now()
        if exchange.writeStream(comment) == nil { close() }
    }
}

/// Relays the upstreams' answers to a handshake-era DELETE (ending their sessions): 200 once every
/// upstream that held a session answered.
final class DeleteRelay {
    private let exchange: Exchange
    private let targets: [String]
    private var statuses: [Int: UInt] = [:]
    private var pending: Int

    init(exchange: Exchange, targets: [String]) {
        self.exchange = exchange
        self.targets = targets
        self.pending = targets.count
    }

    func member(_ index: Int) -> any UpstreamResponseHandler {
        Member(relay: self, index: index)
    }

    private final class Member: UpstreamResponseHandler {
        let relay: DeleteRelay
        let index: Int
        init(relay: DeleteRelay, index: Int) {
            self.relay = relay
            self.index = index
        }
        func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
            relay.statuses[index] = head.status.code
            return nil
        }
        func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? { nil }
        func upstreamEnd() { relay.done() }
        func upstreamFailed(_ error: any Error) { relay.done() }
    }

    private func done() {
        pending -= 1
        guard pending == 0, !exchange.clientGone else { return }
        let codes = (0..<targets.count).map { statuses[$0] ?? 502 }
        if codes.contains(where: { (200..<300).contains($0) }) {
            exchange.respond(status: .ok, headers: HTTPHeaders(), body: nil)
        } else if codes.allSatisfy({ $0 == 404 }) {
            exchange.fail(.sessionNotFound)
        } else if codes.allSatisfy({ $0 == 405 }) {
            exchange.fail(GatewayError(.methodNotAllowed, code: -32600, "The server does not allow ending sessions", headers: [("allow", "GET, POST")]))
        } else {
            exchange.services.metrics.upstreamFailures.increment()
            exchange.fail(.upstream(.badGateway, target: targets.joined(separator: ","), "Upstream answered HTTP \(codes.map(String.init).joined(separator: ", ")) to DELETE"))
        }
    }
}
