import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MCPGateUpstream

/// An HTTP+SSE server of protocol 2024-11-05, as the MCP SDK's `SseServerTransport` behaves: `GET /sse` opens an
/// event stream whose first event is `endpoint` (its data as configured, `{origin}` standing for the server's
/// own), `POST /messages/…` answers with the configured status and, when it is 202, sends the posted body back
/// as a `message` event on the stream. `GET /missing` is 404. What it received is recorded.
private final class LegacySSEServer: Sendable {
    struct Behaviour: Sendable {
        /// The `endpoint` event's data; nil: none is sent.
        var endpoint: String? = "/messages/?session_id=abc"
        /// Raw event-stream text written after the endpoint event.
        var preamble = ""
        /// The status every POST gets.
        var postStatus = HTTPResponseStatus.accepted
        /// End the stream right after the endpoint event (and preamble).
        var endAtOnce = false
    }

    struct Received: Sendable {
        var getHeaders: [HTTPHeaders] = []
        var postHeaders: [HTTPHeaders] = []
        var postTargets: [String] = []
        var streamsClosed = 0
    }

    let channel: any Channel
    private let received = NIOLockedValueBox(Received())
    /// The open stream's context (on the server's one loop).
    private let stream: NIOLockedValueBox<NIOLoopBound<ChannelHandlerContext>?> = NIOLockedValueBox(nil)

    init(group: any EventLoopGroup, behaviour: Behaviour = Behaviour()) async throws {
        let received = self.received
        let stream = self.stream
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Connection(behaviour: behaviour, received: received, stream: stream))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { channel.localAddress?.port ?? 0 }
    var origin: String { "http://127.0.0.1:\(port)" }
    var snapshot: Received { received.withLockedValue { $0 } }

    /// Writes raw event-stream text to the open stream.
    func push(_ text: String) async throws {
        try await channel.eventLoop.submit { [stream] in
            guard let context = stream.withLockedValue({ $0 })?.value else { return }
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }.get()
    }

    /// Ends the open stream's response.
    func endStream() async throws {
        try await channel.eventLoop.submit { [stream] in
            stream.withLockedValue({ $0 })?.value.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }.get()
    }

    func close() async { try? await channel.close() }

    private final class Connection: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let behaviour: Behaviour
        let received: NIOLockedValueBox<Received>
        let stream: NIOLockedValueBox<NIOLoopBound<ChannelHandlerContext>?>
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        var isStream = false

