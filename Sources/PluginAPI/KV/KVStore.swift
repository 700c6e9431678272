/// The key-value store behind the plugins' `kv_*` and `rate_limit` host functions.
///
/// Every operation is atomic with respect to the others on the same key and completes synchronously
/// (hooks run inline on event loops, so implementations must answer from memory and never block on
/// I/O; a remote backend keeps a local view and synchronises in the background, or reports
/// `KVError.unavailable`). Implementations are shared by all event loops and must be thread-safe.
///
/// Keys and values are bytes. TTLs are in milliseconds, 0 meaning "no expiry". Every write gives the
/// entry a new version (> 0) used by `compareAndSet`.
public protocol KVStore: Sendable {
    /// The value and version at `key`, or nil when absent or expired. A counter reads as decimal ASCII.
    func get(_ key: [UInt8]) throws(KVError) -> KVValue?

    /// Stores `value` unconditionally and returns the new version.
    func set(_ key: [UInt8], value: [UInt8], ttlMilliseconds: UInt64) throws(KVError) -> UInt64

    /// Stores `value` only if the entry's version equals `expectedVersion` (0: only if absent).
    /// Returns the new version, or nil when the versions differ.
    func compareAndSet(_ key: [UInt8], expectedVersion: UInt64, value: [UInt8], ttlMilliseconds: UInt64)
        throws(KVError) -> UInt64?

    /// Removes the entry; false when there was none.
    func delete(_ key: [UInt8]) throws(KVError) -> Bool

    /// Adds `delta` to the integer at `key` (created as 0 with `ttlMilliseconds` when absent; an
    /// existing entry keeps its expiry) and returns the new value.
    func increment(_ key: [UInt8], by delta: Int64, ttlMilliseconds: UInt64) throws(KVError) -> Int64

    /// Takes `cost` tokens from the token bucket at `key` if it has them (see `TokenBucket`).
    func takeTokens(_ key: [UInt8], cost: UInt64, bucket: TokenBucket) throws(KVError) -> RateLimitOutcome
}
