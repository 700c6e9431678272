import CJansson
import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// Relays an upstream's answer to one POSTed JSON-RPC message back to the client: a JSON body (held whole,
/// within `maxResponseBodyBytes`, so it can be inspected), an SSE stream (relayed event by event as events
/// complete, never buffered whole), or a bare 202. Also turns upstream failures into the errors of
/// docs/errors.md, and for `initialize` seals the new client session around the upstream's.
///
/// Confined to the exchange's event loop.
final class MessageRelay: UpstreamResponseHandler {
    enum Purpose {
        /// A request whose response is relayed.
        case request
        /// `initialize`: the response is collected, then answered as JSON with the sealed session id.
        case initialize(InitializeContext)
        /// A notification or a response: the upstream answers 202.
        case accepted
    }

    struct InitializeContext {
        var target: TargetPool
        var endpoint: ResolvedEndpoint
        var route: RouteRuntime
        var principal: PrincipalDigest?
    }

    private enum Mode {
        case awaitingHead
        case json(ByteBuffer)
        case sse(SSEFramer)
        case upstreamError(HTTPResponseStatus, ByteBuffer)
        case accepted(HTTPResponseStatus)
        case done
    }

    private let exchange: Exchange
    private let purpose: Purpose
    private let requestIDJSON: String
    private let target: TargetPool
    private let sentSessionID: Bool
    /// Rewrites a final result before it reaches the client (nil: unchanged).
    private let inspect: ((RPCMessage) -> [UInt8]?)?
    /// Rewrites other server-to-client messages in place (federated names, server-request ids); true when changed.
    private let rewriteEvent: ((RPCMessage) -> Bool)?
    private var mode = Mode.awaitingHead
    private var upstreamSessionID: String?
    private var sawResponse = false
    private var sawEventIDs = false
    private var holdsStreamSlot = false
    /// Set when this relay cancelled the upstream request itself, having already answered or decided the
    /// answer: the failure that cancelling reports (synchronously, `upstreamFailed`) must not answer again.
    private var stoppedUpstream = false

    init(
        exchange: Exchange, purpose: Purpose, requestIDJSON: String, target: TargetPool, sentSessionID: Bool,
        inspect: ((RPCMessage) -> [UInt8]?)?, rewriteEvent: ((RPCMessage) -> Bool)? = nil
    ) {
        self.rewriteEvent = rewriteEvent
        self.exchange = exchange
        self.purpose = purpose
        self.requestIDJSON = requestIDJSON
        self.target = target
        self.sentSessionID = sentSessionID
        self.inspect = inspect
    }

    private var limits: Limits { exchange.runtime.limits }

