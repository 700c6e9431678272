import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI
import Prometheus
import Testing

@testable import MCPGate
@testable import MCPGateSession
@testable import MCPGateUpstream

/// The HTTP+SSE transport (`GET /sse`, POST `?sessionId=`) through the whole client pipeline, on embedded channels:
/// one for the GET's connection and one per POST, each on an event loop of its own, sharing one runtime and one
/// `GatewayServices` as the connections of one process do. No upstream is reached: the messages posted here are
/// answered by the gateway itself, which is enough to see the 202, the hop to the stream's loop and the answer on
/// the stream.
@Suite("HTTP+SSE transport: /sse streams and their POSTs")
struct LegacySSETests {
    /// One gateway process: its runtime and its process-wide services.
    private struct Process {
        let runtime: GatewayRuntime
        let services: GatewayServices
        let box: RuntimeBox

        init(limits: String = "{}", keyring: Keyring = .generated()) throws {
            let yaml = """
                config:
                  limits: \(limits)
                binds:
                - port: 3000
                  listeners:
                  - routes:
                    - backends: [ { mcp: { targets: [ { name: t, mcp: { host: "http://127.0.0.1:9/mcp" } } ] } } ]
                """
            let (config, _) = try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: [:])
            runtime = try GatewayRuntime(config: config, keyring: keyring, pluginServices: HostServices())
            box = RuntimeBox(runtime)
            services = GatewayServices(
                upstream: UpstreamClient(eventLoopGroup: EmbeddedEventLoop(), settings: config.upstream), metrics: GatewayMetrics(),
                plugins: HostServices())
        }

