import NIOCore
import NIOHTTP1

/// One request's answer to its client: a whole response (`respond`), or a stream (`startStream`, any number of
/// `writeStream`, then `endStream`). It writes at most one answer, in that order, and only while its connection is
/// still serving its request: a call after the answer ended, or after the connection moved on to the next
/// request or closed, does nothing. So no logic slip of an exchange or a relay can write to a client outside its
/// own response (the attack run's C1: a body part and `.end` after a complete response aborted the process).
///
/// Created by `MCPExchangeHandler` per request; confined to the connection's event loop; not `Sendable`.
final class ClientResponse: ExchangeResponder {
    /// Where the answer is.
    enum Phase: Equatable {
        /// Nothing written yet.
        case pending
        /// A stream head was written; parts may follow until `endStream`.
        case streaming
        /// The answer is complete (or can no longer be written); every further call is ignored.
        case ended
    }

    private(set) var phase = Phase.pending
    private weak var connection: MCPExchangeHandler?
    /// Which request of the connection this answers (the connection serves one at a time).
    let sequence: UInt64

    init(connection: MCPExchangeHandler, sequence: UInt64) {
        self.connection = connection
        self.sequence = sequence
    }

    /// The connection, if it is still serving this response's request.
    private var current: MCPExchangeHandler? {
        guard let connection, connection.isServing(self) else { return nil }
        return connection
    }

    var isConnected: Bool { current?.isActive ?? false }

    var allocator: ByteBufferAllocator { connection?.allocator ?? ByteBufferAllocator() }

    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        guard phase == .pending else { return }
        phase = .ended
        current?.writeWhole(status: status, headers: headers, body: body)
    }

    func respond(_ error: GatewayError, idJSON: String) {
        var buffer = allocator.buffer(capacity: 128)
        buffer.writeString(error.body(idJSON: idJSON))
        respond(status: error.status, headers: HTTPHeaders.json(extra: error.headers), body: buffer)
    }

    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard phase == .pending else { return }
        guard let connection = current else {
            phase = .ended
            return
        }
        phase = .streaming
        connection.writeStreamHead(status: status, headers: headers)
    }

    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard phase == .streaming, let connection = current else { return nil }
        return connection.writeStreamPart(buffer)
    }

    func endStream() {
        guard phase == .streaming else { return }
        phase = .ended
        current?.writeStreamEnd()
    }
}
