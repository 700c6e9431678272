import Foundation
import NIOHTTP1
import Synchronization

/// What the gateway has seen of one upstream endpoint since it started: requests, failures, requests in flight,
/// open response streams, upstream sessions opened and closed, the last success and the last failure. Shown by the
/// admin overview. Kept by `EndpointHealthBoard` per URL, so it survives config reloads.
///
/// Thread-safe: counters are atomics (relaxed: each is exact, a snapshot of several is not); the last error sits
/// behind a mutex, touched on failures only. The request path pays a few atomic adds and one clock read.
package final class EndpointHealth: Sendable {
    /// A consistent-enough copy for display.
    package struct Snapshot: Sendable, Equatable {
        package var requests: Int
        package var failures: Int
        package var inFlight: Int
        package var openStreams: Int
        package var sessionsOpened: Int
        package var sessionsClosed: Int
        /// Milliseconds since 1970 of the last response head, if any.
        package var lastOkAtMs: Int64?
        package var lastError: String?
        package var lastErrorAtMs: Int64?
    }

    private let requests = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let openStreams = Atomic<Int>(0)
    private let sessionsOpened = Atomic<Int>(0)
    private let sessionsClosed = Atomic<Int>(0)
    private let lastOkAtMs = Atomic<Int64>(0)
    private let lastFailure = Mutex<(message: String, atMs: Int64)?>(nil)

    package init() {}

    /// A request was sent (or queued for a connection).
    func started() {
        requests.wrappingAdd(1, ordering: .relaxed)
        inFlight.wrappingAdd(1, ordering: .relaxed)
    }

    /// Its response head arrived. Returns whether the answer is a stream (counted open until `ended`).
    func answered(method: HTTPMethod, requestHadSession: Bool, head: HTTPResponseHead) -> Bool {
        lastOkAtMs.store(Self.nowMs(), ordering: .relaxed)
        let success = (200..<300).contains(head.status.code)
        if success && !requestHadSession && head.headers.contains(name: "mcp-session-id") {
            sessionsOpened.wrappingAdd(1, ordering: .relaxed)
        }
        if success && method == .DELETE && requestHadSession {
            sessionsClosed.wrappingAdd(1, ordering: .relaxed)
        }
        let stream = head.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true
        if stream { openStreams.wrappingAdd(1, ordering: .relaxed) }
        return stream
    }

    /// The request is over: `stream` as `answered` returned; `failure` when it failed (not when it was cancelled).
    func ended(stream: Bool, failure: (any Error)?) {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
        if stream { openStreams.wrappingSubtract(1, ordering: .relaxed) }
        if let failure {
            failures.wrappingAdd(1, ordering: .relaxed)
            let message = String(describing: failure)
            let now = Self.nowMs()
            lastFailure.withLock { $0 = (message, now) }
        }
    }

    package func snapshot() -> Snapshot {
        let okAt = lastOkAtMs.load(ordering: .relaxed)
        let failure = lastFailure.withLock { $0 }
        return Snapshot(
            requests: requests.load(ordering: .relaxed), failures: failures.load(ordering: .relaxed),
            inFlight: inFlight.load(ordering: .relaxed), openStreams: openStreams.load(ordering: .relaxed),
            sessionsOpened: sessionsOpened.load(ordering: .relaxed), sessionsClosed: sessionsClosed.load(ordering: .relaxed),
            lastOkAtMs: okAt == 0 ? nil : okAt, lastError: failure?.message, lastErrorAtMs: failure?.atMs)
    }

    private static func nowMs() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

/// The `EndpointHealth` of every endpoint URL the gateway has been configured with, created on first ask and kept
/// for the process's life (a reload that keeps an endpoint keeps its history). Thread-safe.
package final class EndpointHealthBoard: Sendable {
    private let byURL = Mutex<[String: EndpointHealth]>([:])

    package init() {}

    /// The health record of `url` (created if new). Called at config load, never per request.
    package func health(for url: String) -> EndpointHealth {
        byURL.withLock { table in
            if let known = table[url] { return known }
            let created = EndpointHealth()
            table[url] = created
            return created
        }
    }
}
