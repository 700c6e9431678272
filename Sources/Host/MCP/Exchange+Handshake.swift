import NIOCore
import NIOHTTP1
import Prometheus
import Logging

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
            initialize(message, route: route)
            return
        }
        guard let session = openSession(route: route, idJSON: message.idJSON) else { return }
        if let version = headers.first(name: "mcp-protocol-version"), version != session.state.protocolVersion {
            fail(.invalidRequest("Bad Request: MCP-Protocol-Version \(version) does not match the negotiated \(session.state.protocolVersion)"), idJSON: message.idJSON)
            return
        }
        let purpose: MessageRelay.Purpose = message.kind == .request ? .request : .accepted
        let inspect: ((RPCMessage) -> [UInt8]?)? =
            message.method == "tools/list" ? { [weak self] in self?.learnToolHeaders(from: $0, target: session.target); return nil } : nil
        send(
            message: message, target: session.target, endpoint: session.endpoint,
            upstreamSessionID: session.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion,
            purpose: purpose, inspect: inspect)
    }

    private func initialize(_ message: RPCMessage, route: RouteRuntime) {
        guard let target = route.targets.first else {
            fail(.upstream(.badGateway, target: "", "The route has no target"), idJSON: message.idJSON)
            return
        }
        let endpoint = target.pick()
        let context = MessageRelay.InitializeContext(
            target: target, endpoint: endpoint, route: route, principal: principal.map(PrincipalDigest.init(principal:)))
        send(
            message: message, target: target, endpoint: endpoint, upstreamSessionID: nil, protocolVersion: nil,
            purpose: .initialize(context), inspect: nil)
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
        var upstreamHeaders = UpstreamHeaders.make(
            from: headers, forwardAuthorization: session.target.forwardAuthorization, remoteAddress: request.remoteAddress,
            accept: UpstreamHeaders.acceptStream, contentType: false)
        addSessionHeaders(&upstreamHeaders, upstreamSessionID: session.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion)
        applyUpstreamEdits(to: &upstreamHeaders)
        let relay = StreamRelay(exchange: self, target: session.target)
        upstreamCall = services.upstream.execute(
            UpstreamRequest(endpoint: session.endpoint, method: .GET, headers: upstreamHeaders, body: nil),
            on: eventLoop, handler: relay)
    }

    func handshakeDelete(route: RouteRuntime) {
        guard let session = openSession(route: route, idJSON: "null") else { return }
        guard session.entry.upstreamSessionID != nil else {
            // The upstream keeps no session: there is nothing to end there.
            respond(status: .ok, headers: HTTPHeaders(), body: nil)
            return
        }
        var upstreamHeaders = UpstreamHeaders.make(
            from: headers, forwardAuthorization: session.target.forwardAuthorization, remoteAddress: request.remoteAddress,
            accept: UpstreamHeaders.acceptBoth, contentType: false)
        addSessionHeaders(&upstreamHeaders, upstreamSessionID: session.entry.upstreamSessionID, protocolVersion: session.state.protocolVersion)
        applyUpstreamEdits(to: &upstreamHeaders)
        upstreamCall = services.upstream.execute(
            UpstreamRequest(endpoint: session.endpoint, method: .DELETE, headers: upstreamHeaders, body: nil),
            on: eventLoop, handler: DeleteRelay(exchange: self, target: session.target))
    }

    // MARK: Sessions

    struct OpenedSession {
        var state: SessionState
        var entry: SessionState.Entry
        var target: TargetPool
        var endpoint: ResolvedEndpoint
    }

    /// Opens the request's sealed session id, or answers 400 (absent) / 404 (anything wrong with it).
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
        // A session belongs to the principal that created it.
        if state.principal != principal.map(PrincipalDigest.init(principal:)) {
            services.metrics.sessionsRejected.increment()
            fail(.sessionNotFound, idJSON: idJSON)
            return nil
        }
        guard let target = route.targets.first, let entry = state.entries.first(where: { $0.target == target.name }),
            let endpoint = target.endpoint(pinned: entry.endpoint)
        else {
            // The pinned target or replica is no longer configured: its upstream session is gone.
            services.metrics.sessionsRejected.increment()
            fail(.sessionNotFound, idJSON: idJSON)
            return nil
        }
        return OpenedSession(state: state, entry: entry, target: target, endpoint: endpoint)
    }

    func addSessionHeaders(_ headers: inout HTTPHeaders, upstreamSessionID: String?, protocolVersion: String?) {
        if let upstreamSessionID { headers.add(name: "mcp-session-id", value: upstreamSessionID) }
        if let protocolVersion { headers.add(name: "mcp-protocol-version", value: protocolVersion) }
    }

    // MARK: Upstream

    /// POSTs `message` (its original bytes, or `body` when it was changed) to `endpoint` and relays the answer.
    func send(
        message: RPCMessage,
        body: ByteBuffer? = nil,
        target: TargetPool,
        endpoint: ResolvedEndpoint,
        upstreamSessionID: String?,
        protocolVersion: String?,
        purpose: MessageRelay.Purpose,
        inspect: ((RPCMessage) -> [UInt8]?)?
    ) {
        var upstreamHeaders = UpstreamHeaders.make(
            from: headers, forwardAuthorization: target.forwardAuthorization, remoteAddress: request.remoteAddress,
            accept: UpstreamHeaders.acceptBoth, contentType: true)
        addSessionHeaders(&upstreamHeaders, upstreamSessionID: upstreamSessionID, protocolVersion: protocolVersion)
        applyUpstreamEdits(to: &upstreamHeaders)
        let relay = MessageRelay(
            exchange: self, purpose: purpose, requestIDJSON: message.idJSON, target: target,
            sentSessionID: upstreamSessionID != nil, inspect: inspect)
        upstreamCall = services.upstream.execute(
            UpstreamRequest(endpoint: endpoint, method: .POST, headers: upstreamHeaders, body: body ?? request.body),
            on: eventLoop, handler: relay)
    }

    /// Records the `x-mcp-header` annotations of a `tools/list` result (cheap when there are none).
    func learnToolHeaders(from message: RPCMessage, target: TargetPool) {
        guard message.kind == .result, let result = message.result else { return }
        services.toolHeaders.learn(target: target.name, toolsListResult: result)
    }
}
