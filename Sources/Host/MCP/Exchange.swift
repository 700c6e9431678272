import Foundation
import Logging
import MCPGateSession
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI
import Prometheus

/// One client request through the gateway: the checks every request passes (route, Host, Origin, the
/// filters' header hooks), then its era's flow (`HandshakeFlow`, `SessionlessFlow`, `FederatedFlow`), which
/// decides with the Router and `forward`s upstream. The exchange holds the request's state, runs its filters
/// (`Exchange+Filters`) and gives the client its one `answer` (or stream). Created per request by
/// `MCPExchangeHandler`.
///
/// Confined to the connection's event loop; not `Sendable`.
final class Exchange {
    private(set) var request: ExchangeRequest
    let runtime: GatewayRuntime
    let services: GatewayServices
    let eventLoop: any EventLoop
    let logger: Logger
    /// The one answer to the client (ignores every call past its end).
    let responder: any ExchangeResponder
    /// The route the request matched (set by `begin`).
    private(set) var route: RouteRuntime?
    /// The route's filter chain for this request, when the route has policies.
    private(set) var filters: FilterChainRequest?
    /// The client's JSON-RPC message, once parsed (plugins see it again with the response).
    var clientMessage: RPCMessage?
    /// The verified principal of the caller, as the auth filter set it (`mcpgate.principal`).
    var principal: String?
    /// The upstream requests in flight, cancelled when the client goes away.
    private(set) var upstreamCalls: [UpstreamCall] = []

    /// The one upstream request of a relayed exchange.
    var upstreamCall: UpstreamCall? {
        get { upstreamCalls.first }
        set { upstreamCalls = newValue.map { [$0] } ?? [] }
    }

    /// Adds an upstream request (of a fan-out) to those cancelled when the client goes away.
    func track(_ call: UpstreamCall) {
        upstreamCalls.append(call)
    }

    /// Stops every upstream request of this exchange.
    func cancelUpstream() {
        for call in upstreamCalls { call.cancel() }
    }
    /// Set once the client disconnected.
    private(set) var clientGone = false
    /// Set once the response to the client's request reached the socket on a stream (the client may then close
    /// before the upstream ends its stream: that is not a client gone mid-answer).
    private(set) var responseDelivered = false

    /// Notes that the final response went out on the client's stream.
    func noteResponseDelivered() {
        responseDelivered = true
    }
    var era: Era = .handshake
    /// Set when the response went out (whole, or the head of a stream).
    private(set) var answered = false
    /// The HTTP status of the answer (0 until it went out).
    private(set) var responseStatus = 0
    private var finished = false
    /// Releases resources (stream slots, timers) when the exchange ends.
    var onFinish: [() -> Void] = []

    init(
        request: ExchangeRequest, runtime: GatewayRuntime, services: GatewayServices, responder: any ExchangeResponder,
        eventLoop: any EventLoop, logger: Logger
    ) {
        self.request = request
        self.runtime = runtime
        self.services = services
        self.responder = responder
        self.eventLoop = eventLoop
        self.logger = logger
    }

    deinit {
        MemoryTrim.noteLargeFree(bytes: request.body.capacity)
    }

    var headers: HTTPHeaders { request.head.headers }

    /// Runs what can be decided from the request head alone: the route, the Host and Origin checks, and the
    /// filters' header hooks (CORS preflights and authentication answer here, before any body is read).
    /// Returns false when the exchange already answered.
    func begin() -> Bool {
        let head = request.head
        guard let table = runtime.routeTables[request.bindPort] else {
            fail(GatewayError(.notFound, code: -32600, "No MCP route for \(head.uri)"))
            return false
        }
        if table.loopbackOnly, let host = headers.first(name: "host"), !OriginPolicy.isLoopbackAuthority(host) {
            fail(GatewayError(.misdirectedRequest, code: -32600, "Invalid Host header: \(host) is not a loopback name"))
            return false
        }
        let wellKnown = WellKnownPath(head.uri)
        guard let route = table.route(host: headers.first(name: "host"), path: wellKnown?.resourcePath ?? head.uri) else {
            fail(GatewayError(.notFound, code: -32600, "No MCP route for \(head.uri)"))
            return false
        }
        self.route = route
        if let chain = route.chain {
            filters = chain.makeRequest(
                FilterHTTPRequest(
                    method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                    remoteAddress: request.remoteAddress?.ipAddress))
            // What the router already knows, for the filters' keys (rate-limit buckets, cache entries).
            _ = filters?.setAttribute("mcpgate.route", route.identity, readOnly: true)
            if route.targets.count == 1 { _ = filters?.setAttribute("mcpgate.target", route.targets[0].name, readOnly: true) }
        }
        if let origin = headers.first(name: "origin"), !route.origins.allows(origin: origin, host: headers.first(name: "host")) {
            fail(GatewayError(.forbidden, code: -32600, "Origin \(origin) is not allowed"))
            return false
        }
        if let filters, filters.chain.wantsHTTPRequestHeaders {
            if !apply(filters.onHTTPRequestHeaders(), idJSON: "null", isNotification: false) { return false }
            principal = filters.principal
        }
        if wellKnown != nil {
            fail(GatewayError(.notFound, code: -32600, "No protected-resource metadata is configured for this route"))
            return false
        }
        return true
    }

