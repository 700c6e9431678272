import NIOCore

/// The handler on a stdio process's pipe channel (input: the process's stdout; output: its stdin). It frames
/// stdout into lines (`LineFramer`) and hands each one, raw, to `onLine`; what a line means is for the channel
/// above. Writes pass through untouched.
///
/// Backpressure: when `onLine` returns a future, no further line is handed out and no further `read` reaches
/// the pipe until that future completes, so a slow consumer stops the process at its next full pipe buffer.
/// The lines already read wait in the framer. A line over the bound ends the framing: `onOverflow` is called
/// once, and what follows is read and dropped, as after `discard()`, so a process that is being stopped is not
/// left blocked on a full pipe. `onEnd` is called once when stdout ends (EOF or the channel closing), after
/// every line read before it was handed out, with the bytes of an unfinished last line (dropped: a message
/// needs its newline).
///
/// Confined to its channel's event loop, like every `ChannelHandler`; the callbacks run there.
final class StdioOutputHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var framer: LineFramer
    private let onLine: (ByteBuffer) -> EventLoopFuture<Void>?
    private let onOverflow: (Int) -> Void
    private let onEnd: (_ unfinishedBytes: Int) -> Void
    private var context: ChannelHandlerContext?
    /// A future from `onLine` is pending: hand out nothing and hold `read`.
    private var paused = false
    /// A `read` arrived while paused; it is passed on when the pause ends.
    private var readHeld = false
    /// Lines are no longer handed out (after an overflow or `discard()`): input is read and dropped.
    private var discarding = false
    private var ended = false
    private var endReported = false

    init(
        maxLineBytes: Int, onLine: @escaping (ByteBuffer) -> EventLoopFuture<Void>?, onOverflow: @escaping (Int) -> Void,
        onEnd: @escaping (_ unfinishedBytes: Int) -> Void
    ) {
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
        self.onLine = onLine
        self.onOverflow = onOverflow
        self.onEnd = onEnd
    }

    /// Stops handing out lines: everything read from now on is dropped, and reading resumes if it was held.
    func discard() {
        guard !discarding else { return }
        discarding = true
        framer = LineFramer(maxLineBytes: framer.maxLineBytes)
        resume()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !discarding else { return }
        framer.append(unwrapInboundIn(data))
        deliver()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent {
            ended = true
            deliver()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        ended = true
        deliver()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: Private

    /// Hands out complete lines until one asks to wait, then reports the end if stdout ended.
    private func deliver() {
        while !paused && !discarding {
            let line: ByteBuffer?
            do {
                line = try framer.nextLine()
            } catch {
                discarding = true
                onOverflow(error.limit)
                break
            }
            guard let line else { break }
            guard let wait = onLine(line) else { continue }
            paused = true
            guard let loop = context?.eventLoop else { break }
            wait.hop(to: loop).assumeIsolated().whenComplete { [self] _ in resume() }
        }
        if ended && !paused && !endReported {
            endReported = true
            onEnd(discarding ? 0 : framer.pendingBytes)
        }
    }

    /// The consumer is ready again: hand out what is waiting, then pass on a held `read`.
    private func resume() {
        paused = false
        deliver()
        if !paused && readHeld {
            readHeld = false
            context?.read()
        }
    }
}
