import Logging
import NIOCore
import NIOHTTP1

/// One session with an upstream that speaks the HTTP+SSE transport of protocol 2024-11-05, as a
/// `ChannelTransport`: a standing GET (`Accept: text/event-stream`) whose first `endpoint` event names where
/// messages are POSTed, and whose `message` events carry the upstream's messages.
///
/// `open` sends the GET through `UpstreamClient.forward` (a connection of its own, ended by `streamIdleTimeout`
/// when silent) and succeeds once the `endpoint` event is learned: resolved against the stream's URL
/// (`UpstreamTarget.resolving(location:)`) and refused unless it has the stream's origin, as the MCP SDK's
/// client refuses it. Each `message` event with data is one message for `onMessage` (multi-line data joined with
/// `\n`, as the SSE rules say); events with empty data, other events and comments are skipped. `send` POSTs one
/// message to the endpoint: 2xx is taken, 404 means the upstream lost the session (the session closes with
/// `.sessionLost`), anything else fails that send only. The GET ending or failing closes the session with
/// `.streamEnded` (`.lineTooLong` for an event over `maxEventBytes`).
///
/// Alive until it is closed or its stream ends (its GET holds it). `@unchecked Sendable`: confined to
/// `eventLoop`, where every method is called and every callback runs; only `close` may be called from elsewhere,
/// and it hops.
package final class UpstreamSSESession: ChannelTransport, @unchecked Sendable {
    package let eventLoop: any EventLoop
    package var onMessage: ((ByteBuffer) -> EventLoopFuture<Void>?)?
    package var onClosed: ((ChannelFailure) -> Void)?
    /// The stream's endpoint (the configured replica URL).
    package let streamEndpoint: ResolvedEndpoint
    /// Where messages are POSTed, as the `endpoint` event named it; nil until it is learned.
    package private(set) var messageEndpoint: ResolvedEndpoint?

    private enum State {
        /// The GET is sent; the `endpoint` event has not come.
        case opening(EventLoopPromise<UpstreamSSESession>)
        case open
        case closed(ChannelFailure)
    }

    private let client: UpstreamClient
    private let settings: UpstreamSSESettings
    private let logger: Logger
    private var state: State
    private var stream: UpstreamAnswerReader?
    private var endpointDeadline: Scheduled<Void>?
    /// The POSTs awaiting their answer, by a per-session number.
    private var posts: [UInt64: (promise: EventLoopPromise<Void>, reader: UpstreamAnswerReader?)] = [:]
    private var nextPost: UInt64 = 0

    private init(
        endpoint: ResolvedEndpoint, client: UpstreamClient, settings: UpstreamSSESettings, eventLoop: any EventLoop, logger: Logger,
        promise: EventLoopPromise<UpstreamSSESession>
    ) {
        self.streamEndpoint = endpoint
        self.client = client
        self.settings = settings
        self.eventLoop = eventLoop
        self.logger = logger
        self.state = .opening(promise)
    }

    /// Opens a session with the upstream at `endpoint` on `loop`: sends the GET with `headers` (the client's
    /// forwarded headers; `Accept` is set to `text/event-stream`, and `Mcp-Session-Id` and `MCP-Protocol-Version`
    /// are never sent) and waits for the `endpoint` event. Fails with `.endpointTimeout` when none comes within
    /// `settings.endpointTimeout`, `.endpointRefused(url)` when it names another origin (or nothing that parses),
    /// `.streamEnded` when the stream ends first, and `.sendFailed(reason)` when the GET is refused or fails.
    /// Callable from any thread.
    package static func open(
        endpoint: ResolvedEndpoint, headers: HTTPHeaders, client: UpstreamClient, settings: UpstreamSSESettings,
        on loop: any EventLoop, logger: Logger
    ) -> EventLoopFuture<UpstreamSSESession> {
        let promise = loop.makePromise(of: UpstreamSSESession.self)
        let session = UpstreamSSESession(
            endpoint: endpoint, client: client, settings: settings, eventLoop: loop, logger: logger, promise: promise)
        if loop.inEventLoop {
            session.start(headers: headers)
        } else {
            loop.execute { session.start(headers: headers) }
        }
        return promise.futureResult
    }

    /// POSTs one message to the endpoint with `Content-Type: application/json` and `headers` (the client's
    /// forwarded headers, less `Mcp-Session-Id` and `MCP-Protocol-Version`). Succeeds on any 2xx; fails with
    /// `.sessionLost` on 404 (and closes the session), with `.sendFailed` on another answer or no answer, and
    /// with the reason the session closed once it has.
    package func send(_ line: ByteBuffer, headers: HTTPHeaders) -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        guard case .open = state, let endpoint = messageEndpoint else {
            return eventLoop.makeFailedFuture(closedReason ?? ChannelFailure.streamEnded)
        }
        var postHeaders = Self.withoutSessionHeaders(headers)
        postHeaders.replaceOrAdd(name: "content-type", value: "application/json")
        let promise = eventLoop.makePromise(of: Void.self)
        let number = nextPost
        nextPost += 1
        posts[number] = (promise: promise, reader: nil)
        let reader = client.forward(
            UpstreamRequest(endpoint: endpoint, method: .POST, headers: postHeaders, body: line), on: eventLoop,
            limits: UpstreamAnswerLimits(maxBodyBytes: settings.maxBodyBytes, maxEventBytes: settings.maxEventBytes)
        ) { answer in
            self.posted(number, answer)
        }
        if posts[number] != nil { posts[number]?.reader = reader }
        return promise.futureResult
    }

    /// Stops the GET and every POST awaiting its answer (they fail with `reason`), then tells `onClosed` once.
    /// Idempotent; callable from any thread.
    package func close(_ reason: ChannelFailure) {
        if eventLoop.inEventLoop {
            finish(reason)
        } else {
            eventLoop.execute { self.finish(reason) }
        }
    }

    // MARK: The stream

    private func start(headers: HTTPHeaders) {
        guard case .opening = state else { return }
        endpointDeadline = eventLoop.scheduleTask(in: settings.endpointTimeout) {
            self.finish(.endpointTimeout)
        }
        var getHeaders = Self.withoutSessionHeaders(headers)
        getHeaders.replaceOrAdd(name: "accept", value: UpstreamHeaders.acceptStream)
        getHeaders.remove(name: "content-type")
        let reader = client.forward(
            UpstreamRequest(endpoint: streamEndpoint, method: .GET, headers: getHeaders, body: nil), on: eventLoop,
            limits: UpstreamAnswerLimits(maxBodyBytes: settings.maxBodyBytes, maxEventBytes: settings.maxEventBytes)
        ) { answer in
            self.streamAnswered(answer)
        }
        if !reader.finished, !isClosed { stream = reader }
    }

    private func streamAnswered(_ answer: UpstreamAnswer) -> EventLoopFuture<Void>? {
        let opening = !isOpen
        switch answer {
        case .stream:
            return nil
        case .events(let events):
            return received(events)
        case .streamEnded:
            ended(.streamEnded)
        case .failed(.eventTooLarge(let limit)):
            ended(.lineTooLong(limit: limit))
        case .failed(let failure):
            ended(opening ? .sendFailed(Self.describe(failure)) : .streamEnded)
        case .refused(let status, _, _):
            ended(.sendFailed("HTTP \(status.code)"))
        case .lost:
            ended(.sendFailed("HTTP 404"))
        case .json:
            ended(.sendFailed("answered JSON, not an event stream"))
        case .accepted(let status, _):
            ended(.sendFailed("HTTP \(status.code) without an event stream"))
        }
        return nil
    }

    /// The GET is over (its reader finished on its own).
    private func ended(_ reason: ChannelFailure) {
        stream = nil
        finish(reason)
    }

    /// Handles one batch of events in order; returns what holds the next read (the messages' delivery).
    private func received(_ events: [SSEEvent]) -> EventLoopFuture<Void>? {
        var messages: [ByteBuffer] = []
        for event in events {
            guard !isClosed else { return nil }
            guard let data = event.data else { continue }  // comments, and events with no data field
            switch event.eventType ?? "" {
            case "endpoint":
                learnEndpoint(String(buffer: data))
            case "message", "":
                guard data.readableBytes > 0 else { continue }
                if isOpen {
                    messages.append(data)
                } else {
                    logger.debug("upstream SSE message before the endpoint, dropped", metadata: ["url": "\(streamEndpoint.endpoint.url)"])
                }
            case let other:
                logger.debug("upstream SSE event of another type, skipped", metadata: ["event": "\(other)"])
            }
        }
        return deliver(messages[...])
    }

    /// Hands `messages` to `onMessage` one after the other, each once the one before is taken (backpressure).
    private func deliver(_ messages: ArraySlice<ByteBuffer>) -> EventLoopFuture<Void>? {
        var rest = messages
        while let message = rest.popFirst() {
            guard isOpen else { return nil }
            guard let onMessage else {
                logger.debug("upstream SSE message with no one to take it, dropped", metadata: ["url": "\(streamEndpoint.endpoint.url)"])
                continue
            }
            guard let taken = onMessage(message) else { continue }
            guard !rest.isEmpty else { return taken }
            let next = eventLoop.makePromise(of: Void.self)
            let remaining = rest
            taken.whenComplete { _ in
                if let more = self.deliver(remaining) { more.cascade(to: next) } else { next.succeed() }
            }
            return next.futureResult
        }
        return nil
    }

    /// The first `endpoint` event: resolved against the stream's URL and kept when it has the same origin.
    private func learnEndpoint(_ text: String) {
        guard case .opening(let promise) = state else {
            logger.debug("upstream SSE endpoint named again, ignored", metadata: ["url": "\(streamEndpoint.endpoint.url)"])
            return
        }
        let location = Substring(text).trimmingSpaces()
        guard let base = streamEndpoint.target, let target = base.resolving(location: String(location)) else {
            finish(.endpointRefused(String(location)))
            return
        }
        guard target.origin == base.origin,
            let endpoint = ResolvedEndpoint(
                UpstreamEndpoint(
                    url: target.url, scheme: target.tls ? "https" : "http", host: target.host, port: target.port, path: target.path),
                redirectOrigins: streamEndpoint.redirects.allowedOrigins.sorted(), health: streamEndpoint.health)
        else {
            finish(.endpointRefused(target.url))
            return
        }
        messageEndpoint = endpoint
        state = .open
        endpointDeadline?.cancel()
        endpointDeadline = nil
        logger.debug(
            "upstream SSE session open", metadata: ["url": "\(streamEndpoint.endpoint.url)", "endpoint": "\(target.url)"])
        promise.succeed(self)
    }

    // MARK: POSTs

    private func posted(_ number: UInt64, _ answer: UpstreamAnswer) -> EventLoopFuture<Void>? {
        guard let post = posts.removeValue(forKey: number) else { return nil }
        switch answer {
        case .accepted, .json, .streamEnded:
            post.promise.succeed()
        case .stream, .events:
            // A 2xx event stream to a POST: taken; its content is not this transport's (answers come on the GET).
            post.reader?.stop()
            post.promise.succeed()
        case .lost, .refused(.notFound, _, _):
            finish(.sessionLost)
            post.promise.fail(ChannelFailure.sessionLost)
        case .refused(let status, _, _):
            post.promise.fail(ChannelFailure.sendFailed("HTTP \(status.code)"))
        case .failed(let failure):
            post.promise.fail(ChannelFailure.sendFailed(Self.describe(failure)))
        }
        return nil
    }

    // MARK: Closing

    private var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    private var isClosed: Bool { closedReason != nil }

    private var closedReason: ChannelFailure? {
        if case .closed(let reason) = state { return reason }
        return nil
    }

    /// Ends the session once: stops the GET and the POSTs in flight, fails `open` if it is still pending, or
    /// tells `onClosed`.
    private func finish(_ reason: ChannelFailure) {
        let previous = state
        if case .closed = previous { return }
        state = .closed(reason)
        endpointDeadline?.cancel()
        endpointDeadline = nil
        stream?.stop()
        stream = nil
        let pending = posts
        posts = [:]
        for post in pending.values {
            post.reader?.stop()
            post.promise.fail(reason)
        }
        onMessage = nil
        switch previous {
        case .opening(let promise):
            logger.debug("upstream SSE session not opened", metadata: ["url": "\(streamEndpoint.endpoint.url)", "reason": "\(reason)"])
            promise.fail(reason)
        case .open:
            logger.debug("upstream SSE session closed", metadata: ["url": "\(streamEndpoint.endpoint.url)", "reason": "\(reason)"])
            let onClosed = self.onClosed
            self.onClosed = nil
            onClosed?(reason)
        case .closed:
            break
        }
    }

    // MARK: Helpers

    /// The client's headers without the Streamable HTTP session headers, which mean nothing to this transport.
    private static func withoutSessionHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        var out = headers
        out.remove(name: "mcp-session-id")
        out.remove(name: "mcp-protocol-version")
        return out
    }

    private static func describe(_ failure: UpstreamAnswerFailure) -> String {
        switch failure {
        case .transport(let error): "\(error)"
        case .bodyTooLarge(let limit): "an answer larger than \(limit) bytes"
        case .eventTooLarge(let limit): "an event larger than \(limit) bytes"
        case .noAnswer: "no answer"
        }
    }
}
