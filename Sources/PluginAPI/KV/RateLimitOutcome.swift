/// The answer of `KVStore.takeTokens`.
public struct RateLimitOutcome: Sendable, Equatable {
    /// Whether the tokens were taken.
    public var allowed: Bool
    /// Tokens left after this call.
    public var remaining: UInt64
    /// When not allowed: milliseconds until the bucket will hold enough tokens; 0 when allowed.
    public var retryAfterMilliseconds: UInt64

    /// Creates an outcome.
    public init(allowed: Bool, remaining: UInt64, retryAfterMilliseconds: UInt64) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfterMilliseconds = retryAfterMilliseconds
    }
}
