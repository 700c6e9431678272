import CJansson
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate

@Suite("DiscoverMerger, BroadcastFold and CacheHints")
struct DiscoverAndBroadcastTests {
    private func discover(_ versions: String, ttl: Int = 1000, scope: String = "public") throws -> UpstreamOutcome {
        try RouterFixtures.result(
            #"{"supportedVersions":\#(versions),"capabilities":{"tools":{}},"serverInfo":{"name":"s","version":"1"},"ttlMs":\#(ttl),"cacheScope":"\#(scope)"}"#
        )
    }

    @Test("server/discover: the revisions every target supports and this gateway serves, capabilities merged, hints folded")
    func discoverIntersects() throws {
        let merged = try DiscoverMerger.merge(
            targets: ["a", "b"], outcomes: [try discover(#"["2026-07-28","2099-01-01"]"#, ttl: 500), try discover(#"["2026-07-28"]"#)],
            failureMode: .failClosed
        ).get()
        let root = JSONValueRef(merged.root)
        #expect(RouterFixtures.text(root["supportedVersions"]) == #"["2026-07-28"]"#)
        #expect(root["protocolVersion"] == nil && root["serverInfo"] == nil)
        #expect(root["capabilities"]?["tools"] != nil)
        #expect(root["ttlMs"]?.integer == 500 && root["cacheScope"]?.string == "public" && root["resultType"]?.string == "complete")
    }

    @Test("server/discover: no shared revision sends the client to initialize")
    func discoverNoCommonVersion() throws {
        let outcome = DiscoverMerger.merge(
            targets: ["a", "b"], outcomes: [try discover(#"["2026-07-28"]"#), try discover(#"["2099-01-01"]"#)], failureMode: .failClosed)
        #expect(throws: GatewayError.self) { try outcome.get() }
        if case .failure(let error) = outcome {
            #expect(
                error.code == -32600 && error.message == "Bad Request: the targets share no protocol revision 2026-07-28; use initialize")
        }
    }

    @Test("server/discover: failClosed names the target that does not speak 2026-07-28; failOpen leaves it out")
    func discoverFailureModes() throws {
        let outcomes = [try discover(#"["2026-07-28"]"#), try RouterFixtures.error(-32601)]
        if case .failure(let error) = DiscoverMerger.merge(targets: ["a", "b"], outcomes: outcomes, failureMode: .failClosed) {
            #expect(error.message == "Bad Request: target 'b' does not serve protocol revision 2026-07-28; use initialize")
        } else {
            Issue.record("expected a failure")
        }
        let open = try DiscoverMerger.merge(targets: ["a", "b"], outcomes: outcomes, failureMode: .failOpen).get()
        #expect(RouterFixtures.text(JSONValueRef(open.root)["supportedVersions"]) == #"["2026-07-28"]"#)
        let nobody = DiscoverMerger.merge(targets: ["a"], outcomes: [RouterFixtures.down], failureMode: .failOpen)
        #expect(throws: GatewayError.self) { try nobody.get() }
    }

    @Test("cache hints: the shortest ttl (absent is 0), public only when every part is public")
    func cacheHints() throws {
        var hints = CacheHints()
        #expect(hints.ttlMs == 0 && hints.cacheScope == "public")
        let a = try RouterFixtures.parse(#"{"ttlMs":3000,"cacheScope":"public"}"#)
        let b = try RouterFixtures.parse(#"{"ttlMs":2000,"cacheScope":"public"}"#)
        hints.add(JSONValueRef(a.root))
        hints.add(JSONValueRef(b.root))
        #expect(hints.ttlMs == 2000 && hints.cacheScope == "public")
        let c = try RouterFixtures.parse(#"{}"#)
        hints.add(JSONValueRef(c.root))
        #expect(hints.ttlMs == 0 && hints.cacheScope == "private")
    }

    @Test("logging/setLevel fan-out: {} unless a session was lost, or failClosed meets an error")
    func setLevel() throws {
        let ok = try RouterFixtures.result("{}")
        guard case .empty = BroadcastFold.request([ok, try RouterFixtures.error(-32603), RouterFixtures.down], failureMode: .failOpen)
        else {
            Issue.record("failOpen ignores failures")
            return
        }
        guard
            case .relay(let response) = BroadcastFold.request(
                [ok, try RouterFixtures.error(-32603, "bad level")], failureMode: .failClosed)
        else {
            Issue.record("failClosed relays the error")
            return
        }
        #expect(response.root["error"]?["message"]?.string == "bad level")
        guard case .failure(let lost) = BroadcastFold.request([ok, .sessionLost], failureMode: .failOpen) else {
            Issue.record("a lost session fails")
            return
        }
        #expect(lost.status.code == 404)
        guard case .failure(let down) = BroadcastFold.request([RouterFixtures.down], failureMode: .failClosed) else {
            Issue.record("failClosed fails")
            return
        }
        #expect(down.message == "connection refused")
    }

    @Test("client notifications: 202 when any target accepted, 404 when every session is lost, else 502")
    func notifications() throws {
        #expect((try? BroadcastFold.notification([.accepted, RouterFixtures.down], targets: ["a", "b"]).get()) != nil)
        if case .failure(let error) = BroadcastFold.notification([.sessionLost, .sessionLost], targets: ["a", "b"]) {
            #expect(error.status.code == 404)
        } else {
            Issue.record("expected 404")
        }
        if case .failure(let error) = BroadcastFold.notification([.sessionLost, RouterFixtures.down], targets: ["a", "b"]) {
            #expect(
                error.status.code == 502 && error.message == "No target accepted the notification" && error.dataJSON == #"{"target":"a,b"}"#
            )
        } else {
            Issue.record("expected 502")
        }
    }
}
