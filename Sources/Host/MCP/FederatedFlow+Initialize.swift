import CJansson
import CMCPGate
import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// `initialize` on a federated route: every target initialized concurrently, `InitializeMerger` decides
/// (merge, renegotiate the version once, or fail), and this glue ends the upstream sessions the client will
/// never hold, seals the client's session and answers.
extension FederatedFlow {
    /// `initialize` on a federated route: every target is initialized concurrently on a replica of its own;
    /// the client gets one merged result and one sealed session holding every upstream session.
    func federatedInitialize(_ message: RPCMessage, route: RouteRuntime) {
        let calls = callsToEveryTarget(route, protocolVersion: nil)
        fanOut(calls, requestIDJSON: message.idJSON) { outcomes in
            self.finishFederatedInitialize(message, route: route, calls: calls, outcomes: outcomes, retried: false)
        }
    }

    private func finishFederatedInitialize(
        _ message: RPCMessage, route: RouteRuntime, calls: [FanOutCall], outcomes: [UpstreamOutcome], retried: Bool,
        earlier: [InitializeMerger.Initialized] = []
    ) {
        let attempts = calls.map { InitializeMerger.Attempt(target: $0.target.name, endpoint: $0.endpoint.endpoint.url) }
        let decision = InitializeMerger.decide(
            attempts: attempts, outcomes: outcomes, routeTargets: route.targetNames, failureMode: route.failureMode, retried: retried,
            earlier: earlier)
        switch decision {
        case .failure(let error, let end, let skipped):
            warnSkippedAtInitialize(skipped)
            endUpstreamSessions(end, route: route)
            fail(error, idJSON: message.idJSON)
        case .renegotiate(let targets, let version, let kept, let end, let skipped):
            warnSkippedAtInitialize(skipped)
            endUpstreamSessions(end, route: route)
            let redo = calls.filter { targets.contains($0.target.name) }.map { call -> FanOutCall in
                var call = call
                call.body = upstreamBody(message) { $0["params"]?.set("protocolVersion", string: version) }
                return call
            }
            fanOut(redo, requestIDJSON: message.idJSON) { outcomes in
                self.finishFederatedInitialize(message, route: route, calls: redo, outcomes: outcomes, retried: true, earlier: kept)
            }
        case .merged(let result, let version, let entries, let skipped):
            warnSkippedAtInitialize(skipped)
            let now = nowSeconds
            let state = SessionState(
                protocolVersion: version, principal: principal.map(PrincipalDigest.init(principal:)), issuedAt: now,
                expiresAt: runtime.sessionExpiry(now: now), entries: entries)
            let sessionID = runtime.sessionCodec.seal(state, route: route.identity)
            noteSessionID(sessionID)
            services.metrics.sessionsCreated.increment()
            answerComposed(
                ResultMerger.response(id: message.id, result: result), message: message, extraHeaders: [("mcp-session-id", sessionID)])
        }
    }

    private func warnSkippedAtInitialize(_ skipped: [GatewayError]) {
        for failure in skipped {
            logger.warning("federated initialize goes on without a target (failOpen)", metadata: ["error": "\(failure.message)"])
        }
    }

    /// Ends upstream sessions the client will never hold (best effort, answers ignored).
    private func endUpstreamSessions(_ items: [InitializeMerger.Initialized], route: RouteRuntime) {
        for item in items {
            guard let sessionID = item.upstreamSessionID, let endpoint = route.target(named: item.target)?.endpoint(pinned: item.endpoint)
            else { continue }
            var upstreamHeaders = HTTPHeaders([("mcp-session-id", sessionID), ("mcp-protocol-version", item.version)])
            applyUpstreamEdits(to: &upstreamHeaders)
            _ = services.upstream.forward(
                UpstreamRequest(endpoint: endpoint, method: .DELETE, headers: upstreamHeaders, body: nil), on: eventLoop,
                limits: answerLimits, sink: { _ in nil })
        }
    }
}
