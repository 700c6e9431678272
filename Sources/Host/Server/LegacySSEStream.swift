import MCPGateSession
import NIOCore

/// One client's HTTP+SSE stream (MCP 2024-11-05, `GET /sse`) and the session its messages share.
///
/// The GET's exchange (`owner`) holds the client's response open; the stream writes its events through it. A POST
/// carrying the stream's sealed `sessionId` is answered 202 on its own connection and its exchange is handed here
/// (`Exchange.handOff`), where it answers with events on this stream (`LegacySSEResponder`). The stream sends a
/// keep-alive comment when nothing was written for a while. Its end (the client closed the GET, or the shutdown
/// grace ended it) cancels every exchange still working for it, then runs `onClose` once: the table entry goes, and
/// the session's members are ended (`LegacySSEFlow`).
///
/// Threads: `key`, `routeIdentity`, `principal` and `eventLoop` never change and may be read on any thread (a POST
/// checks them on its own loop, then hops to `eventLoop`). Everything else is confined to `eventLoop`, the GET
/// connection's, hence `@unchecked Sendable`. Held by the process's `LegacySSEStreamTable` until it closes.
final class LegacySSEStream: @unchecked Sendable {
    /// The key in `LegacySSEStreamTable`, sealed into the `sessionId`.
    let key: UInt64
    /// The route the stream was opened on; its POSTs must come in on the same route (the token is sealed to it).
    let routeIdentity: String
    /// Who opened the stream: every POST must come from the same principal.
    let principal: PrincipalDigest?
    /// The GET connection's loop, where everything below runs.
    let eventLoop: any EventLoop
    /// The GET's exchange: it writes the stream, and its request (client headers) serves the stream's own upstream
    /// requests.
    let owner: Exchange

    /// The session's sealed id, once an `initialize` answered on the stream.
    private(set) var sessionToken: String?
    /// False once the stream ended; nothing is written or tracked after that.
    private(set) var isOpen = true
    /// Run once when the stream ends, after the exchanges working for it were cancelled.
    var onClose: [() -> Void] = []

    /// The exchanges answering on this stream now (handed-off POSTs, standalone relays).
    private var working: [ObjectIdentifier: Exchange] = [:]
    private var relaysStandaloneStreams = false
    private var lastWrite: NIODeadline
    private var keepAlive: RepeatedTask?

    init(key: UInt64, routeIdentity: String, principal: PrincipalDigest?, owner: Exchange) {
        self.key = key
        self.routeIdentity = routeIdentity
        self.principal = principal
        self.owner = owner
        self.eventLoop = owner.eventLoop
        self.lastWrite = owner.eventLoop.now
    }

    var allocator: ByteBufferAllocator { owner.allocator }

    /// Writes whole events (or comments); the future completes when they reached the socket, nil when the stream
    /// cannot be written any more.
    func write(_ buffer: ByteBuffer) -> EventLoopFuture<Void>? {
        guard isOpen else { return nil }
        lastWrite = eventLoop.now
        return owner.writeStream(buffer)
    }

    /// Takes the sealed id of the session an `initialize` opened on this stream.
    func adopt(sessionToken: String) {
        self.sessionToken = sessionToken
    }

    /// Notes that the members' standalone streams are being relayed; false when they already were.
    func beginRelayingStandaloneStreams() -> Bool {
        guard isOpen, !relaysStandaloneStreams else { return false }
        relaysStandaloneStreams = true
        return true
    }

    /// Adds an exchange that answers on this stream, cancelled (`clientDisconnected`) if the stream ends first; it
    /// leaves by itself when it finishes. False when the stream has already ended.
    func track(_ exchange: Exchange) -> Bool {
        guard isOpen else { return false }
        let id = ObjectIdentifier(exchange)
        working[id] = exchange
        exchange.onFinish.append { [weak self] in self?.working[id] = nil }
        return true
    }

    /// Exchanges answering on the stream now.
    var workingCount: Int { working.count }

    /// Writes a `: keepalive` comment whenever `interval` passed without a write.
    func startKeepAlive(every interval: TimeAmount) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        keepAlive = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
            bound.value.keepAliveTick(task, interval: interval)
        }
    }

    private func keepAliveTick(_ task: RepeatedTask, interval: TimeAmount) {
        guard isOpen else {
            task.cancel()
            return
        }
        guard eventLoop.now - lastWrite >= interval else { return }
        var comment = allocator.buffer(capacity: 14)
        comment.writeString(": keepalive\n\n")
        _ = write(comment)
    }

    /// Ends the stream's work (called when the owner exchange finishes): every exchange still working for it is
    /// cancelled as if its client left, then `onClose` runs. Calling it again does nothing.
    func close() {
        guard isOpen else { return }
        isOpen = false
        keepAlive?.cancel()
        keepAlive = nil
        let exchanges = Array(working.values)
        working = [:]
        for exchange in exchanges { exchange.clientDisconnected() }
        let actions = onClose
        onClose = []
        for action in actions { action() }
    }
}
