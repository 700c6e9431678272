import NIOCore
import NIOHTTP1
import Prometheus
import Logging
import MCPGateUpstream
import MCPGateSession

/// The handshake era (2024-11-05 … 2025-11-25): `initialize` opens a sealed session pinned to one replica
/// of each target; every later POST, GET and DELETE of that session goes to the pinned replica with the
/// upstream's own session id.
extension Exchange {
    func handshakePost(route: RouteRuntime) {
        if let error = checkPostHeaders() {
            fail(error)
            return
        }
        guard let message = parseBody(), filterClientMessage(message) else { return }
        if message.method == "initialize" {
            guard message.kind == .request else {
                fail(.invalidRequest("initialize must be a request"))
                return
            }
            if route.federates {
                federatedInitialize(message, route: route)
            } else {
                initialize(message, route: route)
            }
            return
        }
        guard let session = openSession(route: route, idJSON: message.idJSON) else { return }
        if let version = headers.first(name: "mcp-protocol-version"), version != session.state.protocolVersion {
            fail(.invalidRequest("Bad Request: MCP-Protocol-Version \(version) does not match the negotiated \(session.state.protocolVersion)"), idJSON: message.idJSON)
            return
        }
        if route.federates {
            federatedHandshakePost(message, session: session, route: route)
            return
        }
        let purpose: ResponseRelay.Purpose = message.kind == .request ? .request : .accepted
        let learnHeaders: ((RPCMessage) -> [UInt8]?)? =
            message.method == "tools/list" ? { [weak self] in self?.learnToolHeaders(from: $0, target: session.target); return nil } : nil
        send(
            message: message, target: session.target, endpoint: session.endpoint,
            upstreamSessionID: session.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion,
            purpose: purpose, inspect: learnHeaders)
    }