    // MARK: UpstreamResponseHandler

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        upstreamSessionID = head.headers.first(name: "mcp-session-id")
        let status = head.status
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        if status == .notFound && sentSessionID {
            mode = .done
            exchange.services.metrics.sessionsRejected.increment()
            exchange.fail(.sessionNotFound, idJSON: requestIDJSON)
            return nil
        }
        guard (200..<300).contains(status.code) else {
            mode = .upstreamError(status, exchange.allocator.buffer(capacity: 0))
            return nil
        }
        if status == .accepted || status == .noContent {
            mode = .accepted(status)
            return nil
        }
        if contentType.hasPrefix("text/event-stream") {
            if case .initialize = purpose {
                mode = .sse(SSEFramer(maxEventBytes: limits.maxSseEventBytes))
                return nil
            }
            guard exchange.services.counters.openStream(limit: limits.maxOpenStreams) else {
                exchange.fail(GatewayError(.serviceUnavailable, code: -32603, "Too many open streams"), idJSON: requestIDJSON)
                stopUpstream()
                return nil
            }
            holdsStreamSlot = true
            exchange.services.metrics.openStreams.increment()
            exchange.onFinish.append { [services = exchange.services] in
                services.counters.closeStream()
                services.metrics.openStreams.decrement()
            }
            mode = .sse(SSEFramer(maxEventBytes: limits.maxSseEventBytes))
            exchange.startStream(status: .ok, headers: Self.streamHeaders)
            return nil
        }
        if contentType.hasPrefix("application/json") {
            mode = .json(exchange.allocator.buffer(capacity: 0))
            return nil
        }
        if head.headers.first(name: "content-length") == "0" {
            mode = .accepted(status)
            return nil
        }
        mode = .upstreamError(.badGateway, exchange.allocator.buffer(capacity: 0))
        return nil
    }

    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        switch mode {
        case .json(var body):
            mode = .done
            guard body.readableBytes + buffer.readableBytes <= limits.maxResponseBodyBytes else {
                giveUp(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' sent a response larger than \(limits.maxResponseBodyBytes) bytes"))
                return nil
            }
            var buffer = buffer
            body.writeBuffer(&buffer)
            mode = .json(body)
            return nil
        case .upstreamError(let status, var body):
            if body.readableBytes < 64 << 10 {
                var buffer = buffer
                body.writeBuffer(&buffer)
            }
            mode = .upstreamError(status, body)
            return nil
        case .sse(var framer):
            mode = .done
            let events: [SSEEvent]
            do {
                events = try framer.feed(buffer)
            } catch {
                giveUp(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' sent an SSE event larger than \(limits.maxSseEventBytes) bytes"))
                return nil
            }
            mode = .sse(framer)
            return relay(events)
        case .awaitingHead, .accepted, .done:
            return nil
        }
    }

    func upstreamEnd() {
        switch mode {
        case .json(let body):
            mode = .done
            finishJSON(body)
        case .sse:
            mode = .done
            if case .initialize = purpose {
                exchange.fail(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' ended the initialize stream without a response"), idJSON: requestIDJSON)
            } else {
                endStream(reason: "Upstream '\(target.name)' ended the stream before the response")
            }
        case .upstreamError(let status, let body):
            mode = .done
            relayUpstreamError(status: status, body: body)
        case .accepted(let status):
            mode = .done
            exchange.respond(status: status == .noContent ? .accepted : status, headers: HTTPHeaders(), body: nil)
        case .awaitingHead:
            mode = .done
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' sent no response"), idJSON: requestIDJSON)
        case .done:
            break
        }
    }

    func upstreamFailed(_ error: any Error) {
        let previous = mode
        mode = .done
        guard !stoppedUpstream, !exchange.clientGone else { return }
        exchange.services.metrics.upstreamFailures.increment()
        let failure = UpstreamFailure(error, target: target.name)
        exchange.logger.debug("upstream request failed", metadata: ["target": "\(target.name)", "error": "\(failure.detail)"])
        switch previous {
        case .sse where exchange.answered:
            endStream(reason: failure.message)
        case .done where exchange.answered:
            break
        default:
            exchange.fail(failure.gatewayError, idJSON: requestIDJSON)
        }
    }

    // MARK: Relaying

    static let streamHeaders = HTTPHeaders([
        ("content-type", "text/event-stream"), ("cache-control", "no-cache, no-transform"), ("x-accel-buffering", "no"),
    ])

    /// Writes a batch of complete events; returns the write's future so upstream reading waits for the client.
    private func relay(_ events: [SSEEvent]) -> EventLoopFuture<Void>? {
        guard !events.isEmpty else { return nil }
        let responseBefore = sawResponse
        var out = exchange.allocator.buffer(capacity: events.reduce(0) { $0 + $1.raw.readableBytes })
        for event in events {
            if event.id != nil { sawEventIDs = true }
            guard let data = event.data else {
                var raw = event.raw
                out.writeBuffer(&raw)
                continue
            }
            let parsed = data.withUnsafeReadableBytes { RPCMessage.parse($0) }
            guard case .success(let candidate) = parsed, case let (message, data)? = answer(in: candidate, raw: data) else {
                let other = try? parsed.get()
                guard exchange.filterEvent(event, message: other) else { continue }
                if let other, let rewriteEvent, rewriteEvent(other) {
                    var encoded = SSEEvent.encode(data: other.document.serialized(), eventType: event.eventType ?? "message", id: event.id, allocator: exchange.allocator)
                    out.writeBuffer(&encoded)
                } else {
                    var raw = event.raw
                    out.writeBuffer(&raw)
                }
                continue
            }
            sawResponse = true
            if case .initialize = purpose {
                finishInitialize(message, raw: Array(data.readableBytesView), status: .ok)
                stopUpstream()
                return nil
            }
            var replacement = inspect?(message)
            if replacement == nil, message !== candidate {
                replacement = Array(data.readableBytesView)  // the upstream's error under the client's id
            }
            if let filtered = exchange.filterResponse(message, raw: replacement.map { exchange.allocator.buffer(bytes: $0) } ?? data) {
                replacement = filtered
            }
            if let replacement {
                var encoded = SSEEvent.encode(data: replacement, eventType: event.eventType ?? "message", id: event.id, allocator: exchange.allocator)
                out.writeBuffer(&encoded)
            } else {
                var raw = event.raw
                out.writeBuffer(&raw)
            }
        }
        if case .initialize = purpose { return nil }
        guard let written = exchange.writeStream(out) else {
            // The client cannot take more: nothing else will be written; the exchange ends here.
            stopUpstream()
            exchange.endStream()
            return nil
        }
        if sawResponse && !responseBefore {
            written.assumeIsolated().whenSuccess { [exchange] in exchange.noteResponseDelivered() }
        }
        return written
    }

    /// The message as this request's answer (with the bytes to relay), or nil when it is something else: a
    /// response must carry the request's id. An error response with `"id": null` (JSON-RPC 2.0 §5: the server
    /// could not read the id, as for a parse error) is the answer too, since a POST's answer can only concern
    /// the message POSTed; it is relayed as the upstream's error object under the client's request id, so
    /// that the client, which matches answers by id, can pair it with its request.
    private func answer(in message: RPCMessage, raw: ByteBuffer) -> (RPCMessage, ByteBuffer)? {
        guard message.kind == .result || message.kind == .error else { return nil }
        if message.idJSON == requestIDJSON { return (message, raw) }
        guard message.kind == .error, message.id?.isNull ?? true, requestIDJSON != "null",
            let error = message.root["error"]
        else { return nil }
        var text = Array("{\"jsonrpc\":\"2.0\",\"id\":\(requestIDJSON),\"error\":".utf8)
        text += error.serialized()
        text.append(UInt8(ascii: "}"))
        guard case .success(let claimed) = text.withUnsafeBytes({ RPCMessage.parse($0) }) else { return nil }
        return (claimed, exchange.allocator.buffer(bytes: text))
    }

    /// Ends the client's stream; if the response never came and the stream cannot be resumed (no event
    /// ids, or `resumable` false), the client gets a JSON-RPC error for its request instead of waiting forever.
    private func endStream(reason: String, resumable: Bool = true) {
        guard exchange.answered else {
            exchange.fail(.upstream(.badGateway, target: target.name, reason), idJSON: requestIDJSON)
            return
        }
        if !sawResponse && !(sawEventIDs && resumable) && !exchange.clientGone {
            let error = GatewayError.upstream(.badGateway, target: target.name, reason)
            _ = exchange.writeStream(SSEEvent.encode(data: Array(error.body(idJSON: requestIDJSON).utf8), allocator: exchange.allocator))
        }
        exchange.endStream()
    }

    /// Stops reading an answer the gateway will not relay (too large) and answers the client once: a 502
    /// when nothing was sent yet, else an error event (a stream resumed past this point would meet the same
    /// event again, so event ids do not spare it) and the end of the stream.
    private func giveUp(_ error: GatewayError) {
        stopUpstream()
        if exchange.answered {
            endStream(reason: error.message, resumable: false)
        } else {
            exchange.fail(error, idJSON: requestIDJSON)
        }
    }

    /// Cancels the upstream request after this relay answered or decided the answer itself (attack report
    /// C1: cancelling reports `upstreamFailed` synchronously, which used to answer a second time).
    private func stopUpstream() {
        mode = .done
        stoppedUpstream = true
        exchange.upstreamCall?.cancel()
    }

    private func finishJSON(_ received: ByteBuffer) {
        let parsed = received.withUnsafeReadableBytes { RPCMessage.parse($0) }
        guard case .success(let candidate) = parsed, candidate.kind == .result || candidate.kind == .error else {
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' answered with a body that is not a JSON-RPC response"), idJSON: requestIDJSON)
            return
        }
        // The SSE path only relays the event that answers this request; a JSON answer is held to the same id.
        guard case let (message, body)? = purposeExpectsNoAnswer ? (candidate, received) : answer(in: candidate, raw: received) else {
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' answered with a response to another request"), idJSON: requestIDJSON)
            return
        }
        if case .initialize = purpose {
            finishInitialize(message, raw: Array(body.readableBytesView), status: .ok)
            return
        }
        var out = body
        if let replacement = inspect?(message) {
            out = exchange.allocator.buffer(bytes: replacement)
        }
        if let filtered = exchange.filterResponse(message, raw: out) {
            out = exchange.allocator.buffer(bytes: filtered)
        }
        exchange.respond(status: .ok, headers: MCPExchangeHandler.jsonHeaders(), body: out)
    }

    /// Seals the client session around the upstream's and answers `initialize`.
    private func finishInitialize(_ message: RPCMessage, raw: [UInt8], status: HTTPResponseStatus) {
        guard case .initialize(let context) = purpose else { return }
        var headers = MCPExchangeHandler.jsonHeaders()
        if message.kind == .result {
            let negotiated = message.result?["protocolVersion"]?.string ?? ProtocolVersion.latestHandshake
            let now = exchange.nowSeconds
            let state = SessionState(
                protocolVersion: negotiated,
                principal: context.principal,
                issuedAt: now,
                expiresAt: exchange.runtime.sessionExpiry(now: now),
                entries: [
                    SessionState.Entry(target: context.target.name, endpoint: context.endpoint.endpoint.url, upstreamSessionID: upstreamSessionID)
                ])
            guard state.fitsEncodingLimits else {
                exchange.fail(.upstream(.badGateway, target: target.name, "Upstream session id or protocol version is too long to seal"), idJSON: requestIDJSON)
                return
            }
            let sessionID = exchange.runtime.sessionCodec.seal(state, route: context.route.identity)
            headers.add(name: "mcp-session-id", value: sessionID)
            exchange.noteSessionID(sessionID)
            exchange.services.metrics.sessionsCreated.increment()
        }
        var body = exchange.allocator.buffer(bytes: raw)
        if let filtered = exchange.filterResponse(message, raw: body) {
            body = exchange.allocator.buffer(bytes: filtered)
        }
        exchange.respond(status: status, headers: headers, body: body)
    }

    /// A non-2xx upstream answer. A 4xx whose body is a JSON-RPC error answering this request is the
    /// server's answer to the client's message: relayed with the upstream's status, after the filters'
    /// response hooks like any other answer (a redaction plugin sees it too). Anything else becomes a
    /// gateway error that names the target and the status only; the upstream's body goes to the log, never
    /// to the client (it may hold internal addresses, stack traces, credentials).
    private func relayUpstreamError(status: HTTPResponseStatus, body received: ByteBuffer) {
        if (400..<500).contains(status.code) {
            let parsed = received.withUnsafeReadableBytes { RPCMessage.parse($0) }
            if case .success(let candidate) = parsed, candidate.kind == .error {
                guard case let (message, body)? = purposeExpectsNoAnswer ? (candidate, received) : answer(in: candidate, raw: received) else {
                    exchange.fail(
                        .upstream(.badGateway, target: target.name, "Upstream '\(target.name)' answered with a response to another request"),
                        idJSON: requestIDJSON)
                    return
                }
                var out = body
                if !purposeExpectsNoAnswer, let filtered = exchange.filterResponse(message, raw: body) {
                    out = exchange.allocator.buffer(bytes: filtered)
                }
                exchange.respond(status: status, headers: MCPExchangeHandler.jsonHeaders(), body: out)
                return
            }
            logUpstreamBody(status: status, body: received)
            exchange.fail(GatewayError(status, code: -32600, "Upstream '\(target.name)' answered HTTP \(status.code)"), idJSON: requestIDJSON)
            return
        }
        logUpstreamBody(status: status, body: received)
        exchange.services.metrics.upstreamFailures.increment()
        exchange.fail(.upstream(.badGateway, target: target.name, "Upstream '\(target.name)' answered HTTP \(status.code)"), idJSON: requestIDJSON)
    }

    /// A notification or a client's response was sent: no JSON-RPC answer is awaited, so ids are not checked.
    private var purposeExpectsNoAnswer: Bool {
        if case .accepted = purpose { return true }
        return false
    }

    private func logUpstreamBody(status: HTTPResponseStatus, body: ByteBuffer) {
        exchange.logger.warning(
            "upstream answered with an error status",
            metadata: [
                "target": "\(target.name)", "status": "\(status.code)",
                "body": "\(String(decoding: body.readableBytesView.prefix(512), as: UTF8.self))",
            ])
    }
}

/// Classifies an upstream transport failure into the gateway's answer. The message names the target and
/// the kind of failure, nothing else: the error's own text (addresses, ports, errno, TLS library messages
/// with build paths) is in `detail`, for the log, and never reaches a client (attack report M4).
struct UpstreamFailure {
    var message: String
    var gatewayError: GatewayError
    /// The underlying error as text, for the log only.
    var detail: String

    init(_ error: any Error, target: String) {
        let text = String(describing: error)
        detail = text
        let upstreamError = error as? UpstreamError
        // Timeouts: no head in time or a silent body (`UpstreamError`), or no connection in time (NIO's
        // `connectTimeout`, possibly wrapped by the happy-eyeballs resolver, hence the text match).
        if upstreamError?.isTimeout == true || text.contains("connectTimeout") {
            message = "Upstream '\(target)' did not answer in time"
            gatewayError = .upstream(.gatewayTimeout, target: target, message)
        } else if case .redirectRefused? = upstreamError {
            message = "Upstream '\(target)' answered with a redirect the gateway does not follow"
            gatewayError = .upstream(.badGateway, target: target, message)
        } else {
            message = "Upstream '\(target)' is unreachable"
            gatewayError = .upstream(.badGateway, target: target, message)
        }
    }
}
