import NIOCore
import NIOHTTP1

/// One upstream connection that carries JSON-RPC messages both ways, one message per line: a stdio process
/// (`UpstreamStdioProcess`) or an upstream HTTP+SSE session (`UpstreamSSESession`). It frames and moves
/// messages; it never reads what they mean. Confined to `eventLoop`: every method is called there and every
/// callback runs there.
package protocol ChannelTransport: AnyObject {
    var eventLoop: any EventLoop { get }
    /// Every message the upstream sends, in order: one line, without its line end. The future returned (if
    /// any) holds further reading until it completes (backpressure).
    var onMessage: ((ByteBuffer) -> EventLoopFuture<Void>?)? { get set }
    /// Called once, when the transport is gone, with why (`close` passes its reason through).
    var onClosed: ((ChannelFailure) -> Void)? { get set }
    /// Sends one message: `line` holds no CR or LF. The future succeeds once the message is written (stdio) or
    /// accepted (an SSE POST answered 2xx); `headers` are the client's forwarded headers (SSE POSTs only).
    func send(_ line: ByteBuffer, headers: HTTPHeaders) -> EventLoopFuture<Void>
    /// Ends the transport (a process: stdin closed, then SIGTERM and SIGKILL to its group; an SSE session: its
    /// GET stopped). `onClosed` hears `reason` once the transport is gone. Idempotent.
    func close(_ reason: ChannelFailure)
}
