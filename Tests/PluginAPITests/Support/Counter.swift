import Synchronization

/// A thread-safe tally for concurrency tests.
final class Counter: Sendable {
    private let storage = Mutex(0)
    func add(_ amount: Int) { storage.withLock { $0 += amount } }
    var value: Int { storage.withLock { $0 } }
}
