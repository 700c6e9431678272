import Logging
import NIOCore
import ServiceLifecycle

/// The client listeners as a service of the gateway's `ServiceGroup` (the one shut down first). While it runs
/// the gateway reports ready. On graceful shutdown (SIGTERM, SIGINT) it reports not ready at once, stops
/// accepting and quiesces every open connection (`GatewayListeners.quiesce`), and returns once all have closed:
/// idle keep-alive connections at once, requests in flight when answered, open streams when the grace period
/// (`config.limits.shutdownGracePeriod`) ends them. Should a connection outlive the grace period by `backstop`
/// (its pipeline was still being set up when the quiesce was sent), it returns anyway and the event loops'
/// shutdown closes what is left. Cancellation returns at once.
///
/// Immutable; `Sendable`. `readiness` is the flag the readiness endpoint reads.
struct ClientListenersService: Service, CustomStringConvertible {
    let listeners: GatewayListeners
    let runtimeBox: RuntimeBox
    let readiness: Readiness
    let eventLoop: any EventLoop
    let logger: Logger

    /// How long past the grace period the service waits for connections before it stops waiting.
    static let backstop = TimeAmount.seconds(2)

    var description: String { "ClientListeners" }

    func run() async throws {
        let drained = eventLoop.makePromise(of: Void.self)
        readiness.set(true)
        logger.info("mcpgate ready")
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await drained.futureResult.get()
            } onGracefulShutdown: { [listeners, runtimeBox, readiness, eventLoop, logger] in
                readiness.set(false)
                let grace = runtimeBox.runtime.limits.shutdownGracePeriod
                logger.info("shutting down: no new connections; requests in flight may finish", metadata: ["grace": "\(grace)"])
                listeners.quiesce().cascade(to: drained)
                let backstop = eventLoop.scheduleTask(in: TimeAmount(grace) + Self.backstop) {
                    logger.warning("connections still open after the shutdown grace period; closing them")
                    drained.succeed()
                }
                drained.futureResult.whenComplete { _ in backstop.cancel() }
            }
        } onCancel: {
            drained.succeed()
        }
    }
}
