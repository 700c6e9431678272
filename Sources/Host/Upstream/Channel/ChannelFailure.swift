/// Why a channel (a stdio process or an upstream HTTP+SSE session) failed a message or ended. Each case reads
/// as a sentence for the log; the MCP room maps it to the client's HTTP status and JSON-RPC error.
package enum ChannelFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process ended on its own.
    case exited(ExitStatus)
    /// The upstream closed its SSE stream (or it failed).
    case streamEnded
    /// The upstream answered a POST with 404: it no longer knows the session.
    case sessionLost
    /// No `endpoint` event arrived in time on an upstream SSE stream.
    case endpointTimeout
    /// The `endpoint` event named a URL of another origin (the value), or none that parses.
    case endpointRefused(String)
    /// A message (stdout line or SSE event) longer than the bound.
    case lineTooLong(limit: Int)
    /// Too many lines in a row that are not JSON-RPC.
    case tooManyBadLines(Int)
    /// Too many requests awaiting an answer on one channel (or waiting for a pooled one).
    case pendingLimit(limit: Int, key: String)
    /// Too many processes (for one target, or in all); `key` is the config key that sets the limit.
    case processLimit(limit: Int, key: String)
    /// The process could not be started (an errno from `posix_spawn` or `pipe2`).
    case spawnFailed(errno: Int32)
    /// A request with this id is already awaiting its answer on the channel.
    case duplicateID
    /// No answer in time.
    case timeout
    /// A message could not be sent (an SSE POST refused or failed): `reason` is for the log.
    case sendFailed(String)
    /// The gateway ended the channel.
    case closed(CloseReason)

    /// Why the gateway ended a channel.
    package enum CloseReason: String, Sendable, Equatable {
        /// No request, waiter or listener for the idle timeout.
        case idle
        /// Its session expired.
        case expired
        /// Its session was deleted (DELETE, or the client's `/sse` stream closed).
        case deleted
        /// The gateway is shutting down.
        case shutdown
        /// A reload removed or changed its target.
        case reload
        /// Opened for a session that was never established (an `initialize` that failed).
        case unused
        /// A pooled channel taken out of service (a request that never got its answer).
        case retired
    }

    /// How a process ended.
    package enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        package var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signaled(let signal): return "signal \(signal)"
            }
        }
    }

    package var description: String {
        switch self {
        case .exited(let status): return "exited (\(status))"
        case .streamEnded: return "closed its SSE stream"
        case .sessionLost: return "no longer knows the session"
        case .endpointTimeout: return "gave no endpoint in time"
        case .endpointRefused(let url): return "named an endpoint of another origin (\(url))"
        case .lineTooLong(let limit): return "wrote a message larger than \(limit) bytes"
        case .tooManyBadLines(let count): return "wrote \(count) lines in a row that are not JSON-RPC"
        case .pendingLimit(_, let key): return "has too many requests waiting (\(key))"
        case .processLimit(_, let key): return "has too many processes (\(key))"
        case .spawnFailed(let errno): return "could not be started (errno \(errno))"
        case .duplicateID: return "already has a request with this id in flight"
        case .timeout: return "did not answer in time"
        case .sendFailed(let reason): return "did not take the message (\(reason))"
        case .closed(let reason): return "was closed (\(reason.rawValue))"
        }
    }
}
