import PluginAPI
import Testing

@testable import MCPGate

/// Parse cost is bounded before jansson builds a tree (attack run M2), and valid JSON with integers beyond int64
/// is not a parse error (L8).
@Suite("JSON prescan: value count and integers beyond int64")
struct JSONPrescanTests {
    private func scan(_ text: String, limit: Int = 1_000_000) -> JSONPrescan {
        Array(text.utf8).withUnsafeBytes { JSONPrescan($0, limit: limit) }
    }

    @Test func countsEveryValueAndIgnoresStructureInsideStrings() {
        #expect(scan(#"{"a":[1,2.5,-3e2,true,false,null,"x"]}"#).nodes == 10)
        #expect(scan(#"{"s":"[{,:]\"}{ 123 true"}"#).nodes == 3)
        #expect(scan("[" + Array(repeating: "[]", count: 1000).joined(separator: ",") + "]").nodes == 1001)
    }

    @Test func stopsCountingPastTheLimit() {
        let text = "[" + Array(repeating: "[]", count: 100_000).joined(separator: ",") + "]"
        #expect(scan(text, limit: 500).nodes == 501)
    }

    @Test func findsIntegersOutsideInt64Only() {
        #expect(scan("[9223372036854775807,-9223372036854775808,1e400,12345678901234567890.5]").bigIntegers.isEmpty)
        #expect(scan("[9223372036854775808]").bigIntegers.count == 1)
        #expect(scan("[-9223372036854775809]").bigIntegers.count == 1)
        #expect(scan(#"{"a":"99999999999999999999999","b":99999999999999999999999}"#).bigIntegers.count == 1)
    }

    @Test func aDocumentOverTheLimitIsRefusedBeforeParsing() {
        let text =
            #"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":["# + Array(repeating: "[]", count: 200).joined(separator: ",") + "]}}"
        let result = Array(text.utf8).withUnsafeBytes { JSONDocument.parse($0, nodeLimit: 100) }
        guard case .failure(let failure) = result else {
            Issue.record("parsed a document over the limit")
            return
        }
        #expect(failure.message == "more than 100 JSON values")
    }

    @Test func bigIntegersParseAsRealsAndAnIdBeyondInt64IsAClearError() throws {
        let params = #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add","arguments":{"a":999999999999999999999999}}}"#
        let message = try Array(params.utf8).withUnsafeBytes { try RPCMessage.parse($0).get() }
        #expect(message.idJSON == "7")
        let id = #"{"jsonrpc":"2.0","id":9223372036854775808,"method":"ping"}"#
        let result = Array(id.utf8).withUnsafeBytes { RPCMessage.parse($0) }
        guard case .failure(.invalidEnvelope(let envelope)) = result else {
            Issue.record("an id beyond int64 was not refused as an invalid request: \(result)")
            return
        }
        #expect(envelope.message.contains("outside the signed 64-bit range"))
    }
}
