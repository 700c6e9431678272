import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// The HTTP+SSE transport of MCP 2024-11-05 (mcp-spec.md items 52-57), served beside Streamable HTTP on the same
/// routes. `GET …/sse` opens a `LegacySSEStream` whose first event, `endpoint`, names where to POST:
/// `<the same path>?sessionId=<token>`, a path-absolute reference so the SDK's same-origin check passes. The token is
/// sealed (`LegacyStreamCodec`) and names this process and the stream. A POST carrying it, on any path of the route,
/// is answered 202; its exchange is handed to the stream's loop (`Exchange.handOff`), where this flow dispatches the
/// message to `HandshakeFlow` with the stream as the session's carrier, and every answer goes to the stream.
///
/// Values made per exchange, like the other flows; `serve` and `post` run on the request's loop, `dispatch` and
/// everything after it on the stream's.
struct LegacySSEFlow: RequestFlow {
    let exchange: Exchange
}

extension LegacySSEFlow {
    /// What a POST hears when its `sessionId` names no stream it may use.
    static let streamNotFound = GatewayError(.notFound, code: -32600, "Could not find session")

    /// Serves the exchange when it is one of this transport's requests: a handshake-era `GET` of a path whose last
    /// segment is `sse`, or a `POST` whose query carries `sessionId` (or `session_id`, which the SDK also reads), both
    /// without `Mcp-Session-Id`. False leaves it to the other flows.
    func serve(route: RouteRuntime) -> Bool {
        guard headers["mcp-session-id"].isEmpty else { return false }
        let (path, query) = Self.split(request.head.uri)
        switch request.head.method {
        case .GET where era == .handshake && path.split(separator: "/", omittingEmptySubsequences: false).last == "sse":
            open(route: route, path: path)
        case .POST:
            guard let token = Self.sessionID(inQuery: query) else { return false }
            post(route: route, token: token)
        default:
            return false
        }
        return true
    }

    // MARK: GET (on the GET's loop)

    private func open(route: RouteRuntime, path: Substring) {
        // `curl …/sse` sends `*/*`; no Accept at all is taken as well.
        if !headers["accept"].isEmpty && !Accept(headers).eventStream {
            fail(GatewayError(.notAcceptable, code: -32600, "Not Acceptable: Client must accept text/event-stream"))
            return
        }
        guard handshake.reserveStreamSlot() else { return }
        let principal = self.principal.map(PrincipalDigest.init(principal:))
        let key = services.legacyStreams.nextKey()
        let now = nowSeconds
        let token = runtime.legacyStreamCodec.seal(
            LegacyStreamState(
                replica: services.replica, stream: key, principal: principal, issuedAt: now, expiresAt: runtime.sessionExpiry(now: now)),
            route: route.identity)
        let stream = LegacySSEStream(key: key, routeIdentity: route.identity, principal: principal, owner: exchange)
        services.legacyStreams.register(stream)
        services.metrics.legacySSEStreams.increment()
        stream.onClose.append { [services, weak stream] in
            services.legacyStreams.remove(key)
            services.metrics.legacySSEStreams.decrement()
            if let stream { Self.endMembers(of: stream, route: route) }
        }
        onFinish.append { stream.close() }
        exchange.startStream(status: .ok, headers: ResponseRelay.streamHeaders)
        var endpoint = allocator.buffer(capacity: path.utf8.count + token.utf8.count + 40)
        endpoint.writeString("event: endpoint\ndata: \(path)?sessionId=\(token)\n\n")
        _ = stream.write(endpoint)
        stream.startKeepAlive(every: StreamFanIn.keepAliveInterval)
    }

    // MARK: POST (on the POST's loop)

    /// Checks what can be checked here, then answers 202 and hands the work to the stream. Every refusal is this
    /// POST's HTTP answer: 415, 400 (no `sessionId` value), 404 (a token that does not open on this route, has
    /// expired, names another replica or a stream that is gone, or a principal that is not the stream's).
    private func post(route: RouteRuntime, token: Substring) {
        if let error = exchange.checkContentType() {
            fail(error)
            return
        }
        guard !token.isEmpty else {
            fail(GatewayError(.badRequest, code: -32600, "Bad Request: Missing sessionId"))
            return
        }
        guard let stream = findStream(token, route: route) else {
            services.metrics.sessionsRejected.increment()
            fail(Self.streamNotFound)
            return
        }
        exchange.handOff(to: stream)
    }

    private func findStream(_ token: Substring, route: RouteRuntime) -> LegacySSEStream? {
        let state: LegacyStreamState
        do {
            state = try runtime.legacyStreamCodec.open(token, route: route.identity, now: nowSeconds)
        } catch {
            logger.debug("HTTP+SSE sessionId refused", metadata: ["reason": "\(error)"])
            return nil
        }
        guard state.replica == services.replica else {
            logger.debug("HTTP+SSE sessionId of another replica", metadata: ["replica": "\(state.replica)"])
            return nil
        }
        // A stream serves the principal that opened it, as the SDK's server does (sse.py: "respond exactly as if the
        // session did not exist").
        guard let stream = services.legacyStreams.lookup(state.stream), stream.routeIdentity == route.identity,
            stream.principal == principal.map(PrincipalDigest.init(principal:))
        else { return nil }
        return stream
    }

