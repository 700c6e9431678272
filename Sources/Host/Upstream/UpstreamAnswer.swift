import NIOCore
import NIOHTTP1

/// What an upstream answered to one request, as `UpstreamAnswerReader` reports it: the transport's view
/// (status, content type, bytes, complete SSE events), never what the bytes mean. The reader reports, in
/// order, either one final answer (`json`, `accepted`, `lost`, `refused`, `failed`), or `stream`, any number of
/// `events`, then `streamEnded` or `failed`.
package enum UpstreamAnswer {
    /// A 2xx `application/json` body, whole, within the reader's `maxBodyBytes`.
    case json(ByteBuffer, upstreamSessionID: String?)
    /// A 2xx `text/event-stream` head: `events` follow as they complete.
    case stream(HTTPResponseStatus, upstreamSessionID: String?)
    /// Complete SSE events, raw bytes kept. The sink's returned future holds further reading (backpressure).
    case events([SSEEvent])
    /// The SSE stream ended (the upstream finished its response).
    case streamEnded
    /// 202, 204, or a 2xx with `Content-Length: 0`: nothing to relay.
    case accepted(HTTPResponseStatus, upstreamSessionID: String?)
    /// 404 to a request that carried an upstream session id: the upstream lost that session.
    case lost
    /// A non-2xx answer, or a 2xx whose content type is neither JSON nor SSE, with at most
    /// `maxRefusalBytes` of its body (for the log, or a JSON-RPC error a 4xx may carry).
    case refused(HTTPResponseStatus, contentType: String, body: ByteBuffer)
    /// No (complete) answer.
    case failed(UpstreamAnswerFailure)
}

/// Why the reader has no complete answer to report.
package enum UpstreamAnswerFailure: Error {
    /// The upstream client gave up: no connection, a timeout, the connection closed early, a refused redirect.
    case transport(any Error)
    /// A JSON body larger than `maxBodyBytes` (the request was stopped).
    case bodyTooLarge(limit: Int)
    /// An SSE event larger than `maxEventBytes` (the request was stopped).
    case eventTooLarge(limit: Int)
    /// The response ended before its head arrived.
    case noAnswer
}

/// The bounds the reader holds an answer to.
package struct UpstreamAnswerLimits: Sendable {
    /// The largest JSON body held whole.
    package var maxBodyBytes: Int
    /// The largest single SSE event.
    package var maxEventBytes: Int
    /// How much of a refused answer's body is kept.
    package var maxRefusalBytes: Int

    package init(maxBodyBytes: Int, maxEventBytes: Int, maxRefusalBytes: Int = 64 << 10) {
        self.maxBodyBytes = maxBodyBytes
        self.maxEventBytes = maxEventBytes
        self.maxRefusalBytes = maxRefusalBytes
    }
}
