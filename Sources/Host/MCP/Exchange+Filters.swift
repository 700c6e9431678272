import MCPGateUpstream
import NIOCore
import NIOHTTP1
import PluginAPI

/// The filter façade: the one place the exchange runs its route's filter chain (`FilterChainRequest`) on
/// the client's message, the answer, the server's events and every response head.
extension Exchange {
    /// Runs the filters' message hook on the client's message; false when a filter answered instead.
    func filterClientMessage(_ message: RPCMessage) -> Bool {
        clientMessage = message
        guard let filters else { return true }
        if filters.chain.wantsRPCMessages {
            let decision = request.body.withUnsafeReadableBytes { raw in
                filters.onRPCMessage(UnsafePointer(message.document.root), raw: raw)
            }
            if !apply(decision, idJSON: message.idJSON, isNotification: message.kind != .request) { return false }
        }
        principal = filters.principal
        return true
    }

    /// Applies a request-path decision; false when it answered the client.
    func apply(_ decision: FilterDecision, idJSON: String, isNotification: Bool) -> Bool {
        switch decision {
        case .continue, .drop:
            return true
        case .reject(let rejection):
            let status = HTTPResponseStatus(statusCode: rejection.httpStatus)
            var buffer = allocator.buffer(capacity: 128)
            buffer.writeString(rejection.responseBody(idJSON: isNotification ? "null" : idJSON))
            answer(status: status, headers: HTTPHeaders.json(), body: buffer, origin: .plugin)
            return false
        case .respond(let reply):
            if isNotification {
                answer(status: .accepted, headers: HTTPHeaders(), body: nil, origin: .plugin)
                return false
            }
            var headers = HTTPHeaders()
            let body: ByteBuffer
            if let clientMessage, clientMessage.method == "tools/list", let route, route.targets.count == 1 {
                // A filter answered tools/list (a cache hit): learn its x-mcp-header maps as if it came from upstream.
                if case .success(let result) = reply.body.withUnsafeBytes({ JSONDocument.parse($0) }) {
                    services.toolHeaders.learn(target: route.targets[0].name, toolsListResult: JSONValueRef(result.root))
                }
            }
            if clientMessage == nil {
                // Answered from the header hook (a preflight, a metadata document): the plugin's body as is.
                if let type = reply.contentType { headers.add(name: "content-type", value: type) }
                body = allocator.buffer(bytes: reply.body)
            } else {
                headers.add(name: "content-type", value: "application/json")
                var buffer = allocator.buffer(capacity: reply.body.count + 64)
                buffer.writeString(reply.resultResponseBody(idJSON: idJSON))
                body = buffer
            }
            answer(status: HTTPResponseStatus(statusCode: reply.httpStatus), headers: headers, body: body, origin: .plugin)
            return false
        }
    }

    /// Runs the filters' response hooks (reverse order) on the final response to the client's request.
    /// Returns the bytes to send instead when a filter replaced it, nil to send `raw` unchanged.
    func filterResponse(_ message: RPCMessage, raw: ByteBuffer) -> [UInt8]? {
        guard let filters, filters.chain.wantsRPCResponses else { return nil }
        let decision = raw.withUnsafeReadableBytes { bytes in
            filters.onRPCResponse(
                UnsafePointer(message.document.root), raw: bytes, request: clientMessage.map { UnsafePointer($0.document.root) })
        }
        switch decision {
        case .continue, .drop:
            return nil
        case .reject(let rejection):
            return Array(rejection.responseBody(idJSON: message.idJSON).utf8)
        case .respond(let reply):
            return Array(reply.resultResponseBody(idJSON: message.idJSON).utf8)
        }
    }

    /// Runs the filters' event hooks on a server-to-client event that is not the response (notifications,
    /// server requests). False: the event is not relayed.
    func filterEvent(_ event: SSEEvent, message: RPCMessage?) -> Bool {
        guard let filters, filters.chain.wantsSSEEvents, let data = event.data else { return true }
        let decision = data.withUnsafeReadableBytes { bytes in
            filters.onSSEEvent(
                FilterSSEEvent(
                    event: event.eventType ?? "message", id: event.id, data: bytes,
                    message: message.map { UnsafePointer($0.document.root) }))
        }
        switch decision {
        case .continue, .respond: return true
        case .drop, .reject: return false
        }
    }

    /// Whether any filter wants to see server-to-client events (else events are relayed unparsed).
    var filtersWantEvents: Bool { filters?.chain.wantsSSEEvents ?? false }

    /// Tells the filters the client-facing session id once `initialize` sealed it.
    func noteSessionID(_ sessionID: String) {
        filters?.sessionID = sessionID
    }

    /// Upstream request header edits queued by the filters.
    func applyUpstreamEdits(to headers: inout HTTPHeaders) {
        guard let edits = filters?.upstreamHeaderEdits, !edits.isEmpty else { return }
        headers.apply(edits)
    }

    /// Lets the filters add their response headers (CORS, rate-limit headers, …) to any response head.
    func filterResponseHeaders(
        _ headers: inout HTTPHeaders, status: HTTPResponseStatus, origin: FilterHTTPResponse.Origin, isEventStream: Bool
    ) {
        guard let filters, filters.chain.wantsResponseHeaders || !filters.responseHeaderEdits.isEmpty else { return }
        headers.apply(
            filters.onResponseHeaders(
                FilterHTTPResponse(
                    status: Int(status.code), origin: origin, isEventStream: isEventStream, headers: headers.map { ($0.name, $0.value) })))
    }

}
