/// Why a `KVStore` operation failed.
public enum KVError: Error, Sendable, Equatable {
    /// The entry alone is larger than the store (or one of its shards) may hold.
    case entryTooLarge(bytes: Int, limit: Int)
    /// The store is full of counters and token buckets, which are never evicted.
    case storeFull(limit: Int)
    /// The entry holds a value of another kind (an increment on non-integer bytes, a bucket read as bytes).
    case wrongType
    /// The arguments cannot be honoured (a token bucket with cost above capacity, a zero interval).
    case invalidArgument(String)
    /// An increment would overflow a 64-bit integer.
    case overflow
    /// The backend cannot be reached; the plugin chooses to fail open or closed.
    case unavailable(String)
}
