import Foundation
import Synchronization

/// What the admin overview tells about the gateway process itself: which config file it runs, since when, and how
/// its last reload went. Thread-safe (the reload record sits behind a mutex; the rest is immutable).
final class GatewayStatus: Sendable {
    /// One reload (`POST /reload` or SIGHUP) and its outcome.
    struct Reload: Sendable, Equatable {
        var atMs: Int64
        var ok: Bool
        var message: String
    }

    let configFile: String
    let startedAtMs: Int64
    private let reload = Mutex<Reload?>(nil)

    init(configFile: String, now: Date = Date()) {
        self.configFile = URL(fileURLWithPath: configFile).standardizedFileURL.path
        self.startedAtMs = Self.milliseconds(now)
    }

    var lastReload: Reload? { reload.withLock { $0 } }

    func recordReload(ok: Bool, message: String, at now: Date = Date()) {
        let record = Reload(atMs: Self.milliseconds(now), ok: ok, message: message)
        reload.withLock { $0 = record }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// RFC 3339 in UTC with milliseconds (`2026-12-03T17:05:00.123Z`).
    static func timestamp(ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
