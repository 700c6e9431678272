/// Why the upstream client gave up on a request. The description names the case, so a log line (and
/// `UpstreamFailure`'s message) says what happened.
package enum UpstreamError: Error, CustomStringConvertible, Equatable {
    /// No response head within `requestTimeout` (queueing, connecting and the server's think time included).
    case deadlineExceeded
    /// A POST response body went silent for longer than `streamIdleTimeout`.
    case readTimeout
    /// The server closed the connection before the response was complete.
    case remoteConnectionClosed
    /// The exchange cancelled the request (`UpstreamCall.cancel()`).
    case cancelled
    /// The endpoint is not an absolute http(s) URL.
    case invalidURL(String)
    /// A 3xx answer the gateway does not follow (`RedirectPolicy`): the reason, with the location, for the log.
    case redirectRefused(String)
    /// An `https` endpoint, but no TLS context could be built.
    case tlsUnavailable
    /// The client is shut down.
    case shutdown

    /// True for the failures the gateway answers with 504.
    package var isTimeout: Bool {
        switch self {
        case .deadlineExceeded, .readTimeout: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .deadlineExceeded: "deadlineExceeded"
        case .readTimeout: "readTimeout"
        case .remoteConnectionClosed: "remoteConnectionClosed"
        case .cancelled: "cancelled"
        case .invalidURL(let url): "invalidURL(\(url))"
        case .redirectRefused(let reason): "redirectRefused(\(reason))"
        case .tlsUnavailable: "tlsUnavailable"
        case .shutdown: "shutdown"
        }
    }
}
