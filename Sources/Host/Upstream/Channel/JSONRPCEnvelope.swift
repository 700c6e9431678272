/// The few top-level facts of one JSON-RPC message that a channel routes by, read without building a tree
/// (`JSONRPCEnvelopeScanner`): its kind, its id, its method, and the progress token of a progress notification.
package struct JSONRPCEnvelope: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        /// `method` and `id`.
        case request
        /// `method`, no `id`.
        case notification
        /// `result` or `error` (its `id` may be null: then `id` is nil).
        case response
    }

    package var kind: Kind
    package var id: JSONRPCID?
    package var method: String?
    /// `params.progressToken` of a `notifications/progress` message.
    package var progressToken: JSONRPCID?

    package init(kind: Kind, id: JSONRPCID? = nil, method: String? = nil, progressToken: JSONRPCID? = nil) {
        self.kind = kind
        self.id = id
        self.method = method
        self.progressToken = progressToken
    }
}
