import CJansson
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate

@Suite("TargetResolver: which target a federated request goes to")
struct TargetResolverTests {
    private let nothingLearned: TargetResolver.LearnedNames = { _, _ in nil }

    /// The resolved target, the message's params after the upstream edit, and the `Mcp-Name` upstream.
    private func resolved(_ message: RPCMessage, _ route: RouteRuntime, learned: TargetResolver.LearnedNames? = nil) throws
        -> (target: String, params: String, upstreamName: String?, toolName: String?)
    {
        guard case .target(let found) = TargetResolver.resolve(message, route: route, learned: learned ?? nothingLearned) else {
            Issue.record("not resolved")
            throw CancellationError()
        }
        found.edit(message.root)
        return (found.target, RouterFixtures.text(message.params), found.upstreamName, found.toolName)
    }

    private func failure(_ resolution: TargetResolver.Resolution) -> RoutingFailure? {
        if case .failure(let failure) = resolution { return failure }
        return nil
    }

    @Test("a prefixed tool name goes to its target under the target's own name")
    func prefixedTool() throws {
        let route = try RouterFixtures.threeTargets()
        let found = try resolved(try RouterFixtures.request("tools/call", params: #"{"name":"beta_add","arguments":{}}"#), route)
        #expect(found.target == "beta")
        #expect(found.params.contains(#""name":"add""#))
        #expect(found.upstreamName == "add" && found.toolName == "add")
    }

    @Test("a prompt name resolves like a tool name")
    func prompt() throws {
        let route = try RouterFixtures.threeTargets()
        let found = try resolved(try RouterFixtures.request("prompts/get", params: #"{"name":"gamma_review"}"#), route)
        #expect(found.target == "gamma" && found.params.contains(#""name":"review""#))
    }

    @Test("a name with an unknown prefix fails without a lookup")
    func unknownPrefix() throws {
        let route = try RouterFixtures.threeTargets()
        let resolution = TargetResolver.resolve(try RouterFixtures.request("tools/call", params: #"{"name":"delta_add"}"#), route: route) {
            _, _ in
            Issue.record("no lookup expected")
            return nil
        }
        #expect(failure(resolution) == .invalidParams("Unknown tool 'delta_add' (list tools to see what this gateway offers)"))
    }

    @Test("a call without a name is -32602")
    func missingName() throws {
        let route = try RouterFixtures.threeTargets()
        let resolution = TargetResolver.resolve(try RouterFixtures.request("tools/call"), route: route, learned: nothingLearned)
        #expect(failure(resolution) == .invalidParams("Invalid params: 'tools/call' needs a name"))
    }

    @Test("a shortened 64-character name needs the learned names, then resolves to the real one")
    func shortenedName() throws {
        let route = try RouterFixtures.threeTargets()
        let long = String(repeating: "x", count: 70)
        let exposed = route.naming.exposedName(long, target: "alpha")
        #expect(exposed.utf8.count == 64)
        let message = try RouterFixtures.request("tools/call", params: #"{"name":"\#(exposed)"}"#)
        guard case .needsNames(.tool, let otherwise) = TargetResolver.resolve(message, route: route, learned: nothingLearned) else {
            Issue.record("expected a lookup")
            return
        }
        #expect(otherwise.code == -32602)
        let found = try resolved(message, route) { kind, name in kind == .tool && name == exposed ? ("alpha", long) : nil }
        #expect(found.target == "alpha" && found.params.contains(long))
    }

    @Test("unprefixed names (prefixMode never) are only known from the lists")
    func unprefixed() throws {
        let route = try RouterFixtures.threeTargets(prefix: .never)
        let message = try RouterFixtures.request("prompts/get", params: #"{"name":"review"}"#)
        guard case .needsNames(.prompt, _) = TargetResolver.resolve(message, route: route, learned: nothingLearned) else {
            Issue.record("expected a lookup")
            return
        }
        let found = try resolved(message, route) { _, _ in ("beta", "review") }
        #expect(found.target == "beta" && found.params.contains(#""name":"review""#))
    }

    @Test("a '<target>+<uri>' resource goes to its target with the bare URI, for read, subscribe and unsubscribe")
    func resources() throws {
        let route = try RouterFixtures.threeTargets()
        for method in ["resources/read", "resources/subscribe", "resources/unsubscribe"] {
            let found = try resolved(try RouterFixtures.request(method, params: #"{"uri":"beta+greeting://ann"}"#), route)
            #expect(found.target == "beta")
            #expect(found.params == #"{"uri":"greeting://ann"}"#)
            #expect(found.upstreamName == "greeting://ann")
        }
        let unknown = TargetResolver.resolve(
            try RouterFixtures.request("resources/read", params: #"{"uri":"file:///x"}"#), route: route, learned: nothingLearned)
        #expect(failure(unknown) == .invalidParams("Unknown resource 'file:///x': federated resource URIs are '<target>+<uri>'"))
        let missing = TargetResolver.resolve(try RouterFixtures.request("resources/read"), route: route, learned: nothingLearned)
        #expect(failure(missing) == .invalidParams("Invalid params: 'resources/read' needs a uri"))
    }

    @Test("unprefixed resources go to the first target unchanged")
    func unprefixedResource() throws {
        let route = try RouterFixtures.threeTargets(prefix: .never)
        let found = try resolved(try RouterFixtures.request("resources/read", params: #"{"uri":"test://x"}"#), route)
        #expect(found.target == "alpha" && found.params == #"{"uri":"test://x"}"#)
    }

    @Test("completion/complete routes by its prompt or resource ref and carries no Mcp-Name")
    func completion() throws {
        let route = try RouterFixtures.threeTargets()
        let prompt = try resolved(
            try RouterFixtures.request("completion/complete", params: #"{"ref":{"type":"ref/prompt","name":"alpha_review"}}"#), route)
        #expect(prompt.target == "alpha" && prompt.params.contains(#""name":"review""#) && prompt.upstreamName == nil)
        let resource = try resolved(
            try RouterFixtures.request("completion/complete", params: #"{"ref":{"type":"ref/resource","uri":"gamma+greeting://{name}"}}"#),
            route)
        #expect(resource.target == "gamma" && resource.params.contains(#""uri":"greeting://{name}""#) && resource.upstreamName == nil)
    }

    @Test("a method no target can be picked for is -32601")
    func unknownMethod() throws {
        let route = try RouterFixtures.threeTargets()
        let resolution = TargetResolver.resolve(try RouterFixtures.request("sampling/createMessage"), route: route, learned: nothingLearned)
        #expect(failure(resolution) == .methodNotFound("Method not found: sampling/createMessage"))
    }

    @Test("the name-listing request is a JSON-RPC request for the kind's list, with the cursor and the client's _meta")
    func nameListRequest() throws {
        let meta = try RouterFixtures.parse(#"{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#)
        let request = TargetResolver.nameListRequest(.prompt, cursor: "c2", meta: JSONValueRef(meta.root))
        let message = try RouterFixtures.message(RouterFixtures.text(request))
        #expect(message.kind == .request && message.method == "prompts/list" && message.idJSON == #""mcpgate-learn""#)
        #expect(message.params?["cursor"]?.string == "c2")
        #expect(message.meta?["io.modelcontextprotocol/protocolVersion"]?.string == "2026-07-28")
        let first = TargetResolver.nameListRequest(.tool, cursor: nil, meta: nil)
        #expect(RouterFixtures.text(first) == #"{"jsonrpc":"2.0","id":"mcpgate-learn","method":"tools/list","params":{}}"#)
    }

    @Test("name pages are read until the last one, at most maxNamePages")
    func namePaging() throws {
        let page = try RouterFixtures.result(#"{"tools":[{"name":"a"},{"name":"b"}],"nextCursor":"n"}"#)
        let first = TargetResolver.namesOnPage(page, kind: .tool, pageNumber: 0)
        #expect(first.names == ["a", "b"] && first.next == "n")
        #expect(TargetResolver.namesOnPage(page, kind: .tool, pageNumber: TargetResolver.maxNamePages - 1).next == nil)
        #expect(TargetResolver.namesOnPage(page, kind: .tool, pageNumber: TargetResolver.maxNamePages - 2).next == "n")
        #expect(TargetResolver.namesOnPage(try RouterFixtures.error(-32601), kind: .tool, pageNumber: 0).names.isEmpty)
        #expect(TargetResolver.namesOnPage(RouterFixtures.down, kind: .tool, pageNumber: 0).next == nil)
    }

    @Test("learned names: the first target in config order owns a name several offer")
    func ownedNames() throws {
        let naming = TargetNaming(mode: .never, targetCount: 2)
        let owned = TargetResolver.ownedNames([("alpha", ["add", "sub"]), ("beta", ["add", "mul"])], naming: naming)
        #expect(owned.map(\.exposed) == ["add", "sub", "mul"])
        #expect(owned.map(\.target) == ["alpha", "alpha", "beta"])
    }
}
