import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// An HTTP/1.1 server whose GETs are standing SSE streams (a head, then `: ping` comments every
/// `pingEvery` for `pingFor`, then silence, never an end) and whose POSTs get a small JSON answer after
/// `postDelay`.
private final class StreamingServer: Sendable {
    let channel: any Channel
    private let counts = NIOLockedValueBox((connections: 0, gets: 0, posts: 0))

    var connections: Int { counts.withLockedValue { $0.connections } }

    init(group: any EventLoopGroup, pingEvery: TimeAmount? = nil, pingFor: TimeAmount = .zero, postDelay: TimeAmount = .zero) async throws {
        let counts = self.counts
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counts.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Connection(counts: counts, pingEvery: pingEvery, pingFor: pingFor, postDelay: postDelay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)/mcp" }

    func close() async { try? await channel.close() }

    private final class Connection: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counts: NIOLockedValueBox<(connections: Int, gets: Int, posts: Int)>
        let pingEvery: TimeAmount?
        let pingFor: TimeAmount
        let postDelay: TimeAmount
        var method = HTTPMethod.GET

        init(
            counts: NIOLockedValueBox<(connections: Int, gets: Int, posts: Int)>, pingEvery: TimeAmount?, pingFor: TimeAmount,
            postDelay: TimeAmount
        ) {
            self.counts = counts
            self.pingEvery = pingEvery
            self.pingFor = pingFor
            self.postDelay = postDelay
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                method = head.method
            case .body:
                break
            case .end:
                if method == .GET {
                    counts.withLockedValue { $0.gets += 1 }
                    stream(context: context)
                } else {
                    counts.withLockedValue { $0.posts += 1 }
                    let loop = NIOLoopBound(context, eventLoop: context.eventLoop)
                    context.eventLoop.scheduleTask(in: postDelay) {
                        let context = loop.value
                        let body = ByteBuffer(string: "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}")
                        let head = HTTPResponseHead(
                            version: .http1_1, status: .ok,
                            headers: ["content-type": "application/json", "content-length": "\(body.readableBytes)"])
                        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
                        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                    }
                }
            }
        }

        private func stream(context: ChannelHandlerContext) {
            let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/event-stream"])
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
            guard let pingEvery else { return }
            let until = NIODeadline.now() + pingFor
            let loop = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleRepeatedTask(initialDelay: pingEvery, delay: pingEvery) { task in
                guard NIODeadline.now() < until, loop.value.channel.isActive else {
                    task.cancel()
                    return
                }
                loop.value.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: ": ping\n\n")))), promise: nil)
            }
        }
    }
}

/// Records one upstream call; `done` completes with its outcome, or with `StillOpen` when `limit` passes first.
private final class Recorder: UpstreamResponseHandler, @unchecked Sendable {
    struct StillOpen: Error {}
    var status: HTTPResponseStatus?
    var body = ""
    let head: EventLoopPromise<Void>
    let done: EventLoopPromise<Result<Void, any Error>>

    init(eventLoop: any EventLoop, limit: TimeAmount = .seconds(5)) {
        head = eventLoop.makePromise()
        done = eventLoop.makePromise()
        let done = self.done
        eventLoop.scheduleTask(in: limit) { done.succeed(.failure(StillOpen())) }
    }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        status = head.status
        self.head.succeed(())
        return nil
    }
    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        body += String(buffer: buffer)
        return nil
    }
    func upstreamEnd() { done.succeed(.success(())) }
    func upstreamFailed(_ error: any Error) {
        head.succeed(())
        done.succeed(.failure(error))
    }
}

