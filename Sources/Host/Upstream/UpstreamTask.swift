import Logging
import NIOCore
import NIOHTTP1

/// One upstream request from `execute` to its last callback: it owns the handler, the time-to-head
/// deadline, the redirects (`RedirectPolicy`) and the one retry a stale pooled connection earns, and it
/// asks its loop's pool for a connection for each attempt. A standing stream (`ownConnection`, a GET) gets
/// a connection of its own, outside the pool's per-endpoint limit, so streams never starve requests.
///
/// `@unchecked Sendable`: confined to `eventLoop` (the exchange's, which is also the loop of every
/// connection it runs on); only `cancel()` may be called from elsewhere, and it hops.
package final class UpstreamTask: UpstreamCancellable, @unchecked Sendable {
    package let eventLoop: any EventLoop
    private let pool: UpstreamLoopPool
    private(set) var target: UpstreamTarget
    package let method: HTTPMethod
    private(set) var headers: HTTPHeaders
    package let body: ByteBuffer?
    /// The longest silence on the response body (nil: none).
    package let idleTimeout: TimeAmount?
    /// A long-lived stream: it runs on a connection opened for it and closed after it, never pooled.
    package let ownConnection: Bool
    private let redirectPolicy: RedirectPolicy
    private let logger: Logger
    private var handler: (any UpstreamResponseHandler)?
    private var deadline: Scheduled<Void>?
    /// The connection the current attempt runs on.
    private var connection: UpstreamConnection?
    /// Set while a 307/308 body is drained before the request goes to `redirect`.
    private var redirect: (target: UpstreamTarget, crossOrigin: Bool)?
    private var redirects = 0
    private var retried = false
    /// Where this request is counted (`EndpointHealth`), and whether its answer is an open stream there.
    private let health: EndpointHealth?
    private var countedStream = false

    package init(
        target: UpstreamTarget, request: UpstreamRequest, eventLoop: any EventLoop, pool: UpstreamLoopPool,
        idleTimeout: TimeAmount?, ownConnection: Bool, logger: Logger, handler: any UpstreamResponseHandler
    ) {
        self.eventLoop = eventLoop
        self.pool = pool
        self.target = target
        self.method = request.method
        self.body = request.body
        self.idleTimeout = idleTimeout
        self.ownConnection = ownConnection
        self.redirectPolicy = request.endpoint.redirects
        self.logger = logger
        self.handler = handler
        self.health = request.endpoint.health
        self.headers = request.headers
        Self.addFraming(to: &headers, target: target, body: request.body, method: request.method)
    }

    /// True once the handler got its last callback (or the request was cancelled).
    package var finished: Bool { handler == nil }

    /// Arms the time-to-head deadline and asks for a connection.
    package func start(requestTimeout: TimeAmount) {
        health?.started()
        deadline = eventLoop.scheduleTask(in: requestTimeout) { [self] in fail(UpstreamError.deadlineExceeded) }
        pool.acquire(for: self, fresh: false)
    }

    /// Called by the pool: run the current attempt on `connection`.
    package func attach(_ connection: UpstreamConnection) {
        guard !finished else {
            pool.release(connection)
            return
        }
        self.connection = connection
        connection.run(self)
    }

    // MARK: Response (called by the connection)

    package func responseHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        if (300..<400).contains(head.status.code) {
            switch redirectPolicy.decide(
                status: head.status, location: head.headers.first(name: "location"), from: target, followed: redirects)
            {
            case .follow(let next, let crossOrigin):
                redirect = (next, crossOrigin)
            case .refuse(let reason):
                fail(UpstreamError.redirectRefused(reason))
            }
            return nil
        }
        deadline?.cancel()
        deadline = nil
        if let health, handler != nil {
            countedStream = health.answered(method: method, requestHadSession: headers.contains(name: "mcp-session-id"), head: head)
        }
        return handler?.upstreamHead(head)
    }

    package func responseBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard redirect == nil else { return nil }
        return handler?.upstreamBody(buffer)
    }

    /// The response is complete; the connection was already handed back (or closed).
    package func responseEnd() {
        connection = nil
        if let next = redirect {
            redirect = nil
            follow(next.target, crossOrigin: next.crossOrigin)
            return
        }
        guard let handler else { return }
        self.handler = nil
        health?.ended(stream: countedStream, failure: nil)
        handler.upstreamEnd()
    }

    /// The connection closed or failed under the current attempt. `retryable`: nothing of a response had
    /// arrived on a connection that had served before, so the server most likely closed it while it sat
    /// idle in the pool and never processed this request; that earns one attempt on a fresh connection.
    package func connectionFailed(_ error: any Error, retryable: Bool) {
        connection = nil
        guard !finished else { return }
        if retryable && !retried {
            retried = true
            pool.acquire(for: self, fresh: true)
            return
        }
        fail(error)
    }

    /// Ends the request with `error` unless the handler already finished; closes its connection. The error's
    /// detail is logged here, the one place every failure passes: clients only learn its kind.
    package func fail(_ error: any Error) {
        deadline?.cancel()
        deadline = nil
        if let connection {
            self.connection = nil
            connection.abort()
        }
        guard let handler else { return }
        self.handler = nil
        let routine = error as? UpstreamError == .cancelled || (ownConnection && error as? UpstreamError == .readTimeout)
        health?.ended(stream: countedStream, failure: routine ? nil : error)
        switch error as? UpstreamError {
        case .cancelled?:
            break  // the exchange's own decision, already accounted for
        case .readTimeout? where ownConnection:
            // An idle standing stream ending is routine: the client reconnects.
            logger.debug("upstream stream idle, ended", metadata: ["url": "\(target.url)"])
        default:
            logger.warning("upstream request failed", metadata: ["method": "\(method)", "url": "\(target.url)", "error": "\(error)"])
        }
        handler.upstreamFailed(error)
    }

    /// `UpstreamCall.cancel()`: from any thread.
    package func cancel() {
        if eventLoop.inEventLoop {
            fail(UpstreamError.cancelled)
        } else {
            eventLoop.execute { [self] in fail(UpstreamError.cancelled) }
        }
    }

    // MARK: Redirects

    private func follow(_ next: UpstreamTarget, crossOrigin: Bool) {
        guard !finished else { return }
        redirects += 1
        if crossOrigin { headers = UpstreamHeaders.forOtherOrigin(headers) }
        target = next
        Self.addFraming(to: &headers, target: next, body: body, method: method)
        pool.acquire(for: self, fresh: false)
    }

    private static func addFraming(to headers: inout HTTPHeaders, target: UpstreamTarget, body: ByteBuffer?, method: HTTPMethod) {
        headers.replaceOrAdd(name: "host", value: target.hostHeader)
        if let body {
            headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if method == .POST || method == .PUT {
            headers.replaceOrAdd(name: "content-length", value: "0")
        }
    }
}
