import Logging
import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// Answers an exchange on a client's HTTP+SSE stream (`LegacySSEStream`) instead of on its own connection, which
/// has already been answered 202. What the exchange would have sent over Streamable HTTP becomes `event: message`
/// events: a JSON body is one event; a stream's events are re-framed one by one, without their `id:` and `retry:`
/// fields (the legacy stream cannot be resumed), priming events (empty data) are dropped, comments kept. The HTTP
/// status is dropped, since the JSON-RPC error carries the meaning and the SDK's `sse_client` cannot take a non-2xx
/// answer after the 202 anyway; a body that is not JSON (none is made for a POST past its head) is dropped with a
/// debug log.
///
/// A `mcp-session-id` in an answer's head (an `initialize` that opened a session, single or federated) is adopted by
/// the stream: it is how the session id travels on this transport (`SessionCarrier.legacyStream`).
///
/// Writes whole events only, so the stream's keep-alive comments never split one. Confined to the stream's event
/// loop, like the exchange it answers for; answers at most once, in order, like `ClientResponse`.
final class LegacySSEResponder: ExchangeResponder {
    enum Role {
        /// A handed-off POST: its answer becomes events; its head may carry the session id `initialize` sealed.
        case message
        /// A relay of the members' standalone streams: only stream events go out; a whole answer (an upstream's
        /// refusal) is dropped, and the relay's end never ends the client's stream.
        case standaloneRelay
    }

    private let stream: LegacySSEStream
    private let role: Role
    private var phase = ClientResponse.Phase.pending

    init(stream: LegacySSEStream, role: Role) {
        self.stream = stream
        self.role = role
    }

    var isConnected: Bool { stream.isOpen }

    var allocator: ByteBufferAllocator { stream.allocator }

    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        guard phase == .pending else { return }
        phase = .ended
        guard case .message = role else {
            stream.owner.logger.debug("standalone stream relay not opened", metadata: ["status": "\(status.code)"])
            return
        }
        if let sessionToken = headers.first(name: "mcp-session-id") { stream.adopt(sessionToken: sessionToken) }
        guard let body, body.readableBytes > 0 else { return }
        let contentType = headers.first(name: "content-type")?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            stream.owner.logger.debug("dropping a non-JSON answer on an HTTP+SSE stream", metadata: ["content-type": "\(contentType)"])
            return
        }
        var event = allocator.buffer(capacity: body.readableBytes + 32)
        Self.writeMessageEvent(body.readableBytesView, to: &event)
        _ = stream.write(event)
    }

    func respond(_ error: GatewayError, idJSON: String) {
        var buffer = allocator.buffer(capacity: 128)
        buffer.writeString(error.body(idJSON: idJSON))
        respond(status: error.status, headers: HTTPHeaders.json(extra: error.headers), body: buffer)
    }

    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard phase == .pending else { return }
        phase = .streaming
    }

    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard phase == .streaming, stream.isOpen else { return nil }
        // Relays write whole events, so a fresh framer sees each of them complete.
        var framer = SSEFramer(maxEventBytes: .max, allocator: allocator)
        let events = (try? framer.feed(buffer)) ?? []
        var out = allocator.buffer(capacity: buffer.readableBytes + 16 * events.count)
        for event in events {
            if let data = event.data {
                guard data.readableBytes > 0 else { continue }  // a priming event
                Self.writeMessageEvent(data.readableBytesView, to: &out)
            } else if event.isEmpty {
                var raw = event.raw  // a comment
                out.writeBuffer(&raw)
            }
        }
        guard out.readableBytes > 0 else { return stream.eventLoop.makeSucceededVoidFuture() }
        return stream.write(out)
    }

    func endStream() {
        guard phase == .streaming else { return }
        phase = .ended
    }

    /// `event: message` with `data` split into one `data:` line per line (a client joins them back with `\n`, which
    /// JSON reads as whitespace wherever a raw line break could stand).
    static func writeMessageEvent(_ data: some Collection<UInt8>, to out: inout ByteBuffer) {
        out.writeString("event: message\n")
        var lineStart = data.startIndex
        var index = data.startIndex
        var afterCarriageReturn = false
        while index != data.endIndex {
            let byte = data[index]
            if byte == UInt8(ascii: "\n") && afterCarriageReturn {
                lineStart = data.index(after: index)  // the second half of a CRLF
            } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                out.writeString("data: ")
                out.writeBytes(data[lineStart..<index])
                out.writeString("\n")
                lineStart = data.index(after: index)
            }
            afterCarriageReturn = byte == UInt8(ascii: "\r")
            index = data.index(after: index)
        }
        out.writeString("data: ")
        out.writeBytes(data[lineStart..<data.endIndex])
        out.writeString("\n\n")
    }
}