        /// A new client connection of this process, on an event loop of its own.
        func connection() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
            try ClientPipeline.configure(
                channel: channel, runtimeBox: box, services: services, bindPort: 3000, logger: Logger(label: "test")
            ).wait()
            return channel
        }

        var routeIdentity: String { runtime.routeTables[3000]?.route(host: nil, path: "/sse")?.identity ?? "" }

        var legacyGauge: String {
            services.metrics.registry.emitToString().split(separator: "\n").first { $0.hasPrefix("mcpgate_legacy_sse_streams ") }
                .map(String.init) ?? ""
        }
    }

    /// An open `GET /sse` and the `sessionId` its endpoint event named.
    private struct Stream {
        let channel: EmbeddedChannel
        let endpoint: String
        var token: String { String(endpoint.split(separator: "=", maxSplits: 1).last ?? "") }
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    private func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    private func open(_ process: Process, path: String = "/sse", accept: String? = "text/event-stream") throws -> (Stream, String) {
        let channel = try process.connection()
        try send(channel, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\(accept.map { "Accept: \($0)\r\n" } ?? "")\r\n")
        let reply = try written(channel)
        let endpoint = reply.components(separatedBy: "event: endpoint\ndata: ").last?.components(separatedBy: "\n").first ?? ""
        return (Stream(channel: channel, endpoint: endpoint), reply)
    }

    /// POSTs `body` on a connection of its own; returns its HTTP answer.
    private func post(_ process: Process, _ target: String, _ body: String, contentType: String = "application/json") throws -> String {
        let channel = try process.connection()
        try send(
            channel,
            "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        let reply = try written(channel)
        _ = try? channel.finish()
        return reply
    }

    /// What the stream received once its loop ran the work handed to it.
    private func events(_ stream: Stream) throws -> String {
        stream.channel.embeddedEventLoop.run()
        return try written(stream.channel)
    }

    // MARK: GET

    @Test func getSSEOpensAStreamWhoseFirstEventIsTheEndpoint() throws {
        let process = try Process()
        let (stream, reply) = try open(process)
        #expect(reply.hasPrefix("HTTP/1.1 200 OK"))
        #expect(reply.lowercased().contains("content-type: text/event-stream"))
        #expect(reply.contains("event: endpoint\ndata: /sse?sessionId="))
        #expect(stream.endpoint.hasPrefix("/sse?sessionId="))
        #expect(stream.token.count == 98)
        #expect(process.services.legacyStreams.count == 1)
        #expect(process.legacyGauge == "mcpgate_legacy_sse_streams 1.0")
        let state = try process.runtime.legacyStreamCodec.open(stream.token, route: process.routeIdentity, now: WallClock.nowSeconds)
        #expect(state.replica == process.services.replica)
        #expect(state.principal == nil)
    }

    @Test func theEndpointKeepsThePathItWasOpenedOn() throws {
        let process = try Process()
        let (stream, _) = try open(process, path: "/mcp/sse")
        #expect(stream.endpoint.hasPrefix("/mcp/sse?sessionId="))
    }

    @Test func anyAcceptTakingEventStreamsOrNoneOpensAndOthersGet406() throws {
        let process = try Process()
        for accept in [nil, "*/*", "text/event-stream", "application/json, text/event-stream"] {
            #expect(try open(process, accept: accept).1.hasPrefix("HTTP/1.1 200 OK"))
        }
        #expect(try open(process, accept: "application/json").1.hasPrefix("HTTP/1.1 406 "))
    }

    @Test func aGetWithASessionHeaderOrAnotherLastSegmentIsNotTheTransport() throws {
        let process = try Process()
        let channel = try process.connection()
        try send(channel, "GET /sse HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nAccept: text/event-stream\r\nMcp-Session-Id: x\r\n\r\n")
        #expect(try written(channel).hasPrefix("HTTP/1.1 404 "))  // a Streamable HTTP GET of an unknown session
        #expect(try open(process, path: "/sse/x").1.hasPrefix("HTTP/1.1 400 "))  // no session id: not a stream
        #expect(process.services.legacyStreams.count == 0)
    }

    @Test func keepAliveCommentsFollowSilence() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(14))
        #expect(try !written(stream.channel).contains(": keepalive"))
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(try written(stream.channel).contains(": keepalive\n\n"))
    }

    // MARK: POST

    @Test func aPostIsAnswered202AndItsAnswerComesOnTheStream() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        let reply = try post(process, stream.endpoint, #"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#)
        #expect(reply.hasPrefix("HTTP/1.1 202 Accepted"))
        #expect(reply.lowercased().contains("content-length: 0"))
        let received = try events(stream)
        #expect(
            received.contains(
                "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32600,\"message\":\"Session not initialized"))
        #expect(process.services.legacyStreams.lookup(1)?.workingCount == 0)
    }

    @Test func aPostOnAnotherPathOfTheRouteWithSessionUnderscoreIDWorksToo() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        let reply = try post(process, "/messages/?session_id=\(stream.token)", #"{"jsonrpc":"2.0","id":"a","method":"ping"}"#)
        #expect(reply.hasPrefix("HTTP/1.1 202 "))
        #expect(try events(stream).contains(#"data: {"jsonrpc":"2.0","id":"a","error":{"code":-32600"#))
    }

    @Test func errorsAfterThe202AreEventsWithTheRequestsID() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        #expect(try post(process, stream.endpoint, "{not json").hasPrefix("HTTP/1.1 202 "))
        #expect(try events(stream).contains(#"data: {"jsonrpc":"2.0","id":null,"error":{"code":-32700"#))
        let enveloped =
            #"{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        #expect(try post(process, stream.endpoint, enveloped).hasPrefix("HTTP/1.1 202 "))
        let received = try events(stream)
        #expect(
            received.contains(
                #"data: {"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"The HTTP+SSE transport serves the handshake era"#))
    }

    @Test func refusedPostsGetTheirOwnHTTPAnswer() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        let body = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let codec = process.runtime.legacyStreamCodec
        let now = WallClock.nowSeconds
        let live = LegacyStreamState(replica: process.services.replica, stream: 1, principal: nil, issuedAt: now, expiresAt: now + 60)
        var expired = live
        expired.expiresAt = now
        var unknown = live
        unknown.stream = 99
        var otherReplica = live
        otherReplica.replica = ReplicaID.random()
        let cases: [(String, String)] = [
            ("/sse?sessionId=" + flip(stream.token), "404"),
            ("/sse?sessionId=" + String(stream.token.dropLast(4)), "404"),
            ("/sse?sessionId=" + codec.seal(expired, route: process.routeIdentity), "404"),
            ("/sse?sessionId=" + codec.seal(live, route: "another route"), "404"),
            ("/sse?sessionId=" + codec.seal(unknown, route: process.routeIdentity), "404"),
            ("/sse?sessionId=" + codec.seal(otherReplica, route: process.routeIdentity), "404"),
            ("/sse?sessionId=", "400"),
            ("/sse?session_id", "400"),
        ]
        for (target, status) in cases {
            let reply = try post(process, target, body)
            #expect(reply.hasPrefix("HTTP/1.1 \(status) "), "\(target)")
            if status == "404" { #expect(reply.hasSuffix(#""error":{"code":-32600,"message":"Could not find session"}}"#)) }
        }
        #expect(try post(process, "/sse?sessionId=" + codec.seal(live, route: process.routeIdentity), body).hasPrefix("HTTP/1.1 202 "))
        #expect(try post(process, stream.endpoint, body, contentType: "text/plain").hasPrefix("HTTP/1.1 415 "))
        #expect(try events(stream).contains(#"data: {"jsonrpc":"2.0","id":1,"error""#))  // the accepted POST's answer
    }

    @Test func anotherProcessWithTheSameKeyDoesNotKnowTheStream() throws {
        let keyring = Keyring.generated()
        let first = try Process(keyring: keyring)
        let second = try Process(keyring: keyring)
        let (stream, _) = try open(first)
        #expect(try post(second, stream.endpoint, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).hasPrefix("HTTP/1.1 404 "))
        #expect(try post(first, stream.endpoint, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).hasPrefix("HTTP/1.1 202 "))
    }

    // MARK: The stream's end

    @Test func whenTheGetClosesItsStreamIsGoneAndTheNextPostGets404() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        _ = try? stream.channel.finish()  // the client closes its connection
        #expect(process.services.legacyStreams.count == 0)
        #expect(process.legacyGauge == "mcpgate_legacy_sse_streams 0.0")
        #expect(try post(process, stream.endpoint, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).hasPrefix("HTTP/1.1 404 "))
    }

    @Test func workHandedToAStreamThatClosedMeanwhileIsDropped() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        #expect(try post(process, stream.endpoint, #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).hasPrefix("HTTP/1.1 202 "))
        let opened = try #require(process.services.legacyStreams.lookup(1))
        opened.close()
        stream.channel.embeddedEventLoop.run()
        #expect(opened.workingCount == 0)
        #expect(try !written(stream.channel).contains("event: message"))
    }

    @Test func theStreamEndsCleanlyWhenTheShutdownGraceEnds() throws {
        let process = try Process(limits: "{ shutdownGracePeriod: 3s }")
        let (stream, _) = try open(process)
        stream.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        stream.channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(try written(stream.channel).hasSuffix("0\r\n\r\n"))
        #expect(process.services.legacyStreams.count == 0)
    }

    // MARK: Re-framing

    @Test func relayedEventsAreReframedAsMessagesWithoutIDsOrPriming() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        let opened = try #require(process.services.legacyStreams.lookup(1))
        let responder = LegacySSEResponder(stream: opened, role: .message)
        responder.startStream(status: .ok, headers: HTTPHeaders())
        let upstream =
            "id: 0\nretry: 1000\ndata: \n\n"  // a priming event
            + "event: message\nid: 1\ndata: {\"a\":1}\n\n"
            + ": keepalive\n\n"
            + "data: {\"b\":\ndata: 2}\n\n"
            + "retry: 5\n\n"
        let written = responder.writeStream(opened.allocator.buffer(string: upstream))
        #expect(written != nil)
        #expect(
            try self.written(stream.channel).contains(
                "event: message\ndata: {\"a\":1}\n\n: keepalive\n\nevent: message\ndata: {\"b\":\ndata: 2}\n\n"))
        responder.endStream()
        #expect(opened.isOpen)  // a relay's end is not the stream's
    }

    @Test func aWholeAnswerIsOneEventAndItsSessionHeaderIsAdopted() throws {
        let process = try Process()
        let (stream, _) = try open(process)
        let opened = try #require(process.services.legacyStreams.lookup(1))
        let responder = LegacySSEResponder(stream: opened, role: .message)
        var headers = HTTPHeaders.json()
        headers.add(name: "mcp-session-id", value: "sealed")
        responder.respond(status: .ok, headers: headers, body: opened.allocator.buffer(string: "{\"x\":\r\n1}"))
        #expect(opened.sessionToken == "sealed")
        #expect(try written(stream.channel).contains("event: message\ndata: {\"x\":\ndata: 1}\n\n"))
        // A standalone relay's refusal is not written.
        let relay = LegacySSEResponder(stream: opened, role: .standaloneRelay)
        relay.respond(.sessionNotFound, idJSON: "null")
        #expect(try written(stream.channel).isEmpty)
    }

    private func flip(_ token: String) -> String {
        var characters = Array(token)
        characters[characters.count / 2] = characters[characters.count / 2] == "A" ? "B" : "A"
        return String(characters)
    }
}
