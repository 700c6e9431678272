import NIOHTTP1
import Testing

@testable import MCPGate
@testable import MCPGateSession

@Suite("JSON-RPC parsing and 2026-07-28 header checks")
struct RPCMessageTests {
    private func parse(_ text: String) -> Result<RPCMessage, RPCParseError> {
        Array(text.utf8).withUnsafeBytes { RPCMessage.parse($0) }
    }

    private func message(_ text: String) throws -> RPCMessage {
        try parse(text).get()
    }

    @Test("requests, notifications and responses are told apart")
    func kinds() throws {
        #expect(try message(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).kind == .request)
        #expect(try message(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).kind == .notification)
        #expect(try message(#"{"jsonrpc":"2.0","id":"a","result":{}}"#).kind == .result)
        #expect(try message(#"{"jsonrpc":"2.0","id":2,"error":{"code":-1,"message":"x"}}"#).kind == .error)
    }

    @Test("ids keep their JSON type for echoing")
    func idJSON() throws {
        #expect(try message(#"{"jsonrpc":"2.0","id":7,"method":"m"}"#).idJSON == "7")
        #expect(try message(#"{"jsonrpc":"2.0","id":"7","method":"m"}"#).idJSON == "\"7\"")
    }

    @Test(
        "garbage, truncated JSON and invalid envelopes are refused with the right class",
        arguments: [
            ("not json", "json"), (#"{"jsonrpc":"2.0","id":1,"#, "json"), ("", "json"),
            ("[]", "envelope"), (#"[{"jsonrpc":"2.0","id":1,"method":"a"}]"#, "envelope"),
            (#"{"id":1,"method":"a"}"#, "envelope"), (#"{"jsonrpc":"2.0","id":null,"method":"a"}"#, "envelope"),
            (#"{"jsonrpc":"2.0","id":1.5,"method":"a"}"#, "envelope"), (#"{"jsonrpc":"2.0","id":1}"#, "envelope"),
            (#"{"jsonrpc":"2.0","id":1,"method":"a","params":[1]}"#, "envelope"), ("42", "envelope"),
        ])
    func refused(body: String, expected: String) {
        switch parse(body) {
        case .success: Issue.record("accepted \(body)")
        case .failure(.notJSON): #expect(expected == "json")
        case .failure(.invalidEnvelope): #expect(expected == "envelope")
        }
    }

    private let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    private func headers(_ pairs: [(String, String)]) -> HTTPHeaders { HTTPHeaders(pairs) }

    @Test("a consistent 2026 tools/call passes")
    func validModern() throws {
        let call = try message(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{},"# + meta + "}}")
        let error = ModernRequestValidator.validate(
            call, headers: headers([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "add")]),
            toolHeaders: nil)
        #expect(error == nil)
    }

    @Test(
        "mismatches give the SDK's codes",
        arguments: [
            ([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list"), ("Mcp-Name", "add")], -32020),
            ([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "sub")], -32020),
            ([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call")], -32020),
            (
                [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "add")],
                -32020
            ),
            ([("MCP-Protocol-Version", "2099-01-01"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "add")], -32020),
        ])
    func mismatches(pairs: [(String, String)], code: Int) throws {
        let call = try message(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","# + meta + "}}")
        #expect(ModernRequestValidator.validate(call, headers: headers(pairs), toolHeaders: nil)?.code == code)
    }

    @Test("missing _meta is -32602; an unsupported version in header and body is -32022")
    func metaAndVersion() throws {
        let noMeta = try message(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#)
        #expect(
            ModernRequestValidator.validate(
                noMeta, headers: headers([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list")]), toolHeaders: nil)?.code
                == -32602)
        let future = try message(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}"#
        )
        let error = ModernRequestValidator.validate(
            future, headers: headers([("MCP-Protocol-Version", "2099-01-01"), ("Mcp-Method", "tools/list")]), toolHeaders: nil)
        #expect(error?.code == -32022)
        #expect(error?.status == .badRequest)
    }

    @Test("Mcp-Param headers are checked when the tool's schema is known")
    func paramHeaders() throws {
        let call = try message(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"weather","arguments":{"region":"us-west1","n":42},"# + meta
                + "}}")
        let known = [
            ToolParamHeader(token: "Region", path: ["region"], type: .string), ToolParamHeader(token: "N", path: ["n"], type: .integer),
        ]
        let base = [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "weather")]
        #expect(
            ModernRequestValidator.validate(
                call, headers: headers(base + [("Mcp-Param-Region", "us-west1"), ("Mcp-Param-N", "42.0")]), toolHeaders: known) == nil)
        #expect(ModernRequestValidator.validate(call, headers: headers(base + [("Mcp-Param-N", "42")]), toolHeaders: known)?.code == -32020)
        #expect(
            ModernRequestValidator.validate(
                call, headers: headers(base + [("Mcp-Param-Region", "eu"), ("Mcp-Param-N", "42")]), toolHeaders: known)?.code == -32020)
    }
}
