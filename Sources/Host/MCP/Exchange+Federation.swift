import CJansson
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import MCPGateUpstream
import MCPGateSession

/// A federated route: several targets (or prefixed names) behind one endpoint. `initialize` and the list
/// methods fan out to every target concurrently and are merged; calls go to the owning target with names
/// rewritten both ways (`Exchange+Routing`); notifications are broadcast; the client's answers to server
/// requests go back to the upstream that asked.
///
/// Glue only: the Router decides (`SessionRouter`, `BroadcastFold`, `DiscoverMerger`; `InitializeMerger` in
/// `Exchange+FederatedInitialize`, `ListMerger` in `Exchange+FederatedLists`); these methods fan out, then
/// answer, log and count by the decision.
extension Exchange {
    /// One upstream request of a fan-out.
    struct FanOutCall {
        var target: TargetPool
        var endpoint: ResolvedEndpoint
        var upstreamSessionID: String?
        var protocolVersion: String?
        var body: ByteBuffer
        /// Header values that replace the client's (a gateway-made request names its own method).
        var headerOverrides: [(String, String)] = []
    }

    /// Sends `calls` concurrently; `completion` gets every outcome, in the order of `calls`, once all are in.
    func fanOut(
        _ calls: [FanOutCall],
        requestIDJSON: String,
        completion: @escaping ([UpstreamOutcome]) -> Void
    ) {
        guard !calls.isEmpty else {
            completion([])
            return
        }
        let requests = calls.map { call in
            UpstreamRequest(
                endpoint: call.endpoint, method: .POST,
                headers: upstreamHeaders(
                    for: call.target, accept: UpstreamHeaders.acceptBoth, contentType: true, upstreamSessionID: call.upstreamSessionID,
                    protocolVersion: call.protocolVersion, overrides: call.headerOverrides),
                body: call.body)
        }
        let readers = FanOut.forward(
            requests, client: services.upstream, on: eventLoop, limits: answerLimits,
            collectors: calls.map { ResponseCollector(requestIDJSON: requestIDJSON, target: $0.target.name) }, completion: completion)
        for reader in readers { if let call = reader.call { track(call) } }
    }

    /// The client's message with `edit` applied, serialized for an upstream (the client's own document is
    /// left as the filters saw it).
    func upstreamBody(_ message: RPCMessage, edit: (JSONValueRef) -> Void) -> ByteBuffer {
        guard let copy = json_deep_copy(message.document.root) else { return request.body }
        let document = JSONDocument(owning: copy)
        edit(JSONValueRef(copy))
        return allocator.buffer(bytes: document.serialized())
    }

    /// Answers a request with a JSON response document the gateway composed (filters see it first).
    func respondComposed(_ response: JSONDocument, message: RPCMessage, extraHeaders: [(String, String)] = []) {
        var body = allocator.buffer(bytes: response.serialized())
        if case .success(let parsed) = RPCMessage.classify(response), let filtered = filterResponse(parsed, raw: body) {
            body = allocator.buffer(bytes: filtered)
        }
        respond(status: .ok, headers: HTTPHeaders.json(extra: extraHeaders), body: body)
    }

    /// A JSON-RPC error answer to `message` with the HTTP status its era gives that code.
    func failRPC(_ code: Int, _ text: String, message: RPCMessage) {
        let status: HTTPResponseStatus
        if era == .modern {
            status = code == -32601 ? .notFound : [-32700, -32600, -32602].contains(code) ? .badRequest : .ok
        } else {
            status = .ok
        }
        fail(GatewayError(status, code: code, text), idJSON: message.idJSON)
    }

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
            respondComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
        case .list(let shape):
            federatedList(message, shape: shape, route: route, members: members)
        case .broadcastRequest:
            fanOut(members, requestIDJSON: message.idJSON) { [weak self] outcomes in
                self?.answerBroadcastRequest(message, outcomes: outcomes, route: route)
            }
        case .routed:
            let retry: (() -> Void)? =
                mayLearn ? { [weak self] in self?.federatedHandshakePost(message, session: session, route: route, mayLearn: false) } : nil
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
            respondComposed(ResultMerger.response(id: message.id, result: JSONDocument(owning: JSONAlloc.object())), message: message)
        case .relay(let response):
            respond(status: .ok, headers: HTTPHeaders.json(), body: allocator.buffer(bytes: withID(response, message.id)))
        case .failure(let error):
            fail(error, idJSON: message.idJSON)
        }
    }

    /// A client notification on a federated session goes to every target (`initialized`, `cancelled`:
    /// unknown request ids are ignored by servers, so every target may get it).
    private func broadcast(_ message: RPCMessage, calls: [FanOutCall]) {
        fanOut(calls, requestIDJSON: "null") { [weak self] outcomes in
            switch BroadcastFold.notification(outcomes, targets: calls.map(\.target.name)) {
            case .success: self?.respond(status: .accepted, headers: HTTPHeaders(), body: nil)
            case .failure(let error): self?.fail(error)
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
        send(
            message: message, body: body, target: member.target, endpoint: member.endpoint, upstreamSessionID: member.entry.upstreamSessionID,
            protocolVersion: session.state.protocolVersion, purpose: .accepted, inspect: nil)
    }

    /// `response` re-serialized with the client's id (the upstream saw the same id; this keeps its type).
    func withID(_ response: RPCMessage, _ id: JSONValueRef?) -> [UInt8] {
        if let id { json_object_set(response.document.root, "id", id.pointer) }
        return response.document.serialized()
    }

    // MARK: 2026-07-28

    /// `server/discover` on a federated route: the gateway's own answer, from every target's.
    func federatedDiscover(_ message: RPCMessage, route: RouteRuntime) {
        let calls = callsToEveryTarget(route, protocolVersion: headers.first(name: "mcp-protocol-version"))
        fanOut(calls, requestIDJSON: message.idJSON) { [weak self] outcomes in
            switch DiscoverMerger.merge(targets: calls.map(\.target.name), outcomes: outcomes, failureMode: route.failureMode) {
            case .success(let result): self?.respondComposed(ResultMerger.response(id: message.id, result: result), message: message)
            case .failure(let error): self?.fail(error, idJSON: message.idJSON)
            }
        }
    }
}
