import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The gateway's HTTP client towards MCP servers: pooled keep-alive connections per endpoint, bounded
/// connect and time-to-head timeouts, an idle limit on response bodies, no decompression. Up to three
/// redirects are followed with method and body kept on 307/308 (an endpoint written `…/mcp/` reaches a server
/// that serves `…/mcp`, as the official SDK's does with a 307); credentials are dropped across origins.
///
/// Every call runs its callbacks on the event loop of the client exchange that made it. Thread-safe; one
/// instance per gateway.
final class UpstreamClient: Sendable {
    /// For POST and DELETE: the body idle limit is `streamIdleTimeout`.
    private let requests: HTTPClient
    /// For GET streams: no idle limit (a quiet server stream is normal); the gateway keeps the client side alive.
    private let streams: HTTPClient
    private let settings: UpstreamSettings

    init(eventLoopGroup: any EventLoopGroup, settings: UpstreamSettings) {
        self.settings = settings
        func configuration(read: TimeAmount?) -> HTTPClient.Configuration {
            var configuration = HTTPClient.Configuration(
                redirectConfiguration: .follow(max: 3, allowCycles: false),
                timeout: .init(connect: .init(settings.connectTimeout), read: read),
                connectionPool: .init(
                    idleTimeout: .init(settings.poolIdleTimeout),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maxConnectionsPerEndpoint),
                decompression: .disabled)
            configuration.httpVersion = .automatic
            return configuration
        }
        self.requests = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration(read: .init(settings.streamIdleTimeout)))
        self.streams = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration(read: nil))
    }

    /// Sends one request. Callbacks reach `handler` on `eventLoop`; the returned call can be cancelled
    /// (which closes the upstream connection if the response is still arriving).
    func execute(
        _ request: UpstreamRequest,
        on eventLoop: any EventLoop,
        handler: any UpstreamResponseHandler
    ) -> UpstreamCall {
        let delegate = UpstreamDelegate(handler: handler, eventLoop: eventLoop)
        do {
            let httpRequest = try HTTPClient.Request(
                url: request.endpoint.foundationURL,
                method: request.method,
                headers: request.headers,
                body: request.body.map { .byteBuffer($0) })
            let client = request.method == .GET ? streams : requests
            let task = client.execute(
                request: httpRequest,
                delegate: delegate,
                // `.delegate`, not `.delegateAndChannel`: AsyncHTTPClient serves a request that *requires* an
                // event loop with an "overflow" connection it closes afterwards, so requiring ours would open a
                // new upstream connection per request. Preferring it reuses pooled keep-alive connections.
                eventLoop: .delegate(on: eventLoop),
                deadline: .now() + .init(settings.requestTimeout))
            return UpstreamCall(task: task)
        } catch {
            eventLoop.execute { delegate.fail(error) }
            return UpstreamCall(task: nil)
        }
    }

    /// Closes every pooled connection.
    func shutdown() async {
        try? await requests.shutdown()
        try? await streams.shutdown()
    }
}

/// One request to an upstream endpoint.
struct UpstreamRequest {
    var endpoint: ResolvedEndpoint
    var method: HTTPMethod
    var headers: HTTPHeaders
    var body: ByteBuffer?
}

/// A handle on an upstream request in flight.
struct UpstreamCall {
    fileprivate let task: HTTPClient.Task<Void>?

    /// Stops the request; the handler gets `upstreamFailed` unless it already finished.
    func cancel() {
        task?.cancel()
    }
}

/// Receives one upstream response. Every method is called on the exchange's event loop, in order:
/// `upstreamHead`, any number of `upstreamBody`, then exactly one of `upstreamEnd` / `upstreamFailed`
/// (`upstreamFailed` may also come first, when no response arrived at all).
protocol UpstreamResponseHandler: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>?
    /// Returns a future that completes when the next part may be delivered (backpressure).
    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>?
    func upstreamEnd()
    func upstreamFailed(_ error: any Error)
}

/// Adapts AsyncHTTPClient's delegate to `UpstreamResponseHandler`.
///
/// `@unchecked Sendable`: AsyncHTTPClient calls it only on `eventLoop` (`.delegateAndChannel`), and every
/// mutable field is touched only there.
private final class UpstreamDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void

    private var handler: (any UpstreamResponseHandler)?
    private let eventLoop: any EventLoop

    init(handler: any UpstreamResponseHandler, eventLoop: any EventLoop) {
        self.handler = handler
        self.eventLoop = eventLoop
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        handler?.upstreamHead(head) ?? eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        handler?.upstreamBody(buffer) ?? eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        fail(error)
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let handler = self.handler
        self.handler = nil
        handler?.upstreamEnd()
    }

    func fail(_ error: any Error) {
        let handler = self.handler
        self.handler = nil
        handler?.upstreamFailed(error)
    }
}

/// An upstream endpoint with what the hot path needs precomputed at load: the parsed URL and the
/// `Host` value.
struct ResolvedEndpoint: Sendable {
    var endpoint: UpstreamEndpoint
    let foundationURL: URL

    init?(_ endpoint: UpstreamEndpoint) {
        guard let url = URL(string: endpoint.url) else { return nil }
        self.endpoint = endpoint
        self.foundationURL = url
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
