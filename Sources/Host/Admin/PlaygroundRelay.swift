import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI

/// The playground's way to an MCP endpoint (`/ui/api/relay`): the browser sends the MCP HTTP request to the admin
/// server with the endpoint in `MCPGate-Endpoint`, and the admin server makes the same request over the upstream
/// client and writes the answer back as it arrives (SSE events one by one, with backpressure). The browser only ever
/// talks to the admin origin, so a route's CORS policy does not matter; its `Authorization` is the admin token and is
/// never passed on: `MCPGate-Authorization` is sent as the endpoint's `Authorization` instead.
///
/// Only the MCP request headers pass (no cookies, no `Origin`); only the MCP answer headers come back. A failure of the
/// relay itself (invalid URL, refused connection, timeout) is a 502 marked `MCPGate-Relay-Error: 1` with the cause,
/// which the operator may see. Confined to the admin connection's event loop, where every callback arrives.
final class PlaygroundRelay: UpstreamResponseHandler {
    static let endpointHeader = "mcpgate-endpoint"
    static let authorizationHeader = "mcpgate-authorization"
    static let relayErrorHeader = "mcpgate-relay-error"
    /// Request headers passed to the endpoint (and every `mcp-param-*`).
    static let requestHeaders: Set<String> = [
        "accept", "content-type", "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name", "last-event-id",
    ]
    /// Answer headers passed back to the browser.
    static let answerHeaders: Set<String> = [
        "content-type", "mcp-session-id", "mcp-protocol-version", "www-authenticate", "retry-after", "cache-control",
    ]

    /// Why a relay request cannot be made: the status and message to answer with.
    struct Refusal: Error {
        var status: HTTPResponseStatus
        var message: String
    }

    /// The upstream request a relay request stands for, or why there is none.
    static func request(for head: HTTPRequestHead, body: ByteBuffer?) -> Result<UpstreamRequest, Refusal> {
        guard [.GET, .POST, .DELETE].contains(head.method) else {
            return .failure(Refusal(status: .methodNotAllowed, message: "the relay takes GET, POST and DELETE"))
        }
        guard let url = head.headers.first(name: endpointHeader) else {
            return .failure(Refusal(status: .badRequest, message: "MCPGate-Endpoint names the MCP endpoint to relay to"))
        }
        let parsed: UpstreamEndpoint
        do {
            parsed = try UpstreamEndpoint(parsing: url)
        } catch {
            return .failure(Refusal(status: .badRequest, message: "MCPGate-Endpoint: expected \(error.expected)"))
        }
        guard let endpoint = ResolvedEndpoint(parsed) else {
            return .failure(Refusal(status: .badRequest, message: "MCPGate-Endpoint: not a valid URL"))
        }
        var headers = HTTPHeaders()
        for (name, value) in head.headers {
            let lowered = name.lowercased()
            if requestHeaders.contains(lowered) || lowered.hasPrefix("mcp-param-") { headers.add(name: lowered, value: value) }
        }
        if let authorization = head.headers.first(name: authorizationHeader), !authorization.isEmpty {
            headers.add(name: "authorization", value: authorization)
        }
        return .success(UpstreamRequest(endpoint: endpoint, method: head.method, headers: headers, body: head.method == .POST ? body : nil))
    }

    private let context: ChannelHandlerContext
    private let onFinish: () -> Void
    private var url = ""
    private var call: UpstreamCall?
    private var answering = false
    private var finished = false

    /// `onFinish` runs once, when the answer is complete or the relay gave up.
    init(context: ChannelHandlerContext, onFinish: @escaping () -> Void) {
        self.context = context
        self.onFinish = onFinish
    }

    func start(_ request: UpstreamRequest, client: UpstreamClient) {
        url = request.endpoint.endpoint.url
        call = client.execute(request, on: context.eventLoop, handler: self)
    }

    /// The browser went away: stop the upstream request.
    func cancel() {
        guard !finished else { return }
        finished = true
        call?.cancel()
        call = nil
    }

    func upstreamHead(_ head: HTTPResponseHead) -> EventLoopFuture<Void>? {
        guard !finished else { return nil }
        answering = true
        var headers = HTTPHeaders()
        for (name, value) in head.headers where Self.answerHeaders.contains(name.lowercased()) {
            headers.add(name: name.lowercased(), value: value)
        }
        headers.add(name: "x-accel-buffering", value: "no")
        context.writeAndFlush(
            NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: head.status, headers: headers))), promise: nil)
        return nil
    }

    func upstreamBody(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard !finished else { return nil }
        return context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))))
    }

    func upstreamEnd() {
        guard !finished else { return }
        finished = true
        call = nil
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        onFinish()
    }

    func upstreamFailed(_ error: any Error) {
        guard !finished else { return }
        finished = true
        call = nil
        if answering {
            // The answer was cut after it started: the browser sees the stream end early.
            context.close(promise: nil)
        } else {
            let cause = (error as? UpstreamError).map { "\($0)" } ?? EndpointProbe.describe(error)
            let body = Array(("{\"error\":" + JSONString.quote("\(cause): \(url)") + "}").utf8)
            var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", String(body.count))])
            headers.add(name: Self.relayErrorHeader, value: "1")
            context.write(
                NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .badGateway, headers: headers))),
                promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        }
        onFinish()
    }
}
