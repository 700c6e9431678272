import CJansson
import MCPGateUpstream
import NIOHTTP1
import PluginAPI
import Testing

@testable import MCPGate
@testable import MCPGateSession

@Suite("SessionRouter: session members, client answers and requestState pinning")
struct SessionRouterTests {
    private let alice = PrincipalDigest(principal: "alice")

    private func route() throws -> RouteRuntime {
        try RouterFixtures.route([
            ("alpha", ["http://127.0.0.1:9001/mcp", "http://127.0.0.1:9011/mcp"]), ("beta", ["http://127.0.0.1:9002/mcp"]),
        ])
    }

    private func state(_ entries: [SessionState.Entry], principal: PrincipalDigest? = nil) -> SessionState {
        SessionState(protocolVersion: "2025-06-18", principal: principal, issuedAt: 1, expiresAt: 2, entries: entries)
    }

    // MARK: Members

    @Test("members: each entry's target with its pinned replica, in entry order")
    func members() throws {
        let opened = try SessionRouter.members(
            of: state(
                [
                    SessionState.Entry(target: "beta", endpoint: "http://127.0.0.1:9002/mcp", upstreamSessionID: "b"),
                    SessionState.Entry(target: "alpha", endpoint: "http://127.0.0.1:9011/mcp"),
                ], principal: alice), route: route(), principal: alice
        ).get()
        #expect(opened.members.map(\.target.name) == ["beta", "alpha"])
        #expect(opened.members[1].endpoint.endpoint.url == "http://127.0.0.1:9011/mcp")
        #expect(opened.member("beta")?.entry.upstreamSessionID == "b")
        #expect(opened.member("gamma") == nil)
    }

