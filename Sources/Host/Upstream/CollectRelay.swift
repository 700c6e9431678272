import NIOCore
import NIOHTTP1

/// Collects one upstream's final response to a request the gateway fanned out (initialize, list methods,
/// `logging/setLevel` on a federated route), whether the upstream answered JSON or SSE. What else arrives
/// on an SSE answer (notifications, server requests) is handed to `onEvent`.
///
/// Confined to the exchange's event loop.
final class CollectRelay: UpstreamResponseHandler {
    private enum Mode {
        case awaitingHead
        case json(ByteBuffer)
        case sse(SSEFramer)
        case error(HTTPResponseStatus, ByteBuffer)
        case done
    }

    private let requestIDJSON: String
    private let target: String
    private let sentSessionID: Bool
    private let limits: Limits
    private let onEvent: (RPCMessage) -> Void
    private var completion: ((UpstreamOutcome) -> Void)?
    private var mode = Mode.awaitingHead
    private var upstreamSessionID: String?
    /// Set by the fan-out so a finished collection can stop reading an SSE stream the upstream keeps open.
    var call: UpstreamCall?

    init(requestIDJSON: String, target: String, sentSessionID: Bool, limits: Limits, onEvent: @escaping (RPCMessage) -> Void, completion: @escaping (UpstreamOutcome) -> Void) {
        self.requestIDJSON = requestIDJSON
        self.target = target
        self.sentSessionID = sentSessionID
        self.limits = limits
        self.onEvent = onEvent
        self.completion = completion
    }

    private func complete(_ outcome: UpstreamOutcome) {
        mode = .done
        let completion = self.completion
        self.completion = nil
        completion?(outcome)
    }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        upstreamSessionID = head.headers.first(name: "mcp-session-id")
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        if head.status == .notFound && sentSessionID {
            complete(.sessionLost)
        } else if head.status == .accepted || head.status == .noContent {
            complete(.accepted)
        } else if !(200..<300).contains(head.status.code) {
            mode = .error(head.status, ByteBuffer())
        } else if contentType.hasPrefix("text/event-stream") {
            mode = .sse(SSEFramer(maxEventBytes: limits.maxSseEventBytes))
        } else if contentType.hasPrefix("application/json") {
            mode = .json(ByteBuffer())
        } else {
            complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' answered HTTP \(head.status.code) without a JSON-RPC response")))
        }
        return nil
    }

    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        switch mode {
        case .json(var body):
            mode = .done
            guard body.readableBytes + buffer.readableBytes <= limits.maxResponseBodyBytes else {
                complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' response exceeds \(limits.maxResponseBodyBytes) bytes")))
                call?.cancel()
                return nil
            }
            var buffer = buffer
            body.writeBuffer(&buffer)
            mode = .json(body)
        case .error(let status, var body):
            mode = .done
            var buffer = buffer
            if body.readableBytes < 4096 { body.writeBuffer(&buffer) }
            mode = .error(status, body)
        case .sse(var framer):
            mode = .done
            let events: [SSEEvent]
            do {
                events = try framer.feed(buffer)
            } catch {
                complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' SSE event exceeds \(limits.maxSseEventBytes) bytes")))
                call?.cancel()
                return nil
            }
            mode = .sse(framer)
            for event in events {
                guard let data = event.data, case .success(let message) = data.withUnsafeReadableBytes({ RPCMessage.parse($0) }) else { continue }
                if answers(message) {
                    complete(.response(message, upstreamSessionID: upstreamSessionID))
                    call?.cancel()
                    return nil
                }
                onEvent(message)
            }
        case .awaitingHead, .done:
            break
        }
        return nil
    }

    func upstreamEnd() {
        switch mode {
        case .json(let body):
            let parsed = body.withUnsafeReadableBytes { RPCMessage.parse($0) }
            if case .success(let message) = parsed, message.kind == .result || message.kind == .error {
                if answers(message) {
                    complete(.response(message, upstreamSessionID: upstreamSessionID))
                } else {
                    complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' answered with a response to another request")))
                }
            } else {
                complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' answered with a body that is not a JSON-RPC response")))
            }
        case .error(let status, let body):
            let parsed = body.withUnsafeReadableBytes { RPCMessage.parse($0) }
            if case .success(let message) = parsed, message.kind == .error, answers(message) {
                complete(.response(message, upstreamSessionID: upstreamSessionID))
            } else {
                complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' answered HTTP \(status.code)")))
            }
        case .sse, .awaitingHead:
            complete(.failed(.upstream(.badGateway, target: target, "Upstream '\(target)' ended its answer without a response")))
        case .done:
            break
        }
    }

    /// Whether `message` answers the request: a response with its id, or an error with `"id": null` (the
    /// upstream could not read the id; a POST's answer can only concern the message POSTed).
    private func answers(_ message: RPCMessage) -> Bool {
        guard message.kind == .result || message.kind == .error else { return false }
        if message.idJSON == requestIDJSON { return true }
        return message.kind == .error && (message.id?.isNull ?? true)
    }

    func upstreamFailed(_ error: any Error) {
        guard completion != nil else { return }
        complete(.failed(UpstreamFailure(error, target: target).gatewayError))
    }
}