    private func initialize(_ message: RPCMessage, route: RouteRuntime) {
        guard let target = route.targets.first else {
            fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
            return
        }
        let endpoint = target.pick()
        let context = InitializeContext(
            target: target, endpoint: endpoint, route: route, principal: principal.map(PrincipalDigest.init(principal:)))
        send(
            message: message, target: target, endpoint: endpoint, upstreamSessionID: nil, protocolVersion: nil,
            purpose: .initialize(context), inspect: nil)
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
                    SessionState.Entry(target: context.target.name, endpoint: context.endpoint.endpoint.url, upstreamSessionID: upstreamSessionID)
                ])
            guard state.fitsEncodingLimits else {
                fail(
                    .upstream(.badGateway, target: context.target.name, "Upstream session id or protocol version is too long to seal"),
                    idJSON: message.idJSON)
                return
            }
            let sessionID = runtime.sessionCodec.seal(state, route: context.route.identity)
            headers.add(name: "mcp-session-id", value: sessionID)
            noteSessionID(sessionID)
            services.metrics.sessionsCreated.increment()
        }
        var body = raw
        if let filtered = filterResponse(message, raw: body) {
            body = allocator.buffer(bytes: filtered)
        }
        respond(status: .ok, headers: headers, body: body)
    }

    func handshakeGet(route: RouteRuntime) {
        guard Accept(headers).eventStream else {
            fail(GatewayError(.notAcceptable, code: -32600, "Not Acceptable: Client must accept text/event-stream"))
            return
        }
        guard let session = openSession(route: route, idJSON: "null") else { return }
        let limits = runtime.limits
        guard services.counters.openStream(limit: limits.maxOpenStreams) else {
            fail(GatewayError(.serviceUnavailable, code: -32603, "Too many open streams", headers: [("retry-after", "5")]))
            return
        }
        services.metrics.openStreams.increment()
        onFinish.append { [services] in
            services.counters.closeStream()
            services.metrics.openStreams.decrement()
        }
        let requests = session.members.map { member in
            UpstreamRequest(
                endpoint: member.endpoint, method: .GET,
                headers: upstreamHeaders(
                    for: member.target, accept: UpstreamHeaders.acceptStream, contentType: false,
                    upstreamSessionID: member.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion),
                body: nil)
        }
        let fanIn = StreamFanIn(
            exchange: self, members: session.members.map(\.target.name), rewriter: route.federates ? FederationRewriter(naming: route.naming) : nil)
        for call in fanIn.forward(requests) { track(call) }
    }

    func handshakeDelete(route: RouteRuntime) {
        guard let session = openSession(route: route, idJSON: "null") else { return }
        // Upstreams that keep no session have nothing to end.
        let members = session.members.filter { $0.entry.upstreamSessionID != nil }
        guard !members.isEmpty else {
            respond(status: .ok, headers: HTTPHeaders(), body: nil)
            return
        }
        let requests = members.map { member in
            UpstreamRequest(
                endpoint: member.endpoint, method: .DELETE,
                headers: upstreamHeaders(
                    for: member.target, accept: UpstreamHeaders.acceptBoth, contentType: false,
                    upstreamSessionID: member.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion),
                body: nil)
        }
        let targets = members.map(\.target.name)
        let readers = FanOut.forward(
            requests, client: services.upstream, on: eventLoop, limits: answerLimits,
            collectors: requests.map { _ in StatusCollector() }
        ) { [weak self] codes in
            self?.answerDelete(codes: codes, targets: targets)
        }
        for reader in readers { if let call = reader.call { track(call) } }
    }

    /// Answers a DELETE from the upstreams' statuses: 200 once any upstream ended its session.
    private func answerDelete(codes: [UInt], targets: [String]) {
        guard !clientGone else { return }
        if codes.contains(where: { (200..<300).contains($0) }) {
            respond(status: .ok, headers: HTTPHeaders(), body: nil)
        } else if codes.allSatisfy({ $0 == 404 }) {
            fail(.sessionNotFound)
        } else if codes.allSatisfy({ $0 == 405 }) {
            fail(GatewayError(.methodNotAllowed, code: -32600, "The server does not allow ending sessions", headers: [("allow", "GET, POST")]))
        } else {
            services.metrics.upstreamFailures.increment()
            fail(.upstream(.badGateway, target: targets.joined(separator: ","), "Upstream answered HTTP \(codes.map(String.init).joined(separator: ", ")) to DELETE"))
        }
    }

    // MARK: Sessions

    /// Opens the request's sealed session id and asks `SessionRouter` for its members on `route`, or answers
    /// 400 (absent) / 404 (anything wrong with it).
    func openSession(route: RouteRuntime, idJSON: String) -> OpenedSession? {
        let ids = headers["mcp-session-id"]
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
        switch SessionRouter.members(of: state, route: route, principal: principal.map(PrincipalDigest.init(principal:))) {
        case .success(let session):
            return session
        case .failure(let refusal):
            if refusal.countsAsRejected { services.metrics.sessionsRejected.increment() }
            fail(refusal.error, idJSON: idJSON)
            return nil
        }
    }

    /// The headers of a request to `target` made for this client request: the client's end-to-end headers
    /// (`UpstreamHeaders`), the upstream's own session id and the protocol version, then the filters' edits.
    func upstreamHeaders(
        for target: TargetPool, accept: String, contentType: Bool, upstreamSessionID: String?, protocolVersion: String?,
        overrides: [(String, String)] = []
    ) -> HTTPHeaders {
        var upstreamHeaders = UpstreamHeaders.make(
            from: headers, forwardAuthorization: target.forwardAuthorization, forwardHeaders: runtime.config.upstream.forwardHeaders,
            remoteAddress: request.remoteAddress, accept: accept, contentType: contentType)
        if let upstreamSessionID { upstreamHeaders.add(name: "mcp-session-id", value: upstreamSessionID) }
        if let protocolVersion { upstreamHeaders.add(name: "mcp-protocol-version", value: protocolVersion) }
        for (name, value) in overrides {
            if value.isEmpty { upstreamHeaders.remove(name: name) } else { upstreamHeaders.replaceOrAdd(name: name, value: value) }
        }
        applyUpstreamEdits(to: &upstreamHeaders)
        return upstreamHeaders
    }

    // MARK: Upstream

    /// POSTs `message` (its original bytes, or `body` when it was changed) to `endpoint` and answers the
    /// client from what comes back (`ResponseRelay`).
    func send(
        message: RPCMessage,
        body: ByteBuffer? = nil,
        target: TargetPool,
        endpoint: ResolvedEndpoint,
        upstreamSessionID: String?,
        protocolVersion: String?,
        purpose: ResponseRelay.Purpose,
        inspect: ((RPCMessage) -> [UInt8]?)?,
        rewriteEvent: ((RPCMessage) -> Bool)? = nil,
        headerOverrides: [(String, String)] = []
    ) {
        let upstreamHeaders = upstreamHeaders(
            for: target, accept: UpstreamHeaders.acceptBoth, contentType: true, upstreamSessionID: upstreamSessionID,
            protocolVersion: protocolVersion, overrides: headerOverrides)
        let relay = ResponseRelay(
            exchange: self, purpose: purpose, requestIDJSON: message.idJSON, target: target.name, rewriteResult: inspect,
            rewriteEvent: rewriteEvent)
        upstreamCall = relay.forward(UpstreamRequest(endpoint: endpoint, method: .POST, headers: upstreamHeaders, body: body ?? request.body))
    }

    /// The bounds an upstream's answer is read within.
    var answerLimits: UpstreamAnswerLimits {
        UpstreamAnswerLimits(maxBodyBytes: runtime.limits.maxResponseBodyBytes, maxEventBytes: runtime.limits.maxSseEventBytes)
    }

    /// Records the `x-mcp-header` annotations of a `tools/list` result (cheap when there are none).
    func learnToolHeaders(from message: RPCMessage, target: TargetPool) {
        guard message.kind == .result, let result = message.result else { return }
        services.toolHeaders.learn(target: target.name, toolsListResult: result)
    }
}