    @Test("a session of another principal (or of none) is refused")
    func principalMismatch() throws {
        let entries = [SessionState.Entry(target: "alpha", endpoint: "http://127.0.0.1:9001/mcp")]
        #expect(throws: SessionRouter.Refusal.principalMismatch) {
            try SessionRouter.members(of: state(entries, principal: alice), route: route(), principal: PrincipalDigest(principal: "bob"))
                .get()
        }
        #expect(throws: SessionRouter.Refusal.principalMismatch) {
            try SessionRouter.members(of: state(entries, principal: alice), route: route(), principal: nil).get()
        }
        #expect(throws: SessionRouter.Refusal.principalMismatch) {
            try SessionRouter.members(of: state(entries), route: route(), principal: alice).get()
        }
    }

    @Test("a pinned replica or target no longer configured: the session is not found")
    func memberGone() throws {
        let replicaGone = state([SessionState.Entry(target: "alpha", endpoint: "http://127.0.0.1:9999/mcp")])
        #expect(throws: SessionRouter.Refusal.memberGone(target: "alpha")) {
            try SessionRouter.members(of: replicaGone, route: route(), principal: nil).get()
        }
        let targetGone = state([SessionState.Entry(target: "gamma", endpoint: "http://127.0.0.1:9003/mcp")])
        #expect(throws: SessionRouter.Refusal.memberGone(target: "gamma")) {
            try SessionRouter.members(of: targetGone, route: route(), principal: nil).get()
        }
        #expect(SessionRouter.Refusal.memberGone(target: "x").error.status.code == 404)
        #expect(SessionRouter.Refusal.memberGone(target: "x").countsAsRejected)
    }

    @Test("a session without entries is not found, and not counted as a rejection")
    func noMembers() throws {
        #expect(throws: SessionRouter.Refusal.noMembers) { try SessionRouter.members(of: state([]), route: route(), principal: nil).get() }
        #expect(!SessionRouter.Refusal.noMembers.countsAsRejected)
    }

    // MARK: Messages of a session

    @Test("a client's answer goes to the member whose request id it carries, under the original id")
    func answerDestination() throws {
        let session = try SessionRouter.members(
            of: state([
                SessionState.Entry(target: "alpha", endpoint: "http://127.0.0.1:9001/mcp"),
                SessionState.Entry(target: "beta", endpoint: "http://127.0.0.1:9002/mcp"),
            ]),
            route: route(), principal: nil
        ).get()
        let id = FederationRewriter.serverRequestID(target: "beta", originalIDJSON: "7")
        let answer = try RouterFixtures.message(#"{"jsonrpc":"2.0","id":"\#(id)","result":{}}"#)
        let destination = try SessionRouter.answerDestination(answer, session: session).get()
        #expect(destination.member.target.name == "beta" && destination.originalIDJSON == "7")
        for unknown in [#""7""#, #""mcpgate:gamma:1""#, "3"] {
            let stray = try RouterFixtures.message(#"{"jsonrpc":"2.0","id":\#(unknown),"result":{}}"#)
            #expect(throws: GatewayError.self) { try SessionRouter.answerDestination(stray, session: session).get() }
        }
    }

    @Test("a federated session's messages: answers back, notifications and setLevel to all, lists merged, ping local, the rest routed")
    func federatedSteps() throws {
        #expect(
            SessionRouter.federatedStep(for: try RouterFixtures.message(#"{"jsonrpc":"2.0","id":"x","result":{}}"#)) == .answerServerRequest
        )
        #expect(
            SessionRouter.federatedStep(for: try RouterFixtures.message(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#))
                == .broadcastNotification)
        #expect(SessionRouter.federatedStep(for: try RouterFixtures.request("ping")) == .ping)
        #expect(SessionRouter.federatedStep(for: try RouterFixtures.request("logging/setLevel")) == .broadcastRequest)
        #expect(
            SessionRouter.federatedStep(for: try RouterFixtures.request("resources/templates/list"))
                == .list(try #require(ListShape(method: "resources/templates/list"))))
        #expect(SessionRouter.federatedStep(for: try RouterFixtures.request("tools/call")) == .routed)
    }

    @Test("a sessionless request on a federated route: discover and lists fan out, subscriptions/listen is -32601")
    func sessionlessSteps() throws {
        #expect(SessionRouter.sessionlessStep(for: try RouterFixtures.request("server/discover")) == .discover)
        #expect(
            SessionRouter.sessionlessStep(for: try RouterFixtures.request("tools/list"))
                == .list(try #require(ListShape(method: "tools/list"))))
        #expect(
            SessionRouter.sessionlessStep(for: try RouterFixtures.request("subscriptions/listen"))
                == .failure(.methodNotFound("Method not found: subscriptions/listen is not served on federated routes yet")))
        #expect(SessionRouter.sessionlessStep(for: try RouterFixtures.request("prompts/get")) == .routed)
    }

    // MARK: requestState

    private let codec = RequestStateCodec(keyring: Keyring.generated())

    private func sealed(
        target: String = "alpha", endpoint: String = "http://127.0.0.1:9011/mcp", principal: PrincipalDigest?, expiresAt: UInt64 = 1000
    )
        throws -> String
    {
        codec.seal(
            RequestStateCodec.State(target: target, endpoint: endpoint, principal: principal, expiresAt: expiresAt, upstreamState: "up-1"),
            route: try route().sealContext)
    }

    private func pin(_ state: String?, target: String = "alpha", principal: PrincipalDigest?, now: UInt64 = 10) throws -> Result<
        SessionRouter.Pin, GatewayError
    > {
        let route = try route()
        let pool = try #require(route.target(named: target))
        return SessionRouter.pin(requestState: state, codec: codec, route: route, target: pool, principal: principal, now: now, replica: ReplicaID.random())
    }

    private func isInvalid(_ result: Result<SessionRouter.Pin, GatewayError>) -> Bool {
        guard case .failure(let error) = result else { return false }
        return error.code == -32602 && error.status.code == 400 && error.dataJSON == #"{"reason":"invalid_request_state"}"#
    }

    @Test("no requestState, or the upstream's own: forwarded unchanged to any replica")
    func unpinned() throws {
        guard case .success(.unpinned) = try pin(nil, principal: nil),
            case .success(.unpinned) = try pin("opaque-upstream-state", principal: nil)
        else {
            Issue.record("expected unpinned")
            return
        }
    }

    @Test("a gateway-sealed requestState pins its replica and restores the upstream's state")
    func pinned() throws {
        guard case .success(.pinned(let endpoint, let upstreamState)) = try pin(try sealed(principal: alice), principal: alice) else {
            Issue.record("expected pinned")
            return
        }
        #expect(endpoint.endpoint.url == "http://127.0.0.1:9011/mcp" && upstreamState == "up-1")
    }

    @Test("another principal, another target, a replica gone, expired or tampered: -32602 invalid_request_state")
    func invalid() throws {
        #expect(isInvalid(try pin(try sealed(principal: alice), principal: PrincipalDigest(principal: "bob"))))
        #expect(isInvalid(try pin(try sealed(principal: alice), principal: nil)))
        #expect(isInvalid(try pin(try sealed(principal: nil), target: "beta", principal: nil)))
        #expect(isInvalid(try pin(try sealed(endpoint: "http://127.0.0.1:9999/mcp", principal: nil), principal: nil)))
        #expect(isInvalid(try pin(try sealed(principal: nil, expiresAt: 5), principal: nil, now: 10)))
        var token = Array(try sealed(principal: nil).utf8)
        token[token.count - 3] = token[token.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(isInvalid(try pin(String(decoding: token, as: UTF8.self), principal: nil)))
    }

    @Test("an input_required result's state is sealed for its replica and opens back to it; other results are untouched")
    func sealInputRequired() throws {
        let route = try route()
        let answer = try RouterFixtures.message(#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"input_required","requestState":"up-2"}}"#)
        #expect(
            SessionRouter.sealInputRequired(
                answer, codec: codec, route: route, target: "alpha", endpointURL: "http://127.0.0.1:9001/mcp", principal: alice, now: 10))
        let token = try #require(answer.result?["requestState"]?.string)
        #expect(token.hasPrefix(RequestStateCodec.prefix))
        guard
            case .success(.pinned(let endpoint, "up-2")) = SessionRouter.pin(
                requestState: token, codec: codec, route: route, target: try #require(route.target(named: "alpha")), principal: alice,
                now: 11, replica: ReplicaID.random())
        else {
            Issue.record("expected the sealed state to pin")
            return
        }
        #expect(endpoint.endpoint.url == "http://127.0.0.1:9001/mcp")
        let complete = try RouterFixtures.message(#"{"jsonrpc":"2.0","id":1,"result":{"resultType":"complete","requestState":"x"}}"#)
        #expect(
            !SessionRouter.sealInputRequired(
                complete, codec: codec, route: route, target: "alpha", endpointURL: "u", principal: nil, now: 1))
        #expect(complete.result?["requestState"]?.string == "x")
    }
}
