import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

private final class FailureCatcher: UpstreamResponseHandler, @unchecked Sendable {
    let done: EventLoopPromise<any Error>
    init(eventLoop: any EventLoop) { done = eventLoop.makePromise() }
    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? { nil }
    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? { nil }
    func upstreamEnd() { done.fail(UpstreamError.shutdown) }
    func upstreamFailed(_ error: any Error) { done.succeed(error) }
}

/// What a client learns of an upstream failure: the target and the kind of failure, never an address,
/// port, errno or library text (attack report M4); those stay in `detail`, for the log.
@Suite("Upstream failure messages")
struct UpstreamFailureMessageTests {
    @Test("a refused connection names the target only; the detail keeps the address for the log")
    func refusedConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // A port nothing listens on: bind one, note it, close it.
        let probe = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(probe.localAddress?.port)
        try await probe.close()
        let url = "http://127.0.0.1:\(port)/internal/mcp"
        let client = UpstreamClient(eventLoopGroup: group, settings: UpstreamSettings())
        let loop = group.next()
        let target = try #require(UpstreamTarget(url: url))
        let endpoint = try #require(
            ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "http", host: target.host, port: target.port, path: target.path)))
        let catcher = FailureCatcher(eventLoop: loop)
        _ = try await loop.submit {
            client.execute(
                UpstreamRequest(endpoint: endpoint, method: .POST, headers: HTTPHeaders(), body: nil), on: loop, handler: catcher)
        }.get()
        let error = try await catcher.done.futureResult.get()
        let failure = UpstreamFailure(error, target: "db")
        #expect(failure.message == "Upstream 'db' is unreachable")
        #expect(failure.gatewayError.status == .badGateway)
        #expect(failure.gatewayError.code == -32603)
        let body = failure.gatewayError.body(idJSON: "1")
        #expect(!body.contains(String(port)) && !body.contains("127.0.0.1") && !body.contains("errno"), "\(body)")
        #expect(failure.detail.contains(String(port)), "\(failure.detail)")
        await client.shutdown()
        try await group.shutdownGracefully()
    }

    @Test("timeouts and refused redirects have their own fixed messages")
    func fixedMessages() {
        let timeout = UpstreamFailure(UpstreamError.deadlineExceeded, target: "t")
        #expect(timeout.message == "Upstream 't' did not answer in time")
        #expect(timeout.gatewayError.status == .gatewayTimeout)
        let redirect = UpstreamFailure(
            UpstreamError.redirectRefused("Location http://10.0.0.1:15000/reload is on another origin"), target: "t")
        #expect(redirect.message == "Upstream 't' answered with a redirect the gateway does not follow")
        #expect(redirect.gatewayError.status == .badGateway)
        #expect(!redirect.gatewayError.body(idJSON: "1").contains("10.0.0.1"))
        struct TLSFailure: Error, CustomStringConvertible {
            var description: String {
                "handshakeFailed(BoringSSLError: WRONG_VERSION_NUMBER at /build/.build/checkouts/swift-nio-ssl/x.c:12)"
            }
        }
        let tls = UpstreamFailure(TLSFailure(), target: "t")
        #expect(tls.message == "Upstream 't' is unreachable")
        #expect(!tls.gatewayError.body(idJSON: "1").contains("checkouts"))
    }
}
