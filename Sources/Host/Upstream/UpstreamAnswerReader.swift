import NIOCore
import NIOHTTP1

/// The one reader of upstream answers: classifies the response head, holds a JSON body whole within its
/// bound, frames an SSE body into complete events (`SSEFramer`, raw bytes kept), keeps a bounded prefix of a
/// refused answer, and reports each step as an `UpstreamAnswer` to its sink. It knows nothing of JSON-RPC
/// or of who asked: the caller decides what an answer means.
///
/// After a final answer (anything but `stream` and `events`) the sink hears nothing more. `stop()` ends
/// the request from the caller's side: the upstream call is cancelled and the failure that cancelling
/// reports is not passed on.
///
/// Confined to the event loop the request was made on (every callback and `stop()` run there).
package final class UpstreamAnswerReader: UpstreamResponseHandler {
    /// Receives the answer's parts; the future it returns for `events` holds the next read.
    package typealias Sink = (UpstreamAnswer) -> EventLoopFuture<Void>?

    private enum Mode {
        case awaitingHead
        case json(ByteBuffer)
        case stream(SSEFramer)
        case refused(HTTPResponseStatus, contentType: String, body: ByteBuffer)
        case accepted(HTTPResponseStatus)
        case done
    }

    private let limits: UpstreamAnswerLimits
    private let sentSessionID: Bool
    private var sink: Sink?
    private var mode = Mode.awaitingHead
    private var upstreamSessionID: String?
    /// The request being read (set by `UpstreamClient.forward` right after it starts).
    package var call: UpstreamCall?

    /// `sentSessionID`: the request carried the upstream's session id (a 404 then means `lost`).
    package init(limits: UpstreamAnswerLimits, sentSessionID: Bool, sink: @escaping Sink) {
        self.limits = limits
        self.sentSessionID = sentSessionID
        self.sink = sink
    }

    /// True once the sink heard its last answer (or the caller stopped the reader).
    package var finished: Bool { sink == nil }

    /// True while a stream's framer holds part of an event.
    package var midEvent: Bool {
        if case .stream(let framer) = mode { return framer.pendingBytes > 0 }
        return false
    }

    /// Stops reading: cancels the request; the sink hears nothing more.
    package func stop() {
        mode = .done
        sink = nil
        call?.cancel()
    }

    // MARK: UpstreamResponseHandler

    package func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        upstreamSessionID = head.headers.first(name: "mcp-session-id")
        let status = head.status
        let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
        if status == .notFound && sentSessionID {
            return finish(.lost)
        }
        guard (200..<300).contains(status.code) else {
            mode = .refused(status, contentType: contentType, body: ByteBuffer())
            return nil
        }
        if status == .accepted || status == .noContent {
            mode = .accepted(status)
        } else if contentType.hasPrefix("text/event-stream") {
            mode = .stream(SSEFramer(maxEventBytes: limits.maxEventBytes))
            return sink?(.stream(status, upstreamSessionID: upstreamSessionID))
        } else if contentType.hasPrefix("application/json") {
            mode = .json(ByteBuffer())
        } else if head.headers.first(name: "content-length") == "0" {
            mode = .accepted(status)
        } else {
            mode = .refused(status, contentType: contentType, body: ByteBuffer())
        }
        return nil
    }

    package func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        switch mode {
        case .json(var body):
            mode = .done
            guard body.readableBytes + buffer.readableBytes <= limits.maxBodyBytes else {
                return stopWith(.bodyTooLarge(limit: limits.maxBodyBytes))
            }
            var buffer = buffer
            body.writeBuffer(&buffer)
            mode = .json(body)
            return nil
        case .refused(let status, let contentType, var body):
            mode = .done
            if body.readableBytes < limits.maxRefusalBytes {
                var part =
                    buffer.getSlice(at: buffer.readerIndex, length: min(buffer.readableBytes, limits.maxRefusalBytes - body.readableBytes))
                    ?? ByteBuffer()
                body.writeBuffer(&part)
            }
            mode = .refused(status, contentType: contentType, body: body)
            return nil
        case .stream(var framer):
            mode = .done
            let events: [SSEEvent]
            do {
                events = try framer.feed(buffer)
            } catch {
                return stopWith(.eventTooLarge(limit: limits.maxEventBytes))
            }
            mode = .stream(framer)
            guard !events.isEmpty else { return nil }
            return sink?(.events(events))
        case .awaitingHead, .accepted, .done:
            return nil
        }
    }

    package func upstreamEnd() {
        let ended = mode
        mode = .done
        switch ended {
        case .json(let body): _ = finish(.json(body, upstreamSessionID: upstreamSessionID))
        case .stream: _ = finish(.streamEnded)
        case .refused(let status, let contentType, let body): _ = finish(.refused(status, contentType: contentType, body: body))
        case .accepted(let status): _ = finish(.accepted(status, upstreamSessionID: upstreamSessionID))
        case .awaitingHead: _ = finish(.failed(.noAnswer))
        case .done: break
        }
    }

    package func upstreamFailed(_ error: any Error) {
        mode = .done
        _ = finish(.failed(.transport(error)))
    }

    // MARK: Private

    /// Reports the last answer.
    private func finish(_ answer: UpstreamAnswer) -> EventLoopFuture<Void>? {
        mode = .done
        guard let sink else { return nil }
        self.sink = nil
        return sink(answer)
    }

    /// Stops a request whose answer is over a bound, and reports why.
    private func stopWith(_ failure: UpstreamAnswerFailure) -> EventLoopFuture<Void>? {
        let sink = self.sink
        stop()
        _ = sink?(.failed(failure))
        return nil
    }
}
