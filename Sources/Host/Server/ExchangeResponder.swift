import NIOCore
import NIOHTTP1

/// What an exchange may do to answer its client. Every method must be called on the connection's event
/// loop; each exchange answers exactly once (`respond`, or `startStream` … `endStream`); calls past that
/// are ignored (`ClientResponse`).
protocol ExchangeResponder: AnyObject {
    var isConnected: Bool { get }
    var allocator: ByteBufferAllocator { get }
    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?)
    func respond(_ error: GatewayError, idJSON: String)
    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders)
    /// Writes and flushes one part; the future completes when it reached the socket (nil: client gone).
    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>?
    func endStream()
}

/// One client HTTP request, read whole within the limits.
struct ExchangeRequest {
    var head: HTTPRequestHead
    var body: ByteBuffer
    var bindPort: Int
    var remoteAddress: SocketAddress?
}
