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
        initializeWithChannels(callsToEveryTarget(route, protocolVersion: nil), message: message) { calls, outcomes in
            self.finishFederatedInitialize(message, route: route, calls: calls, outcomes: outcomes, retried: false)
        }
    }

    /// Fans `initialize` out to `calls`; the sse and stdio targets among them first get a channel of their own
    /// for the session (one that cannot be opened is that target's failed outcome, for failOpen to skip).
    private func initializeWithChannels(
        _ calls: [FanOutCall], message: RPCMessage, completion: @escaping ([FanOutCall], [UpstreamOutcome]) -> Void
    ) {
        let opening = calls.map { call -> EventLoopFuture<UpstreamChannel>? in
            call.target.usesChannels ? openSessionChannel(for: call.target) : nil
        }
        let pending = opening.compactMap { $0 }.map { $0.map { _ in () }.recover { _ in () } }
        EventLoopFuture.andAllComplete(pending, on: eventLoop).assumeIsolated().whenComplete { _ in
            guard !self.clientGone else { return }
            var ready = calls
            var failed: [Int: GatewayError] = [:]
            for (index, future) in opening.enumerated() {
                guard let future else { continue }
                // Complete by now: read without waiting.
                var outcome: Result<UpstreamChannel, any Error>?
                future.assumeIsolated().whenComplete { outcome = $0 }
                switch outcome {
                case .success(let channel)?:
                    ready[index].endpoint = calls[index].target.sessionEndpoint.over(.channel(channel))
                case .failure(let error)?:
                    failed[index] = UpstreamFailure(error, target: calls[index].target.name).gatewayError
                case nil:
                    failed[index] = .upstream(.badGateway, target: calls[index].target.name, "Upstream '\(calls[index].target.name)' could not be started")
                }
            }
            let sent = ready.indices.filter { failed[$0] == nil }
            self.fanOut(sent.map { ready[$0] }, requestIDJSON: message.idJSON) { answered in
                var outcomes: [UpstreamOutcome] = []
                var next = answered.makeIterator()
                for index in ready.indices {
                    if let error = failed[index] { outcomes.append(.failed(error)) } else if let outcome = next.next() { outcomes.append(outcome) }
                }
                completion(ready, outcomes)
            }
        }
    }

    private func finishFederatedInitialize(
        _ message: RPCMessage, route: RouteRuntime, calls: [FanOutCall], outcomes: [UpstreamOutcome], retried: Bool,
        earlier: [InitializeMerger.Initialized] = []
    ) {
        let attempts = calls.map {
            InitializeMerger.Attempt(target: $0.target.name, endpoint: $0.endpoint.endpoint.url, localPin: localPin(of: $0.endpoint))
        }
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
            // An sse or stdio target gets a fresh channel for the redo (its first one was ended above: an MCP
            // server takes one initialize per connection).
            let redo = calls.filter { targets.contains($0.target.name) }.map { call -> FanOutCall in
                var call = call
                call.body = upstreamBody(message) { $0["params"]?.set("protocolVersion", string: version) }
                if call.target.usesChannels { call.endpoint = call.target.sessionEndpoint }
                return call
            }
            initializeWithChannels(redo, message: message) { redo, outcomes in
                self.finishFederatedInitialize(message, route: route, calls: redo, outcomes: outcomes, retried: true, earlier: kept)
            }
        case .merged(let result, let version, let entries, let skipped):
            warnSkippedAtInitialize(skipped)
            let now = nowSeconds
            let state = SessionState(
                protocolVersion: version, principal: principal.map(PrincipalDigest.init(principal:)), issuedAt: now,
                expiresAt: runtime.sessionExpiry(now: now), entries: entries)
            let sessionID = runtime.sessionCodec.seal(state, route: route.identity)
            adoptChannels(of: state, route: route)
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
            if let pin = item.localPin {
                services.channels.registry.close(pin.channel, reason: .closed(.unused))
                continue
            }
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