    /// Runs the request (its body now read) to its answer, now or once the upstream answers.
    func run(body: ByteBuffer) {
        request.body = body
        guard let route, !answered else { return }
        let head = request.head
        let versionHeader = headers.first(name: "mcp-protocol-version")
        era = ProtocolVersion.era(ofHeader: versionHeader)
        if LegacySSEFlow(exchange: self).serve(route: route) { return }
        switch (head.method, era) {
        case (.POST, .handshake): HandshakeFlow(exchange: self).post(route: route)
        case (.POST, .sessionless): SessionlessFlow(exchange: self).post(route: route)
        case (.GET, .handshake): HandshakeFlow(exchange: self).get(route: route)
        case (.DELETE, .handshake): HandshakeFlow(exchange: self).delete(route: route)
        case (.GET, .sessionless), (.DELETE, .sessionless):
            fail(
                GatewayError(
                    .methodNotAllowed, code: -32600,
                    "Method Not Allowed: \(head.method) is not part of protocol revision \(versionHeader ?? "")",
                    headers: [("allow", "POST")]))
        default:
            fail(GatewayError(.methodNotAllowed, code: -32600, "Method Not Allowed", headers: [("allow", "GET, POST, DELETE")]))
        }
    }

    /// Takes on what `begin` decided for an exchange that handed its work over (`handOff`): its route, its filter
    /// chain request (moved, not shared) and its principal.
    func adopt(route: RouteRuntime, filters: FilterChainRequest?, principal: String?) {
        self.route = route
        self.filters = filters
        self.principal = principal
    }

    /// Gives up the filter chain request, for the exchange that carries this one's work on: this exchange's end then
    /// leaves it alone, so the chain is finished exactly once, by its new owner.
    func releaseFilters() -> FilterChainRequest? {
        defer { filters = nil }
        return filters
    }

    /// The client closed its connection: stop the upstream work done for it.
    func clientDisconnected() {
        clientGone = true
        cancelUpstream()
        upstreamCalls = []
        finish(disconnected: true)
    }

    // MARK: Answering

    /// Answers with a gateway error (`id` echoed when known).
    func fail(_ error: GatewayError, idJSON: String = "null") {
        var buffer = allocator.buffer(capacity: 128)
        buffer.writeString(error.body(idJSON: idJSON))
        answer(status: error.status, headers: HTTPHeaders.json(extra: error.headers), body: buffer, origin: .gateway)
    }

    /// Answers with a whole response: relayed from (or built on) the upstream's answer unless `origin` says
    /// the gateway or a plugin made it. The first answer wins; later calls do nothing.
    func answer(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?, origin: FilterHTTPResponse.Origin = .upstream) {
        guard !answered else { return }
        answered = true
        responseStatus = Int(status.code)
        var headers = headers
        filterResponseHeaders(&headers, status: status, origin: origin, isEventStream: false)
        services.metrics.countResponse(era: era, status: responseStatus)
        responder.respond(status: status, headers: headers, body: body)
        finish(disconnected: false)
    }

    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard !answered else { return }
        answered = true
        responseStatus = Int(status.code)
        var headers = headers
        filterResponseHeaders(&headers, status: status, origin: .upstream, isEventStream: true)
        services.metrics.countResponse(era: era, status: responseStatus)
        responder.startStream(status: status, headers: headers)
    }

    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        responder.writeStream(buffer)
    }

    func endStream() {
        responder.endStream()
        finish(disconnected: false)
    }

    var allocator: ByteBufferAllocator { responder.allocator }

    private func finish(disconnected: Bool) {
        guard !finished else { return }
        finished = true
        filters?.finish(
            FilterCompletion(
                httpStatus: responseStatus, clientDisconnected: disconnected && !responseDelivered, failed: responseStatus >= 500))
        let actions = onFinish
        onFinish = []
        for action in actions { action() }
    }

    // MARK: Checks shared by the POST flows

    /// `Content-Type: application/json` and an `Accept` that takes both JSON and SSE.
    func checkPostHeaders() -> GatewayError? {
        if let error = checkContentType() { return error }
        let accept = Accept(headers)
        if !(accept.json && accept.eventStream) {
            return GatewayError(
                .notAcceptable, code: -32600, "Not Acceptable: Client must accept both application/json and text/event-stream")
        }
        return nil
    }

    /// `Content-Type: application/json` (the media type exactly; parameters such as `; charset=utf-8` allowed).
    func checkContentType() -> GatewayError? {
        let contentType = headers.first(name: "content-type").map { value in
            (value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingSpaces().lowercased()
        }
        if contentType != "application/json" {
            return GatewayError(.unsupportedMediaType, code: -32600, "Unsupported Media Type: Content-Type must be application/json")
        }
        return nil
    }

    /// Parses the body as one JSON-RPC message, or answers the parse error.
    func parseBody() -> RPCMessage? {
        let parsed = request.body.withUnsafeReadableBytes { RPCMessage.parse($0) }
        switch parsed {
        case .success(let message):
            return message
        case .failure(.notJSON(let failure)):
            fail(GatewayError(.badRequest, code: -32700, "Parse error: \(failure.message)"))
        case .failure(.invalidEnvelope(let envelope)):
            fail(GatewayError(.badRequest, code: -32600, "Invalid Request: \(envelope.message)"), idJSON: envelope.idJSON)
        }
        return nil
    }

    var nowSeconds: UInt64 { WallClock.nowSeconds }
}
