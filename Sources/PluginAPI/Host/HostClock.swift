/// The clocks plugins and the KV store read. Injectable so tests control time.
///
/// Implementations are called from every event-loop thread and must be thread-safe.
public protocol HostClock: Sendable {
    /// Monotonic time in nanoseconds from an arbitrary origin.
    func monotonicNanoseconds() -> UInt64
    /// Wall-clock time in nanoseconds since the Unix epoch.
    func wallNanoseconds() -> Int64
}