    // MARK: On the stream's loop

    /// Serves a handed-off POST's message: every answer, errors included, is an event on the stream.
    func dispatch(route: RouteRuntime, stream: LegacySSEStream) {
        guard let message = parseBody() else { return }
        let envelope = message.meta?[ModernRequestValidator.metaProtocolVersion]
        if envelope != nil || ProtocolVersion.era(ofHeader: headers.first(name: "mcp-protocol-version")) == .sessionless {
            fail(
                .invalidRequest("The HTTP+SSE transport serves the handshake era; use the Streamable HTTP endpoint"),
                idJSON: message.idJSON)
            return
        }
        if message.method == "initialize", stream.sessionToken != nil {
            fail(.invalidRequest("Session already initialized on this stream"), idJSON: message.idJSON)
            return
        }
        guard filterClientMessage(message) else { return }
        if message.method == "notifications/initialized" {
            // Once the members took it, their server-to-client streams are relayed into this one.
            onFinish.append { [exchange] in
                guard (200..<300).contains(exchange.responseStatus) else { return }
                Self.relayStandaloneStreams(into: stream, runtime: exchange.runtime)
            }
        }
        handshake.handle(message, route: route, carrier: .legacyStream(stream))
    }

    /// Relays every member's standalone stream (server requests and notifications outside a call) into the client's
    /// stream, through an exchange of its own made from the GET's request: it runs `begin` (route, filters) again,
    /// and its end, or an upstream refusing the GET, never ends the client's stream (`LegacySSEResponder`).
    private static func relayStandaloneStreams(into stream: LegacySSEStream, runtime: GatewayRuntime) {
        guard stream.beginRelayingStandaloneStreams() else { return }
        let owner = stream.owner
        let relay = Exchange(
            request: owner.request, runtime: runtime, services: owner.services,
            responder: LegacySSEResponder(stream: stream, role: .standaloneRelay), eventLoop: stream.eventLoop, logger: owner.logger)
        guard relay.begin(), let route = relay.route, stream.track(relay) else { return }
        let flow = HandshakeFlow(exchange: relay)
        guard let session = flow.openSession(route: route, idJSON: "null", carrier: .legacyStream(stream)) else { return }
        flow.relayStandaloneStreams(of: session, route: route)
    }

    /// Ends what the stream's session holds upstream once the stream is gone (no client can reach the session again).
    /// This is the seam for every kind of member: today a best-effort HTTP DELETE (answers ignored) to each member
    /// that holds an upstream session id, as `FederatedFlow.endUpstreamSessions` does; members that are local
    /// channels (stdio processes, upstream SSE sessions) are to be closed here too once `SessionMember` says so.
    private static func endMembers(of stream: LegacySSEStream, route: RouteRuntime) {
        guard let token = stream.sessionToken else { return }
        let owner = stream.owner
        // Expiry does not matter here: an expired session's members are ended all the same.
        guard let state = try? owner.runtime.sessionCodec.open(token, route: route.identity, now: 0) else { return }
        // sse and stdio members: the session's own channels close with its stream.
        let registry = owner.services.channels.registry
        let replica = owner.services.replica
        let pins = state.entries.compactMap(\.localPin).filter { $0.replica == replica }
        defer { for pin in pins { registry.close(pin.channel, reason: .closed(.deleted)) } }
        let lookup: SessionRouter.ChannelLookup = { entry in
            entry.localPin.flatMap { $0.replica == replica ? registry.lookup($0.channel)?.channel : nil }
        }
        guard case .success(let session) = SessionRouter.members(of: state, route: route, principal: state.principal, channel: lookup)
        else { return }
        for member in session.members {
            guard case .none = member.endpoint.channel, let upstreamSessionID = member.entry.upstreamSessionID else { continue }
            let headers = owner.upstreamHeaders(
                for: member.target, accept: UpstreamHeaders.acceptBoth, contentType: false, upstreamSessionID: upstreamSessionID,
                protocolVersion: state.protocolVersion)
            _ = owner.services.upstream.forward(
                UpstreamRequest(endpoint: member.endpoint, method: .DELETE, headers: headers, body: nil), on: owner.eventLoop,
                limits: owner.answerLimits, sink: { _ in nil })
        }
    }

    // MARK: The request line

    /// The path and the query (without `?`) of an origin-form URI.
    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// The value of `sessionId` (or `session_id`) in a query: nil when neither is there, empty when one has no value.
    static func sessionID(inQuery query: Substring) -> Substring? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "sessionId" || parts[0] == "session_id" { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }
}
