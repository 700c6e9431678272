import CMCPGate

/// The hooks of the ABI, for diagnostics, metrics labels and `hooksRun` bits.
public enum FilterHook: String, Sendable, CaseIterable {
    case httpRequestHeaders = "on_http_request_headers"
    case rpcMessage = "on_rpc_message"
    case rpcResponse = "on_rpc_response"
    case sseEvent = "on_sse_event"
    case responseHeaders = "on_response_headers"
    case requestNew = "request_new"
    case complete = "on_complete"

    /// The `MCPGATE_HOOK_*` bit (0 for `requestNew`).
    var bit: UInt32 {
        switch self {
        case .httpRequestHeaders: MCPGATE_HOOK_HTTP_REQUEST_HEADERS
        case .rpcMessage: MCPGATE_HOOK_RPC_MESSAGE
        case .rpcResponse: MCPGATE_HOOK_RPC_RESPONSE
        case .sseEvent: MCPGATE_HOOK_SSE_EVENT
        case .responseHeaders: MCPGATE_HOOK_RESPONSE_HEADERS
        case .requestNew, .complete: 0
        }
    }

    /// Whether the hook runs on the request path (chain order) rather than the response path.
    var isRequestPath: Bool { self == .httpRequestHeaders || self == .rpcMessage }

    /// Whether `action` is one this hook may return.
    func allows(_ action: mcpgate_action) -> Bool {
        switch (self, action) {
        case (_, MCPGATE_CONTINUE): true
        case (.httpRequestHeaders, MCPGATE_REJECT), (.httpRequestHeaders, MCPGATE_RESPOND): true
        case (.rpcMessage, MCPGATE_REJECT), (.rpcMessage, MCPGATE_RESPOND): true
        case (.rpcResponse, MCPGATE_REJECT), (.rpcResponse, MCPGATE_RESPOND): true
        case (.sseEvent, MCPGATE_REJECT), (.sseEvent, MCPGATE_DROP): true
        default: false
        }
    }
}
