import CJansson
import CMCPGate
import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// A federated route: several targets (or prefixed names) behind one endpoint. `initialize` and the list
/// methods fan out to every target concurrently and are merged; calls go to the owning target with names
/// rewritten both ways (`FederatedFlow+Routing`); notifications are broadcast; the client's answers to server
/// requests go back to the upstream that asked.
///
/// Glue only: the Router decides (`SessionRouter`, `BroadcastFold`, `DiscoverMerger`; `InitializeMerger` in
/// `FederatedFlow+Initialize`, `ListMerger` in `FederatedFlow+Lists`); these methods fan out, then
/// answer, log and count by the decision.
struct FederatedFlow: RequestFlow {
    let exchange: Exchange
}

extension FederatedFlow {
    // MARK: Handshake era

    /// One fan-out call per target of the route, each to a replica picked now (`initialize`, sessionless requests).
    func callsToEveryTarget(_ route: RouteRuntime, protocolVersion: String?) -> [FanOutCall] {
        route.targets.map {
            FanOutCall(target: $0, endpoint: $0.pick(), upstreamSessionID: nil, protocolVersion: protocolVersion, body: request.body)
        }
    }

    /// Any other POST of a federated handshake-era session.
    func federatedHandshakePost(_ message: RPCMessage, session: OpenedSession, route: RouteRuntime, mayLearn: Bool = true) {
        let version = session.state.protocolVersion
        let members = session.members.map {
            FanOutCall(
                target: $0.target, endpoint: $0.endpoint, upstreamSessionID: $0.entry.upstreamSessionID, protocolVersion: version,
                body: request.body)
        }
        switch SessionRouter.federatedStep(for: message) {
        case .answerServerRequest:
            routeClientAnswer(message, session: session)
        case .broadcastNotification:
            broadcast(message, calls: members)
        case .ping:
            answerComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
        case .list(let shape):
            federatedList(message, shape: shape, route: route, members: members)
        case .broadcastRequest:
            fanOut(members, requestIDJSON: message.idJSON) { outcomes in
                self.answerBroadcastRequest(message, outcomes: outcomes, route: route)
            }
        case .routed:
            let retry: (() -> Void)? =
                mayLearn ? { self.federatedHandshakePost(message, session: session, route: route, mayLearn: false) } : nil
            guard let resolved = resolveTarget(message, route: route, learnFrom: members, retry: retry) else { return }
            guard let member = session.member(resolved.target) else {
                let text = "Target '\(resolved.target)' is not part of this session (it was down at initialize); initialize again to use it"
                failRPC(-32602, text, message: message)
                return
            }
            routedCall(
                message, resolved: resolved, route: route, target: member.target, endpoint: member.endpoint,
                upstreamSessionID: member.entry.upstreamSessionID, protocolVersion: version)
        }
    }

    private func answerBroadcastRequest(_ message: RPCMessage, outcomes: [UpstreamOutcome], route: RouteRuntime) {
        switch BroadcastFold.request(outcomes, failureMode: route.failureMode) {
        case .empty:
            answerComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
        case .relay(let response):
            answer(status: .ok, headers: HTTPHeaders.json(), body: allocator.buffer(bytes: withID(response, message.id)))
        case .failure(let error):
            fail(error, idJSON: message.idJSON)
        }
    }

    /// A client notification on a federated session goes to every target (`initialized`, `cancelled`:
    /// unknown request ids are ignored by servers, so every target may get it).
    private func broadcast(_ message: RPCMessage, calls: [FanOutCall]) {
        fanOut(calls, requestIDJSON: "null") { outcomes in
            switch BroadcastFold.notification(outcomes, targets: calls.map(\.target.name)) {
            case .success: self.answer(status: .accepted, headers: HTTPHeaders(), body: nil)
            case .failure(let error): self.fail(error)
            }
        }
    }

    /// The client's answer to a server request goes back to the upstream that asked, under its own id.
    private func routeClientAnswer(_ message: RPCMessage, session: OpenedSession) {
        let destination: SessionRouter.AnswerDestination
        switch SessionRouter.answerDestination(message, session: session) {
        case .success(let found): destination = found
        case .failure(let error):
            fail(error, idJSON: message.idJSON)
            return
        }
        let member = destination.member
        let body = upstreamBody(message) { root in
            var error = json_error_t()
            if let restored = json_loads(destination.originalIDJSON, Int(JSON_DECODE_ANY), &error) {
                json_object_set_new(root.pointer, "id", restored)
            }
        }
        forward(
            message: message, body: body, target: member.target, endpoint: member.endpoint,
            upstreamSessionID: member.entry.upstreamSessionID,
            protocolVersion: session.state.protocolVersion, purpose: .accepted, rewriteResult: nil)
    }

    // MARK: 2026-07-28

    /// `server/discover` on a federated route: the gateway's own answer, from every target's.
    func federatedDiscover(_ message: RPCMessage, route: RouteRuntime) {
        let calls = callsToEveryTarget(route, protocolVersion: headers.first(name: "mcp-protocol-version"))
        fanOut(calls, requestIDJSON: message.idJSON) { outcomes in
            switch DiscoverMerger.merge(targets: calls.map(\.target.name), outcomes: outcomes, failureMode: route.failureMode) {
            case .success(let result): self.answerComposed(ResultMerger.response(id: message.id, result: result), message: message)
            case .failure(let error): self.fail(error, idJSON: message.idJSON)
            }
        }
    }
}
