import NIOCore
import NIOHTTP1

/// One keep-alive HTTP/1.1 connection to an upstream origin, the last handler of its pipeline
/// (`[TLS →] HTTP client codec → UpstreamConnection`). It writes one request at a time, forwards the
/// response parts to the task in order, and reads from the socket only while the task keeps up: the
/// channel runs with `autoRead` off and this handler calls `read()` only when no handler future is
/// pending, so a slow client throttles the upstream through TCP. After a complete response that allows
/// keep-alive it goes back to its loop's pool; otherwise (and always for a standing stream's own
/// connection) it closes.
///
/// `@unchecked Sendable`: confined to its channel's event loop (the loop of its pool and of every task it
/// serves).
package final class UpstreamConnection: ChannelInboundHandler, @unchecked Sendable {
    package typealias InboundIn = HTTPClientResponsePart
    package typealias OutboundOut = HTTPClientRequestPart

    /// The pool origin this connection belongs to.
    package let origin: String
    /// False for a standing stream's own connection: closed after its one response, never reused.
    package let pooled: Bool
    private let pool: UpstreamLoopPool
    private var context: ChannelHandlerContext?
    private var task: UpstreamTask?
    /// Requests started on this connection; above 1 it was reused from the pool.
    private var served = 0
    private var responseStarted = false
    private var reusable = true
    /// A handler future is pending: parts wait in `backlog` and the socket is not read.
    private var paused = false
    private var backlog = CircularBuffer<HTTPClientResponsePart>()
    private var bodyIdleTimer: Scheduled<Void>?
    private var closeError: (any Error)?
    /// The channel went inactive while parts were still queued behind a pending future.
    private var closedWithBacklog = false
    private(set) var isOpen = true
    /// When the connection went back to the idle list (for the pool's idle timeout).
    package var idleSince = NIODeadline.now()

    package init(origin: String, pool: UpstreamLoopPool, pooled: Bool) {
        self.origin = origin
        self.pool = pool
        self.pooled = pooled
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Writes `task`'s request (head, body, end) and starts reading the response.
    package func run(_ task: UpstreamTask) {
        guard isOpen, let context else {
            task.connectionFailed(closeError ?? UpstreamError.remoteConnectionClosed, retryable: served > 0)
            return
        }
        self.task = task
        served += 1
        responseStarted = false
        reusable = true
        let head = HTTPRequestHead(version: .http1_1, method: task.method, uri: task.target.path, headers: task.headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = task.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.read()
    }

    /// Detaches the task and closes the connection (cancellation, timeouts, a failed handler future).
    package func abort() {
        task = nil
        backlog.removeAll()
        bodyIdleTimer?.cancel()
        bodyIdleTimer = nil
        context?.close(promise: nil)
    }

    /// Closes an idle connection (idle timeout, shutdown).
    package func close() {
        context?.close(promise: nil)
    }

    /// Parked in the pool: keep a read pending so a close by the server is noticed while idle.
    package func parked() {
        context?.read()
    }

    // MARK: Inbound

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard task != nil else {
            // Bytes nobody asked for (on an idle connection, or after an abort): the connection is unusable.
            reusable = false
            context.close(promise: nil)
            return
        }
        responseStarted = true
        bodyIdleTimer?.cancel()
        bodyIdleTimer = nil
        if paused || !backlog.isEmpty {
            backlog.append(part)
        } else {
            deliver(part)
        }
    }

    package func channelReadComplete(context: ChannelHandlerContext) {
        readMoreIfReady()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeError == nil { closeError = error }
        reusable = false
        context.close(promise: nil)
    }

    package func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        bodyIdleTimer?.cancel()
        bodyIdleTimer = nil
        pool.connectionClosed(self)
        if paused && !backlog.isEmpty {
            // A body delimited by the close is complete in the backlog: deliver it as the handler catches up.
            closedWithBacklog = true
            return
        }
        failTask()
    }

    private func failTask() {
        guard let task else { return }
        self.task = nil
        // Retry only when nothing of a response arrived on a reused connection and the cause is the
        // connection, not a malformed answer: the server closed a pooled connection just as it was reused.
        let retryable = !responseStarted && served > 1 && !(closeError is HTTPParserError)
        task.connectionFailed(closeError ?? UpstreamError.remoteConnectionClosed, retryable: retryable)
    }

    // MARK: Delivery

    private func deliver(_ part: HTTPClientResponsePart) {
        guard let task else { return }
        switch part {
        case .head(let head):
            reusable = reusable && head.isKeepAlive && Self.isFramed(head)
            if let ready = task.responseHead(head) { pause(until: ready) }
        case .body(let buffer):
            if let ready = task.responseBody(buffer) { pause(until: ready) }
        case .end:
            self.task = nil
            if pooled && reusable && isOpen && backlog.isEmpty {
                pool.release(self)
            } else {
                context?.close(promise: nil)
            }
            task.responseEnd()
        }
    }

    private func pause(until ready: EventLoopFuture<Void>) {
        paused = true
        ready.whenComplete { [self] result in
            paused = false
            if case .failure(let error) = result {
                // The client side could not take the part: the request is over.
                task?.fail(error)
                return
            }
            while !paused, task != nil, let part = backlog.popFirst() { deliver(part) }
            if closedWithBacklog && backlog.isEmpty {
                failTask()
                return
            }
            readMoreIfReady()
        }
    }

    /// Asks the socket for more when a response is due and nothing waits for the handler.
    private func readMoreIfReady() {
        guard let task, !paused, backlog.isEmpty, isOpen, let context else { return }
        context.read()
        if responseStarted, let idle = task.idleTimeout, bodyIdleTimer == nil {
            bodyIdleTimer = context.eventLoop.scheduleTask(in: idle) { [self] in
                bodyIdleTimer = nil
                self.task?.fail(UpstreamError.readTimeout)
            }
        }
    }

    /// True when the response's end is known without the connection closing: a length, chunked coding, or
    /// a status that has no body.
    private static func isFramed(_ head: HTTPResponseHead) -> Bool {
        let code = head.status.code
        if (100..<200).contains(code) || code == 204 || code == 304 { return true }
        if head.headers.contains(name: "content-length") { return true }
        return head.headers[canonicalForm: "transfer-encoding"].contains { $0.lowercased() == "chunked" }
    }
}
