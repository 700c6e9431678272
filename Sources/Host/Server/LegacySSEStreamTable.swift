import Synchronization

/// The client HTTP+SSE streams (`GET /sse`) open in this process, by the key sealed into their `sessionId`. A POST
/// finds its stream here on whichever event loop it arrives; only keys that came out of an authenticated token are
/// ever looked up, so the keys themselves are a plain counter.
///
/// Thread-safe (one mutex, held for a dictionary operation only); one per process, in `GatewayServices`, so streams
/// survive config reloads.
final class LegacySSEStreamTable: Sendable {
    private struct State {
        var lastKey: UInt64 = 0
        var streams: [UInt64: LegacySSEStream] = [:]
    }

    private let state = Mutex(State())

    /// A key no stream of this process had before.
    func nextKey() -> UInt64 {
        state.withLock { state in
            state.lastKey &+= 1
            return state.lastKey
        }
    }

    func register(_ stream: LegacySSEStream) {
        state.withLock { $0.streams[stream.key] = stream }
    }

    func lookup(_ key: UInt64) -> LegacySSEStream? {
        state.withLock { $0.streams[key] }
    }

    func remove(_ key: UInt64) {
        _ = state.withLock { $0.streams.removeValue(forKey: key) }
    }

    /// Streams open now.
    var count: Int { state.withLock { $0.streams.count } }
}
