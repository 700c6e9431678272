import NIOCore
import Testing

@testable import MCPGateUpstream

/// `JSONRPCEnvelopeScanner`: the kind, id, method and progress token of one upstream line, read in one pass
/// over strict JSON, with nested values skipped (never mistaken for the envelope) and bounded in depth.
@Suite("JSON-RPC envelope scanner")
struct JSONRPCEnvelopeScannerTests {
    private func scan(_ text: String, maxDepth: Int = 64) -> JSONRPCEnvelope? {
        JSONRPCEnvelopeScanner.scan(ByteBuffer(string: text), maxDepth: maxDepth)
    }

    private func scan(bytes: [UInt8]) -> JSONRPCEnvelope? {
        JSONRPCEnvelopeScanner.scan(ByteBuffer(bytes: bytes))
    }

    // MARK: Kinds

    @Test("a request, a notification, a result and an error")
    func kinds() {
        #expect(
            scan(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#)
                == JSONRPCEnvelope(kind: .request, id: .int(1), method: "tools/call"))
        #expect(
            scan(#"{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}"#)
                == JSONRPCEnvelope(kind: .notification, method: "notifications/message"))
        #expect(scan(#"{"jsonrpc":"2.0","id":"a","result":{}}"#) == JSONRPCEnvelope(kind: .response, id: .string("a")))
        #expect(
            scan(#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}}"#)
                == JSONRPCEnvelope(kind: .response, id: .int(7)))
    }

    @Test("the kind does not depend on the order of the keys")
    func keyOrder() {
        let expected = JSONRPCEnvelope(kind: .request, id: .int(3), method: "ping")
        #expect(scan(#"{"method":"ping","id":3,"jsonrpc":"2.0"}"#) == expected)
        #expect(scan(#"{"id":3,"jsonrpc":"2.0","method":"ping"}"#) == expected)
        #expect(scan(#"{"params":{},"jsonrpc":"2.0","method":"ping","id":3}"#) == expected)
        #expect(scan(#"{"result":null,"id":3}"#) == JSONRPCEnvelope(kind: .response, id: .int(3)))
    }

    @Test("null, absent or uncorrelatable ids keep the kind with a nil id")
    func idsWithoutCorrelation() {
        #expect(scan(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse"}}"#) == JSONRPCEnvelope(kind: .response))
        #expect(scan(#"{"error":{"code":1,"message":"m"}}"#) == JSONRPCEnvelope(kind: .response))
        #expect(scan(#"{"id":null,"method":"m"}"#) == JSONRPCEnvelope(kind: .request, method: "m"))
        for id in ["1.5", "1e2", "1E+2", "-0.0", "9223372036854775808", "-9223372036854775809", "123456789012345678901234"] {
            #expect(scan(#"{"id":\#(id),"result":1}"#) == JSONRPCEnvelope(kind: .response), "id \(id)")
        }
        // A lone surrogate escape decodes to U+FFFD: two such ids could collide, so neither correlates.
        #expect(scan(#"{"id":"\ud800","result":1}"#) == JSONRPCEnvelope(kind: .response))
        #expect(scan(#"{"id":"a\udc00b","result":1}"#) == JSONRPCEnvelope(kind: .response))
    }

    @Test("integer ids: the Int64 range, negative, zero")
    func integerIDs() {
        #expect(scan(#"{"id":9223372036854775807,"result":1}"#)?.id == .int(.max))
        #expect(scan(#"{"id":-9223372036854775808,"result":1}"#)?.id == .int(.min))
        #expect(scan(#"{"id":-42,"result":1}"#)?.id == .int(-42))
        #expect(scan(#"{"id":0,"result":1}"#)?.id == .int(0))
        #expect(scan(#"{"id":-0,"result":1}"#)?.id == .int(0))
    }

    @Test("string ids are decoded: escapes, \\u00e9 == é, surrogate pairs")
    func stringIDs() {
        #expect(scan(#"{"id":"\u00e9","result":1}"#)?.id == .string("é"))
        #expect(scan(#"{"id":"é","result":1}"#)?.id == .string("é"))
        #expect(scan(#"{"id":"\ud83d\ude00!","result":1}"#)?.id == .string("😀!"))
        #expect(scan(#"{"id":"😀!","result":1}"#)?.id == .string("😀!"))
        #expect(scan(#"{"id":"a\"b\\c\/d\b\f\n\r\t","result":1}"#)?.id == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(scan(#"{"id":"\u0000","result":1}"#)?.id == .string("\u{0}"))
        #expect(scan(#"{"id":"","result":1}"#)?.id == .string(""))
        #expect(scan(#"{"id":"1","result":1}"#)?.id != .int(1))
    }

