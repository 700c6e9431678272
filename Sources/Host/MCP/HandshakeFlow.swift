import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// The handshake era (2024-11-05 … 2025-11-25): `initialize` opens a sealed session pinned to one replica
/// of each target; every later POST, GET and DELETE of that session goes to the pinned replica with the
/// upstream's own session id.
struct HandshakeFlow: RequestFlow {
    let exchange: Exchange
}

/// Where a handshake-era session's id travels between the client and the gateway.
enum SessionCarrier {
    /// The `Mcp-Session-Id` header (Streamable HTTP): sealed into the `initialize` answer, sent back on every request.
    case header
    /// A client's HTTP+SSE stream (`GET /sse`): it adopted the sealed id when `initialize` answered on it
    /// (`LegacySSEResponder`), and every message posted to the stream belongs to that session.
    case legacyStream(LegacySSEStream)
}

extension HandshakeFlow {
    /// A Streamable HTTP POST: its headers checked and its body parsed and filtered, then `handle`d.
    func post(route: RouteRuntime) {
        if let error = checkPostHeaders() {
            fail(error)
            return
        }
        guard let message = parseBody(), filterClientMessage(message) else { return }
        handle(message, route: route, carrier: .header)
    }

    /// Serves one client message of a handshake-era session (already parsed and through the filters): `initialize`
    /// opens the session; anything else goes to the members of the session `carrier` names.
    func handle(_ message: RPCMessage, route: RouteRuntime, carrier: SessionCarrier) {
        if message.method == "initialize" {
            guard message.kind == .request else {
                fail(.invalidRequest("initialize must be a request"))
                return
            }
            if route.federates {
                federated.federatedInitialize(message, route: route)
            } else {
                initialize(message, route: route)
            }
            return
        }
        guard let session = openSession(route: route, idJSON: message.idJSON, carrier: carrier) else { return }
        if let version = headers.first(name: "mcp-protocol-version"), version != session.state.protocolVersion {
            fail(
                .invalidRequest(
                    "Bad Request: MCP-Protocol-Version \(version) does not match the negotiated \(session.state.protocolVersion)"),
                idJSON: message.idJSON)
            return
        }
        if route.federates {
            federated.federatedHandshakePost(message, session: session, route: route)
            return
        }
        let purpose: ResponseRelay.Purpose = message.kind == .request ? .request : .accepted
        let learnHeaders: ((RPCMessage) -> [UInt8]?)? =
            message.method == "tools/list"
            ? {
                self.learnToolHeaders(from: $0, target: session.target)
                return nil
            } : nil
        forward(
            message: message, target: session.target, endpoint: session.endpoint,
            upstreamSessionID: session.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion,
            purpose: purpose, rewriteResult: learnHeaders)
    }

    private func initialize(_ message: RPCMessage, route: RouteRuntime) {
        guard let target = route.targets.first else {
            fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
            return
        }
        guard target.usesChannels else {
            send(message, initializing: target, endpoint: target.pick(), route: route)
            return
        }
        // An sse or stdio member: the session gets a channel of its own, opened first.
        openSessionChannel(for: target).assumeIsolated().whenComplete { result in
            guard !clientGone else { return }
            switch result {
            case .success(let channel):
                send(message, initializing: target, endpoint: target.sessionEndpoint.over(.channel(channel)), route: route)
            case .failure(let error):
                let failure = UpstreamFailure(error, target: target.name)
                logger.warning("upstream channel not opened for initialize", metadata: ["target": "\(target.name)", "error": "\(failure.detail)"])
                fail(failure.gatewayError, idJSON: message.idJSON)
            }
        }
    }

    private func send(_ message: RPCMessage, initializing target: TargetPool, endpoint: ResolvedEndpoint, route: RouteRuntime) {
        let context = InitializeContext(
            target: target, endpoint: endpoint, route: route, principal: principal.map(PrincipalDigest.init(principal:)))
        forward(
            message: message, target: target, endpoint: endpoint, upstreamSessionID: nil, protocolVersion: nil,
            purpose: .initialize(context), rewriteResult: nil)
    }

    /// Where a single-target `initialize` went, for sealing the session its answer opens.
    struct InitializeContext {
        var target: TargetPool
        var endpoint: ResolvedEndpoint
        var route: RouteRuntime
        var principal: PrincipalDigest?
    }

    /// Answers a single-target `initialize`: a result opens the client's session, sealed around the
    /// upstream's (its id, the pinned replica, the negotiated version, the principal); an error is relayed.
    func answerInitialize(_ message: RPCMessage, raw: ByteBuffer, upstreamSessionID: String?, context: InitializeContext) {
        var headers = HTTPHeaders.json()
        if message.kind == .result {
            let negotiated = message.result?["protocolVersion"]?.string ?? ProtocolVersion.latestHandshake
            let now = nowSeconds
            let state = SessionState(
                protocolVersion: negotiated, principal: context.principal, issuedAt: now, expiresAt: runtime.sessionExpiry(now: now),
                entries: [
                    SessionState.Entry(
                        target: context.target.name, endpoint: context.endpoint.endpoint.url, upstreamSessionID: upstreamSessionID,
                        localPin: localPin(of: context.endpoint))
                ])
            guard state.fitsEncodingLimits else {
                fail(
                    .upstream(.badGateway, target: context.target.name, "Upstream session id or protocol version is too long to seal"),
                    idJSON: message.idJSON)
                return
            }
            let sessionID = runtime.sessionCodec.seal(state, route: context.route.identity)
            adoptChannels(of: state, route: context.route)
            headers.add(name: "mcp-session-id", value: sessionID)
            noteSessionID(sessionID)
            services.metrics.sessionsCreated.increment()
        }
        var body = raw
        if let filtered = filterResponse(message, raw: body) {
            body = allocator.buffer(bytes: filtered)
        }
        answer(status: .ok, headers: headers, body: body)
    }

