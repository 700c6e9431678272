import Dispatch
import Testing

@testable import PluginAPI

/// The bounded in-process KV store: TTL, versions, CAS, increments, the token bucket, the byte cap,
/// and exactness under concurrency.
@Suite struct InMemoryKVStoreTests {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func setGetAndVersions() throws {
        let store = InMemoryKVStore(clock: ManualHostClock())
        let first = try store.set(bytes("k"), value: bytes("v1"), ttlMilliseconds: 0)
        let second = try store.set(bytes("k"), value: bytes("v2"), ttlMilliseconds: 0)
        #expect(second != first)
        #expect(try store.get(bytes("k")) == KVValue(bytes: bytes("v2"), version: second))
        #expect(try store.get(bytes("missing")) == nil)
        #expect(try store.delete(bytes("k")))
        #expect(try !store.delete(bytes("k")))
        #expect(try store.get(bytes("k")) == nil)
    }

    @Test func entriesExpireAfterTheirTTL() throws {
        let clock = ManualHostClock()
        let store = InMemoryKVStore(clock: clock)
        _ = try store.set(bytes("short"), value: bytes("x"), ttlMilliseconds: 100)
        _ = try store.set(bytes("forever"), value: bytes("y"), ttlMilliseconds: 0)
        clock.advance(milliseconds: 99)
        #expect(try store.get(bytes("short")) != nil)
        clock.advance(milliseconds: 1)
        #expect(try store.get(bytes("short")) == nil)
        clock.advance(milliseconds: 1_000_000)
        #expect(try store.get(bytes("forever")) != nil)
    }

    @Test func purgeRemovesExpiredEntries() throws {
        let clock = ManualHostClock()
        let store = InMemoryKVStore(clock: clock)
        for index in 0..<10 {
            _ = try store.set(bytes("k\(index)"), value: bytes("v"), ttlMilliseconds: index < 6 ? 10 : 0)
        }
        clock.advance(milliseconds: 10)
        #expect(store.purgeExpired() == 6)
        #expect(store.count == 4)
    }

    @Test func compareAndSet() throws {
        let store = InMemoryKVStore(clock: ManualHostClock())
        let created = try #require(try store.compareAndSet(bytes("k"), expectedVersion: 0, value: bytes("a"), ttlMilliseconds: 0))
        #expect(try store.compareAndSet(bytes("k"), expectedVersion: 0, value: bytes("b"), ttlMilliseconds: 0) == nil)
        #expect(try store.compareAndSet(bytes("k"), expectedVersion: created + 100, value: bytes("b"), ttlMilliseconds: 0) == nil)
        let updated = try #require(try store.compareAndSet(bytes("k"), expectedVersion: created, value: bytes("b"), ttlMilliseconds: 0))
        #expect(try store.get(bytes("k")) == KVValue(bytes: bytes("b"), version: updated))
    }

    @Test func incrementCreatesKeepsExpiryAndReadsAsDecimal() throws {
        let clock = ManualHostClock()
        let store = InMemoryKVStore(clock: clock)
        #expect(try store.increment(bytes("n"), by: 5, ttlMilliseconds: 100) == 5)
        clock.advance(milliseconds: 60)
        #expect(try store.increment(bytes("n"), by: -2, ttlMilliseconds: 100) == 3)
        #expect(try store.get(bytes("n"))?.bytes == bytes("3"))
        clock.advance(milliseconds: 40)
        #expect(try store.get(bytes("n")) == nil)
        _ = try store.set(bytes("text"), value: bytes("41"), ttlMilliseconds: 0)
        #expect(try store.increment(bytes("text"), by: 1, ttlMilliseconds: 0) == 42)
        _ = try store.set(bytes("word"), value: bytes("abc"), ttlMilliseconds: 0)
        #expect(throws: KVError.wrongType) { try store.increment(bytes("word"), by: 1, ttlMilliseconds: 0) }
        _ = try store.set(bytes("max"), value: bytes(String(Int64.max)), ttlMilliseconds: 0)
        #expect(throws: KVError.overflow) { try store.increment(bytes("max"), by: 1, ttlMilliseconds: 0) }
    }

    @Test func byteCapEvictsLeastRecentlyUsed() throws {
        let store = InMemoryKVStore(byteLimit: 4096, shardCount: 1, clock: ManualHostClock())
        let value = [UInt8](repeating: 0x61, count: 100)
        _ = try store.set(bytes("keep"), value: value, ttlMilliseconds: 0)
        for index in 0..<100 {
            _ = try store.set(bytes("k\(index)"), value: value, ttlMilliseconds: 0)
            _ = try store.get(bytes("keep"))  // keep it recently used
        }
        #expect(store.bytesUsed <= 4096)
        #expect(store.evictions > 0)
        #expect(try store.get(bytes("keep")) != nil)
        #expect(try store.get(bytes("k0")) == nil)
        #expect(try store.get(bytes("k99")) != nil)
    }

