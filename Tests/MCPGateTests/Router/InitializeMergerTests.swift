import CJansson
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession
@testable import MCPGateUpstream

@Suite("InitializeMerger: one session from every target's initialize")
struct InitializeMergerTests {
    private let routeTargets = ["alpha", "beta", "gamma"]

    private func attempts(_ names: [String]) -> [InitializeMerger.Attempt] {
        names.map { InitializeMerger.Attempt(target: $0, endpoint: "http://\($0)/mcp") }
    }

    private func initialized(_ version: String, tools: Bool = false, instructions: String? = nil, session: String? = nil) throws
        -> UpstreamOutcome
    {
        let capabilities = tools ? #"{"tools":{"listChanged":true}}"# : #"{"logging":{}}"#
        let text = instructions.map { #","instructions":"\#($0)""# } ?? ""
        return try RouterFixtures.result(
            #"{"protocolVersion":"\#(version)","capabilities":\#(capabilities),"serverInfo":{"name":"s","version":"1"}\#(text)}"#,
            sessionID: session)
    }

    private func decide(
        _ outcomes: [UpstreamOutcome], targets: [String]? = nil, failureMode: FailureMode = .failClosed, retried: Bool = false,
        earlier: [InitializeMerger.Initialized] = []
    ) -> InitializeMerger.Decision {
        InitializeMerger.decide(
            attempts: attempts(targets ?? routeTargets), outcomes: outcomes, routeTargets: routeTargets, failureMode: failureMode,
            retried: retried,
            earlier: earlier)
    }

    @Test("the same version everywhere: one merged result, entries in config order with each upstream session id")
    func merged() throws {
        let decision = decide(
            [
                try initialized("2025-06-18", instructions: "use alpha", session: "s-a"), try initialized("2025-06-18", tools: true),
                try initialized("2025-06-18", session: "s-g"),
            ])
        guard case .merged(let result, let version, let entries, let skipped) = decision else {
            Issue.record("expected a merge: \(decision)")
            return
        }
        #expect(version == "2025-06-18" && skipped.isEmpty)
        #expect(entries.map(\.target) == routeTargets)
        #expect(entries.map(\.upstreamSessionID) == ["s-a", nil, "s-g"])
        #expect(entries[1].endpoint == "http://beta/mcp")
        let root = JSONValueRef(result.root)
        #expect(root["protocolVersion"]?.string == "2025-06-18")
        #expect(root["serverInfo"]?["name"]?.string == "mcpgate")
        #expect(root["capabilities"]?["tools"]?["listChanged"]?.bool == true)
        #expect(root["capabilities"]?["logging"] != nil)
        #expect(root["instructions"]?.string == "[alpha]\nuse alpha")
    }

    @Test("targets that chose a newer version are initialized again at the lowest; their sessions are ended")
    func renegotiates() throws {
        let decision = decide(
            [
                try initialized("2025-11-25", session: "new-a"), try initialized("2025-03-26"),
                try initialized("2025-11-25", session: "new-g"),
            ])
        guard case .renegotiate(let targets, let version, let kept, let end, _) = decision else {
            Issue.record("expected a renegotiation: \(decision)")
            return
        }
        #expect(targets == ["alpha", "gamma"] && version == "2025-03-26")
        #expect(kept.map(\.target) == ["beta"])
        #expect(end.map(\.upstreamSessionID) == ["new-a", "new-g"])
        // The second round agrees: the kept target joins in config order.
        let second = decide(
            [try initialized("2025-03-26", session: "a2"), try initialized("2025-03-26", session: "g2")], targets: ["alpha", "gamma"],
            retried: true,
            earlier: kept)
        guard case .merged(_, "2025-03-26", let entries, _) = second else {
            Issue.record("expected a merge: \(second)")
            return
        }
        #expect(entries.map(\.target) == routeTargets && entries.map(\.upstreamSessionID) == ["a2", nil, "g2"])
    }

    @Test("a second disagreement is 'could not agree', ending every session")
    func couldNotAgree() throws {
        let decision = decide(
            [try initialized("2025-11-25", session: "a")], targets: ["alpha"], retried: true,
            earlier: [
                InitializeMerger.Initialized(
                    target: "beta", endpoint: "http://beta/mcp", response: try RouterFixtures.request("x"), upstreamSessionID: "b",
                    version: "2025-03-26")
            ])
        guard case .failure(let error, let end, _) = decision else {
            Issue.record("expected a failure: \(decision)")
            return
        }
        #expect(error.message == "Targets could not agree on a protocol version" && error.status.code == 502)
        #expect(error.dataJSON == #"{"target":"alpha"}"#)
        #expect(Set(end.compactMap(\.upstreamSessionID)) == ["a", "b"])
    }

    @Test("failClosed: one refusing target fails initialize and ends the sessions the others opened")
    func failClosed() throws {
        let decision = decide([try initialized("2025-06-18", session: "s"), try RouterFixtures.error(-32600, "nope"), RouterFixtures.down])
        guard case .failure(let error, let end, _) = decision else {
            Issue.record("expected a failure: \(decision)")
            return
        }
        #expect(error.message == "Target 'beta' refused initialize: nope" && error.status.code == 502)
        #expect(end.map(\.upstreamSessionID) == ["s"])
    }

    @Test("failOpen: the session goes on without the targets that failed, which are reported")
    func failOpen() throws {
        let decision = decide([.accepted, try initialized("2025-06-18"), RouterFixtures.down], failureMode: .failOpen)
        guard case .merged(_, _, let entries, let skipped) = decision else {
            Issue.record("expected a merge: \(decision)")
            return
        }
        #expect(entries.map(\.target) == ["beta"])
        #expect(skipped.map(\.message) == ["Target 'alpha' did not answer initialize", "connection refused"])
    }

    @Test("failOpen with no target answering still fails, with the first failure")
    func failOpenNobody() throws {
        let decision = decide([.sessionLost, RouterFixtures.down, try RouterFixtures.error(-1)], failureMode: .failOpen)
        guard case .failure(let error, let end, _) = decision else {
            Issue.record("expected a failure: \(decision)")
            return
        }
        #expect(error.message == "Target 'alpha' did not answer initialize" && end.isEmpty)
    }

    @Test("upstream session ids too long to seal fail initialize")
    func tooLongToSeal() throws {
        let long = String(repeating: "s", count: SessionState.maxFieldByteCount + 1)
        let decision = decide([try initialized("2025-06-18", session: long)], targets: ["alpha"], failureMode: .failOpen)
        guard case .failure(let error, let end, _) = decision else {
            Issue.record("expected a failure: \(decision)")
            return
        }
        #expect(error.message == "Upstream session ids are too long to seal" && end.count == 1)
    }
}
