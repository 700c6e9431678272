import Synchronization

/// Whether the gateway takes traffic: set once the listeners serve, cleared as soon as a shutdown starts.
/// Thread-safe (an atomic); shared by the listeners' service and the readiness endpoint.
final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    var isReady: Bool { ready.load(ordering: .relaxed) }

    func set(_ value: Bool) {
        ready.store(value, ordering: .relaxed)
    }
}
