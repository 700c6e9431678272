import CJansson
import CMCPGate

/// Drives one recorded exchange through a chain the way the gateway does (docs/plugin-chain.md):
/// request headers, each client message, then each response (correlated by id) and SSE event,
/// response headers, completion.
enum ExchangeRunner {
    static func run(_ exchange: RecordedExchange, through chain: FilterChain) -> ExchangeOutcome {
        var outcome = ExchangeOutcome()
        let request = chain.makeRequest(exchange.http)
        for (key, value) in exchange.attributes { request.setAttribute(key, value) }
        var status = exchange.status
        var origin = FilterHTTPResponse.Origin.upstream
        var stopped = false

        func stop(with decision: FilterDecision) {
            stopped = true
            origin = .plugin
            switch decision {
            case .reject(let rejection): status = rejection.httpStatus
            case .respond(let reply): status = reply.httpStatus
            case .continue, .drop: break
            }
        }

        let headersDecision = request.onHTTPRequestHeaders()
        outcome.steps.append(
            .init(hook: .httpRequestHeaders, subject: "\(exchange.http.method) \(exchange.http.path)", decision: headersDecision))
        if !headersDecision.isContinue { stop(with: headersDecision) }

        if let gatewayStatus = exchange.gatewayErrorStatus, !stopped {
            status = gatewayStatus
            origin = .gateway
            stopped = true
        }

        var forwarded: [RecordedExchange.Message] = []
        if !stopped {
            for message in exchange.messages {
                let decision = message.raw.withUnsafeBytes { request.onRPCMessage(UnsafePointer(message.json), raw: $0) }
                outcome.steps.append(.init(hook: .rpcMessage, subject: subject(message.json), decision: decision))
                if decision.isContinue {
                    forwarded.append(message)
                } else if exchange.messages.count == 1 {
                    stop(with: decision)
                }
            }
        }

        if !stopped {
            var pendingResponses = exchange.responses
            // Server-initiated events first, as a stream interleaves them before the final response.
            for event in exchange.events {
                let decision = event.data.raw.withUnsafeBytes { data in
                    request.onSSEEvent(
                        FilterSSEEvent(event: event.event, id: event.id, data: data, message: UnsafePointer(event.data.json)))
                }
                outcome.steps.append(.init(hook: .sseEvent, subject: subject(event.data.json), decision: decision))
            }
            while !pendingResponses.isEmpty {
                let response = pendingResponses.removeFirst()
                let id = json_object_get(response.json, "id")
                let correlated = forwarded.first { json_equal(json_object_get($0.json, "id"), id) != 0 }
                if correlated == nil && !exchange.messages.isEmpty && id != nil {
                    // A response to a message a filter stopped is never relayed.
                    continue
                }
                let decision = response.raw.withUnsafeBytes { raw in
                    request.onRPCResponse(UnsafePointer(response.json), raw: raw, request: correlated.map { UnsafePointer($0.json) })
                }
                outcome.steps.append(.init(hook: .rpcResponse, subject: subject(response.json), decision: decision))
            }
        }

        outcome.upstreamEdits = request.upstreamHeaderEdits
        outcome.responseEdits = request.onResponseHeaders(
            FilterHTTPResponse(
                status: status, origin: origin, isEventStream: exchange.isEventStream && origin == .upstream,
                headers: exchange.responseHeaders))
        request.finish(FilterCompletion(httpStatus: status))
        outcome.attributes = request.attributeKeys.sorted().compactMap { key in
            request.attribute(key).map { (key, $0) }
        }
        return outcome
    }

    private static func subject(_ message: UnsafeMutablePointer<json_t>) -> String {
        var parts: [String] = []
        let message = JSONValueRef(message)
        if let method = message["method"]?.string { parts.append(method) }
        if let params = message["params"] {
            if let name = params["name"]?.string { parts.append(name) }
            if let uri = params["uri"]?.string { parts.append(uri) }
        }
        if let id = message["id"], let text = id.serializedText() {
            parts.append("id=\(text)")
        }
        if message["error"] != nil { parts.append("(error)") }
        return parts.joined(separator: " ")
    }
}
