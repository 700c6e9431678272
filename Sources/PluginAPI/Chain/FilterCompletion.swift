/// How a request ended, passed to `FilterChainRequest.finish`.
public struct FilterCompletion: Sendable, Equatable {
    /// The final HTTP status sent to the client, 0 if none was sent.
    public var httpStatus: Int
    /// The client went away before the response ended.
    public var clientDisconnected: Bool
    /// The gateway or the upstream failed (5xx made by the gateway, upstream unreachable, ...).
    public var failed: Bool

    /// Creates a completion.
    public init(httpStatus: Int, clientDisconnected: Bool = false, failed: Bool = false) {
        self.httpStatus = httpStatus
        self.clientDisconnected = clientDisconnected
        self.failed = failed
    }

    /// What the chain assumes when a request is dropped without `finish` being called.
    public static let abandoned = FilterCompletion(httpStatus: 0, clientDisconnected: true)
}
