import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// Answers the client's POSTed JSON-RPC message from its upstream's answer, as `UpstreamAnswerReader`
/// reports it: a JSON body (held whole, within `maxResponseBodyBytes`, so it can be inspected), an SSE stream
/// (relayed event by event as events complete, never buffered whole, under a stream slot), or a bare 202.
/// It owns the HTTP mapping of every outcome (docs/errors.md), runs the filters' response and event hooks,
/// and hands an `initialize` response to `HandshakeFlow.answerInitialize`, where the session is sealed.
///
/// Confined to the exchange's event loop.
final class ResponseRelay {
    enum Purpose {
        /// A request whose response is relayed.
        case request
        /// `initialize`: the response is collected, then answered with the sealed session id.
        case initialize(HandshakeFlow.InitializeContext)
        /// A notification or a response: the upstream answers 202 and no JSON-RPC answer is awaited.
        case accepted
    }

    static let streamHeaders = HTTPHeaders([
        ("content-type", "text/event-stream"), ("cache-control", "no-cache, no-transform"), ("x-accel-buffering", "no"),
    ])

    private let exchange: Exchange
    private let purpose: Purpose
    private let requestIDJSON: String
    private let target: String
    /// Rewrites the final result before it reaches the client (nil: unchanged).
    private let rewriteResult: ((RPCMessage) -> [UInt8]?)?
    /// Rewrites other server-to-client messages in place (federated names, server-request ids); true when changed.
    private let rewriteEvent: ((RPCMessage) -> Bool)?
    private var reader: UpstreamAnswerReader?
    private var upstreamSessionID: String?
    /// The client's stream is open (an SSE answer to a request).
    private var streaming = false
    private var sawResponse = false
    private var sawEventIDs = false

    init(
        exchange: Exchange, purpose: Purpose, requestIDJSON: String, target: String,
        rewriteResult: ((RPCMessage) -> [UInt8]?)?, rewriteEvent: ((RPCMessage) -> Bool)?
    ) {
        self.exchange = exchange
        self.purpose = purpose
        self.requestIDJSON = requestIDJSON
        self.target = target
        self.rewriteResult = rewriteResult
        self.rewriteEvent = rewriteEvent
    }

    /// Forwards `request` and answers the client from what comes back; returns the upstream call, for the
    /// exchange to cancel when its client goes away.
    func forward(_ request: UpstreamRequest) -> UpstreamCall? {
        let reader = exchange.services.upstream.forward(request, on: exchange.eventLoop, limits: exchange.answerLimits) { [self] answer in
            take(answer)
        }
        self.reader = reader
        return reader.call
    }

    private var isInitialize: Bool {
        if case .initialize = purpose { return true }
        return false
    }

    /// A notification or a client's response was sent: ids are not checked.
    private var expectsNoAnswer: Bool {
        if case .accepted = purpose { return true }
        return false
    }

    private func take(_ answer: UpstreamAnswer) -> EventLoopFuture<Void>? {
        guard !exchange.clientGone else { return nil }
        switch answer {
        case .lost:
            exchange.services.metrics.sessionsRejected.increment()
            exchange.fail(.sessionNotFound, idJSON: requestIDJSON)
        case .accepted(let status, _):
            exchange.answer(status: status == .noContent ? .accepted : status, headers: HTTPHeaders(), body: nil)
        case .json(let body, let sessionID):
            upstreamSessionID = sessionID
            answerJSON(body)
        case .refused(let status, _, let body):
            // A 2xx that is neither JSON nor SSE: nothing the client could read.
            answerRefusal(status: (200..<300).contains(status.code) ? .badGateway : status, body: body)
        case .stream(_, let sessionID):
            upstreamSessionID = sessionID
            openStream()
        case .events(let events):
            return relay(events)
        case .streamEnded:
            if isInitialize {
                exchange.fail(
                    .upstream(.badGateway, target: target, "Upstream '\(target)' ended the initialize stream without a response"),
                    idJSON: requestIDJSON)
            } else {
                endStream(reason: "Upstream '\(target)' ended the stream before the response")
            }
        case .failed(.transport(let error)) where error as? UpstreamError == .cancelled:
            // Only the exchange cancels a request whose answer is still read here: the gateway is shutting down.
            let shutdown = GatewayError(.serviceUnavailable, code: -32603, "The gateway is shutting down")
            if streaming { endStream(reason: shutdown.message) } else { exchange.fail(shutdown, idJSON: requestIDJSON) }
        case .failed(.transport(let error)):
            exchange.services.metrics.upstreamFailures.increment()
            let failure = UpstreamFailure(error, target: target)
            exchange.logger.debug("upstream request failed", metadata: ["target": "\(target)", "error": "\(failure.detail)"])
            if streaming { endStream(reason: failure.message) } else { exchange.fail(failure.gatewayError, idJSON: requestIDJSON) }
        case .failed(let failure):
            // Over a bound (the reader stopped the request), or no answer at all. A stream resumed past an
            // event too large would meet it again, so event ids do not spare the client its error.
            let error = UpstreamFailure(failure, target: target).gatewayError
            if streaming { endStream(reason: error.message, resumable: false) } else { exchange.fail(error, idJSON: requestIDJSON) }
        }
        return nil
    }

