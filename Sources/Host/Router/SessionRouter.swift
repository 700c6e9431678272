import CJansson
import CMCPGate
import MCPGateSession
import MCPGateUpstream
import NIOHTTP1
import PluginAPI

/// One target of an opened session: its pinned replica and upstream session id.
struct SessionMember {
    var entry: SessionState.Entry
    var target: TargetPool
    var endpoint: ResolvedEndpoint
}

/// A session the client holds, opened and checked against the route it came in on. Built by
/// `SessionRouter.members`, which refuses a session without members, so `members` is never empty.
struct OpenedSession {
    var state: SessionState
    /// In the order of the session's entries (targets down at initialize under failOpen are absent).
    var members: [SessionMember]

    /// The only member of a single-target session.
    var entry: SessionState.Entry { members[0].entry }
    var target: TargetPool { members[0].target }
    var endpoint: ResolvedEndpoint { members[0].endpoint }

    func member(_ target: String) -> SessionMember? { members.first { $0.target.name == target } }
}

/// The session-pinning router (DESIGN.md §2, §4): what an opened session's state means on a route, where
/// each message of a session goes, and how a sessionless request is pinned by its `requestState`. Pure
/// decisions: no I/O, logging or metrics; the caller answers, logs and counts by the result.
enum SessionRouter {
    /// Why an opened session cannot be served (the client is told 404: initialize again).
    enum Refusal: Error, Equatable {
        /// The session belongs to another principal.
        case principalMismatch
        /// A pinned target or replica is no longer configured: its upstream session is gone.
        case memberGone(target: String)
        /// The session pins no target.
        case noMembers
        /// An sse or stdio member whose channel this process does not hold: another replica's, or closed
        /// (deleted, idle, expired, crashed, or the gateway restarted).
        case channelGone(target: String)

        /// What the client is told.
        var error: GatewayError { .sessionNotFound }
        /// Whether it counts as a rejected session in the metrics.
        var countsAsRejected: Bool { self != .noMembers }
    }

    /// The channel an sse or stdio member's local pin names, if this process holds it for this session (the
    /// caller checks the replica, the registry and the channel's owner).
    typealias ChannelLookup = (SessionState.Entry) -> UpstreamChannel?

    /// The members of a session: each entry's target and pinned replica on `route` (for sse and stdio members,
    /// the channel `channel` finds for the entry's local pin).
    static func members(
        of state: SessionState, route: RouteRuntime, principal: PrincipalDigest?, channel: ChannelLookup = { _ in nil }
    ) -> Result<OpenedSession, Refusal> {
        // A session belongs to the principal that created it.
        guard state.principal == principal else { return .failure(.principalMismatch) }
        var members: [SessionMember] = []
        for entry in state.entries {
            guard let target = route.target(named: entry.target), var endpoint = target.endpoint(pinned: entry.endpoint) else {
                return .failure(.memberGone(target: entry.target))
            }
            if target.usesChannels {
                guard entry.localPin != nil, let open = channel(entry) else { return .failure(.channelGone(target: entry.target)) }
                endpoint = endpoint.over(.channel(open))
            } else if entry.localPin != nil {
                return .failure(.memberGone(target: entry.target))
            }
            members.append(SessionMember(entry: entry, target: target, endpoint: endpoint))
        }
        guard !members.isEmpty else { return .failure(.noMembers) }
        return .success(OpenedSession(state: state, members: members))
    }

    /// Where a client's answer to a server request goes.
    struct AnswerDestination {
        /// The member whose server sent the request.
        var member: SessionMember
        /// The id that server gave its request, as JSON text.
        var originalIDJSON: String
    }

    /// Where a client's answer to a server request goes, from the id the gateway gave the request
    /// (`FederationRewriter.serverRequestID`); -32600 when it names no request of this session's servers.
    static func answerDestination(_ message: RPCMessage, session: OpenedSession) -> Result<AnswerDestination, GatewayError> {
        guard let id = message.id?.string, let (target, originalID) = FederationRewriter.parseServerRequestID(id),
            let member = session.member(target)
        else {
            return .failure(.invalidRequest("The response's id answers no request of this session's servers"))
        }
        return .success(AnswerDestination(member: member, originalIDJSON: originalID))
    }

    // MARK: Federated sessions

