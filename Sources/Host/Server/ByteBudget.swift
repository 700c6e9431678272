import Synchronization

/// A process-wide count of bytes held for some purpose, against a limit read at each reservation (so a reload
/// changes it at once). Lock-free: one atomic add per reservation and release.
final class ByteBudget: Sendable {
    private let held = Atomic<Int>(0)

    /// Counts `bytes` unless that would pass `limit`; false (nothing counted) when it would.
    func reserve(_ bytes: Int, limit: Int) -> Bool {
        let now = held.wrappingAdd(bytes, ordering: .relaxed).newValue
        if now > limit {
            held.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Gives back bytes counted by `reserve`.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        held.wrappingSubtract(bytes, ordering: .relaxed)
    }

    /// Bytes held now.
    var current: Int { held.load(ordering: .relaxed) }
}
