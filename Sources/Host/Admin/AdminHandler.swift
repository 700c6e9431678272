import NIOCore
import NIOHTTP1
import PluginAPI

/// Answers one operator connection's requests, by path and the roles its address serves:
/// - readiness `GET /healthz/ready`; stats `GET /metrics`;
/// - admin API `GET /config`, `POST /reload`, and for the UI `GET /ui/api/overview` and the playground relay
///   `/ui/api/relay` (`PlaygroundRelay`), every one behind `AdminGuard`;
/// - the UI's files under `/ui/` (`UIAssets`; `/ui` redirects), with a strict Content-Security-Policy. They hold no
///   secret and need no token: the page asks for it and sends it with its API calls.
///
/// A request body is read up to `maxRequestBodyBytes` (413 past it). One request at a time: NIO's server pipeline
/// holds the next one until this one's answer has ended. Confined to the connection's event loop.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let roles: Set<AdminServer.Role>
    private let hooks: AdminServer.Hooks
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    /// Whether the connection stays open after the current answer (`Connection: close`, HTTP/1.0).
    private var keepAlive = true
    /// The playground request being relayed, if any.
    private var relay: PlaygroundRelay?

    init(roles: Set<AdminServer.Role>, hooks: AdminServer.Hooks) {
        self.roles = roles
        self.hooks = hooks
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            bodyTooLarge = false
        case .body(var part):
            guard !bodyTooLarge else { return }
            if (body?.readableBytes ?? 0) + part.readableBytes > hooks.maxRequestBodyBytes() {
                bodyTooLarge = true
                body = nil
            } else if var held = body {
                body = nil  // one owner while appending: no copy of the buffer
                held.writeBuffer(&part)
                body = held
            } else {
                body = part
            }
        case .end:
            guard let head else { return }
            self.head = nil
            keepAlive = head.isKeepAlive
            answer(head, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay?.cancel()
        relay = nil
        context.fireChannelInactive()
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        switch (head.method, path) {
        case (.GET, "/healthz/ready") where roles.contains(.readiness):
            let ready = hooks.isReady()
            writeText(context: context, status: ready ? .ok : .serviceUnavailable, ready ? "ready" : "not ready")
            return
        case (.GET, "/metrics") where roles.contains(.stats):
            write(context: context, status: .ok, type: "text/plain; version=0.0.4", body: hooks.metricsText())
            return
        default:
            break
        }
        guard roles.contains(.admin) else {
            writeText(context: context, status: .notFound, "not found")
            return
        }
        if bodyTooLarge {
            writeText(context: context, status: .payloadTooLarge, "the request body is larger than \(hooks.maxRequestBodyBytes()) bytes")
            return
        }
        switch (head.method, path) {
        case (.GET, "/config"):
            if let refusal = AdminGuard.refusal(of: head, token: hooks.adminToken()) { return refuse(refusal, context: context) }
            write(context: context, status: .ok, type: "application/json", body: Array(hooks.configSummary().utf8))
        case (.POST, "/reload"):
            if let refusal = AdminGuard.refusal(of: head, token: hooks.adminToken()) ?? AdminGuard.reloadBodyRefusal(head) {
                return refuse(refusal, context: context)
            }
            let reload = hooks.reload
            let promise = context.eventLoop.makePromise(of: Result<String, any Error>.self)
            promise.completeWithTask { await reload() }
            promise.futureResult.assumeIsolated().whenSuccess { [weak self] result in
                switch result {
                case .success(let message): self?.writeText(context: context, status: .ok, message)
                case .failure(let error): self?.writeText(context: context, status: .badRequest, "\(error)")
                }
            }
        case (.GET, "/ui"), (.HEAD, "/ui"):
            write(context: context, status: .permanentRedirect, type: "text/plain", body: [], extra: [("location", "/ui/")])
        case (_, _) where path.hasPrefix("/ui/api/"):
            if let refusal = AdminGuard.refusal(of: head, token: hooks.adminToken()) {
                return refuse(refusal, context: context, json: true)
            }
            answerAPI(head, path: path, context: context)
        case (.GET, _) where path.hasPrefix("/ui/"), (.HEAD, _) where path.hasPrefix("/ui/"):
            answerAsset(head, path: path, context: context)
        default:
            writeText(context: context, status: .notFound, "not found")
        }
    }

    /// `/ui/api/*`, already past the guard.
    private func answerAPI(_ head: HTTPRequestHead, path: String, context: ChannelHandlerContext) {
        switch (head.method, path) {
        case (.GET, "/ui/api/overview"):
            let overview = hooks.overview
            let promise = context.eventLoop.makePromise(of: String.self)
            promise.completeWithTask { await overview() }
            promise.futureResult.assumeIsolated().whenSuccess { [weak self] json in
                self?.write(
                    context: context, status: .ok, type: "application/json", body: Array(json.utf8), extra: [("cache-control", "no-store")])
            }
        case (_, "/ui/api/relay"):
            switch PlaygroundRelay.request(for: head, body: body) {
            case .failure(let refusal):
                writeJSONError(context: context, status: refusal.status, refusal.message)
            case .success(let request):
                let relay = PlaygroundRelay(context: context) { [weak self] in
                    self?.relay = nil
                    if self?.keepAlive == false { context.close(promise: nil) }
                }
                self.relay = relay
                relay.start(request, client: hooks.relayClient)
            }
        default:
            writeJSONError(context: context, status: .notFound, "no admin API at \(head.method) \(path)")
        }
        body = nil
    }

    /// A file of the UI, or `index.html` for the UI's own routes.
    private func answerAsset(_ head: HTTPRequestHead, path: String, context: ChannelHandlerContext) {
        let file = UIAssets.file(forUIPath: path.dropFirst("/ui/".count))
        guard let asset = hooks.uiAssets.asset(at: file) else {
            write(context: context, status: .notFound, type: "text/plain", body: Array("not found\n".utf8), extra: UIAssets.securityHeaders)
            return
        }
        write(
            context: context, status: .ok, type: asset.contentType, body: head.method == .HEAD ? [] : asset.bytes,
            extra: UIAssets.securityHeaders, length: asset.bytes.count)
    }

    private func refuse(_ refusal: AdminGuard.Refusal, context: ChannelHandlerContext, json: Bool = false) {
        if json {
            writeJSONError(context: context, status: refusal.status, refusal.message, extra: refusal.headers)
        } else {
            write(
                context: context, status: refusal.status, type: "text/plain", body: Array((refusal.message + "\n").utf8),
                extra: refusal.headers)
        }
    }

    private func writeText(context: ChannelHandlerContext, status: HTTPResponseStatus, _ message: String) {
        write(context: context, status: status, type: "text/plain", body: Array((message + "\n").utf8))
    }

    private func writeJSONError(
        context: ChannelHandlerContext, status: HTTPResponseStatus, _ message: String, extra: [(String, String)] = []
    ) {
        write(
            context: context, status: status, type: "application/json", body: Array(("{\"error\":" + JSONString.quote(message) + "}").utf8),
            extra: extra)
    }

    /// `length`: the Content-Length when it is not the body's (a HEAD answer).
    private func write(
        context: ChannelHandlerContext, status: HTTPResponseStatus, type: String, body: [UInt8], extra: [(String, String)] = [],
        length: Int? = nil
    ) {
        var headers = HTTPHeaders([("content-type", type), ("content-length", String(length ?? body.count))])
        headers.add(contentsOf: extra)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive { ended.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }
}
