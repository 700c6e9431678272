import Synchronization

/// A clock that moves only when told to: for tests of TTLs, token buckets and plugins that read time.
/// Thread-safe (atomics).
public final class ManualHostClock: HostClock {
    private let monotonic: Atomic<UInt64>
    private let wall: Atomic<Int64>

    /// Creates a clock at the given times.
    public init(monotonicNanoseconds: UInt64 = 1_000_000_000, wallNanoseconds: Int64 = 1_700_000_000_000_000_000) {
        monotonic = Atomic(monotonicNanoseconds)
        wall = Atomic(wallNanoseconds)
    }

    /// The current monotonic time.
    public func monotonicNanoseconds() -> UInt64 { monotonic.load(ordering: .acquiring) }

    /// The current wall time.
    public func wallNanoseconds() -> Int64 { wall.load(ordering: .acquiring) }

    /// Moves both clocks forward.
    public func advance(nanoseconds: UInt64) {
        monotonic.wrappingAdd(nanoseconds, ordering: .acquiringAndReleasing)
        wall.wrappingAdd(Int64(truncatingIfNeeded: nanoseconds), ordering: .acquiringAndReleasing)
    }

    /// Moves both clocks forward by whole milliseconds.
    public func advance(milliseconds: UInt64) {
        advance(nanoseconds: milliseconds * 1_000_000)
    }
}