    // MARK: Streams

    /// The upstream answers on a stream: the client's stream opens (`initialize` is collected instead).
    private func openStream() {
        guard !isInitialize else { return }
        let services = exchange.services
        guard services.counters.openStream(limit: exchange.runtime.limits.maxOpenStreams) else {
            reader?.stop()
            exchange.fail(GatewayError(.serviceUnavailable, code: -32603, "Too many open streams"), idJSON: requestIDJSON)
            return
        }
        services.metrics.openStreams.increment()
        exchange.onFinish.append {
            services.counters.closeStream()
            services.metrics.openStreams.decrement()
        }
        streaming = true
        exchange.startStream(status: .ok, headers: Self.streamHeaders)
    }

    /// Writes a batch of complete events; returns the write's future so upstream reading waits for the client.
    private func relay(_ events: [SSEEvent]) -> EventLoopFuture<Void>? {
        let responseBefore = sawResponse
        let allocator = exchange.allocator
        var out = allocator.buffer(capacity: events.reduce(0) { $0 + $1.raw.readableBytes })
        for event in events {
            if event.id != nil { sawEventIDs = true }
            guard let data = event.data else {
                var raw = event.raw
                out.writeBuffer(&raw)
                continue
            }
            let parsed = data.withUnsafeReadableBytes { RPCMessage.parse($0) }
            guard case .success(let candidate) = parsed, let answer = candidate.answer(toRequest: requestIDJSON, raw: data) else {
                let other = try? parsed.get()
                guard exchange.filterEvent(event, message: other) else { continue }
                if let other, let rewriteEvent, rewriteEvent(other) {
                    var encoded = SSEEvent.encode(
                        data: other.document.serialized(), eventType: event.eventType ?? "message", id: event.id, allocator: allocator)
                    out.writeBuffer(&encoded)
                } else {
                    var raw = event.raw
                    out.writeBuffer(&raw)
                }
                continue
            }
            sawResponse = true
            if case .initialize(let context) = purpose {
                reader?.stop()
                HandshakeFlow(exchange: exchange).answerInitialize(
                    answer.message, raw: answer.raw, upstreamSessionID: upstreamSessionID, context: context)
                return nil
            }
            var replacement = rewriteResult?(answer.message)
            if replacement == nil, answer.message !== candidate {
                replacement = Array(answer.raw.readableBytesView)  // the upstream's error under the client's id
            }
            if let filtered = exchange.filterResponse(answer.message, raw: replacement.map { allocator.buffer(bytes: $0) } ?? answer.raw) {
                replacement = filtered
            }
            if let replacement {
                var encoded = SSEEvent.encode(
                    data: replacement, eventType: event.eventType ?? "message", id: event.id, allocator: allocator)
                out.writeBuffer(&encoded)
            } else {
                var raw = event.raw
                out.writeBuffer(&raw)
            }
        }
        guard streaming else { return nil }  // `initialize` collects; nothing is written before its answer
        guard let written = exchange.writeStream(out) else {
            // The client cannot take more: nothing else will be written; the exchange ends here.
            reader?.stop()
            exchange.endStream()
            return nil
        }
        if sawResponse && !responseBefore {
            written.assumeIsolated().whenSuccess { [exchange] in exchange.noteResponseDelivered() }
        }
        return written
    }

