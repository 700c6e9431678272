import Logging
import NIOCore

/// The handler on a stdio process's stderr pipe: each line goes to the log at info, `"stdio stderr"` with the
/// line in the metadata (`line`, and `truncated` when it was cut) next to the logger's own (the process's
/// `target` and `pid`). A line is cut at `maxLineBytes` (8 KiB), the rest of it dropped. At most
/// `linesPerSecond` lines are logged in any one-second window; the lines over that are counted, and one
/// warning says how many were dropped when the window ends. An unfinished last line is logged at EOF.
///
/// Confined to its channel's event loop, like every `ChannelHandler`.
final class StdioErrorHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    static let maxLineBytes = 8 << 10
    static let linesPerSecond = 100

    private let logger: Logger
    private var framer = LineFramer(maxLineBytes: StdioErrorHandler.maxLineBytes)
    private var windowStart: NIODeadline?
    private var loggedInWindow = 0
    private var droppedInWindow = 0
    private var summary: Scheduled<Void>?
    private var ended = false

    /// `logger` carries the process's `target` and `pid` metadata.
    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        framer.append(unwrapInboundIn(data))
        while true {
            do {
                guard let line = try framer.nextLine() else { break }
                log(line, truncated: false, context: context)
            } catch {
                log(framer.skipOverlongLine(), truncated: true, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { end() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    // MARK: Private

    private func end() {
        guard !ended else { return }
        ended = true
        if let line = framer.takeUnfinishedLine() {
            logger.info("stdio stderr", metadata: ["line": "\(String(decoding: line.readableBytesView, as: UTF8.self))"])
        }
        summary?.cancel()
        summary = nil
        reportDropped()
    }

    private func log(_ line: ByteBuffer, truncated: Bool, context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let start = windowStart, now - start < .seconds(1) {
            guard loggedInWindow < Self.linesPerSecond else {
                droppedInWindow += 1
                if summary == nil {
                    summary = context.eventLoop.assumeIsolated().scheduleTask(deadline: start + .seconds(1)) { [self] in
                        summary = nil
                        reportDropped()
                    }
                }
                return
            }
        } else {
            summary?.cancel()
            summary = nil
            reportDropped()
            windowStart = now
            loggedInWindow = 0
        }
        loggedInWindow += 1
        var metadata: Logger.Metadata = ["line": "\(String(decoding: line.readableBytesView, as: UTF8.self))"]
        if truncated { metadata["truncated"] = "true" }
        logger.info("stdio stderr", metadata: metadata)
    }

    private func reportDropped() {
        guard droppedInWindow > 0 else { return }
        logger.warning("\(droppedInWindow) stderr lines dropped (more than \(Self.linesPerSecond) per second)")
        droppedInWindow = 0
    }
}