    @Test("escaped keys are the keys they decode to")
    func escapedKeys() {
        #expect(scan(#"{"\u0069d":5,"\u006dethod":"m"}"#) == JSONRPCEnvelope(kind: .request, id: .int(5), method: "m"))
        #expect(scan(#"{"i\u0064":5,"resul\u0074":1}"#) == JSONRPCEnvelope(kind: .response, id: .int(5)))
    }

    @Test("method is decoded")
    func methodDecoded() {
        #expect(scan(#"{"method":"notifications\/cancelled"}"#)?.method == "notifications/cancelled")
    }

    // MARK: Progress

    @Test("the progress token of notifications/progress, integer or string, wherever params is")
    func progressToken() {
        #expect(
            scan(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":12,"progress":0.5}}"#)
                == JSONRPCEnvelope(kind: .notification, method: "notifications/progress", progressToken: .int(12)))
        #expect(
            scan(#"{"params":{"progress":1,"progressToken":"t-\u00e9"},"method":"notifications/progress"}"#)?.progressToken
                == .string("t-é"))
        #expect(scan(#"{"method":"notifications/progress","params":{"progressToken":1.5}}"#)?.progressToken == nil)
        #expect(scan(#"{"method":"notifications/progress","params":{"progressToken":{"a":1}}}"#)?.progressToken == nil)
        #expect(scan(#"{"method":"notifications/progress","params":{"progress":1}}"#)?.progressToken == nil)
    }

    @Test("a progress token is read only for notifications/progress")
    func progressTokenOnlyForProgress() {
        #expect(scan(#"{"method":"notifications/message","params":{"progressToken":3}}"#)?.progressToken == nil)
        #expect(scan(#"{"id":1,"method":"tools/call","params":{"progressToken":3}}"#)?.progressToken == nil)
    }

    // MARK: Decoys

