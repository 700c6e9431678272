/// The shape of a token bucket for `KVStore.takeTokens` (agentgateway's `localRateLimit`:
/// `maxTokens`, `tokensPerFill`, `fillInterval`).
///
/// A bucket starts full with `capacity` tokens and gains `refillTokens` at the end of every whole
/// `refillIntervalMilliseconds` since it was created, never holding more than `capacity`.
public struct TokenBucket: Sendable, Equatable, Hashable {
    /// The most tokens the bucket holds (> 0).
    public var capacity: UInt64
    /// Tokens added per interval (> 0).
    public var refillTokens: UInt64
    /// The refill interval in milliseconds (> 0).
    public var refillIntervalMilliseconds: UInt64

    /// Creates a bucket shape.
    public init(capacity: UInt64, refillTokens: UInt64, refillIntervalMilliseconds: UInt64) {
        self.capacity = capacity
        self.refillTokens = refillTokens
        self.refillIntervalMilliseconds = refillIntervalMilliseconds
    }
}
