import CJansson
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// Builders for the router's pure decisions: routes without a network, messages and outcomes from JSON text.
enum RouterFixtures {
    /// A route whose targets are `name -> replica URLs`, in the given (config) order.
    static func route(
        _ targets: [(String, [String])], prefix: PrefixMode = .conditional, failureMode: FailureMode = .failClosed, identity: String = "r"
    ) throws -> RouteRuntime {
        var pools: [TargetPool] = []
        for (name, urls) in targets {
            var endpoints: [UpstreamEndpoint] = []
            for url in urls { endpoints.append(try UpstreamEndpoint(parsing: url)) }
            pools.append(try TargetPool(target: Target(name: name, endpoints: endpoints)))
        }
        return RouteRuntime(
            identity: identity, sealContext: Array(identity.utf8), targets: pools, origins: OriginPolicy(corsAllowOrigins: []), chain: nil,
            naming: TargetNaming(mode: prefix, targetCount: pools.count), failureMode: failureMode)
    }

    /// Three targets, one replica each (alpha, beta, gamma).
    static func threeTargets(prefix: PrefixMode = .conditional, failureMode: FailureMode = .failClosed) throws -> RouteRuntime {
        try route(
            [("alpha", ["http://127.0.0.1:9001/mcp"]), ("beta", ["http://127.0.0.1:9002/mcp"]), ("gamma", ["http://127.0.0.1:9003/mcp"])],
            prefix: prefix, failureMode: failureMode)
    }

    static func message(_ text: String) throws -> RPCMessage {
        try Array(text.utf8).withUnsafeBytes { RPCMessage.parse($0) }.get()
    }

    /// A request `{"jsonrpc":"2.0","id":1,"method":…,"params":…}`.
    static func request(_ method: String, params: String = "{}") throws -> RPCMessage {
        try message(#"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":\#(params)}"#)
    }

    /// `.response` with `{"jsonrpc":"2.0","id":1,"result":…}`.
    static func result(_ json: String, sessionID: String? = nil) throws -> UpstreamOutcome {
        .response(try message(#"{"jsonrpc":"2.0","id":1,"result":\#(json)}"#), upstreamSessionID: sessionID)
    }

    /// `.response` with a JSON-RPC error.
    static func error(_ code: Int, _ text: String = "failed") throws -> UpstreamOutcome {
        .response(try message(#"{"jsonrpc":"2.0","id":1,"error":{"code":\#(code),"message":"\#(text)"}}"#), upstreamSessionID: nil)
    }

    static var down: UpstreamOutcome { .failed(.upstream(.badGateway, target: "x", "connection refused")) }

    static func text(_ document: JSONDocument) -> String {
        String(decoding: document.serialized(), as: UTF8.self)
    }

    static func text(_ value: JSONValueRef?) -> String {
        value.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "nil"
    }

    static func parse(_ text: String) throws -> JSONDocument {
        try Array(text.utf8).withUnsafeBytes { JSONDocument.parse($0) }.get()
    }
}
