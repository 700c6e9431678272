import PluginAPI
import Testing

@testable import MCPGate

/// JSON-RPC 2.0 §5: an error response carries `"id": null` when the server could not read the request's id
/// (attack report L7: such an upstream error used to be refused as an invalid envelope and re-wrapped).
@Suite("JSON-RPC: null ids")
struct RPCMessageNullIDTests {
    private func parse(_ text: String) -> Result<RPCMessage, RPCParseError> {
        Array(text.utf8).withUnsafeBytes { RPCMessage.parse($0) }
    }

    @Test("an error response with a null id is an error response")
    func nullIDErrorIsAccepted() throws {
        let message = try parse(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#).get()
        #expect(message.kind == .error)
        #expect(message.idJSON == "null")
        #expect(message.id?.isNull == true)
    }

    @Test(
        "a null id anywhere else is still refused",
        arguments: [
            #"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#,
            #"{"jsonrpc":"2.0","id":null,"result":{}}"#,
            #"{"jsonrpc":"2.0","id":null,"method":"x","error":{"code":1,"message":"m"}}"#,
        ])
    func nullIDElsewhereIsRefused(text: String) {
        guard case .failure(.invalidEnvelope) = parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
    }
}
