import ServiceLifecycle

/// The operator endpoints (`AdminServer`, already bound) as a service of the gateway's `ServiceGroup`. It is shut
/// down after the client listeners, so the readiness endpoint answers "not ready" for the whole drain; then it
/// closes its listening sockets and returns. Immutable; `Sendable`.
struct AdminServerService: Service, CustomStringConvertible {
    let admin: AdminServer

    var description: String { "AdminServer" }

    func run() async {
        // Returns on graceful shutdown; throws on cancellation: either way the endpoints close.
        try? await gracefulShutdown()
        await admin.close()
    }
}