    @Test func entryLargerThanTheCapIsRefused() throws {
        let store = InMemoryKVStore(byteLimit: 1024, shardCount: 1, clock: ManualHostClock())
        #expect(throws: KVError.entryTooLarge(bytes: 2000 + 3 + 64, limit: 1024)) {
            try store.set(bytes("big"), value: [UInt8](repeating: 0, count: 2000), ttlMilliseconds: 0)
        }
    }

    @Test func cachePressureNeverEvictsTokenBucketsOrCounters() throws {
        let store = InMemoryKVStore(byteLimit: 4096, shardCount: 1, clock: ManualHostClock())
        let bucket = TokenBucket(capacity: 1, refillTokens: 1, refillIntervalMilliseconds: 60_000)
        #expect(try store.takeTokens(bytes("limit"), cost: 1, bucket: bucket).allowed)
        _ = try store.increment(bytes("counter"), by: 5, ttlMilliseconds: 0)
        for index in 0..<200 {
            _ = try store.set(bytes("cache\(index)"), value: [UInt8](repeating: 7, count: 100), ttlMilliseconds: 0)
        }
        #expect(store.evictions > 0)
        // Still empty: an evicted bucket would have come back full and admitted a second request.
        #expect(try !store.takeTokens(bytes("limit"), cost: 1, bucket: bucket).allowed)
        #expect(try store.increment(bytes("counter"), by: 1, ttlMilliseconds: 0) == 6)
    }

    @Test func aStoreFullOfBucketsRefusesNewEntriesInsteadOfEvictingThem() throws {
        let store = InMemoryKVStore(byteLimit: 1024, shardCount: 1, clock: ManualHostClock())
        let bucket = TokenBucket(capacity: 5, refillTokens: 1, refillIntervalMilliseconds: 1000)
        var refused = false
        for index in 0..<100 {
            do {
                _ = try store.takeTokens(bytes("bucket\(index)"), cost: 1, bucket: bucket)
            } catch KVError.storeFull {
                refused = true
                break
            }
        }
        #expect(refused)
        #expect(store.evictions == 0)
        #expect(store.bytesUsed <= store.byteLimit)
    }

    @Test func tokenBucketRefillsInWholeIntervals() throws {
        let clock = ManualHostClock()
        let store = InMemoryKVStore(clock: clock)
        let bucket = TokenBucket(capacity: 3, refillTokens: 2, refillIntervalMilliseconds: 100)
        let key = bytes("bucket")
        #expect(
            try store.takeTokens(key, cost: 1, bucket: bucket) == RateLimitOutcome(allowed: true, remaining: 2, retryAfterMilliseconds: 0))
        #expect(
            try store.takeTokens(key, cost: 2, bucket: bucket) == RateLimitOutcome(allowed: true, remaining: 0, retryAfterMilliseconds: 0))
        clock.advance(milliseconds: 30)
        #expect(
            try store.takeTokens(key, cost: 1, bucket: bucket) == RateLimitOutcome(allowed: false, remaining: 0, retryAfterMilliseconds: 70)
        )
        #expect(
            try store.takeTokens(key, cost: 3, bucket: bucket)
                == RateLimitOutcome(allowed: false, remaining: 0, retryAfterMilliseconds: 170))
        clock.advance(milliseconds: 70)
        #expect(
            try store.takeTokens(key, cost: 2, bucket: bucket) == RateLimitOutcome(allowed: true, remaining: 0, retryAfterMilliseconds: 0))
        clock.advance(milliseconds: 1_000)
        // Never above capacity.
        #expect(
            try store.takeTokens(key, cost: 1, bucket: bucket) == RateLimitOutcome(allowed: true, remaining: 2, retryAfterMilliseconds: 0))
    }

    @Test func tokenBucketRejectsImpossibleRequests() throws {
        let store = InMemoryKVStore(clock: ManualHostClock())
        #expect(throws: KVError.invalidArgument("cost 5 exceeds the bucket capacity 4")) {
            try store.takeTokens(bytes("b"), cost: 5, bucket: TokenBucket(capacity: 4, refillTokens: 1, refillIntervalMilliseconds: 1))
        }
        #expect(throws: KVError.self) {
            try store.takeTokens(bytes("b"), cost: 1, bucket: TokenBucket(capacity: 4, refillTokens: 1, refillIntervalMilliseconds: 0))
        }
        _ = try store.set(bytes("plain"), value: bytes("x"), ttlMilliseconds: 0)
        #expect(throws: KVError.wrongType) {
            try store.takeTokens(bytes("plain"), cost: 1, bucket: TokenBucket(capacity: 4, refillTokens: 1, refillIntervalMilliseconds: 1))
        }
    }

    @Test func rateLimitIsExactUnderConcurrency() throws {
        let store = InMemoryKVStore(shardCount: 4, clock: ManualHostClock())
        let bucket = TokenBucket(capacity: 5_000, refillTokens: 1, refillIntervalMilliseconds: 3_600_000)
        let allowed = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            var mine = 0
            for _ in 0..<1_000 {
                if (try? store.takeTokens(Array("shared".utf8), cost: 1, bucket: bucket))?.allowed == true { mine += 1 }
            }
            allowed.add(mine)
        }
        #expect(allowed.value == 5_000)
        #expect(try store.takeTokens(Array("shared".utf8), cost: 1, bucket: bucket).remaining == 0)
    }

    @Test func incrementsAreAtomicUnderConcurrency() throws {
        let store = InMemoryKVStore(clock: ManualHostClock())
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<2_000 { _ = try? store.increment(Array("n".utf8), by: 1, ttlMilliseconds: 0) }
        }
        #expect(try store.get(Array("n".utf8))?.bytes == Array("16000".utf8))
    }

    @Test func casAdmitsExactlyOneWinnerPerVersion() throws {
        let store = InMemoryKVStore(clock: ManualHostClock())
        let winners = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            if (try? store.compareAndSet(Array("lock".utf8), expectedVersion: 0, value: Array("\(worker)".utf8), ttlMilliseconds: 0)) != nil
            {
                winners.add(1)
            }
        }
        #expect(winners.value == 1)
    }
}