    /// What a POST of a federated handshake-era session does.
    enum FederatedStep: Equatable {
        /// A client's answer to a server request: back to the upstream that asked.
        case answerServerRequest
        /// A notification: to every member.
        case broadcastNotification
        /// `ping`: the gateway answers `{}` itself.
        case ping
        /// A list method: fanned out and merged.
        case list(ListShape)
        /// `logging/setLevel`: to every member, folded.
        case broadcastRequest
        /// Anything else: to the one target its name resolves to.
        case routed
    }

    static func federatedStep(for message: RPCMessage) -> FederatedStep {
        switch message.kind {
        case .result, .error: return .answerServerRequest
        case .notification: return .broadcastNotification
        case .request: break
        }
        let method = message.method ?? ""
        if method == "ping" { return .ping }
        if let shape = ListShape(method: method) { return .list(shape) }
        if method == "logging/setLevel" { return .broadcastRequest }
        return .routed
    }

    /// What a 2026-07-28 request on a federated route does.
    enum SessionlessStep: Equatable {
        case discover
        case list(ListShape)
        case failure(RoutingFailure)
        case routed
    }

    static func sessionlessStep(for message: RPCMessage) -> SessionlessStep {
        let method = message.method ?? ""
        if method == "server/discover" { return .discover }
        if let shape = ListShape(method: method) { return .list(shape) }
        if method == "subscriptions/listen" {
            return .failure(.methodNotFound("Method not found: subscriptions/listen is not served on federated routes yet"))
        }
        return .routed
    }

    // MARK: requestState (2026-07-28)

    /// Where a sessionless request carrying a `requestState` goes.
    enum Pin {
        /// No `requestState`, or the upstream's own (not sealed by this gateway): forward unchanged to any replica.
        case unpinned
        /// A state this gateway sealed: to that replica, with the upstream's own state restored.
        case pinned(ResolvedEndpoint, upstreamState: String)
    }

    /// The answer to a gateway-sealed `requestState` that is forged, expired, or sealed for another principal,
    /// target or replica.
    static let invalidRequestState = GatewayError(
        .badRequest, code: -32602, "Invalid or expired requestState", dataJSON: "{\"reason\":\"invalid_request_state\"}")

    /// Opens `requestState` (the request's `params.requestState`) for a request routed to `target`.
    /// For a target served by a channel pool, the sealed endpoint is a `ChannelLocator`: it pins the very
    /// channel (process) that asked, which must still be in the pool on this `replica`.
    static func pin(
        requestState: String?, codec: RequestStateCodec, route: RouteRuntime, target: TargetPool, principal: PrincipalDigest?, now: UInt64,
        replica: ReplicaID
    ) -> Result<Pin, GatewayError> {
        guard let requestState else { return .success(.unpinned) }
        do throws(RequestStateCodec.OpenError) {
            let opened = try codec.open(requestState, route: route.sealContext, now: now)
            guard opened.principal == principal, opened.target == target.name else { return .failure(invalidRequestState) }
            if let pool = target.channelPool {
                guard
                    let key = ChannelLocator.channel(in: opened.endpoint, endpoint: target.sessionEndpoint.endpoint.url, replica: replica),
                    pool.holds(key)
                else { return .failure(invalidRequestState) }
                return .success(.pinned(target.sessionEndpoint.over(.pool(pool, pinned: key)), upstreamState: opened.upstreamState))
            }
            guard let endpoint = target.endpoint(pinned: opened.endpoint) else { return .failure(invalidRequestState) }
            return .success(.pinned(endpoint, upstreamState: opened.upstreamState))
        } catch .notOurs {
            return .success(.unpinned)
        } catch {
            return .failure(invalidRequestState)
        }
    }

    /// Seals the state of an `input_required` result (in place) so that the retry comes back to `target`'s
    /// replica at `endpointURL`, from the same principal, within `RequestStateCodec.lifetimeSeconds`.
    /// Returns true when it changed the result.
    static func sealInputRequired(
        _ response: RPCMessage, codec: RequestStateCodec, route: RouteRuntime, target: String, endpointURL: String,
        principal: PrincipalDigest?, now: UInt64
    ) -> Bool {
        guard response.kind == .result, let result = response.result, result["resultType"]?.string == "input_required",
            let upstreamState = result["requestState"]?.string
        else { return false }
        let sealed = codec.seal(
            RequestStateCodec.State(
                target: target, endpoint: endpointURL, principal: principal, expiresAt: now + RequestStateCodec.lifetimeSeconds,
                upstreamState: upstreamState),
            route: route.sealContext)
        result.set("requestState", string: sealed)
        return true
    }
}
