import MCPGateUpstream
import NIOCore
import NIOHTTP1

/// Fired through a client connection's pipeline, towards `MCPExchangeHandler`, when the shutdown grace period
/// (`config.limits.shutdownGracePeriod`) ends with the connection still open: whatever it still serves ends now.
struct ShutdownGraceExpiredEvent: Sendable {}

/// A client connection's clock for a graceful shutdown. It sits in front of NIO's `HTTPServerPipelineHandler` and
/// passes `ChannelShouldQuiesceEvent` on (sent by NIOExtras' `ServerQuiescingHelper` once the gateway stopped
/// accepting), so an idle keep-alive connection closes at once and a busy one after its response in flight; and
/// it starts the grace period then. When the period ends it fires `ShutdownGraceExpiredEvent` (an open stream is
/// ended cleanly); `closeMargin` later it closes the connection whatever it still holds, so a client that does
/// not read its last bytes cannot hold the shutdown.
///
/// The grace period is read from the runtime in force when the quiesce event arrives (it follows reloads).
/// Passes every request part on unchanged. Confined to its channel's event loop; not `Sendable`.
final class ShutdownGraceHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// How long after the grace period a connection still open is closed outright.
    static let closeMargin = TimeAmount.seconds(1)

    private let runtimeBox: RuntimeBox
    private var timers: [Scheduled<Void>] = []

    init(runtimeBox: RuntimeBox) {
        self.runtimeBox = runtimeBox
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent && timers.isEmpty {
            let grace = TimeAmount(runtimeBox.runtime.limits.shutdownGracePeriod)
            let loop = context.eventLoop.assumeIsolated()
            timers = [
                loop.scheduleTask(in: grace) { context.fireUserInboundEventTriggered(ShutdownGraceExpiredEvent()) },
                loop.scheduleTask(in: grace + Self.closeMargin) { context.close(promise: nil) },
            ]
        }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for timer in timers { timer.cancel() }
        timers = []
    }
}
