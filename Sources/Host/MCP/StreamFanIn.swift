import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// Relays handshake-era GET streams (the servers' standalone SSE channels) to the client as one stream:
/// one upstream for a single-target session, every target's fanned in for a federated one. Events are
/// relayed whole as they complete; a federated route's events get their names and server-request ids
/// rewritten. An idle stream is kept alive with SSE comments so intermediaries do not cut it.
///
/// Confined to the exchange's event loop.
final class StreamFanIn {
    /// How often an idle stream gets a `: keepalive` comment.
    static let keepAliveInterval = TimeAmount.seconds(15)

    private let exchange: Exchange
    private let targets: [String]
    private let rewriter: FederationRewriter?
    /// Each member's reader, to stop them all when the client's stream ends.
    private var readers: [UpstreamAnswerReader] = []
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
        self.pending = members.count
    }

    /// Forwards one GET per member and relays what comes back; returns the calls, for the exchange to cancel
    /// when its client goes away.
    func forward(_ requests: [UpstreamRequest]) -> [UpstreamCall] {
        for (member, request) in requests.enumerated() {
            let reader = exchange.services.upstream.forward(request, on: exchange.eventLoop, limits: exchange.answerLimits) {
                [self] answer in
                take(answer, member: member)
            }
            readers.append(reader)
        }
        return readers.compactMap(\.call)
    }

    private func take(_ answer: UpstreamAnswer, member: Int) -> EventLoopFuture<Void>? {
        switch answer {
        case .stream(let status, _):
            guard status == .ok else { return refused(status, member: member) }
            opened(member: member)
        case .events(let events):
            return relay(events, member: member)
        case .streamEnded:
            ended(member: member)
        case .json:
            return refused(.ok, member: member)
        case .accepted(let status, _), .refused(let status, _, _):
            return refused(status, member: member)
        case .lost:
            return refused(.notFound, member: member)
        case .failed(.eventTooLarge(let limit)):
            // A GET stream answers no request, so there is no JSON-RPC error to send: the stream ends, and
            // the client reconnects as it would after any drop.
            exchange.logger.warning(
                "ending a stream: an upstream SSE event is larger than maxSseEventBytes",
                metadata: ["target": "\(targets[member])", "limit": "\(limit)"])
            close()
        case .failed(let failure):
            ended(member: member, error: failure)
        }
        return nil
    }

    /// A member answered with something other than a stream.
    private func refused(_ status: HTTPResponseStatus, member: Int) -> EventLoopFuture<Void>? {
        refusals[member] = status
        ended(member: member)
        return nil
    }

    private func opened(member: Int) {
        open.insert(member)
        if !streaming && !exchange.answered {
            streaming = true
            exchange.startStream(status: .ok, headers: ResponseRelay.streamHeaders)
            startKeepAlive()
        }
    }

    private func relay(_ events: [SSEEvent], member: Int) -> EventLoopFuture<Void>? {
        guard streaming, open.contains(member) else { return nil }
        guard !events.isEmpty else { return nil }
        var out = exchange.allocator.buffer(capacity: events.reduce(0) { $0 + $1.raw.readableBytes })
        for event in events {
            if rewriter != nil || exchange.filtersWantEvents, let data = event.data,
                case .success(let message) = data.withUnsafeReadableBytes({ RPCMessage.parse($0) })
            {
                guard exchange.filterEvent(event, message: message) else { continue }
                if let rewriter, rewriter.rewriteServerMessage(message, target: targets[member]) {
                    var encoded = SSEEvent.encode(
                        data: message.document.serialized(), eventType: event.eventType ?? "message", allocator: exchange.allocator)
                    out.writeBuffer(&encoded)
                    continue
                }
            }
            var raw = event.raw
            if rewriter != nil, event.id != nil {
                // Event ids of several upstreams would collide in one stream: federated streams carry none.
                var encoded = SSEEvent.encode(
                    data: event.data.map { Array($0.readableBytesView) } ?? [], eventType: event.eventType, allocator: exchange.allocator)
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

    private func ended(member: Int, error: UpstreamAnswerFailure? = nil) {
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
            exchange.fail(
                GatewayError(
                    .methodNotAllowed, code: -32600, "The server offers no standalone stream", headers: [("allow", "POST, DELETE")]))
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
        for reader in readers { reader.stop() }
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
        guard NIODeadline.now() - lastWrite >= interval, !readers.contains(where: \.midEvent) else { return }
        var comment = exchange.allocator.buffer(capacity: 14)
        comment.writeString(": keepalive\n\n")
        lastWrite = .now()
        if exchange.writeStream(comment) == nil { close() }
    }
}
