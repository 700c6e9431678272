import Synchronization

/// The bounded in-process `KVStore`: sharded hash maps with TTL expiry, a total byte cap and
/// least-recently-used eviction.
///
/// Thread-safe: each shard is guarded by its own `Mutex`, so event loops touching different keys
/// rarely contend. Expired entries are dropped when touched, when eviction reaches them, and by
/// `purgeExpired()`. Memory stays within `byteLimit` (key + value + 64 bytes of bookkeeping per entry).
public final class InMemoryKVStore: KVStore {
    private final class Shard: Sendable {
        let state: Mutex<KVShard>
        init(byteLimit: Int) { state = Mutex(KVShard(byteLimit: byteLimit)) }
    }

    private let shards: [Shard]
    private let clock: any HostClock
    /// The total byte budget across shards.
    public let byteLimit: Int

    /// Creates a store holding at most `byteLimit` bytes over `shardCount` shards (each gets an equal
    /// part; a single entry may not exceed one part).
    public init(byteLimit: Int = 64 << 20, shardCount: Int = 16, clock: any HostClock = SystemHostClock()) {
        let shardCount = max(1, shardCount)
        let perShard = max(KVShard.entryOverhead * 2, byteLimit / shardCount)
        self.byteLimit = perShard * shardCount
        self.clock = clock
        self.shards = (0..<shardCount).map { _ in Shard(byteLimit: perShard) }
    }

