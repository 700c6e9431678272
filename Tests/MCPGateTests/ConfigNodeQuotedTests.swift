import Testing

@testable import MCPGate

/// How a configuration error message quotes the value it found: JSON escapes (delete included), one line, at most
/// 80 characters.
@Suite struct ConfigNodeQuotedTests {
    @Test func escapesLikeJSONAndDeleteToo() {
        #expect(ConfigNode.quoted("a\"b\\c\nd") == #""a\"b\\c\nd""#)
        #expect(ConfigNode.quoted("esc\u{1B}[31m del\u{7F}") == #""esc\u001b[31m del\u007f""#)
        #expect(ConfigNode.quoted("Zürich") == "\"Zürich\"")
    }

    @Test func cutsAfter80Characters() {
        let eighty = String(repeating: "\u{E9}", count: 80)
        #expect(ConfigNode.quoted(eighty) == "\"\(eighty)\"")
        #expect(ConfigNode.quoted(eighty + "x") == "\"\(eighty)…\"")
        #expect(ConfigNode.quoted(String(repeating: "\n", count: 81)) == "\"" + String(repeating: "\\n", count: 80) + "…\"")
    }
}
