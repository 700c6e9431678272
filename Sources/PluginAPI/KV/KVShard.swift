/// One shard of `InMemoryKVStore`: a hash map with an intrusive LRU list and a byte budget.
///
/// A value type confined to its shard's mutex. Times are monotonic nanoseconds.
struct KVShard {
    /// What an entry holds.
    enum Payload {
        case bytes([UInt8])
        case integer(Int64)
        case bucket(tokens: UInt64, anchor: UInt64)

        var byteCount: Int {
            switch self {
            case .bytes(let bytes): bytes.count
            case .integer: 8
            case .bucket: 16
            }
        }
    }

    struct Node {
        var key: [UInt8]
        var payload: Payload
        var version: UInt64
        /// 0: never expires.
        var expiresAt: UInt64
        var newer: Int
        var older: Int
        var cost: Int
    }

    /// Fixed bookkeeping charged per entry on top of key and value bytes.
    static let entryOverhead = 64

    private(set) var bytesUsed = 0
    let byteLimit: Int
    private var index: [[UInt8]: Int] = [:]
    private var nodes: [Node] = []
    private var freeSlots: [Int] = []
    /// Most recently used, or -1.
    private var newest = -1
    /// Least recently used, or -1.
    private var oldest = -1
    private var versionCounter: UInt64 = 0
    private(set) var evictions = 0

    init(byteLimit: Int) {
        self.byteLimit = byteLimit
    }

    var count: Int { index.count }

    mutating func nextVersion() -> UInt64 {
        versionCounter &+= 1
        return versionCounter
    }

    /// The live node for `key` (expired entries are removed on the way), marked most recently used.
    mutating func lookup(_ key: [UInt8], now: UInt64) -> Int? {
        guard let slot = index[key] else { return nil }
        let expiresAt = nodes[slot].expiresAt
        if expiresAt != 0 && now >= expiresAt {
            remove(slot: slot)
            return nil
        }
        touch(slot)
        return slot
    }

    subscript(slot: Int) -> Node {
        get { nodes[slot] }
        set { nodes[slot] = newValue }
    }

    /// Writes `payload` at `key` (replacing any entry) and makes room by evicting least recently used
    /// byte values. Counters and token buckets are never evicted (an evicted bucket would come back full
    /// and admit too much): when only they are left, the write is refused with `.storeFull`. Returns the
    /// slot, or throws when the entry alone exceeds the budget.
    mutating func store(
        _ key: [UInt8], payload: Payload, expiresAt: UInt64, version: UInt64
    ) throws(KVError) -> Int {
        let cost = key.count + payload.byteCount + KVShard.entryOverhead
        guard cost <= byteLimit else { throw .entryTooLarge(bytes: cost, limit: byteLimit) }
        if let slot = index[key] {
            bytesUsed += cost - nodes[slot].cost
            nodes[slot].payload = payload
            nodes[slot].expiresAt = expiresAt
            nodes[slot].version = version
            nodes[slot].cost = cost
            touch(slot)
            try evict(keeping: slot)
            return slot
        }
        let node = Node(key: key, payload: payload, version: version, expiresAt: expiresAt, newer: -1, older: -1, cost: cost)
        let slot: Int
        if let reused = freeSlots.popLast() {
            nodes[reused] = node
            slot = reused
        } else {
            nodes.append(node)
            slot = nodes.count - 1
        }
        index[key] = slot
        bytesUsed += cost
        linkAsNewest(slot)
        do {
            try evict(keeping: slot)
        } catch {
            remove(slot: slot)
            throw error
        }
        return slot
    }

    /// Removes the entry in `slot`.
    mutating func remove(slot: Int) {
        unlink(slot)
        index[nodes[slot].key] = nil
        bytesUsed -= nodes[slot].cost
        nodes[slot].key = []
        nodes[slot].payload = .integer(0)
        freeSlots.append(slot)
    }

    /// Removes every expired entry (O(n)); returns how many.
    mutating func purgeExpired(now: UInt64) -> Int {
        var removed = 0
        var slot = oldest
        while slot != -1 {
            let next = nodes[slot].newer
            let expiresAt = nodes[slot].expiresAt
            if expiresAt != 0 && now >= expiresAt {
                remove(slot: slot)
                removed += 1
            }
            slot = next
        }
        return removed
    }

    private mutating func evict(keeping keep: Int) throws(KVError) {
        var candidate = oldest
        while bytesUsed > byteLimit {
            while candidate != -1, candidate == keep || !Self.isEvictable(nodes[candidate].payload) {
                candidate = nodes[candidate].newer
            }
            guard candidate != -1 else { throw .storeFull(limit: byteLimit) }
            let victim = candidate
            candidate = nodes[victim].newer
            remove(slot: victim)
            evictions += 1
        }
    }

    private static func isEvictable(_ payload: Payload) -> Bool {
        if case .bytes = payload { return true }
        return false
    }

    private mutating func touch(_ slot: Int) {
        guard newest != slot else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest != -1 { nodes[newest].newer = slot }
        newest = slot
        if oldest == -1 { oldest = slot }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = nodes[slot].newer
        let older = nodes[slot].older
        if newer != -1 { nodes[newer].older = older } else { newest = older }
        if older != -1 { nodes[older].newer = newer } else { oldest = newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }
}
