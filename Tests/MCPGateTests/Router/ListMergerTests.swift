import CJansson
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession

@Suite("ListMerger: one page for the client from every target's")
struct ListMergerTests {
    private let sealer = Sealer(keyring: Keyring.generated(), purpose: .cursor)
    private let targets = ["alpha", "beta", "gamma"]

    private func merge(
        _ method: String, _ outcomes: [UpstreamOutcome], targets: [String]? = nil, prefix: PrefixMode = .conditional,
        failureMode: FailureMode = .failClosed, sessionless: Bool = false
    ) throws -> ListMerger.Merge {
        let shape = try #require(ListShape(method: method))
        let targets = targets ?? self.targets
        return ListMerger.merge(
            method: method, shape: shape, targets: targets, outcomes: outcomes,
            naming: TargetNaming(mode: prefix, targetCount: 3), failureMode: failureMode, sessionless: sessionless,
            sealNext: { $0.seal(with: sealer, route: "r", method: method) })
    }

    /// The merged result (the document keeps it alive).
    private func merged(_ merge: ListMerger.Merge) throws -> JSONDocument {
        guard case .merged(let document) = merge.answer else {
            Issue.record("not merged: \(merge.answer)")
            throw CancellationError()
        }
        return document
    }

    private func names(_ document: JSONDocument, key: String = "tools", field: String = "name") -> [String] {
        guard let list = JSONValueRef(document.root)[key] else { return [] }
        return (0..<json_array_size(list.pointer)).compactMap {
            json_array_get(list.pointer, $0).flatMap { JSONValueRef($0)[field]?.string }
        }
    }