    func get(route: RouteRuntime) {
        guard Accept(headers).eventStream else {
            fail(GatewayError(.notAcceptable, code: -32600, "Not Acceptable: Client must accept text/event-stream"))
            return
        }
        guard let session = openSession(route: route, idJSON: "null"), reserveStreamSlot() else { return }
        relayStandaloneStreams(of: session, route: route)
    }

    /// Holds one of `maxOpenStreams` until the exchange ends, or answers 503 when all are taken.
    func reserveStreamSlot() -> Bool {
        guard services.counters.openStream(limit: runtime.limits.maxOpenStreams) else {
            fail(GatewayError(.serviceUnavailable, code: -32603, "Too many open streams", headers: [("retry-after", "5")]))
            return false
        }
        services.metrics.openStreams.increment()
        onFinish.append { [services] in
            services.counters.closeStream()
            services.metrics.openStreams.decrement()
        }
        return true
    }

    /// Opens each member's standalone server-to-client stream (a GET) and relays them, fanned in, as this exchange's
    /// stream (`StreamFanIn`).
    func relayStandaloneStreams(of session: OpenedSession, route: RouteRuntime) {
        let requests = bodilessRequests(.GET, to: session.members, accept: UpstreamHeaders.acceptStream, session: session)
        let fanIn = StreamFanIn(
            exchange: exchange, members: session.members.map(\.target.name),
            rewriter: route.federates ? FederationRewriter(naming: route.naming) : nil)
        for call in fanIn.forward(requests) { track(call) }
    }

    func delete(route: RouteRuntime) {
        guard let session = openSession(route: route, idJSON: "null") else { return }
        // Upstreams that keep no session have nothing to end; a session's own channel is closed.
        let members = session.members.filter { $0.entry.upstreamSessionID != nil || $0.endpoint.channel != nil }
        guard !members.isEmpty else {
            answer(status: .ok, headers: HTTPHeaders(), body: nil)
            return
        }
        let requests = bodilessRequests(.DELETE, to: members, accept: UpstreamHeaders.acceptBoth, session: session)
        let targets = members.map(\.target.name)
        let readers = FanOut.forward(
            requests, client: services.upstream, on: eventLoop, limits: answerLimits,
            collectors: requests.map { _ in StatusCollector() }
        ) { codes in
            self.answerDelete(codes: codes, targets: targets)
        }
        for reader in readers { if let call = reader.call { track(call) } }
    }

    /// One GET or DELETE per member, on its pinned replica with its upstream session id.
    private func bodilessRequests(
        _ method: HTTPMethod, to members: [SessionMember], accept: String, session: OpenedSession
    ) -> [UpstreamRequest] {
        members.map { member in
            overChannel(
                UpstreamRequest(
                    endpoint: member.endpoint, method: method,
                    headers: upstreamHeaders(
                        for: member.target, accept: accept, contentType: false, upstreamSessionID: member.entry.upstreamSessionID,
                        protocolVersion: session.state.protocolVersion),
                    body: nil))
        }
    }

    /// Answers a DELETE from the upstreams' statuses: 200 once any upstream ended its session.
    private func answerDelete(codes: [UInt], targets: [String]) {
        guard !clientGone else { return }
        if codes.contains(where: { (200..<300).contains($0) }) {
            answer(status: .ok, headers: HTTPHeaders(), body: nil)
        } else if codes.allSatisfy({ $0 == 404 }) {
            fail(.sessionNotFound)
        } else if codes.allSatisfy({ $0 == 405 }) {
            fail(
                GatewayError(
                    .methodNotAllowed, code: -32600, "The server does not allow ending sessions", headers: [("allow", "GET, POST")]))
        } else {
            services.metrics.upstreamFailures.increment()
            fail(
                .upstream(
                    .badGateway, target: targets.joined(separator: ","),
                    "Upstream answered HTTP \(codes.map(String.init).joined(separator: ", ")) to DELETE"))
        }
    }

    // MARK: Sessions

    /// Opens the session's sealed id (from the header, or the one `carrier` adopted) and asks `SessionRouter` for its
    /// members on `route`, or answers 400 (absent) / 404 (anything wrong with it).
    func openSession(route: RouteRuntime, idJSON: String, carrier: SessionCarrier = .header) -> OpenedSession? {
        let ids: [String]
        switch carrier {
        case .header:
            ids = headers["mcp-session-id"]
        case .legacyStream(let stream):
            guard let token = stream.sessionToken else {
                fail(.invalidRequest("Session not initialized: send initialize first"), idJSON: idJSON)
                return nil
            }
            ids = [token]
        }
        guard let token = ids.first else {
            fail(.missingSession, idJSON: idJSON)
            return nil
        }
        let state: SessionState
        do {
            guard ids.count == 1 else { throw SessionError.malformed }
            state = try runtime.sessionCodec.open(token, route: route.identity, now: nowSeconds)
        } catch {
            logger.debug("session refused", metadata: ["reason": "\(error)"])
            services.metrics.sessionsRejected.increment()
            fail(.sessionNotFound, idJSON: idJSON)
            return nil
        }
        let principalDigest = principal.map(PrincipalDigest.init(principal:))
        switch SessionRouter.members(
            of: state, route: route, principal: principalDigest, channel: channelLookup(route: route, principal: principalDigest))
        {
        case .success(let session):
            return session
        case .failure(let refusal):
            if refusal.countsAsRejected { services.metrics.sessionsRejected.increment() }
            fail(refusal.error, idJSON: idJSON)
            return nil
        }
    }

}