    /// Number of live or not-yet-purged entries.
    public var count: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.count } } }

    /// Bytes currently charged against `byteLimit`.
    public var bytesUsed: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.bytesUsed } } }

    /// Entries evicted to honour the byte cap since creation.
    public var evictions: Int { shards.reduce(0) { $0 + $1.state.withLock { $0.evictions } } }

    /// Removes every expired entry now; returns how many. Call it from a periodic task.
    @discardableResult
    public func purgeExpired() -> Int {
        let now = clock.monotonicNanoseconds()
        return shards.reduce(0) { total, shard in total + shard.state.withLock { $0.purgeExpired(now: now) } }
    }

    private func shard(for key: [UInt8]) -> Shard {
        // FNV-1a: cheap, and independent of Swift's per-process hash seed.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return shards[Int(hash % UInt64(shards.count))]
    }

    private func expiry(_ ttlMilliseconds: UInt64, now: UInt64) -> UInt64 {
        guard ttlMilliseconds > 0 else { return 0 }
        let (ns, overflow) = ttlMilliseconds.multipliedReportingOverflow(by: 1_000_000)
        if overflow { return 0 }
        let (at, overflow2) = now.addingReportingOverflow(ns)
        return overflow2 ? 0 : at
    }

    public func get(_ key: [UInt8]) throws(KVError) -> KVValue? {
        let now = clock.monotonicNanoseconds()
        return try shard(for: key).state.withLock { (shard: inout KVShard) throws(KVError) -> KVValue? in
            guard let slot = shard.lookup(key, now: now) else { return nil }
            let node = shard[slot]
            switch node.payload {
            case .bytes(let bytes): return KVValue(bytes: bytes, version: node.version)
            case .integer(let value): return KVValue(bytes: Array(String(value).utf8), version: node.version)
            case .bucket: throw .wrongType
            }
        }
    }

    public func set(_ key: [UInt8], value: [UInt8], ttlMilliseconds: UInt64) throws(KVError) -> UInt64 {
        let now = clock.monotonicNanoseconds()
        let expiresAt = expiry(ttlMilliseconds, now: now)
        return try shard(for: key).state.withLock { (shard: inout KVShard) throws(KVError) -> UInt64 in
            let version = shard.nextVersion()
            _ = try shard.store(key, payload: .bytes(value), expiresAt: expiresAt, version: version)
            return version
        }
    }

    public func compareAndSet(
        _ key: [UInt8], expectedVersion: UInt64, value: [UInt8], ttlMilliseconds: UInt64
    ) throws(KVError) -> UInt64? {
        let now = clock.monotonicNanoseconds()
        let expiresAt = expiry(ttlMilliseconds, now: now)
        return try shard(for: key).state.withLock { (shard: inout KVShard) throws(KVError) -> UInt64? in
            let current = shard.lookup(key, now: now).map { shard[$0].version } ?? 0
            guard current == expectedVersion else { return nil }
            let version = shard.nextVersion()
            _ = try shard.store(key, payload: .bytes(value), expiresAt: expiresAt, version: version)
            return version
        }
    }

    public func delete(_ key: [UInt8]) throws(KVError) -> Bool {
        let now = clock.monotonicNanoseconds()
        return shard(for: key).state.withLock { shard in
            guard let slot = shard.lookup(key, now: now) else { return false }
            shard.remove(slot: slot)
            return true
        }
    }

    public func increment(_ key: [UInt8], by delta: Int64, ttlMilliseconds: UInt64) throws(KVError) -> Int64 {
        let now = clock.monotonicNanoseconds()
        return try shard(for: key).state.withLock { (shard: inout KVShard) throws(KVError) -> Int64 in
            var current: Int64 = 0
            var expiresAt = expiry(ttlMilliseconds, now: now)
            if let slot = shard.lookup(key, now: now) {
                let node = shard[slot]
                switch node.payload {
                case .integer(let value): current = value
                case .bytes(let bytes):
                    guard let parsed = Int64(String(decoding: bytes, as: UTF8.self)) else { throw .wrongType }
                    current = parsed
                case .bucket: throw .wrongType
                }
                expiresAt = node.expiresAt
            }
            let (sum, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else { throw .overflow }
            let version = shard.nextVersion()
            _ = try shard.store(key, payload: .integer(sum), expiresAt: expiresAt, version: version)
            return sum
        }
    }

    public func takeTokens(_ key: [UInt8], cost: UInt64, bucket: TokenBucket) throws(KVError) -> RateLimitOutcome {
        guard bucket.capacity > 0, bucket.refillTokens > 0, bucket.refillIntervalMilliseconds > 0 else {
            throw .invalidArgument("capacity, refill tokens and refill interval must be positive")
        }
        guard cost <= bucket.capacity else {
            throw .invalidArgument("cost \(cost) exceeds the bucket capacity \(bucket.capacity)")
        }
        let now = clock.monotonicNanoseconds()
        let (interval, overflow) = bucket.refillIntervalMilliseconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { throw .invalidArgument("refill interval too long") }
        return try shard(for: key).state.withLock { (shard: inout KVShard) throws(KVError) -> RateLimitOutcome in
            var tokens = bucket.capacity
            var anchor = now
            if let slot = shard.lookup(key, now: now) {
                guard case .bucket(let stored, let storedAnchor) = shard[slot].payload else { throw .wrongType }
                tokens = min(stored, bucket.capacity)
                anchor = storedAnchor
                if now > anchor {
                    let intervals = (now - anchor) / interval
                    if intervals > 0 {
                        let (added, overflow) = intervals.multipliedReportingOverflow(by: bucket.refillTokens)
                        tokens = overflow ? bucket.capacity : min(bucket.capacity, tokens &+ min(added, bucket.capacity))
                        anchor &+= intervals &* interval
                    }
                }
            }
            let outcome: RateLimitOutcome
            if tokens >= cost {
                tokens -= cost
                outcome = RateLimitOutcome(allowed: true, remaining: tokens, retryAfterMilliseconds: 0)
            } else {
                let missing = cost - tokens
                let fills = (missing + bucket.refillTokens - 1) / bucket.refillTokens
                let readyAt = anchor &+ fills &* interval
                let waitNs = readyAt > now ? readyAt - now : 0
                outcome = RateLimitOutcome(
                    allowed: false, remaining: tokens, retryAfterMilliseconds: (waitNs + 999_999) / 1_000_000)
            }
            // The entry may go once the bucket would be full again: a new bucket starts full.
            let fillsToFull = (bucket.capacity - tokens + bucket.refillTokens - 1) / bucket.refillTokens
            let expiresAt = anchor &+ (fillsToFull &+ 1) &* interval
            let version = shard.nextVersion()
            _ = try shard.store(key, payload: .bucket(tokens: tokens, anchor: anchor), expiresAt: expiresAt, version: version)
            return outcome
        }
    }
}
