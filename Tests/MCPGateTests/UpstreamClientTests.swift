import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// A scripted HTTP/1.1 server: `answer` gets each request (its target and how many requests its connection
/// served before) and returns raw response bytes, or nil to close the connection without answering.
private final class ScriptedServer: Sendable {
    let channel: any Channel
    private let counts = NIOLockedValueBox((connections: 0, requests: 0))

    var connections: Int { counts.withLockedValue { $0.connections } }
    var requests: Int { counts.withLockedValue { $0.requests } }

    init(group: any EventLoopGroup, answer: @escaping @Sendable (_ target: String, _ servedBefore: Int) -> String?) async throws {
        let counts = self.counts
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counts.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Connection(counts: counts, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    func close() async { try? await channel.close() }

    private final class Connection: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let counts: NIOLockedValueBox<(connections: Int, requests: Int)>
        let answer: @Sendable (String, Int) -> String?
        var pending = ""
        var served = 0

        init(counts: NIOLockedValueBox<(connections: Int, requests: Int)>, answer: @escaping @Sendable (String, Int) -> String?) {
            self.counts = counts
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            pending += String(buffer: unwrapInboundIn(data))
            while let end = pending.range(of: "\r\n\r\n") {
                let head = pending[..<end.lowerBound]
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                guard pending[end.upperBound...].utf8.count >= length else { return }
                let target = String(head.split(separator: " ")[1])
                pending = String(pending[end.upperBound...].dropFirst(length))
                counts.withLockedValue { $0.requests += 1 }
                guard let response = answer(target, served) else {
                    context.close(promise: nil)
                    return
                }
                served += 1
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
            }
        }
    }
}

/// Records what one upstream call delivered.
private final class RecordingHandler: UpstreamResponseHandler, @unchecked Sendable {
    var status: HTTPResponseStatus?
    var body = ""
    let done: EventLoopPromise<Result<Void, any Error>>

    init(eventLoop: any EventLoop) { done = eventLoop.makePromise() }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        status = head.status
        return nil
    }
    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        body += String(buffer: buffer)
        return nil
    }
    func upstreamEnd() { done.succeed(.success(())) }
    func upstreamFailed(_ error: any Error) { done.succeed(.failure(error)) }
}

private func ok(_ body: String, extra: String = "") -> String {
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
}

@Suite("Upstream client")
struct UpstreamClientTests {
    private func call(
        _ client: UpstreamClient, _ url: String, on loop: any EventLoop, cancelAfterStart: Bool = false
    ) async throws -> (RecordingHandler, Result<Void, any Error>) {
        let parsed = try #require(UpstreamTarget(url: url))
        let endpoint = try #require(
            ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "http", host: parsed.host, port: parsed.port, path: parsed.path)))
        let handler = RecordingHandler(eventLoop: loop)
        let call = try await loop.submit {
            client.execute(
                UpstreamRequest(endpoint: endpoint, method: .POST, headers: HTTPHeaders(), body: ByteBuffer(string: "{}")),
                on: loop, handler: handler)
        }.get()
        if cancelAfterStart { call.cancel() }
        return (handler, try await handler.done.futureResult.get())
    }

    @Test func reusesAKeepAliveConnectionOnTheSameLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let server = try await ScriptedServer(group: group) { _, _ in ok("{\"n\":1}") }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        let loop = group.next()
        for _ in 0..<3 {
            let (handler, result) = try await call(client, server.url + "/mcp", on: loop)
            #expect((try? result.get()) != nil)
            #expect(handler.status == .ok)
            #expect(handler.body == "{\"n\":1}")
        }
        #expect(server.connections == 1)
        #expect(server.requests == 3)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test func retriesOnceOnAFreshConnectionWhenAPooledOneWasClosed() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // Every connection answers one request, then drops the next without answering (a stale keep-alive).
        let server = try await ScriptedServer(group: group) { _, servedBefore in servedBefore == 0 ? ok("{}") : nil }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        let loop = group.next()
        for _ in 0..<2 {
            let (handler, result) = try await call(client, server.url + "/mcp", on: loop)
            #expect((try? result.get()) != nil)
            #expect(handler.status == .ok)
        }
        #expect(server.connections == 2)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test func followsA307KeepingTheMethodAndBody() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ScriptedServer(group: group) { target, _ in
            target == "/mcp/"
                ? "HTTP/1.1 307 Temporary Redirect\r\nlocation: /mcp\r\ncontent-length: 0\r\n\r\n" : ok("{\"at\":\"\(target)\"}")
        }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        let (handler, result) = try await call(client, server.url + "/mcp/", on: group.next())
        #expect((try? result.get()) != nil)
        #expect(handler.body == "{\"at\":\"/mcp\"}")
        #expect(server.requests == 2)
        #expect(server.connections == 1)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test func doesNotReuseAConnectionTheServerMeansToClose() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ScriptedServer(group: group) { _, _ in ok("{}", extra: "connection: close\r\n") }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        for _ in 0..<2 { _ = try await call(client, server.url + "/mcp", on: group.next()) }
        #expect(server.connections == 2)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test func failsWithDeadlineExceededWhenNoHeadArrivesInTime() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ScriptedServer(group: group) { _, _ in "" }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings(requestTimeout: .milliseconds(200)))
        let (_, result) = try await call(client, server.url + "/mcp", on: group.next())
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error as? UpstreamError == .deadlineExceeded)
        #expect(UpstreamFailure(error, target: "t").gatewayError.status == .gatewayTimeout)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }

    @Test func cancellingFailsTheCallAndClosesItsConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ScriptedServer(group: group) { _, _ in "" }
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        let (_, result) = try await call(client, server.url + "/mcp", on: group.next(), cancelAfterStart: true)
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error as? UpstreamError == .cancelled)
        await client.shutdown()
        await server.close()
        try await group.shutdownGracefully()
    }
}
