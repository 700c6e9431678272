import Logging
import NIOCore
import NIOHTTP1

/// One upstream conversation over a `ChannelTransport` (a stdio process, an upstream HTTP+SSE session):
/// the requests awaiting their responses, the listener of server-to-client messages, and the rule that
/// routes every inbound line to one of them (`ChannelRouting`). It reads only each line's envelope
/// (`JSONRPCEnvelope`), never builds a tree; lines that are not JSON-RPC are logged and counted, and too many
/// in a row close the channel.
///
/// Confined to `eventLoop`: the public methods may be called from any thread and hop there; receivers are
/// called there and hop to their own loops. Requests are bounded (`ChannelSettings.maxPendingRequests`), an
/// id already in flight is refused, and once the transport is gone every waiter and the listener fail with
/// its reason and every later call fails at once.
package final class UpstreamChannel: @unchecked Sendable {
    /// Identifies the channel in this process (never secret: it only travels sealed).
    package let key: UInt64
    package let eventLoop: any EventLoop
    /// What the channel is for, in the log (a target name).
    package let label: String
    private let transport: any ChannelTransport
    private let settings: ChannelSettings
    private let scan: @Sendable (ByteBuffer) -> JSONRPCEnvelope?
    private let onBadLine: @Sendable () -> Void
    private let logger: Logger

    private struct Waiter {
        var id: JSONRPCID
        var progressToken: JSONRPCID?
        var receiver: any ChannelReceiver
    }

    /// Requests in flight, oldest first.
    private var waiters: [Waiter] = []
    private var listener: (any ChannelReceiver)?
    private var orphans = CircularBuffer<ByteBuffer>()
    private var badLinesInARow = 0
    private var lastBadLineWarning: NIODeadline?
    private var closedWith: ChannelFailure?
    private var closedCallbacks: [(ChannelFailure) -> Void] = []
    /// When the channel last carried a message either way, or last had a request end.
    private(set) var lastActivity = NIODeadline.now()

    /// Takes over `transport` (its callbacks are the channel's from now on). Call on `transport.eventLoop`.
    /// `scan` reads a line's envelope; `onBadLine` counts a line that is not JSON-RPC (a metric).
    package init(
        key: UInt64, label: String, transport: any ChannelTransport, settings: ChannelSettings, logger: Logger,
        scan: @escaping @Sendable (ByteBuffer) -> JSONRPCEnvelope? = { JSONRPCEnvelopeScanner.scan($0) },
        onBadLine: @escaping @Sendable () -> Void = {}
    ) {
        self.key = key
        self.label = label
        self.eventLoop = transport.eventLoop
        self.transport = transport
        self.settings = settings
        self.scan = scan
        self.onBadLine = onBadLine
        self.logger = logger
        transport.onMessage = { [self] line in take(line) }
        transport.onClosed = { [self] failure in transportClosed(failure) }
    }

    // MARK: From any thread

    /// Sends a request and routes what belongs to it to `receiver`, ending with its response (`final`).
    /// `id` and `progressToken` are the request's own (`params._meta.progressToken`).
    package func request(
        _ line: ByteBuffer, id: JSONRPCID, progressToken: JSONRPCID?, headers: HTTPHeaders, receiver: any ChannelReceiver
    ) {
        onLoop { [self] in
            if let closedWith { return receiver.fail(closedWith) }
            guard !waiters.contains(where: { $0.id == id }) else { return receiver.fail(.duplicateID) }
            guard waiters.count < settings.maxPendingRequests else {
                return receiver.fail(.pendingLimit(limit: settings.maxPendingRequests, key: settings.pendingLimitKey))
            }
            waiters.append(Waiter(id: id, progressToken: progressToken, receiver: receiver))
            lastActivity = .now()
            transport.send(line, headers: headers).whenFailure { [self] error in
                guard let index = waiters.firstIndex(where: { $0.id == id && $0.receiver === receiver }) else { return }
                waiters.remove(at: index)
                receiver.fail(error as? ChannelFailure ?? .sendFailed(String(describing: error)))
            }
        }
    }

    /// Sends a notification or a response to a server request; the future succeeds once it is written (or
    /// accepted upstream).
    package func send(_ line: ByteBuffer, headers: HTTPHeaders) -> EventLoopFuture<Void> {
        eventLoop.flatSubmit { [self] in
            if let closedWith { return eventLoop.makeFailedFuture(closedWith) }
            lastActivity = .now()
            return transport.send(line, headers: headers)
        }
    }

    /// Forgets a request (its caller stopped waiting): a response that still comes is dropped.
    package func forget(id: JSONRPCID, receiver: any ChannelReceiver) {
        onLoop { [self] in
            waiters.removeAll { $0.id == id && $0.receiver === receiver }
            lastActivity = .now()
        }
    }

    /// Makes `receiver` the listener of messages that belong to no request (a newer listener replaces an
    /// older one, which is failed with `closed(.deleted)`); messages kept while none listened come first.
    package func listen(_ receiver: any ChannelReceiver) {
        onLoop { [self] in
            if let closedWith { return receiver.fail(closedWith) }
            if let previous = listener, previous !== receiver { previous.fail(.closed(.deleted)) }
            listener = receiver
            while let line = orphans.popFirst() { _ = receiver.receive(line, final: false) }
        }
    }

    /// Ends listening by `receiver` (its client stream closed).
    package func unlisten(_ receiver: any ChannelReceiver) {
        onLoop { [self] in
            if listener === receiver { listener = nil }
            lastActivity = .now()
        }
    }

    /// Ends the channel: the transport closes and everyone waiting hears `reason`.
    package func close(_ reason: ChannelFailure) {
        onLoop { [self] in transport.close(reason) }
    }

    /// Runs `callback` (on the channel's loop) once the channel is closed, with why; at once if it is.
    package func whenClosed(_ callback: @escaping @Sendable (ChannelFailure) -> Void) {
        onLoop { [self] in
            if let closedWith { return callback(closedWith) }
            closedCallbacks.append(callback)
        }
    }

    /// Closes the channel with `reason` if nothing has used it for `idleTimeout`: no request in flight, no
    /// listener. From any thread.
    package func closeIfIdle(for idleTimeout: TimeAmount, reason: ChannelFailure) {
        onLoop { [self] in
            guard closedWith == nil, waiters.isEmpty, listener == nil, NIODeadline.now() - lastActivity >= idleTimeout else { return }
            logger.debug("upstream channel idle, closing", metadata: ["target": "\(label)", "channel": "\(key)"])
            transport.close(reason)
        }
    }

    // MARK: On the loop

    /// True once the transport is gone (on the channel's loop).
    package var isClosed: Bool {
        eventLoop.preconditionInEventLoop()
        return closedWith != nil
    }

    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop {
            body()
        } else {
            eventLoop.execute(body)
        }
    }

    /// Routes one inbound line; the future it returns (on the channel's loop) holds the transport's reading.
    private func take(_ line: ByteBuffer) -> EventLoopFuture<Void>? {
        guard closedWith == nil else { return nil }
        lastActivity = .now()
        guard let envelope = scan(line) else {
            return badLine(line)
        }
        badLinesInARow = 0
        let inFlight = waiters.map { (id: $0.id, progressToken: $0.progressToken) }
        switch ChannelRouting.destination(of: envelope, inFlight: inFlight, listening: listener != nil) {
        case .request(let id, let final):
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            let receiver = waiters[index].receiver
            if final { waiters.remove(at: index) }
            return receiver.receive(line, final: final)?.hop(to: eventLoop)
        case .listener:
            return listener?.receive(line, final: false)?.hop(to: eventLoop)
        case .orphan:
            if orphans.count >= settings.maxOrphans { orphans.removeFirst() }
            orphans.append(line)
            return nil
        case .drop:
            logger.debug("upstream response to no request in flight, dropped", metadata: ["target": "\(label)", "channel": "\(key)"])
            return nil
        }
    }

    private func badLine(_ line: ByteBuffer) -> EventLoopFuture<Void>? {
        badLinesInARow += 1
        onBadLine()
        let now = NIODeadline.now()
        if lastBadLineWarning.map({ now - $0 >= .seconds(10) }) ?? true {
            lastBadLineWarning = now
            let shown = line.getString(at: line.readerIndex, length: min(200, line.readableBytes)) ?? "(not UTF-8)"
            logger.warning(
                "upstream wrote a line that is not JSON-RPC, ignored",
                metadata: ["target": "\(label)", "channel": "\(key)", "line": "\(shown)"])
        }
        if badLinesInARow >= settings.maxBadLinesInARow {
            transport.close(.tooManyBadLines(badLinesInARow))
        }
        return nil
    }

    private func transportClosed(_ failure: ChannelFailure) {
        guard closedWith == nil else { return }
        closedWith = failure
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.receiver.fail(failure) }
        listener?.fail(failure)
        listener = nil
        orphans.removeAll()
        let callbacks = closedCallbacks
        closedCallbacks = []
        for callback in callbacks { callback(failure) }
    }
}
