#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real clocks: `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public struct SystemHostClock: HostClock {
    /// Creates the system clock.
    public init() {}

    /// `CLOCK_MONOTONIC` in nanoseconds.
    public func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// `CLOCK_REALTIME` in nanoseconds since the Unix epoch.
    public func wallNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) &* 1_000_000_000 &+ Int64(spec.tv_nsec)
    }
}