/// Standing GET streams live outside the request pool and end when idle (attack report H4: each held one
/// of `maxConnectionsPerEndpoint` pooled connections for as long as it lasted, so a few clients' streams
/// left every request waiting for `requestTimeout`).
@Suite("Upstream client: standing streams")
struct UpstreamStreamConnectionTests {
    private func start(
        _ client: UpstreamClient, _ url: String, method: HTTPMethod, on loop: any EventLoop, limit: TimeAmount = .seconds(5)
    ) async throws -> (Recorder, UpstreamCall) {
        let parsed = try #require(UpstreamTarget(url: url))
        let endpoint = try #require(
            ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "http", host: parsed.host, port: parsed.port, path: parsed.path)))
        let recorder = Recorder(eventLoop: loop, limit: limit)
        let body: ByteBuffer? = method == .POST ? ByteBuffer(string: "{}") : nil
        let call = try await loop.submit {
            client.execute(
                UpstreamRequest(endpoint: endpoint, method: method, headers: HTTPHeaders(), body: body), on: loop, handler: recorder)
        }.get()
        return (recorder, call)
    }

    @Test("requests are served while standing GET streams hold more connections than the pool allows")
    func getStreamsDoNotStarveRequests() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await StreamingServer(group: group)
        let client = UpstreamClient(
            eventLoopGroup: group, settings: UpstreamSettings(requestTimeout: .seconds(2), maxConnectionsPerEndpoint: 2))
        let loop = group.next()
        var streams: [(Recorder, UpstreamCall)] = []
        for _ in 0..<5 {
            let stream = try await start(client, server.url, method: .GET, on: loop)
            try await stream.0.head.futureResult.get()
            #expect(stream.0.status == .ok)
            streams.append(stream)
        }
        for _ in 0..<3 {
            let (post, _) = try await start(client, server.url, method: .POST, on: loop)
            let outcome = try await post.done.futureResult.get()
            #expect((try? outcome.get()) != nil, "the request failed: \(outcome)")
            #expect(post.status == .ok)
        }
        // Five stream connections of their own plus one pooled connection, reused by the three requests.
        #expect(server.connections == 6)
        for (_, call) in streams { call.cancel() }
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test("a GET stream that goes silent ends after streamIdleTimeout")
    func silentGetStreamEnds() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await StreamingServer(group: group)
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings(streamIdleTimeout: .milliseconds(200)))
        let (stream, _) = try await start(client, server.url, method: .GET, on: group.next())
        let outcome = try await stream.done.futureResult.get()
        guard case .failure(let error) = outcome else {
            Issue.record("the stream ended normally")
            return
        }
        #expect(error as? UpstreamError == .readTimeout)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test("keep-alive comments count as activity on a GET stream")
    func keepAliveCommentsKeepAStreamOpen() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Pings every 50 ms for 1 s, against an idle limit of 250 ms: only the silence afterwards ends it.
        let server = try await StreamingServer(group: group, pingEvery: .milliseconds(50), pingFor: .seconds(1))
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings(streamIdleTimeout: .milliseconds(250)))
        let (stream, _) = try await start(client, server.url, method: .GET, on: group.next())
        let outcome = try await stream.done.futureResult.get()
        guard case .failure(let error) = outcome else {
            Issue.record("the stream ended normally")
            return
        }
        #expect(error as? UpstreamError == .readTimeout)
        let pings = stream.body.components(separatedBy: ": ping").count - 1
        #expect(pings >= 15, "the stream was cut after \(pings) keep-alive comments")
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test("a request that waits for a pooled connection is counted")
    func poolWaitsAreCounted() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await StreamingServer(group: group, postDelay: .milliseconds(100))
        let registry = PrometheusCollectorRegistry()
        let waits = registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "pool_waits", unitName: "total", helpText: "test"))
        let client = UpstreamClient(
            eventLoopGroup: group, settings: UpstreamSettings(maxConnectionsPerEndpoint: 1), poolWaits: waits)
        let loop = group.next()
        let url = server.url
        let parsed = try #require(UpstreamTarget(url: url))
        let endpoint = try #require(
            ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "http", host: parsed.host, port: parsed.port, path: parsed.path)))
        // Both requests start in one turn of the loop, so the second finds the only connection taken.
        let recorders = try await loop.submit {
            (0..<2).map { _ in
                let recorder = Recorder(eventLoop: loop)
                _ = client.execute(
                    UpstreamRequest(endpoint: endpoint, method: .POST, headers: HTTPHeaders(), body: ByteBuffer(string: "{}")), on: loop,
                    handler: recorder)
                return recorder
            }
        }.get()
        for recorder in recorders {
            #expect((try? await recorder.done.futureResult.get().get()) != nil)
        }
        #expect(registry.emitToString().contains("pool_waits_total 1"))
        #expect(server.connections == 1)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }
}
