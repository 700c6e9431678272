import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import PluginAPI

@testable import MCPGate
@testable import MCPGateSession
@testable import MCPGateUpstream

/// libFuzzer target: the bytes one client sends on one connection (HTTP/1.1 heads and bodies, pipelined or
/// not) through the gateway's real client pipeline (`ClientPipeline.configure`: NIO's HTTP decoder with
/// pipelining assistance and error handling, then `MCPExchangeHandler` and `Exchange`) on an
/// `EmbeddedChannel`. The route `/mcp` has one target. An `EmbeddedEventLoop` cannot open sockets (NIOPosix's
/// `ClientBootstrap` refuses it), so the target's URL is one the upstream client refuses before connecting:
/// every request that passes parsing and validation ends in the gateway's own "unreachable" answer, on the
/// same event loop, with no thread and no network.
///
/// `@SID@` in the input is replaced by a session id sealed for the route, so inputs get past the session
/// check. After the bytes, the loop's clock jumps 30 seconds so that every timer scheduled on the loop fires
/// (idle 20 s, head and body 10 s, upstream). A deadline compared with the wall clock (`NIODeadline.now()`,
/// as `MCPExchangeHandler` does today) does not expire here; reading `context.eventLoop.now` would let it. Oracles: Swift's traps and NIO's preconditions (a write after a response ended, a second
/// response head) and, when built with `-sanitize=address`, memory errors.
nonisolated(unsafe) private let fixture = RequestEntryFixture()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestEntry(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    fixture.run(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

// SwiftPM links an executable target's entry point as `<module>_main` (and aliases `main` to it), so the
// target provides that symbol and hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzRequestEntry_main")
public func fuzzRequestEntryMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, count in
        guard let data else { return 0 }
        return fuzzRequestEntry(UnsafeRawPointer(data), count)
    }
}

/// The runtime and services every input runs against, built once.
final class RequestEntryFixture {
    static let bindPort = 8080
    static let unreachable = "fuzz://unreachable.invalid/mcp"
    static let config = """
        config:
          limits:
            maxRequestBodyBytes: 65536
            maxHeaderBytes: 16384
            clientIdleTimeout: 20s
            requestHeaderTimeout: 10s
            requestBodyTimeout: 10s
        binds:
        - port: 8080
          address: 127.0.0.1
          listeners:
          - routes:
            - name: fuzz
              matches: [ { path: { pathPrefix: /mcp } } ]
              backends:
              - mcp:
                  targets:
                  - name: t
                    mcp: { host: "http://127.0.0.1:9/mcp" }
        """

    /// `FUZZ_PRINT=1`: print what the gateway answered (when replaying one input).
    static let printAnswers = ProcessInfo.processInfo.environment["FUZZ_PRINT"] == "1"

    let runtimeBox: RuntimeBox
    let services: GatewayServices
    let logger = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
    let sessionID: [UInt8]

    init() {
        do {
            var (config, _) = try ConfigLoader.parse(yaml: Self.config, file: "fuzz.yaml", baseDirectory: "/", environment: [:])
            if case .streamableHTTP(var endpoints, let origins) = config.binds[0].listeners[0].routes[0].backend.targets[0].transport {
                endpoints[0].url = Self.unreachable
                config.binds[0].listeners[0].routes[0].backend.targets[0].transport = .streamableHTTP(
                    endpoints: endpoints, redirectOrigins: origins)
            }
            let keyring = try Keyring(masterKeys: [[UInt8](repeating: 0x5A, count: 32)])
            let plugins = HostServices()
            let runtime = try GatewayRuntime(config: config, keyring: keyring, pluginServices: plugins)
            let group = EmbeddedEventLoop()
            services = GatewayServices(
                upstream: UpstreamClient(eventLoopGroup: group, settings: config.upstream), metrics: GatewayMetrics(), plugins: plugins)
            runtimeBox = RuntimeBox(runtime)
            let now = UInt64(Date().timeIntervalSince1970)
            let state = SessionState(
                protocolVersion: "2025-11-25", issuedAt: now, expiresAt: now + 86_400,
                entries: [.init(target: "t", endpoint: Self.unreachable, upstreamSessionID: "upstream-session")])
            sessionID = Array(runtime.sessionCodec.seal(state, route: config.binds[0].listeners[0].routes[0].identity).utf8)
        } catch {
            fatalError("fuzz fixture: \(error)")
        }
    }

    func run(_ input: UnsafeRawBufferPointer) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        do {
            try ClientPipeline.configure(
                channel: channel, runtimeBox: runtimeBox, services: services, bindPort: Self.bindPort, logger: logger
            ).wait()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
        } catch {
            fatalError("fuzz pipeline: \(error)")
        }
        var bytes = channel.allocator.buffer(capacity: input.count + sessionID.count)
        Self.substituteSessionID(input, sessionID: sessionID, into: &bytes)
        _ = try? channel.writeInbound(bytes)  // a decoding error is answered (400) and closes the channel
        loop.run()
        loop.advanceTime(by: .seconds(30))
        while let part = try? channel.readOutbound(as: IOData.self) {
            if Self.printAnswers, case .byteBuffer(let buffer) = part { print(String(buffer: buffer), terminator: "") }
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        try? loop.syncShutdownGracefully()
    }

    /// Copies `input` into `out` with every `@SID@` replaced by `sessionID`.
    static func substituteSessionID(_ input: UnsafeRawBufferPointer, sessionID: [UInt8], into out: inout ByteBuffer) {
        let marker = Array("@SID@".utf8)
        var index = 0
        while index < input.count {
            if input[index] == marker[0], index + marker.count <= input.count,
                (0..<marker.count).allSatisfy({ input[index + $0] == marker[$0] })
            {
                out.writeBytes(sessionID)
                index += marker.count
            } else {
                out.writeInteger(input[index])
                index += 1
            }
        }
    }
}
