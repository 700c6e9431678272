import Testing

@testable import PluginAPI

/// The one JSON string escaper: its output pinned byte for byte, so the gateway's error bodies, the chain's
/// rejections and the admin summary keep writing exactly what they wrote before the three escapers became one.
@Suite struct JSONStringTests {
    /// The escaper `GatewayError` and the chain used before (identical in both), kept here as the reference.
    private static func previousQuote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test(arguments: [
        ("", #""""#),
        ("plain text", #""plain text""#),
        ("say \"hi\"", #""say \"hi\"""#),
        (#"C:\path"#, #""C:\\path""#),
        ("a\nb\rc\td", #""a\nb\rc\td""#),
        ("\u{0}\u{1}\u{8}\u{C}\u{1B}\u{1F}", #""\u0000\u0001\u0008\u000c\u001b\u001f""#),
        ("del\u{7F}", "\"del\u{7F}\""),
        ("/ and space ", #""/ and space ""#),
        ("Zürich 🙂 \u{2028}", "\"Zürich 🙂 \u{2028}\""),
    ])
    func quotesAsAJSONStringLiteral(value: String, expected: String) {
        #expect(JSONString.quote(value) == expected)
        #expect(JSONString.quote(value) == Self.previousQuote(value))
        var out = "x:"
        JSONString.append(value, to: &out)
        #expect(out == "x:" + expected)
    }

    @Test func writesWhatThePreviousEscaperWroteForEveryScalarBelow0x100AndBeyond() {
        var scalars = (0..<0x100).compactMap(Unicode.Scalar.init)
        scalars += ["\u{FFFD}", "\u{10FFFF}", "\u{E9}", "\u{1F642}"]
        for scalar in scalars {
            let value = "a" + String(scalar) + "b"
            #expect(JSONString.quote(value) == Self.previousQuote(value), "U+\(String(scalar.value, radix: 16))")
        }
    }

    @Test func escapesDeleteOnlyWhenAsked() {
        #expect(JSONString.quote("a\u{7F}b", escapingDelete: true) == #""a\u007fb""#)
        #expect(JSONString.quote("a\u{7F}b") == "\"a\u{7F}b\"")
    }

    @Test func invalidUTF8ArrivesAsTheReplacementCharacterAndIsWrittenAsItself() {
        let value = String(decoding: [0x61, 0xFF, 0xC3, 0x62] as [UInt8], as: UTF8.self)
        #expect(JSONString.quote(value) == "\"a\u{FFFD}\u{FFFD}b\"")
    }

    @Test func appendEscapedWritesNoQuotesAndTakesSubstrings() {
        var out = "\""
        JSONString.appendEscaped("say \"hi\"\n".dropLast(), to: &out)
        #expect(out == #""say \"hi\""#)
    }
}
