import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the configuration, as a service of the gateway's `ServiceGroup`: each signal runs `reload`
/// (`Gateway.reload`, which swaps the runtime atomically through `RuntimeBox.replace`), one at a time, inside the
/// group's structured tasks. Ends on graceful shutdown. The signal is trapped when `signals` is made, before the
/// gateway reports ready, so an early SIGHUP reloads rather than kills. Immutable; `Sendable`.
struct HangupReloadService: Service, CustomStringConvertible {
    let signals: UnixSignalsSequence
    let reload: @Sendable () async -> Void

    var description: String { "HangupReload" }

    func run() async {
        for await _ in signals.cancelOnGracefulShutdown() {
            await reload()
        }
    }
}
