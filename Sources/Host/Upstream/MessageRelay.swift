import CJansson
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
                mode = .done
                exchange.fail(GatewayError(.serviceUnavailable, code: -32603, "Too many open streams"), idJSON: requestIDJSON)
                exchange.upstreamCall?.cancel()
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
                giveUp(.upstream(.badGateway, target: target.name, "Upstream response exceeds \(limits.maxResponseBodyBytes) bytes"))
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
                mode = .sse(framer)
                giveUp(.upstream(.badGateway, target: target.name, "Upstream SSE event exceeds \(limits.maxSseEventBytes) bytes"))
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
                exchange.fail(.upstream(.badGateway, target: target.name, "Upstream ended the initialize stream without a response"), idJSON: requestIDJSON)
            } else {
                endStream(reason: "Upstream ended the stream before the response")
            }
        case .upstreamError(let status, let body):
            mode = .done
            relayUpstreamError(status: status, body: body)
        case .accepted(let status):
            mode = .done
            exchange.respond(status: status == .noContent ? .accepted : status, headers: HTTPHeaders(), body: nil)
        case .awaitingHead:
            mode = .done
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream sent no response"), idJSON: requestIDJSON)
        case .done:
            break
        }
    }

    func upstreamFailed(_ error: any Error) {
        let previous = mode
        mode = .done
        guard !exchange.clientGone else { return }
        exchange.services.metrics.upstreamFailures.increment()
        let failure = UpstreamFailure(error, target: target.name)
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
            let message = data.withUnsafeReadableBytes { RPCMessage.parse($0) }
            guard case .success(let message) = message, message.kind == .result || message.kind == .error, message.idJSON == requestIDJSON else {
                let parsed = try? message.get()
                guard exchange.filterEvent(event, message: parsed) else { continue }
                if let parsed, let rewriteEvent, rewriteEvent(parsed) {
                    var encoded = SSEEvent.encode(data: parsed.document.serialized(), eventType: event.eventType ?? "message", id: event.id, allocator: exchange.allocator)
                    out.writeBuffer(&encoded)
                } else {
                    var raw = event.raw
                    out.writeBuffer(&raw)
                }
                continue
            }
            sawResponse = true
            if case .initialize = purpose {
                mode = .done
                finishInitialize(message, raw: Array(data.readableBytesView), status: .ok)
                exchange.upstreamCall?.cancel()
                return nil
            }
            var replacement = inspect?(message)
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
            exchange.upstreamCall?.cancel()
            return nil
        }
        if sawResponse && !responseBefore {
            written.assumeIsolated().whenSuccess { [exchange] in exchange.noteResponseDelivered() }
        }
        return written
    }

    /// Ends the client's stream; if the response never came and the stream cannot be resumed (no event
    /// ids), the client gets a JSON-RPC error for its request instead of waiting forever.
    private func endStream(reason: String) {
        guard exchange.answered else {
            exchange.fail(.upstream(.badGateway, target: target.name, reason), idJSON: requestIDJSON)
            return
        }
        if !sawResponse && !sawEventIDs && !exchange.clientGone {
            let error = GatewayError.upstream(.badGateway, target: target.name, reason)
            _ = exchange.writeStream(SSEEvent.encode(data: Array(error.body(idJSON: requestIDJSON).utf8), allocator: exchange.allocator))
        }
        exchange.endStream()
    }

    private func giveUp(_ error: GatewayError) {
        mode = .done
        exchange.upstreamCall?.cancel()
        if exchange.answered {
            endStream(reason: error.message)
        } else {
            exchange.fail(error, idJSON: requestIDJSON)
        }
    }

    private func finishJSON(_ body: ByteBuffer) {
        let parsed = body.withUnsafeReadableBytes { RPCMessage.parse($0) }
        guard case .success(let message) = parsed, message.kind == .result || message.kind == .error else {
            exchange.fail(.upstream(.badGateway, target: target.name, "Upstream answered with a body that is not a JSON-RPC response"), idJSON: requestIDJSON)
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

    /// A non-2xx upstream answer: 4xx with a JSON-RPC body is relayed as is (it is the server's answer to
    /// the client's message); anything else becomes a gateway error naming the target.
    private func relayUpstreamError(status: HTTPResponseStatus, body: ByteBuffer) {
        if (400..<500).contains(status.code) {
            let parsed = body.withUnsafeReadableBytes { RPCMessage.parse($0) }
            if case .success(let message) = parsed, message.kind == .error {
                exchange.respond(status: status, headers: MCPExchangeHandler.jsonHeaders(), body: body)
                return
            }
            let text = String(decoding: body.readableBytesView.prefix(512), as: UTF8.self)
            exchange.fail(GatewayError(status, code: -32600, text.isEmpty ? "Upstream refused the request (\(status.code))" : text), idJSON: requestIDJSON)
            return
        }
        exchange.services.metrics.upstreamFailures.increment()
        exchange.fail(.upstream(.badGateway, target: target.name, "Upstream answered HTTP \(status.code)"), idJSON: requestIDJSON)
    }
}

/// Classifies an upstream transport failure into the gateway's answer.
struct UpstreamFailure {
    var message: String
    var gatewayError: GatewayError

    init(_ error: any Error, target: String) {
        let text = String(describing: error)
        // Timeouts: no head in time or a silent body (`UpstreamError`), or no connection in time (NIO's
        // `connectTimeout`, possibly wrapped by the happy-eyeballs resolver, hence the text match).
        if (error as? UpstreamError)?.isTimeout == true || text.contains("connectTimeout") {
            message = "Upstream '\(target)' did not answer in time (\(text))"
            gatewayError = .upstream(.gatewayTimeout, target: target, message)
        } else {
            message = "Upstream '\(target)' is unreachable (\(text))"
            gatewayError = .upstream(.badGateway, target: target, message)
        }
    }
}