    @Test("nested ids, methods and results are not the envelope")
    func nestedDecoys() {
        #expect(
            scan(#"{"method":"m","params":{"id":9,"method":"x","result":1,"error":2}}"#)
                == JSONRPCEnvelope(kind: .notification, method: "m"))
        #expect(scan(#"{"result":{"id":9,"method":"x"},"id":1}"#) == JSONRPCEnvelope(kind: .response, id: .int(1)))
        #expect(scan(#"{"params":[{"id":9}],"x":{"method":"y"}}"#) == nil)
        #expect(
            scan(#"{"method":"notifications/progress","params":{"_meta":{"progressToken":5},"progressToken":6}}"#)?
                .progressToken == .int(6))
        #expect(
            scan(#"{"method":"notifications/progress","params":{"_meta":{"progressToken":5}}}"#)?.progressToken == nil)
        // A key inside a string is only text.
        #expect(scan(#"{"method":"m","x":"\"id\":4"}"#) == JSONRPCEnvelope(kind: .notification, method: "m"))
    }

    // MARK: Not JSON-RPC

    @Test("shapes that are not a JSON-RPC message")
    func notJSONRPC() {
        #expect(scan(#"{}"#) == nil)
        #expect(scan(#"{"jsonrpc":"2.0","id":1}"#) == nil)
        #expect(scan(#"{"id":1,"method":"m","result":1}"#) == nil)
        #expect(scan(#"{"method":"m","error":{}}"#) == nil)
        #expect(scan(#"{"method":1}"#) == nil)
        #expect(scan(#"{"method":null}"#) == nil)
        for id in ["true", "false", "{}", "[1]"] {
            #expect(scan(#"{"id":\#(id),"result":1}"#) == nil, "id \(id)")
        }
    }

    @Test("repeated envelope keys are refused; repeated other keys are not")
    func duplicateKeys() {
        #expect(scan(#"{"id":1,"id":2,"result":1}"#) == nil)
        #expect(scan(#"{"id":1,"result":1,"result":2}"#) == nil)
        #expect(scan(#"{"method":"a","method":"b"}"#) == nil)
        #expect(scan(#"{"method":"a","params":{},"params":{}}"#) == nil)
        #expect(scan(#"{"id":1,"\u0069d":2,"result":1}"#) == nil)
        #expect(scan(#"{"method":"notifications/progress","params":{"progressToken":1,"progressToken":2}}"#) == nil)
        #expect(scan(#"{"method":"a","x":1,"x":2}"#) == JSONRPCEnvelope(kind: .notification, method: "a"))
    }

    @Test(
        "not an object, not one value, truncated, trailing garbage",
        arguments: [
            "", " ", "[]", "[{\"id\":1,\"result\":1}]", "\"x\"", "1", "null",
            #"{"id":1,"result":1"#, #"{"id":1,"result":"#, #"{"id":1,"result""#, #"{"id":1,"#, #"{"id""#, "{",
            #"{"id":1,"result":1}}"#, #"{"id":1,"result":1} x"#, #"{"id":1,"result":1}{"id":2,"result":1}"#,
            #"{"id":1,"result":1},"#,
        ])
    func notOneObject(text: String) {
        #expect(scan(text) == nil)
    }

    @Test("whitespace around and inside is allowed: space, tab, CR, LF")
    func whitespace() {
        #expect(scan(" \t{ \"id\" :\r1 ,\n\"result\" : [ 1 , { } ] } \r\n") == JSONRPCEnvelope(kind: .response, id: .int(1)))
        // Other whitespace (a vertical tab, a no-break space) is not JSON's.
        #expect(scan("\u{0B}{\"id\":1,\"result\":1}") == nil)
        #expect(scan("{\"id\":1,\"result\":1}\u{A0}") == nil)
    }

    // MARK: Strict JSON in skipped values

    @Test(
        "invalid JSON anywhere, even in a value that is skipped, is refused",
        arguments: [
            #"{"id":1,"result":[1,]}"#, #"{"id":1,"result":{"a":1,}}"#, #"{"id":1,"result":{"a"}}"#,
            #"{"id":1,"result":{1:2}}"#, #"{"id":1,"result":[1 2]}"#, #"{"id":1,"result":tru}"#,
            #"{"id":1,"result":nul}"#, #"{"id":1,"result":True}"#, #"{"id":1,"result":01}"#,
            #"{"id":1,"result":-}"#, #"{"id":1,"result":1.}"#, #"{"id":1,"result":.5}"#, #"{"id":1,"result":1e}"#,
            #"{"id":1,"result":+1}"#, #"{"id":1,"result":0x10}"#, #"{"id":1,"result":NaN}"#,
            #"{"id":1,"result":'a'}"#, #"{"id":1,"result":"\x"}"#, #"{"id":1,"result":"\u12"}"#,
            #"{"id":1,"result":"\u12G4"}"#, #"{"id":01,"result":1}"#, #"{"id":1.,"result":1}"#,
            #"{"id":1,"result":[}"#, #"{"id":1,"result":{]}"#, #"{"id":1,"result":1,}"#, #"{,"id":1,"result":1}"#,
            #"{"id":1 "result":1}"#, #"{"id" 1,"result":1}"#, #"{id:1,"result":1}"#,
        ])
    func invalidJSON(text: String) {
        #expect(scan(text) == nil)
    }

    @Test("valid JSON of every kind in skipped values is accepted")
    func validSkippedValues() {
        let values = [
            "0", "-0", "1.5", "-1.5e10", "2E-3", "1e+7", "true", "false", "null", "\"\"", "\"\\u00e9\\ud83d\\ude00\"",
            "[]", "{}", "[[],{}]", #"{"a":[1,{"b":null}],"c":"d"}"#, "[1,\"two\",[3],{\"four\":4}]",
        ]
        for value in values {
            #expect(scan(#"{"id":1,"result":\#(value)}"#) == JSONRPCEnvelope(kind: .response, id: .int(1)), "\(value)")
            #expect(scan(#"{"method":"m","params":{"x":\#(value)}}"#)?.kind == .notification, "\(value)")
        }
    }

    @Test("raw control characters in strings are refused; DEL and escaped ones are fine")
    func controlCharacters() {
        #expect(scan(bytes: Array(#"{"method":"a"#.utf8) + [0x0A] + Array(#""}"#.utf8)) == nil)
        #expect(scan(bytes: Array(#"{"method":"a"#.utf8) + [0x00] + Array(#""}"#.utf8)) == nil)
        #expect(scan(bytes: Array(#"{"method":"m","x":"a"#.utf8) + [0x1F] + Array(#""}"#.utf8)) == nil)
        #expect(scan(bytes: Array(#"{"method":"a"#.utf8) + [0x7F] + Array(#""}"#.utf8))?.method == "a\u{7F}")
    }

    @Test(
        "invalid UTF-8 in strings is refused, in a key, a read value or a skipped one",
        arguments: [
            [0x80], [0xC0, 0xAF], [0xC1, 0xBF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF0, 0x80, 0x80, 0xAF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xC3], [0xE2, 0x82], [0xC3, 0x28],
        ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let open = Array(#"{"id":1,"result":1,"#.utf8)
        #expect(scan(bytes: open + Array("\"".utf8) + sequence + Array(#"":1}"#.utf8)) == nil)
        #expect(scan(bytes: Array(#"{"method":""#.utf8) + sequence + Array(#""}"#.utf8)) == nil)
        #expect(scan(bytes: open + Array(#""x":[""#.utf8) + sequence + Array(#""]}"#.utf8)) == nil)
        // Outside a string, any non-ASCII byte is refused too.
        #expect(scan(bytes: open + Array(#""x":"#.utf8) + sequence + Array("}".utf8)) == nil)
    }

    @Test("valid UTF-8 of every length is accepted and decoded")
    func validUTF8() {
        #expect(scan("{\"method\":\"a é € 😀 \u{10FFFF}\"}")?.method == "a é € 😀 \u{10FFFF}")
    }

    // MARK: Depth

    @Test("nesting up to the bound is accepted; one deeper is refused")
    func depthBound() {
        // The message object is depth 1, so 63 arrays inside it reach depth 64.
        func nested(_ depth: Int, open: String = "[", close: String = "]") -> String {
            #"{"id":1,"result":"# + String(repeating: open, count: depth) + String(repeating: close, count: depth) + "}"
        }
        #expect(scan(nested(63)) == JSONRPCEnvelope(kind: .response, id: .int(1)))
        #expect(scan(nested(64)) == nil)
        #expect(scan(#"{"id":1,"result":"# + String(repeating: #"{"a":"#, count: 63) + "1" + String(repeating: "}", count: 64)) != nil)
        #expect(scan(#"{"id":1,"result":"# + String(repeating: #"{"a":"#, count: 64) + "1" + String(repeating: "}", count: 65)) == nil)
        // Inside params too, and with a smaller bound.
        #expect(
            scan(#"{"method":"m","params":{"a":"# + String(repeating: "[", count: 62) + String(repeating: "]", count: 62) + "}}") != nil)
        #expect(
            scan(#"{"method":"m","params":{"a":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}}") == nil)
        #expect(scan(nested(2), maxDepth: 3) != nil)
        #expect(scan(nested(3), maxDepth: 3) == nil)
        #expect(scan(#"{"method":"m","params":{}}"#, maxDepth: 1) == nil)
        #expect(scan(#"{"method":"m","params":1}"#, maxDepth: 1) != nil)
    }

    @Test("a very deep line is refused without recursion: 1 MiB of brackets")
    func veryDeep() {
        let open = String(repeating: "[", count: 1 << 20)
        #expect(scan(#"{"id":1,"result":"# + open) == nil)
    }

    @Test("a long line is scanned whole: a 4 MiB string value")
    func longValue() {
        let big = String(repeating: "abcdefgh", count: 1 << 19)
        #expect(scan(#"{"id":"x","result":{"text":"\#(big)"}}"#) == JSONRPCEnvelope(kind: .response, id: .string("x")))
        #expect(scan(#"{"id":"x","result":{"text":"\#(big)}}"#) == nil)
    }

    @Test("only the buffer's readable bytes are read")
    func readableBytesOnly() {
        var buffer = ByteBuffer(string: #"xx{"id":1,"result":1}yy"#)
        buffer.moveReaderIndex(forwardBy: 2)
        buffer = buffer.getSlice(at: buffer.readerIndex, length: buffer.readableBytes - 2) ?? ByteBuffer()
        #expect(JSONRPCEnvelopeScanner.scan(buffer) == JSONRPCEnvelope(kind: .response, id: .int(1)))
    }
}
