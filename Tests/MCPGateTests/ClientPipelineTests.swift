import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession
@testable import MCPGateUpstream

/// The client pipeline as `ClientPipeline` builds it, on an embedded channel: the header limit inside NIO's decoder
/// answered with the gateway's 431, and a connection's part in a graceful shutdown (quiesce, grace period).
@Suite("Client pipeline: header limit and shutdown")
struct ClientPipelineTests {
    /// A client connection with the whole pipeline, serving a route whose upstream is never reached.
    private func connection(limits: String = "{ maxHeaderBytes: 1024 }") throws -> EmbeddedChannel {
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
        let runtime = try GatewayRuntime(config: config, keyring: .generated(), pluginServices: HostServices())
        let channel = EmbeddedChannel()
        let services = GatewayServices(
            upstream: UpstreamClient(eventLoopGroup: channel.eventLoop, settings: config.upstream), metrics: GatewayMetrics(),
            plugins: HostServices())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        try ClientPipeline.configure(
            channel: channel, runtimeBox: RuntimeBox(runtime), services: services, bindPort: 3000, logger: Logger(label: "test")
        ).wait()
        return channel
    }

    /// Everything written to the socket so far, as text.
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

    @Test func headersPastTheLimitGet431WithTheJSONRPCBody() throws {
        let channel = try connection()
        try send(channel, "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nX-Pad: \(String(repeating: "p", count: 2000))\r\n\r\n")
        let reply = try written(channel)
        #expect(reply.hasPrefix("HTTP/1.1 431 "))
        #expect(reply.lowercased().contains("connection: close"))
        #expect(reply.lowercased().contains("content-type: application/json"))
        #expect(reply.hasSuffix(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Request headers exceed 1024 bytes"}}"#))
        // The rest of the refused request is discarded (no second answer, no error) until the linger ends.
        try send(channel, "more header bytes\r\n\r\n")
        #expect(try written(channel).isEmpty)
        #expect(channel.isActive)
        _ = try? channel.finish()
    }

    @Test func headersWithinTheLimitAreRead() throws {
        let channel = try connection()
        try send(channel, "GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nX-Pad: \(String(repeating: "p", count: 900))\r\n\r\n")
        let reply = try written(channel)
        #expect(!reply.hasPrefix("HTTP/1.1 431"))
        _ = try? channel.finish()
    }

    @Test func aLongRequestTargetGets431() throws {
        let channel = try connection()
        try send(channel, "GET /\(String(repeating: "a", count: 1100)) HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n\r\n")
        #expect(try written(channel).hasPrefix("HTTP/1.1 431 "))
        _ = try? channel.finish()
    }

    @Test func anIdleConnectionClosesWhenAskedToQuiesce() throws {
        let channel = try connection()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }

    @Test func aRequestStillArrivingLosesItsConnectionWhenTheGracePeriodEnds() throws {
        let channel = try connection(limits: "{ shutdownGracePeriod: 3s }")
        try send(
            channel,
            "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                + "Content-Length: 100\r\n\r\n{")
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(2900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        _ = try? channel.finish()
    }
}
