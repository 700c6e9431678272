import Testing

@testable import MCPGate
@testable import MCPGateSession

@Suite("Mcp-Name / Mcp-Param value encoding")
struct MCPHeaderValueTests {
    @Test(
        "encodes like the SDK: plain ASCII as is, the rest as =?base64?…?=",
        arguments: [
            ("us-west1", "us-west1"),
            ("Zürich", "=?base64?WsO8cmljaA==?="),
            ("file:///data/ä.txt", "=?base64?ZmlsZTovLy9kYXRhL8OkLnR4dA==?="),
            ("=?base64?x?=", "=?base64?PT9iYXNlNjQ/eD89?="),
            (" padded", "=?base64?IHBhZGRlZA==?="),
        ])
    func encode(value: String, encoded: String) {
        #expect(MCPHeaderValue.encode(value) == encoded)
        #expect(MCPHeaderValue.decode(encoded) == value)
    }

    @Test("non-canonical base64 does not decode")
    func nonCanonical() {
        #expect(MCPHeaderValue.decode("=?base64?SGVsbG8?=") == nil)
        #expect(MCPHeaderValue.decode("=?base64?SGVsbG9=?=") == nil)  // non-zero padding bits
        #expect(MCPHeaderValue.decode("=?base64?SGVsbG8h?=") == "Hello!")
    }

    @Test("base64 round-trips every length")
    func roundTrip() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.standard.decode(Array(Base64.standard.encode(bytes).utf8)) == bytes)
        }
    }
}
