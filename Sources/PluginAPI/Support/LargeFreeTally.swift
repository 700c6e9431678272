import Synchronization

/// Bytes in large allocations freed since the host last took the tally: a parsed multi-megabyte JSON document, a
/// large request body. The host's `MemoryTrim` gives heap memory back to the system when the tally is non-zero.
///
/// It lives here, in the lowest module, because `JSONDocument` (here too) reports its own free. One atomic;
/// callable from any thread.
public enum LargeFreeTally {
    /// An allocation this large is worth a trim once freed.
    public static let threshold = 1 << 20

    private static let freed = Atomic<Int>(0)

    /// Records that about `bytes` were freed (ignored under `threshold`).
    public static func note(bytes: Int) {
        guard bytes >= threshold else { return }
        freed.wrappingAdd(bytes, ordering: .relaxed)
    }

    /// The bytes noted since the last call, resetting the tally to zero.
    public static func take() -> Int {
        freed.exchange(0, ordering: .relaxed)
    }
}
