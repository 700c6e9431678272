import CJansson
import CMCPGate
import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI

/// Forwarding: what an exchange sends upstream for its client (the client's headers as allowed, the upstream
/// session id, the filters' edits), alone (`forward(_:…)`, answered by `ResponseRelay`) or fanned out
/// (`fanOut`, collected by `ResponseCollector`), and the answers it composes from what comes back.
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
            overChannel(
                UpstreamRequest(
                    endpoint: call.endpoint, method: .POST,
                    headers: upstreamHeaders(
                        for: call.target, accept: UpstreamHeaders.acceptBoth, contentType: true, upstreamSessionID: call.upstreamSessionID,
                        protocolVersion: call.protocolVersion, overrides: call.headerOverrides),
                    body: call.body))
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
    func answerComposed(_ response: JSONDocument, message: RPCMessage, extraHeaders: [(String, String)] = []) {
        var body = allocator.buffer(bytes: response.serialized())
        if case .success(let parsed) = RPCMessage.classify(response), let filtered = filterResponse(parsed, raw: body) {
            body = allocator.buffer(bytes: filtered)
        }
        answer(status: .ok, headers: HTTPHeaders.json(extra: extraHeaders), body: body)
    }

    /// A JSON-RPC error answer to `message` with the HTTP status its era gives that code.
    func failRPC(_ code: Int, _ text: String, message: RPCMessage) {
        let status: HTTPResponseStatus
        if era == .sessionless {
            status = code == -32601 ? .notFound : [-32700, -32600, -32602].contains(code) ? .badRequest : .ok
        } else {
            status = .ok
        }
        fail(GatewayError(status, code: code, text), idJSON: message.idJSON)
    }

    /// `response` re-serialized with the client's id (the upstream saw the same id; this keeps its type).
    func withID(_ response: RPCMessage, _ id: JSONValueRef?) -> [UInt8] {
        if let id { json_object_set(response.document.root, "id", id.pointer) }
        return response.document.serialized()
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

    /// POSTs `message` (its original bytes, or `body` when it was changed) to `endpoint` (or over its channel)
    /// and answers the client from what comes back (`ResponseRelay`). `onLease`: told which pooled channel
    /// took the request.
    func forward(
        message: RPCMessage,
        body: ByteBuffer? = nil,
        target: TargetPool,
        endpoint: ResolvedEndpoint,
        upstreamSessionID: String?,
        protocolVersion: String?,
        purpose: ResponseRelay.Purpose,
        rewriteResult: ((RPCMessage) -> [UInt8]?)?,
        rewriteEvent: ((RPCMessage) -> Bool)? = nil,
        headerOverrides: [(String, String)] = [],
        onLease: (@Sendable (UInt64) -> Void)? = nil
    ) {
        let upstreamHeaders = upstreamHeaders(
            for: target, accept: UpstreamHeaders.acceptBoth, contentType: true, upstreamSessionID: upstreamSessionID,
            protocolVersion: protocolVersion, overrides: headerOverrides)
        let relay = ResponseRelay(
            exchange: self, purpose: purpose, requestIDJSON: message.idJSON, target: target.name, rewriteResult: rewriteResult,
            rewriteEvent: rewriteEvent)
        upstreamCall = relay.forward(
            overChannel(
                UpstreamRequest(endpoint: endpoint, method: .POST, headers: upstreamHeaders, body: body ?? request.body), onLease: onLease))
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
