import CJansson
import Testing

@testable import PluginAPI

/// The one JSON wrapper of the host and the chain: what each parse accepts and refuses, what a view reads, and
/// the compact text it writes.
@Suite struct JSONDocumentTests {
    private func parse(_ text: String, nodeLimit: Int = 1_000) -> Result<JSONDocument, JSONParseFailure> {
        Array(text.utf8).withUnsafeBytes { JSONDocument.parse($0, nodeLimit: nodeLimit) }
    }

    @Test func parsesAMessageAndReadsItThroughViews() throws {
        let document = try parse(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"tool","n":1.5,"ok":true,"z":null}}"#)
            .get()
        let root = JSONValueRef(document.root)
        #expect(root.isObject)
        #expect(root["id"]?.integer == 7)
        #expect(root["method"]?.string == "tools/call")
        let params = try #require(root["params"])
        #expect(params["name"]?.string == "tool")
        #expect(params["n"]?.double == 1.5)
        #expect(params["n"]?.integer == nil)
        #expect(params["ok"]?.bool == true)
        #expect(params["z"]?.isNull == true)
        #expect(params["missing"] == nil)
        #expect(root["method"]?["x"] == nil)  // members of a non-object are nil
    }

    @Test func serializesCompactlyAndAfterEdits() throws {
        let document = try parse(#"{ "a" : [1, 2] , "b" : "x" }"#).get()
        #expect(document.serialized() == Array(#"{"a":[1,2],"b":"x"}"#.utf8))
        JSONValueRef(document.root).set("b", string: "é\"")
        #expect(JSONValueRef(document.root).serializedText() == #"{"a":[1,2],"b":"é\""}"#)
        #expect(JSONValueRef(document.root)["a"]?.serializedText() == "[1,2]")
        #expect(JSONValueRef(document.root)["b"]?.serializedText() == #""é\"""#)
    }

    @Test func refusesMoreValuesThanTheLimitBeforeParsing() {
        guard case .failure(let failure) = parse("[1,2,3,4]", nodeLimit: 4) else {
            Issue.record("a document over the limit parsed")
            return
        }
        #expect(failure.message == "more than 4 JSON values")
        #expect(failure.position == 0)
    }

    @Test func wireParseAllowsDuplicateKeysAndReportsWhereItStopped() throws {
        let document = try parse(#"{"a":1,"a":2}"#).get()
        #expect(JSONValueRef(document.root)["a"]?.integer == 2)
        guard case .failure(let failure) = parse("{\"a\":1} x") else {
            Issue.record("trailing garbage parsed")
            return
        }
        #expect(failure.position == 9)
        #expect(failure.message.contains("end of file expected"))
    }

    @Test func integersBeyondInt64ParseAsTheNearestReal() throws {
        let document = try parse(#"{"max":18446744073709551615}"#).get()
        let max = try #require(JSONValueRef(document.root)["max"])
        #expect(!max.isInteger)
        #expect(max.double == 18446744073709551615.0)
    }

    @Test func textParseRefusesDuplicateKeysWithLineAndColumn() throws {
        let document = try JSONDocument.parseRejectingDuplicates(#"{"tag":"T"}"#).get()
        #expect(JSONValueRef(document.root)["tag"]?.string == "T")
        let scalar = try JSONDocument.parseRejectingDuplicates("7").get()
        #expect(JSONValueRef(scalar.root).integer == 7)
        guard case .failure(let failure) = JSONDocument.parseRejectingDuplicates("{\n  \"a\": 1,\n  \"a\": 2}") else {
            Issue.record("a duplicate key parsed")
            return
        }
        #expect(failure.line == 3)
        #expect(failure.description.hasPrefix("line 3, column "))
        #expect(failure.description.hasSuffix(": " + failure.message))
        #expect(failure.message.contains("duplicate object key"))
    }

    @Test func bothParsesRefuseNULInStringsSoAViewNeverMeetsOne() {
        guard case .failure = parse(#"["a\u0000b"]"#), case .failure = JSONDocument.parseRejectingDuplicates(#"["a\u0000b"]"#)
        else {
            Issue.record("a string with a NUL parsed")
            return
        }
    }

    @Test func aDocumentReleasesItsOneReference() throws {
        let value = try #require(json_object())
        json_incref(value)
        do {
            let document = JSONDocument(owning: value)
            #expect(document.root.pointee.refcount == 2)
        }
        #expect(value.pointee.refcount == 1)
        json_decref(value)
    }
}
