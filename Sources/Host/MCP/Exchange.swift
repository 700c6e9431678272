import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// One client request through the gateway: the checks every request passes (method, origin, era), then
/// the era's own flow (`Exchange+Handshake`, `Exchange+Modern`), the upstream call and the relay of its
/// answer. Created per request by `MCPExchangeHandler`.
///
/// Confined to the connection's event loop; not `Sendable`.
final class Exchange {
    let request: ExchangeRequest
    let runtime: GatewayRuntime
    let services: GatewayServices
    let eventLoop: any EventLoop
    let logger: Logger
    private(set) weak var responder: (any ExchangeResponder)?
    /// The verified principal of the caller (set by the auth filter once the chain runs).
    var principal: String?
    /// The upstream request in flight, cancelled when the client goes away.
    var upstreamCall: UpstreamCall?
    /// Set once the client disconnected.
    private(set) var clientGone = false
    var era: Era = .handshake
    /// Set when the response went out (whole, or the head of a stream).
    private(set) var answered = false
    /// Releases resources (stream slots, timers) when the exchange ends.
    var onFinish: [() -> Void] = []

    init(request: ExchangeRequest, runtime: GatewayRuntime, services: GatewayServices, responder: any ExchangeResponder, eventLoop: any EventLoop, logger: Logger) {
        self.request = request
        self.runtime = runtime
        self.services = services
        self.responder = responder
        self.eventLoop = eventLoop
        self.logger = logger
    }

    var headers: HTTPHeaders { request.head.headers }

    /// Runs the request to its answer (now, or once the upstream answers).
    func run() {
        let head = request.head
        guard let table = runtime.routeTables[request.bindPort] else {
            fail(GatewayError(.notFound, code: -32600, "No MCP route for \(head.uri)"))
            return
        }
        if table.loopbackOnly, let host = headers.first(name: "host"), !OriginPolicy.isLoopback(name: RouteTable.stripPort(host)) {
            fail(GatewayError(.misdirectedRequest, code: -32600, "Invalid Host header: \(host) is not a loopback name"))
            return
        }
        guard let route = table.route(host: headers.first(name: "host"), path: head.uri) else {
            fail(GatewayError(.notFound, code: -32600, "No MCP route for \(head.uri)"))
            return
        }
        if let origin = headers.first(name: "origin"), !route.origins.allows(origin: origin, host: headers.first(name: "host")) {
            fail(GatewayError(.forbidden, code: -32600, "Origin \(origin) is not allowed"))
            return
        }
        let versionHeader = headers.first(name: "mcp-protocol-version")
        era = ProtocolVersion.era(ofHeader: versionHeader)
        switch (head.method, era) {
        case (.POST, .handshake): handshakePost(route: route)
        case (.POST, .modern): modernPost(route: route)
        case (.GET, .handshake): handshakeGet(route: route)
        case (.DELETE, .handshake): handshakeDelete(route: route)
        case (.GET, .modern), (.DELETE, .modern):
            fail(GatewayError(.methodNotAllowed, code: -32600, "Method Not Allowed: \(head.method) is not part of protocol revision \(versionHeader ?? "")", headers: [("allow", "POST")]))
        default:
            fail(GatewayError(.methodNotAllowed, code: -32600, "Method Not Allowed", headers: [("allow", "GET, POST, DELETE")]))
        }
    }

    /// The client closed its connection: stop the upstream work done for it.
    func clientDisconnected() {
        clientGone = true
        upstreamCall?.cancel()
        upstreamCall = nil
        finish()
    }

    // MARK: Answering

    /// Answers with a gateway error (`id` echoed when known).
    func fail(_ error: GatewayError, idJSON: String = "null") {
        guard !answered, let responder else { return }
        answered = true
        services.metrics.countResponse(era: era, status: Int(error.status.code))
        responder.respond(error, idJSON: idJSON)
        finish()
    }

    func respond(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        guard !answered, let responder else { return }
        answered = true
        services.metrics.countResponse(era: era, status: Int(status.code))
        responder.respond(status: status, headers: headers, body: body)
        finish()
    }

    func startStream(status: HTTPResponseStatus, headers: HTTPHeaders) {
        guard !answered, let responder else { return }
        answered = true
        services.metrics.countResponse(era: era, status: Int(status.code))
        responder.startStream(status: status, headers: headers)
    }

    func writeStream(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        responder?.writeStream(buffer)
    }

    func endStream() {
        responder?.endStream()
        finish()
    }

    var allocator: ByteBufferAllocator { responder?.allocator ?? ByteBufferAllocator() }

    private func finish() {
        let actions = onFinish
        onFinish = []
        for action in actions { action() }
    }

    // MARK: Checks shared by the POST flows

    /// `Content-Type: application/json` and an `Accept` that takes both JSON and SSE.
    func checkPostHeaders() -> GatewayError? {
        let contentType = headers.first(name: "content-type")?.lowercased() ?? ""
        if !contentType.hasPrefix("application/json") {
            return GatewayError(.unsupportedMediaType, code: -32600, "Unsupported Media Type: Content-Type must be application/json")
        }
        let accept = Accept(headers)
        if !(accept.json && accept.eventStream) {
            return GatewayError(.notAcceptable, code: -32600, "Not Acceptable: Client must accept both application/json and text/event-stream")
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

/// The media types an `Accept` header admits, as far as MCP cares.
struct Accept {
    var json = false
    var eventStream = false

    init(_ headers: HTTPHeaders) {
        for value in headers["accept"] {
            for item in value.split(separator: ",") {
                let type = (item.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces().lowercased()
                switch type {
                case "*/*": json = true; eventStream = true
                case "application/json", "application/*": json = true
                case "text/event-stream", "text/*": eventStream = true
                default: break
                }
            }
        }
    }
}

/// Wall-clock seconds since 1970, for session expiry.
enum WallClock {
    static var nowSeconds: UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
