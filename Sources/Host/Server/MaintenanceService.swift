import PluginAPI
import ServiceLifecycle

/// The gateway's periodic chores as a service of its `ServiceGroup`: every 10 s the plugins' in-memory KV store
/// drops its expired entries, every 5 s `MemoryTrim` gives freed heap back to the system. Runs on the Swift
/// concurrency pool, off the event loops (a trim walks the heap); ends on graceful shutdown or cancellation.
/// Immutable; `Sendable`.
struct MaintenanceService: Service, CustomStringConvertible {
    /// The store to purge; nil when the plugins use another store.
    let kvStore: InMemoryKVStore?

    var description: String { "Maintenance" }

    func run() async {
        await cancelWhenGracefulShutdown { [kvStore] in
            await withDiscardingTaskGroup { group in
                group.addTask { await Self.every(.seconds(5)) { _ = MemoryTrim.trimIfNeeded() } }
                if let kvStore {
                    group.addTask { await Self.every(.seconds(10)) { _ = kvStore.purgeExpired() } }
                }
            }
        }
    }

    /// Runs `chore` every `period` until the task is cancelled.
    private static func every(_ period: Duration, _ chore: @Sendable () -> Void) async {
        while true {
            do {
                try await Task.sleep(for: period)
            } catch {
                return
            }
            chore()
        }
    }
}
