import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession
@testable import MCPGateUpstream

/// Nothing can be written to a client outside its own response (attack run C1: a body part and `.end` written
/// after a complete response aborted the process through NIO's precondition).
@Suite("One answer per request, by construction")
struct ClientResponseTests {
    /// A connection handler on an embedded channel, serving a route whose upstream is never reached.
    private func connection() throws -> (EmbeddedChannel, MCPExchangeHandler) {
        let yaml = """
            binds:
            - port: 3000
              listeners:
              - routes:
                - backends: [ { mcp: { targets: [ { name: t, mcp: { host: "http://127.0.0.1:9/mcp" } } ] } } ]
            """
        let (config, _) = try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: [:])
        let runtime = try GatewayRuntime(config: config, keyring: .generated(), pluginServices: HostServices())
        let channel = EmbeddedChannel()
        let services = GatewayServices(
            upstream: UpstreamClient(eventLoopGroup: channel.eventLoop, settings: config.upstream), metrics: GatewayMetrics(),
            plugins: HostServices())
        let handler = MCPExchangeHandler(
            runtimeBox: RuntimeBox(runtime), services: services, bindPort: 3000, watcher: RequestStartWatcher(),
            errorFilter: ClosingConnectionErrorFilter(), logger: .init(label: "test"))
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        return (channel, handler)
    }

    private func head(_ method: HTTPMethod = .POST) -> HTTPServerRequestPart {
        var headers = HTTPHeaders([("host", "127.0.0.1:3000"), ("content-type", "application/json"), ("accept", "*/*")])
        headers.add(name: "content-length", value: "2")
        return .head(HTTPRequestHead(version: .http1_1, method: method, uri: "/mcp", headers: headers))
    }

    /// Every response part written so far.
    private func written(_ channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
            switch part {
            case .head(let head): parts.append("head \(head.status.code)")
            case .body: parts.append("body")
            case .end: parts.append("end")
            }
        }
        return parts
    }

    @Test func afterAWholeResponseNothingMoreIsWritten() throws {
        let (channel, handler) = try connection()
        try channel.writeInbound(head())
        let response = try #require(handler.response)
        var body = channel.allocator.buffer(capacity: 2)
        body.writeString("{}")
        response.respond(status: .badGateway, headers: HTTPHeaders(), body: body)
        #expect(try written(channel) == ["head 502", "body", "end"])
        // What a relay's give-up path did after the cancel path had answered:
        response.startStream(status: .ok, headers: HTTPHeaders())
        #expect(response.writeStream(body) == nil)
        response.endStream()
        response.respond(status: .ok, headers: HTTPHeaders(), body: body)
        #expect(try written(channel) == [])
        #expect(response.phase == .ended)
        _ = try? channel.finish()
    }

    @Test func afterAStreamEndedNothingMoreIsWritten() throws {
        let (channel, handler) = try connection()
        try channel.writeInbound(head())
        let response = try #require(handler.response)
        let part = channel.allocator.buffer(string: "data: {}\n\n")
        response.startStream(status: .ok, headers: HTTPHeaders())
        #expect(response.writeStream(part) != nil)
        response.endStream()
        #expect(try written(channel) == ["head 200", "body", "end"])
        #expect(response.writeStream(part) == nil)
        response.endStream()
        response.respond(status: .badGateway, headers: HTTPHeaders(), body: nil)
        #expect(try written(channel) == [])
        _ = try? channel.finish()
    }

    @Test func aResponseCannotWriteIntoTheNextRequestsAnswer() throws {
        let (channel, handler) = try connection()
        try channel.writeInbound(head())
        let first = try #require(handler.response)
        first.respond(status: .accepted, headers: HTTPHeaders(), body: nil)
        try channel.writeInbound(HTTPServerRequestPart.body(channel.allocator.buffer(string: "{}")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        _ = try written(channel)
        // The connection now serves a second request; the first response's late calls must not reach it.
        try channel.writeInbound(head())
        let second = try #require(handler.response)
        #expect(second !== first)
        first.startStream(status: .ok, headers: HTTPHeaders())
        #expect(first.writeStream(channel.allocator.buffer(string: "x")) == nil)
        first.endStream()
        #expect(try written(channel) == [])
        second.respond(status: .ok, headers: HTTPHeaders(), body: nil)
        #expect(try written(channel) == ["head 200", "end"])
        _ = try? channel.finish()
    }
}