    @Test("items are renamed per target and kept in config order")
    func renamesItems() throws {
        let result = try merged(
            try merge(
                "tools/list",
                [
                    try RouterFixtures.result(#"{"tools":[{"name":"add"}]}"#),
                    try RouterFixtures.result(#"{"tools":[{"name":"add"},{"name":"sub"}]}"#),
                    try RouterFixtures.result(#"{"tools":[]}"#),
                ]))
        #expect(names(result) == ["alpha_add", "beta_add", "beta_sub"])
        #expect(JSONValueRef(result.root)["nextCursor"] == nil)
        #expect(JSONValueRef(result.root)["resultType"] == nil)
    }

    @Test("resources are renamed by URI and teach no names")
    func resources() throws {
        let merge = try merge(
            "resources/list",
            [
                try RouterFixtures.result(#"{"resources":[{"uri":"test://a"}]}"#),
                try RouterFixtures.result(#"{"resources":[{"uri":"test://a"}]}"#),
            ],
            targets: ["alpha", "beta"])
        #expect(names(try merged(merge), key: "resources", field: "uri") == ["alpha+test://a", "beta+test://a"])
        #expect(merge.names.isEmpty)
    }

    @Test("collisions: the first target in config order keeps the name; the others are reported")
    func collisions() throws {
        let merge = try merge(
            "tools/list",
            [
                try RouterFixtures.result(#"{"tools":[{"name":"add"}]}"#),
                try RouterFixtures.result(#"{"tools":[{"name":"add"},{"name":"mul"}]}"#),
            ],
            targets: ["alpha", "beta"], prefix: .never)
        #expect(names(try merged(merge)) == ["add", "mul"])
        #expect(merge.collisions == [ListMerger.Collision(exposed: "add", owner: "alpha", loser: "beta")])
        #expect(merge.names.map(\.exposed) == ["add", "mul"] && merge.names.map(\.target) == ["alpha", "beta"])
    }

    @Test("names to learn map the exposed name to the name at the target")
    func namesToLearn() throws {
        let merge = try merge("prompts/list", [try RouterFixtures.result(#"{"prompts":[{"name":"review"}]}"#)], targets: ["gamma"])
        #expect(merge.names.count == 1 && merge.names[0].exposed == "gamma_review" && merge.names[0].name == "review")
    }

    @Test("tools/list pages report their x-mcp-header annotations under the target's own names")
    func toolHeaders() throws {
        let page =
            #"{"tools":[{"name":"w","inputSchema":{"type":"object","properties":{"city":{"type":"string","x-mcp-header":"City"}}}}]}"#
        let merge = try merge("tools/list", [try RouterFixtures.result(page)], targets: ["alpha"])
        #expect(merge.toolHeaders.count == 1 && merge.toolHeaders[0].target == "alpha")
        #expect(merge.toolHeaders[0].tools["w"] == [ToolParamHeader(token: "City", path: ["city"], type: .string)])
    }

    @Test("targets with more pages go into one sealed composite cursor; the next request asks only them")
    func cursorPaging() throws {
        let merge = try merge(
            "tools/list",
            [
                try RouterFixtures.result(#"{"tools":[{"name":"a"}],"nextCursor":"2"}"#),
                try RouterFixtures.result(#"{"tools":[{"name":"b"}]}"#),
                try RouterFixtures.result(#"{"tools":[{"name":"c"}],"nextCursor":"x:y"}"#),
            ])
        #expect(merge.next == CompositeCursor(cursors: [("alpha", "2"), ("gamma", "x:y")]))
        let page = try merged(merge)
        let token = try #require(JSONValueRef(page.root)["nextCursor"]?.string)
        let pages = try ListMerger.pages(cursor: token, targets: targets, sealer: sealer, route: "r", method: "tools/list").get()
        #expect(pages == [ListMerger.PageRequest(target: "alpha", cursor: "2"), ListMerger.PageRequest(target: "gamma", cursor: "x:y")])
    }

    @Test("without a cursor every target's first page is asked for")
    func firstPages() throws {
        let pages = try ListMerger.pages(cursor: nil, targets: targets, sealer: sealer, route: "r", method: "tools/list").get()
        #expect(pages.map(\.target) == targets && pages.allSatisfy { $0.cursor == nil })
    }

    @Test("a tampered cursor, or one sealed for another route or method, is -32602")
    func tamperedCursor() throws {
        let token = CompositeCursor(cursors: [("alpha", "2")]).seal(with: sealer, route: "r", method: "tools/list")
        var bytes = Array(token.utf8)
        bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let refusal = RoutingFailure.invalidParams("Invalid params: unknown or tampered cursor")
        for (cursor, route, method) in [
            (String(decoding: bytes, as: UTF8.self), "r", "tools/list"), (token, "other", "tools/list"), (token, "r", "prompts/list"),
            ("plain", "r", "tools/list"),
        ] {
            let pages = ListMerger.pages(cursor: cursor, targets: targets, sealer: sealer, route: route, method: method)
            #expect(throws: refusal) { try pages.get() }
        }
    }

    @Test("2026-07-28: the merged page carries the shortest ttl and public only when every page was public")
    func cacheHints() throws {
        let publicPages = try merge(
            "tools/list",
            [
                try RouterFixtures.result(#"{"tools":[],"ttlMs":5000,"cacheScope":"public"}"#),
                try RouterFixtures.result(#"{"tools":[],"ttlMs":1000,"cacheScope":"public"}"#),
            ],
            targets: ["alpha", "beta"], sessionless: true)
        let document = try merged(publicPages)
        let result = JSONValueRef(document.root)
        #expect(result["ttlMs"]?.integer == 1000 && result["cacheScope"]?.string == "public" && result["resultType"]?.string == "complete")
        #expect(result["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"]?.string == "mcpgate")
        let mixedDocument = try merged(
            try merge(
                "tools/list",
                [
                    try RouterFixtures.result(#"{"tools":[],"ttlMs":5000,"cacheScope":"public"}"#),
                    try RouterFixtures.result(#"{"tools":[]}"#),
                ],
                targets: ["alpha", "beta"], sessionless: true))
        let mixed = JSONValueRef(mixedDocument.root)
        #expect(mixed["ttlMs"]?.integer == 0 && mixed["cacheScope"]?.string == "private")
    }

    @Test("a target answering -32601 contributes nothing, in either mode")
    func methodNotFoundTarget() throws {
        let merge = try merge(
            "prompts/list", [try RouterFixtures.error(-32601), try RouterFixtures.result(#"{"prompts":[{"name":"p"}]}"#)],
            targets: ["alpha", "beta"])
        #expect(names(try merged(merge), key: "prompts") == ["beta_p"])
    }

    @Test("failClosed: another upstream error is relayed, a failed target fails the list")
    func failClosed() throws {
        let relayed = try merge(
            "tools/list", [try RouterFixtures.error(-32603, "boom"), try RouterFixtures.result(#"{"tools":[]}"#)],
            targets: ["alpha", "beta"])
        guard case .relay(let response) = relayed.answer else {
            Issue.record("expected a relay")
            return
        }
        #expect(response.root["error"]?["message"]?.string == "boom")
        let failed = try merge(
            "tools/list", [try RouterFixtures.result(#"{"tools":[]}"#), RouterFixtures.down], targets: ["alpha", "beta"])
        guard case .failure(let error, sessionLost: false) = failed.answer else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == -32603 && error.message == "connection refused")
    }

    @Test("failOpen: failed and erring targets are left out, and the failed ones reported")
    func failOpen() throws {
        let merge = try merge(
            "tools/list", [RouterFixtures.down, try RouterFixtures.error(-32603), try RouterFixtures.result(#"{"tools":[{"name":"x"}]}"#)],
            failureMode: .failOpen)
        #expect(names(try merged(merge)) == ["gamma_x"])
        #expect(merge.skipped.map(\.target) == ["alpha"])
    }

    @Test("a lost upstream session fails the list whatever the mode")
    func sessionLost() throws {
        for mode in [FailureMode.failOpen, .failClosed] {
            let merge = try merge(
                "tools/list", [try RouterFixtures.result(#"{"tools":[{"name":"a"}]}"#), .sessionLost], targets: ["alpha", "beta"],
                failureMode: mode)
            guard case .failure(let error, sessionLost: true) = merge.answer else {
                Issue.record("expected session lost")
                return
            }
            #expect(error.status.code == 404)
            // What was read before still teaches its names.
            #expect(merge.names.map(\.exposed) == ["alpha_a"])
        }
    }
}