        init(behaviour: Behaviour, received: NIOLockedValueBox<Received>, stream: NIOLockedValueBox<NIOLoopBound<ChannelHandlerContext>?>) {
            self.behaviour = behaviour
            self.received = received
            self.stream = stream
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                if head.method == .GET { get(head, context: context) } else { post(head, context: context) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if isStream { received.withLockedValue { $0.streamsClosed += 1 } }
            context.fireChannelInactive()
        }

        private func get(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
            received.withLockedValue { $0.getHeaders.append(head.headers) }
            guard head.uri == "/sse" else {
                respond(.notFound, context: context)
                return
            }
            isStream = true
            let origin = "http://127.0.0.1:\(context.channel.localAddress?.port ?? 0)"
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-type": "text/event-stream"]))),
                promise: nil)
            var text = ""
            if let endpoint = behaviour.endpoint {
                text += "event: endpoint\ndata: \(endpoint.replacingOccurrences(of: "{origin}", with: origin))\n\n"
            }
            text += behaviour.preamble
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
            if behaviour.endAtOnce {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            stream.withLockedValue { $0 = NIOLoopBound(context, eventLoop: context.eventLoop) }
        }

        private func post(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
            received.withLockedValue {
                $0.postHeaders.append(head.headers)
                $0.postTargets.append(head.uri)
            }
            respond(behaviour.postStatus, context: context)
            guard behaviour.postStatus == .accepted, let open = stream.withLockedValue({ $0 })?.value else { return }
            let event = "event: message\ndata: \(String(buffer: body))\n\n"
            open.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: event)))), promise: nil)
        }

        private func respond(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
            let text = status == .accepted ? "Accepted" : ""
            let head = HTTPResponseHead(
                version: .http1_1, status: status, headers: ["content-type": "text/plain", "content-length": "\(text.utf8.count)"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            if !text.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// What a session told its owner: messages and close reasons, in order.
private final class Observer: Sendable {
    private let box = NIOLockedValueBox((messages: [String](), closed: [ChannelFailure]()))
    var messages: [String] { box.withLockedValue { $0.messages } }
    var closed: [ChannelFailure] { box.withLockedValue { $0.closed } }

    /// Installs the callbacks (on the session's loop).
    func watch(_ session: UpstreamSSESession) async throws {
        let box = self.box
        try await session.eventLoop.submit {
            session.onMessage = { message in
                box.withLockedValue { $0.messages.append(String(buffer: message)) }
                return nil
            }
            session.onClosed = { reason in box.withLockedValue { $0.closed.append(reason) } }
        }.get()
    }
}

/// `UpstreamSSESession` against an in-process server of the 2024-11-05 transport (plan §3.4).
@Suite("Upstream HTTP+SSE session")
struct UpstreamSSESessionTests {
    /// One event loop for the server, the client and the sessions, and the client.
    private struct Fixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client: UpstreamClient
        var loop: any EventLoop { group.next() }

        init(settings: UpstreamSettings = UpstreamSettings()) {
            client = UpstreamClient(eventLoopGroup: group, settings: settings)
        }

        func endpoint(_ url: String) throws -> ResolvedEndpoint {
            let parsed = try #require(UpstreamTarget(url: url))
            return try #require(
                ResolvedEndpoint(UpstreamEndpoint(url: url, scheme: "http", host: parsed.host, port: parsed.port, path: parsed.path)))
        }

        func open(
            _ url: String, endpointTimeout: TimeAmount = .seconds(5), headers: HTTPHeaders = HTTPHeaders()
        ) async throws -> UpstreamSSESession {
            try await UpstreamSSESession.open(
                endpoint: try endpoint(url), headers: headers, client: client,
                settings: UpstreamSSESettings(endpointTimeout: endpointTimeout, maxEventBytes: 1 << 20, maxBodyBytes: 1 << 20),
                on: loop, logger: Logger(label: "test")
            ).get()
        }

        /// The failure opening `url` ends with.
        func openFailure(_ url: String, endpointTimeout: TimeAmount = .seconds(5)) async -> ChannelFailure? {
            do {
                _ = try await open(url, endpointTimeout: endpointTimeout)
                return nil
            } catch {
                return error as? ChannelFailure
            }
        }

        /// Sends `text`; nil when it was taken, else why not.
        func send(_ session: UpstreamSSESession, _ text: String, headers: HTTPHeaders = HTTPHeaders()) async -> ChannelFailure? {
            do {
                try await loop.flatSubmit { session.send(ByteBuffer(string: text), headers: headers) }.get()
                return nil
            } catch {
                return error as? ChannelFailure ?? .sendFailed("not a ChannelFailure: \(error)")
            }
        }

        func shutdown(_ server: LegacySSEServer) async throws {
            await client.shutdown()
            await server.close()
            try await group.shutdownGracefully()
        }
    }

    /// Waits (up to 5 s) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test("a relative endpoint is resolved against the stream's URL, and the GET asks for an event stream")
    func relativeEndpointIsLearned() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        let session = try await fixture.open(
            server.origin + "/sse", headers: ["mcp-session-id": "s", "mcp-protocol-version": "2024-11-05", "x-tenant": "t"])
        let learned = try await fixture.loop.submit { session.messageEndpoint?.endpoint.url }.get()
        #expect(learned == server.origin + "/messages/?session_id=abc")
        let get = try #require(server.snapshot.getHeaders.first)
        #expect(get["accept"] == ["text/event-stream"])
        #expect(get["x-tenant"] == ["t"])
        #expect(!get.contains(name: "mcp-session-id"))
        #expect(!get.contains(name: "mcp-protocol-version"))
        session.close(.closed(.deleted))
        try await fixture.shutdown(server)
    }

    @Test("an absolute endpoint of the same origin is accepted")
    func absoluteSameOriginEndpointIsLearned() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group, behaviour: .init(endpoint: "{origin}/messages/?session_id=def"))
        let session = try await fixture.open(server.origin + "/sse")
        #expect(
            try await fixture.loop.submit { session.messageEndpoint?.endpoint.url }.get() == server.origin + "/messages/?session_id=def")
        session.close(.closed(.deleted))
        try await fixture.shutdown(server)
    }

    @Test("an endpoint of another origin is refused, and the GET is closed")
    func otherOriginIsRefused() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(
            group: fixture.group, behaviour: .init(endpoint: "http://localhost:1/messages/?session_id=x"))
        #expect(await fixture.openFailure(server.origin + "/sse") == .endpointRefused("http://localhost:1/messages/?session_id=x"))
        try await eventually { server.snapshot.streamsClosed == 1 }
        #expect(server.snapshot.streamsClosed == 1)
        try await fixture.shutdown(server)
    }

    @Test("no endpoint in time fails with endpointTimeout, and the GET is closed")
    func noEndpointTimesOut() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group, behaviour: .init(endpoint: nil, preamble: ": ping\n\n"))
        let started = ContinuousClock.now
        #expect(await fixture.openFailure(server.origin + "/sse", endpointTimeout: .milliseconds(200)) == .endpointTimeout)
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        try await eventually { server.snapshot.streamsClosed == 1 }
        #expect(server.snapshot.streamsClosed == 1)
        try await fixture.shutdown(server)
    }

    @Test("a refused GET or a stream that ends before its endpoint fails the opening")
    func refusedOrEndedStreamFailsTheOpening() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        #expect(await fixture.openFailure(server.origin + "/missing") == .sendFailed("HTTP 404"))
        let ending = try await LegacySSEServer(group: fixture.group, behaviour: .init(endpoint: nil, endAtOnce: true))
        #expect(await fixture.openFailure(ending.origin + "/sse") == .streamEnded)
        await ending.close()
        try await fixture.shutdown(server)
    }

    @Test("a POST answered 202 is sent, and the answer on the stream is delivered")
    func postThenMessageOnTheStream() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        let line = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let sent = await fixture.send(
            session, line, headers: ["mcp-session-id": "s", "mcp-protocol-version": "2025-06-18", "x-tenant": "t"])
        #expect(sent == nil)
        try await eventually { observer.messages.count == 1 }
        #expect(observer.messages == [line])
        let post = try #require(server.snapshot.postHeaders.first)
        #expect(server.snapshot.postTargets == ["/messages/?session_id=abc"])
        #expect(post["content-type"] == ["application/json"])
        #expect(post["x-tenant"] == ["t"])
        #expect(!post.contains(name: "mcp-session-id"))
        #expect(!post.contains(name: "mcp-protocol-version"))
        #expect(observer.closed.isEmpty)
        session.close(.closed(.deleted))
        try await fixture.shutdown(server)
    }

    @Test("message events: multi-line data joined, empty data, comments and other events skipped")
    func messageEventsAreFramedAsTheSSERulesSay() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        try await server.push(": keep-alive\n\nevent: message\ndata:\n\nevent: other\ndata: x\n\ndata: {\"a\":\ndata: 1}\n\n")
        try await server.push("event: message\ndata: {\"b\":2}\n\n")
        try await eventually { observer.messages.count == 2 }
        #expect(observer.messages == ["{\"a\":\n1}", "{\"b\":2}"])
        session.close(.closed(.deleted))
        try await fixture.shutdown(server)
    }

    @Test("a POST answered 404 loses the session: the send fails and the session closes once")
    func post404LosesTheSession() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group, behaviour: .init(postStatus: .notFound))
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        #expect(await fixture.send(session, "{}") == .sessionLost)
        #expect(observer.closed == [.sessionLost])
        try await eventually { server.snapshot.streamsClosed == 1 }
        #expect(server.snapshot.streamsClosed == 1)
        #expect(await fixture.send(session, "{}") == .sessionLost)
        session.close(.closed(.deleted))
        #expect(observer.closed == [.sessionLost])
        try await fixture.shutdown(server)
    }

    @Test("another refusal fails that send only")
    func otherRefusalFailsTheSendOnly() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group, behaviour: .init(postStatus: .internalServerError))
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        #expect(await fixture.send(session, "{}") == .sendFailed("HTTP 500"))
        #expect(await fixture.send(session, "{}") == .sendFailed("HTTP 500"))
        #expect(observer.closed.isEmpty)
        #expect(server.snapshot.streamsClosed == 0)
        session.close(.closed(.deleted))
        try await fixture.shutdown(server)
    }

    @Test("the upstream ending its stream closes the session with streamEnded")
    func streamEndCloses() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        try await server.endStream()
        try await eventually { !observer.closed.isEmpty }
        #expect(observer.closed == [.streamEnded])
        #expect(await fixture.send(session, "{}") == .streamEnded)
        try await fixture.shutdown(server)
    }

    @Test("close stops the GET and tells onClosed once, with the reason given")
    func closeStopsTheStream() async throws {
        let fixture = Fixture()
        let server = try await LegacySSEServer(group: fixture.group)
        let session = try await fixture.open(server.origin + "/sse")
        let observer = Observer()
        try await observer.watch(session)
        session.close(.closed(.idle))
        session.close(.closed(.deleted))
        try await eventually { server.snapshot.streamsClosed == 1 }
        #expect(server.snapshot.streamsClosed == 1)
        #expect(observer.closed == [.closed(.idle)])
        #expect(await fixture.send(session, "{}") == .closed(.idle))
        #expect(server.snapshot.postHeaders.isEmpty)
        try await fixture.shutdown(server)
    }
}
