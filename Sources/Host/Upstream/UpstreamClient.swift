import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus

/// The gateway's HTTP/1.1 client towards MCP servers, built from SwiftNIO handlers: keep-alive connection
/// pools per event loop and origin (`UpstreamLoopPool`), one request at a time per connection
/// (`UpstreamConnection`), bounded connect and time-to-head timeouts, an idle limit (`streamIdleTimeout`)
/// on every response body, no decompression. Up to three 307/308 redirects are followed with method and body
/// kept (an endpoint written `…/mcp/` reaches a server that serves `…/mcp`, as the official SDK's does with a
/// 307), within `RedirectPolicy`: same origin, or an origin the target lists; other 3xx answers fail.
///
/// GET requests are standing streams (an MCP server's channel to one client, open as long as the client
/// stays): each runs on a connection of its own, outside `maxConnectionsPerEndpoint`, so that clients holding
/// streams can never take every pooled connection from requests (attack report H4). Their number is bounded
/// by the client streams the exchanges admit (`maxOpenStreams`), and an idle one ends after `streamIdleTimeout`
/// (keep-alive comments count as traffic).
///
/// A request runs on a connection of the event loop it was made on, so every callback comes on the
/// exchange's loop with no thread hop and no lock on the way. Thread-safe; one instance per gateway.
package final class UpstreamClient: Sendable {
    private let settings: UpstreamSettings
    private let poolSettings: UpstreamLoopPool.Settings
    /// One pool per loop of the group, built at init and never changed: looked up without a lock.
    private let pools: [ObjectIdentifier: UpstreamLoopPool]
    /// Pools of loops outside the group (not used by the gateway itself; created on first use).
    private let foreignPools = NIOLockedValueBox<[ObjectIdentifier: UpstreamLoopPool]>([:])
    private let logger: Logger
    /// The loops requests run on.
    package let eventLoopGroup: any EventLoopGroup

    /// `poolWaits` counts requests that found every pooled connection of their endpoint busy and queued.
    package init(
        eventLoopGroup: any EventLoopGroup, settings: UpstreamSettings, poolWaits: Counter? = nil,
        logger: Logger = Logger(label: "mcpgate.upstream")
    ) {
        self.settings = settings
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.poolSettings = UpstreamLoopPool.Settings(
            connectTimeout: TimeAmount(settings.connectTimeout),
            idleTimeout: TimeAmount(settings.poolIdleTimeout),
            maxConnections: max(1, settings.maxConnectionsPerEndpoint),
            tls: try? NIOSSLContext(configuration: .makeClientConfiguration()),
            poolWaits: poolWaits)
        var pools: [ObjectIdentifier: UpstreamLoopPool] = [:]
        for loop in eventLoopGroup.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamLoopPool(eventLoop: loop, settings: poolSettings)
        }
        self.pools = pools
    }

    /// Sends one request. Callbacks reach `handler` on `eventLoop`; the returned call can be cancelled
    /// (which closes the upstream connection if the response is still arriving).
    package func execute(
        _ request: UpstreamRequest,
        on eventLoop: any EventLoop,
        handler: any UpstreamResponseHandler
    ) -> UpstreamCall {
        if let dispatch = request.channel {
            return UpstreamCall(
                ChannelCall.start(
                    request, over: dispatch, on: eventLoop, requestTimeout: TimeAmount(settings.requestTimeout),
                    idleTimeout: TimeAmount(settings.streamIdleTimeout), handler: handler))
        }
        guard let target = request.endpoint.target else {
            let url = request.endpoint.endpoint.url
            let failing = FailingHandler(handler: handler)
            eventLoop.execute { failing.handler.upstreamFailed(UpstreamError.invalidURL(url)) }
            return UpstreamCall(nil)
        }
        let task = UpstreamTask(
            target: target, request: request, eventLoop: eventLoop, pool: pool(for: eventLoop),
            idleTimeout: TimeAmount(settings.streamIdleTimeout), ownConnection: request.method == .GET, logger: logger,
            handler: handler)
        let requestTimeout = TimeAmount(settings.requestTimeout)
        if eventLoop.inEventLoop {
            task.start(requestTimeout: requestTimeout)
        } else {
            eventLoop.execute { task.start(requestTimeout: requestTimeout) }
        }
        return UpstreamCall(task)
    }

    /// Sends one request and reads its answer with an `UpstreamAnswerReader` reporting to `sink` on
    /// `eventLoop`; the reader is the handle to stop it. A request that carries an `mcp-session-id` reads a
    /// 404 as `lost`.
    package func forward(
        _ request: UpstreamRequest, on eventLoop: any EventLoop, limits: UpstreamAnswerLimits,
        sink: @escaping UpstreamAnswerReader.Sink
    ) -> UpstreamAnswerReader {
        let reader = UpstreamAnswerReader(limits: limits, sentSessionID: request.headers.contains(name: "mcp-session-id"), sink: sink)
        let call = execute(request, on: eventLoop, handler: reader)
        if reader.finished {
            call.cancel()
        } else {
            reader.call = call
        }
        return reader
    }

    /// Closes every pooled connection and fails requests still waiting for one.
    package func shutdown() async {
        let foreign = foreignPools.withLockedValue { Array($0.values) }
        for pool in Array(pools.values) + foreign {
            try? await pool.eventLoop.submit { pool.shutdown() }.get()
        }
    }

    private func pool(for eventLoop: any EventLoop) -> UpstreamLoopPool {
        let key = ObjectIdentifier(eventLoop)
        if let pool = pools[key] { return pool }
        return foreignPools.withLockedValue { foreign in
            if let pool = foreign[key] { return pool }
            let pool = UpstreamLoopPool(eventLoop: eventLoop, settings: poolSettings)
            foreign[key] = pool
            return pool
        }
    }
}

/// Carries a handler to its own event loop to be told the request could not start.
/// `@unchecked Sendable`: the handler is only used on that loop.
private struct FailingHandler: @unchecked Sendable {
    package let handler: any UpstreamResponseHandler
}

/// One request to an upstream endpoint.
package struct UpstreamRequest {
    package var endpoint: ResolvedEndpoint
    package var method: HTTPMethod
    package var headers: HTTPHeaders
    package var body: ByteBuffer?
    /// Set for a target reached over a channel (a stdio process, an upstream HTTP+SSE session): the request
    /// goes there, as one line, instead of to `endpoint` over HTTP.
    package var channel: ChannelDispatch?

    package init(endpoint: ResolvedEndpoint, method: HTTPMethod, headers: HTTPHeaders, body: ByteBuffer?, channel: ChannelDispatch? = nil) {
        self.endpoint = endpoint
        self.method = method
        self.headers = headers
        self.body = body
        self.channel = channel
    }
}

/// A handle on an upstream request in flight (over HTTP or a channel).
package struct UpstreamCall {
    fileprivate let task: (any UpstreamCancellable)?

    init(_ task: (any UpstreamCancellable)?) {
        self.task = task
    }

    /// Stops the request; the handler gets `upstreamFailed` unless it already finished. An HTTP connection
    /// is closed, never returned to the pool.
    package func cancel() {
        task?.cancel()
    }
}

/// Receives one upstream response. Every method is called on the exchange's event loop, in order:
/// `upstreamHead`, any number of `upstreamBody`, then exactly one of `upstreamEnd` / `upstreamFailed`
/// (`upstreamFailed` may also come first, when no response arrived at all).
package protocol UpstreamResponseHandler: AnyObject {
    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>?
    /// Returns a future that completes when the next part may be delivered (backpressure).
    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>?
    func upstreamEnd()
    func upstreamFailed(_ error: any Error)
}