    /// Ends the client's stream; if the response never came and the stream cannot be resumed (no event
    /// ids, or `resumable` false), the client gets a JSON-RPC error for its request instead of waiting forever.
    private func endStream(reason: String, resumable: Bool = true) {
        guard streaming, exchange.answered else {
            exchange.fail(.upstream(.badGateway, target: target, reason), idJSON: requestIDJSON)
            return
        }
        if !sawResponse && !(sawEventIDs && resumable) && !exchange.clientGone {
            let error = GatewayError.upstream(.badGateway, target: target, reason)
            _ = exchange.writeStream(SSEEvent.encode(data: Array(error.body(idJSON: requestIDJSON).utf8), allocator: exchange.allocator))
        }
        exchange.endStream()
    }

    // MARK: Whole answers

    private func answerJSON(_ received: ByteBuffer) {
        let parsed = received.withUnsafeReadableBytes { RPCMessage.parse($0) }
        guard case .success(let candidate) = parsed, candidate.kind == .result || candidate.kind == .error else {
            exchange.fail(
                .upstream(.badGateway, target: target, "Upstream '\(target)' answered with a body that is not a JSON-RPC response"),
                idJSON: requestIDJSON)
            return
        }
        // The SSE path only relays the event that answers this request; a JSON answer is held to the same id.
        guard let answer = expectsNoAnswer ? (candidate, received) : candidate.answer(toRequest: requestIDJSON, raw: received) else {
            exchange.fail(
                .upstream(.badGateway, target: target, "Upstream '\(target)' answered with a response to another request"),
                idJSON: requestIDJSON)
            return
        }
        if case .initialize(let context) = purpose {
            HandshakeFlow(exchange: exchange).answerInitialize(
                answer.message, raw: answer.raw, upstreamSessionID: upstreamSessionID, context: context)
            return
        }
        var out = answer.raw
        if let replacement = rewriteResult?(answer.message) {
            out = exchange.allocator.buffer(bytes: replacement)
        }
        if let filtered = exchange.filterResponse(answer.message, raw: out) {
            out = exchange.allocator.buffer(bytes: filtered)
        }
        exchange.answer(status: .ok, headers: HTTPHeaders.json(), body: out)
    }

    /// A non-2xx upstream answer. A 4xx whose body is a JSON-RPC error answering this request is the
    /// server's answer to the client's message: relayed with the upstream's status, after the filters'
    /// response hooks like any other answer (a redaction plugin sees it too). Anything else becomes a
    /// gateway error that names the target and the status only; the upstream's body goes to the log, never
    /// to the client (it may hold internal addresses, stack traces, credentials).
    private func answerRefusal(status: HTTPResponseStatus, body received: ByteBuffer) {
        if (400..<500).contains(status.code) {
            let parsed = received.withUnsafeReadableBytes { RPCMessage.parse($0) }
            if case .success(let candidate) = parsed, candidate.kind == .error {
                guard let answer = expectsNoAnswer ? (candidate, received) : candidate.answer(toRequest: requestIDJSON, raw: received)
                else {
                    exchange.fail(
                        .upstream(.badGateway, target: target, "Upstream '\(target)' answered with a response to another request"),
                        idJSON: requestIDJSON)
                    return
                }
                var out = answer.raw
                if !expectsNoAnswer, let filtered = exchange.filterResponse(answer.message, raw: answer.raw) {
                    out = exchange.allocator.buffer(bytes: filtered)
                }
                exchange.answer(status: status, headers: HTTPHeaders.json(), body: out)
                return
            }
            logUpstreamBody(status: status, body: received)
            exchange.fail(GatewayError(status, code: -32600, "Upstream '\(target)' answered HTTP \(status.code)"), idJSON: requestIDJSON)
            return
        }
        logUpstreamBody(status: status, body: received)
        exchange.services.metrics.upstreamFailures.increment()
        exchange.fail(.upstream(.badGateway, target: target, "Upstream '\(target)' answered HTTP \(status.code)"), idJSON: requestIDJSON)
    }

    private func logUpstreamBody(status: HTTPResponseStatus, body: ByteBuffer) {
        exchange.logger.warning(
            "upstream answered with an error status",
            metadata: [
                "target": "\(target)", "status": "\(status.code)",
                "body": "\(String(decoding: body.readableBytesView.prefix(512), as: UTF8.self))",
            ])
    }
}
