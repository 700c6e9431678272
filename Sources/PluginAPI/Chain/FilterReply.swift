/// A RESPOND decision: a reply made by a plugin instead of the upstream's.
public struct FilterReply: Sendable, Equatable {
    /// HTTP status (200 unless the plugin chose).
    public var httpStatus: Int
    /// From `on_http_request_headers`: the whole body's Content-Type (nil: none, or application/json
    /// when the body is not empty). Unused for JSON-RPC replies.
    public var contentType: String?
    /// From `on_http_request_headers`: the whole HTTP body. From a JSON-RPC hook: the `result`
    /// value as JSON text.
    public var body: [UInt8]
    /// The instance that decided.
    public var instance: String

    /// Creates a reply.
    public init(httpStatus: Int, contentType: String?, body: [UInt8], instance: String) {
        self.httpStatus = httpStatus
        self.contentType = contentType
        self.body = body
        self.instance = instance
    }

    /// For JSON-RPC replies: the whole response `{"jsonrpc":"2.0","id":…,"result":…}`, with the id the
    /// host supplies as JSON text.
    public func resultResponseBody(idJSON: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(idJSON),\"result\":\(String(decoding: body, as: UTF8.self))}"
    }
}
