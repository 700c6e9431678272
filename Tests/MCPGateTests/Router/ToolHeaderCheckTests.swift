import NIOHTTP1
import Testing

@testable import MCPGate

@Suite("The one x-mcp-header check of a tools/call")
struct ToolHeaderCheckTests {
    private let city = [ToolParamHeader(token: "City", path: ["city"], type: .string)]

    private func call(_ arguments: String) throws -> RPCMessage {
        try RouterFixtures.request("tools/call", params: #"{"name":"weather","arguments":\#(arguments)}"#)
    }

    @Test("a tool not listed yet, or another method, is not checked")
    func unchecked() throws {
        #expect(ModernRequestValidator.toolHeaderMismatch(try call(#"{"city":"Oslo"}"#), headers: HTTPHeaders(), toolHeaders: nil) == nil)
        let list = try RouterFixtures.request("tools/list")
        #expect(ModernRequestValidator.toolHeaderMismatch(list, headers: HTTPHeaders(), toolHeaders: city) == nil)
    }

    @Test("a header that matches its argument passes; a missing or different one is -32020")
    func checked() throws {
        let matching = HTTPHeaders([("Mcp-Param-City", "Oslo")])
        #expect(ModernRequestValidator.toolHeaderMismatch(try call(#"{"city":"Oslo"}"#), headers: matching, toolHeaders: city) == nil)
        let missing = ModernRequestValidator.toolHeaderMismatch(try call(#"{"city":"Oslo"}"#), headers: HTTPHeaders(), toolHeaders: city)
        #expect(missing?.code == -32020 && missing?.status.code == 400)
        #expect(missing?.message == "Mcp-Param-City header is missing but the request body's 'city' argument is present")
        let different = ModernRequestValidator.toolHeaderMismatch(try call(#"{"city":"Bergen"}"#), headers: matching, toolHeaders: city)
        #expect(different?.message == "Mcp-Param-City header does not match the request body's 'city' argument")
    }
}
