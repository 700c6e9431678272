/// What the chain decided for one hook call, to be applied by the host after the call returns.
public enum FilterDecision: Sendable, Equatable {
    /// Go on: forward the request / relay the response or event (with any header edits).
    case `continue`
    /// Stop and answer with an error (see `FilterRejection`); for a response or SSE event, replace
    /// it with the error.
    case reject(FilterRejection)
    /// Stop and answer with the plugin's reply (see `FilterReply`); for a response, replace its result.
    case respond(FilterReply)
    /// Swallow the SSE event (only from `onSSEEvent`).
    case drop

    /// Whether the host goes on as if no filter were there.
    public var isContinue: Bool {
        if case .continue = self { return true }
        return false
    }
}
