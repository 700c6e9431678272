import CJansson
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession

@Suite("Federation naming, cursors and merging")
struct FederationTests {
    private let prefixed = TargetNaming(mode: .conditional, targetCount: 3)

    @Test("prefix modes: conditional prefixes only several targets; always and never do what they say")
    func modes() {
        #expect(!TargetNaming(mode: .conditional, targetCount: 1).prefixed)
        #expect(TargetNaming(mode: .conditional, targetCount: 2).prefixed)
        #expect(TargetNaming(mode: .always, targetCount: 1).prefixed)
        #expect(!TargetNaming(mode: .never, targetCount: 5).prefixed)
    }

    @Test("names and URIs round-trip through their prefixed forms")
    func roundTrip() throws {
        #expect(prefixed.exposedName("search_code", target: "github") == "github_search_code")
        let split = try #require(prefixed.split("github_search_code", targets: ["github", "jira"]))
        #expect(split.target == "github" && split.name == "search_code")
        #expect(prefixed.split("gitlab_search", targets: ["github"]) == nil)
        #expect(prefixed.exposedURI("file:///a+b", target: "docs") == "docs+file:///a+b")
        let uri = try #require(prefixed.splitURI("docs+file:///a+b", targets: ["docs"]))
        #expect(uri.target == "docs" && uri.uri == "file:///a+b")
        #expect(prefixed.exposedURI("relative/path", target: "docs") == "relative/path")
    }

    @Test("a prefixed tool name never exceeds 64 characters; the shortened form is distinct per name")
    func lengthLimit() {
        let long1 = String(repeating: "a", count: 70) + "_one"
        let long2 = String(repeating: "a", count: 70) + "_two"
        let first = prefixed.exposedName(long1, target: "analytics")
        let second = prefixed.exposedName(long2, target: "analytics")
        #expect(first.utf8.count == 64 && second.utf8.count == 64)
        #expect(first != second)
        #expect(first.hasPrefix("analytics_aaaa"))
        let name = prefixed.split(first, targets: ["analytics"])?.name ?? ""
        #expect(TargetNaming.isShortened(name))
        #expect(!TargetNaming.isShortened("add"))
        #expect(prefixed.exposedName("short", target: "analytics") == "analytics_short")
    }

    @Test("server request ids carry their target and original id of either type")
    func serverRequestIDs() throws {
        let numeric = FederationRewriter.serverRequestID(target: "beta", originalIDJSON: "7")
        let parsed = try #require(FederationRewriter.parseServerRequestID(numeric))
        #expect(parsed.target == "beta" && parsed.originalIDJSON == "7")
        let text = try #require(
            FederationRewriter.parseServerRequestID(FederationRewriter.serverRequestID(target: "a", originalIDJSON: "\"x:y\"")))
        #expect(text.target == "a" && text.originalIDJSON == "\"x:y\"")
        #expect(FederationRewriter.parseServerRequestID("7") == nil)
    }

    @Test("composite cursors round-trip and refuse tampering, other routes and other methods")
    func cursors() throws {
        let sealer = Sealer(keyring: Keyring.generated(), purpose: .cursor)
        let cursor = CompositeCursor(cursors: [("alpha", "2"), ("beta", "opaque:cursor")])
        let token = cursor.seal(with: sealer, route: "r", method: "tools/list")
        #expect(CompositeCursor.open(token, with: sealer, route: "r", method: "tools/list") == cursor)
        #expect(CompositeCursor.open(token, with: sealer, route: "other", method: "tools/list") == nil)
        #expect(CompositeCursor.open(token, with: sealer, route: "r", method: "prompts/list") == nil)
        var bytes = Array(token.utf8)
        bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(CompositeCursor.open(String(decoding: bytes, as: UTF8.self), with: sealer, route: "r", method: "tools/list") == nil)
    }

    private func document(_ text: String) throws -> JSONDocument {
        try Array(text.utf8).withUnsafeBytes { JSONDocument.parse($0) }.get()
    }

    @Test("capabilities merge: objects recursively, booleans OR-ed, the first value otherwise")
    func capabilities() throws {
        let a = try document(#"{"tools":{"listChanged":false},"logging":{}}"#)
        let b = try document(#"{"tools":{"listChanged":true},"resources":{"subscribe":true}}"#)
        let merged = JSONDocument(owning: JSONAlloc.object())
        ResultMerger.mergeCapabilities(into: merged.root, a.root)
        ResultMerger.mergeCapabilities(into: merged.root, b.root)
        let text = String(decoding: merged.serialized(), as: UTF8.self)
        #expect(text.contains(#""listChanged":true"#))
        #expect(text.contains(#""subscribe":true"#))
        #expect(text.contains(#""logging":{}"#))
    }

    @Test("list items are renamed and tool results' resource links prefixed")
    func rewriting() throws {
        let rewriter = FederationRewriter(naming: prefixed)
        let list = try document(#"{"tools":[{"name":"add"},{"name":"sub"}]}"#)
        rewriter.rewriteListItems(try #require(JSONValueRef(list.root)["tools"]), field: "name", isURI: false, target: "m")
        #expect(String(decoding: list.serialized(), as: UTF8.self) == #"{"tools":[{"name":"m_add"},{"name":"m_sub"}]}"#)
        let result = try document(#"{"content":[{"type":"resource_link","uri":"file:///x"},{"type":"text","text":"file:///y"}]}"#)
        rewriter.rewriteResult(JSONValueRef(result.root), method: "tools/call", target: "m")
        let text = String(decoding: result.serialized(), as: UTF8.self)
        #expect(text.contains(#""uri":"m+file:///x""#))
        #expect(text.contains(#""text":"file:///y""#))
    }
}
