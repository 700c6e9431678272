/// The response about to be sent, as passed to `FilterChainRequest.onResponseHeaders`.
public struct FilterHTTPResponse: Sendable {
    /// Who produced a response.
    public enum Origin: UInt32, Sendable {
        /// Relayed from an MCP server.
        case upstream = 0
        /// Made by the gateway itself (an error such as 404 session not found, 502, 413...).
        case gateway = 1
        /// A filter's REJECT or RESPOND decision.
        case plugin = 2
    }

    /// HTTP status.
    public var status: Int
    /// Who produced it.
    public var origin: Origin
    /// Whether the body is an SSE stream.
    public var isEventStream: Bool
    /// Header fields already set on the response (plugins read them with `header_get`).
    public var headers: [(name: String, value: String)]

    /// Creates a response description.
    public init(status: Int, origin: Origin, isEventStream: Bool = false, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.origin = origin
        self.isEventStream = isEventStream
        self.headers = headers
    }
}
