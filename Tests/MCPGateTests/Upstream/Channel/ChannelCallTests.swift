import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import MCPGateUpstream

/// What a reader heard from a channel call, comparable.
private enum Heard: Equatable {
    case json(String)
    case stream
    case events([String])
    case streamEnded
    case accepted(UInt)
    case failed(String)
}

/// A reader fed by a `ChannelCall` on the caller's loop, recording what its sink hears.
private final class CallProbe: @unchecked Sendable {
    private let lock = NSLock()
    private var _heard: [Heard] = []
    let loop: any EventLoop
    private(set) var reader: UpstreamAnswerReader!
    private(set) var call: UpstreamCall?

    var heard: [Heard] { lock.withLock { _heard } }

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func start(_ request: UpstreamRequest, requestTimeout: TimeAmount = .seconds(5)) throws {
        try loop.submit {
            self.reader = UpstreamAnswerReader(
                limits: UpstreamAnswerLimits(maxBodyBytes: 1 << 20, maxEventBytes: 1 << 20), sentSessionID: false
            ) { answer in
                self.record(answer)
                return nil
            }
            let call = UpstreamCall(
                ChannelCall.start(
                    request, over: request.channel!, on: self.loop, requestTimeout: requestTimeout, idleTimeout: .seconds(5),
                    handler: self.reader))
            self.reader.call = call
            self.call = call
        }.wait()
    }

    func stop() throws { try loop.submit { self.reader.stop() }.wait() }

    private func record(_ answer: UpstreamAnswer) {
        let heard: Heard
        switch answer {
        case .json(let body, _): heard = .json(String(buffer: body))
        case .stream: heard = .stream
        case .events(let events): heard = .events(events.map { String(buffer: $0.data ?? ByteBuffer()) })
        case .streamEnded: heard = .streamEnded
        case .accepted(let status, _): heard = .accepted(status.code)
        case .failed(.transport(let error)): heard = .failed(String(describing: error))
        default: heard = .failed("other")
        }
        lock.withLock { _heard.append(heard) }
    }

    /// Waits (briefly) until `count` answers were heard.
    func waitFor(_ count: Int) -> [Heard] {
        for _ in 0..<200 where heard.count < count { usleep(5_000) }
        return heard
    }
}

@Suite("ChannelCall: channel answers read like HTTP answers")
struct ChannelCallTests {
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    private let channelLoop = Self.group.any()
    private var callerLoop: any EventLoop { Self.group.makeIterator().first { $0 !== channelLoop }! }

    private func channel(_ transport: FakeChannelTransport, maxPending: Int = 8, maxBadLines: Int = 100) throws -> UpstreamChannel {
        try channelLoop.submit {
            UpstreamChannel(
                key: 7, label: "t", transport: transport,
                settings: ChannelSettings(maxPendingRequests: maxPending, pendingLimitKey: "config.stdio.maxPendingRequests", maxOrphans: 2,
                                          maxBadLinesInARow: maxBadLines),
                logger: Logger(label: "test"), scan: testEnvelope)
        }.wait()
    }

    private func request(_ body: String, over channel: UpstreamChannel, id: JSONRPCID?, token: JSONRPCID? = nil, method: HTTPMethod = .POST)
        -> UpstreamRequest
    {
        UpstreamRequest(
            endpoint: ResolvedEndpoint(UpstreamEndpoint(url: "stdio:t", scheme: "stdio", host: "", port: 0, path: ""))!, method: method, headers: HTTPHeaders(), body: ByteBuffer(string: body),
            channel: ChannelDispatch(route: .channel(channel), id: id, progressToken: token))
    }

    private func play(_ transport: FakeChannelTransport, _ line: String) throws {
        try channelLoop.submit { _ = transport.play(line) }.wait()
    }

    @Test("a response that comes first is a JSON answer")
    func responseFirst() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, over: channel, id: .int(1)))
        for _ in 0..<100 where (try transport.sentLines()).isEmpty { usleep(2_000) }
        #expect(try transport.sentLines() == [#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#])
        try play(transport, #"{"jsonrpc":"2.0","id":1,"result":{}}"#)
        #expect(probe.waitFor(1) == [.json(#"{"jsonrpc":"2.0","id":1,"result":{}}"#)])
    }

    @Test("progress before the response makes a stream: each message an event, the response last")
    func progressThenResponse() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request(#"{"id":"a","method":"tools/call"}"#, over: channel, id: .string("a"), token: .int(5)))
        for _ in 0..<100 where (try transport.sentLines()).isEmpty { usleep(2_000) }
        let progress = #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":5,"progress":1}}"#
        try play(transport, progress)
        try play(transport, #"{"jsonrpc":"2.0","id":"a","result":{"content":[]}}"#)
        #expect(probe.waitFor(4) == [.stream, .events([progress]), .events([#"{"jsonrpc":"2.0","id":"a","result":{"content":[]}}"#]), .streamEnded])
    }

    @Test("a second request with an id already in flight is refused; the first still gets its answer")
    func duplicateID() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let first = CallProbe(loop: callerLoop)
        let second = CallProbe(loop: callerLoop)
        try first.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        try second.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        #expect(second.waitFor(1) == [.failed(ChannelFailure.duplicateID.description)])
        try play(transport, #"{"id":1,"result":1}"#)
        #expect(first.waitFor(1) == [.json(#"{"id":1,"result":1}"#)])
    }

    @Test("requests beyond maxPendingRequests are refused naming the key")
    func pendingBound() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport, maxPending: 1)
        let first = CallProbe(loop: callerLoop)
        let second = CallProbe(loop: callerLoop)
        try first.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        try second.start(request(#"{"id":2}"#, over: channel, id: .int(2)))
        let heard = second.waitFor(1)
        #expect(heard == [.failed(ChannelFailure.pendingLimit(limit: 1, key: "config.stdio.maxPendingRequests").description)])
        #expect(first.heard.isEmpty)
    }

    @Test("when the transport ends, every waiter fails with its reason and a listener's stream ends")
    func transportEnds() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let waiting = CallProbe(loop: callerLoop)
        let listening = CallProbe(loop: callerLoop)
        try waiting.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        try listening.start(request("", over: channel, id: nil, method: .GET))
        _ = listening.waitFor(1)
        try channelLoop.submit { transport.close(.exited(.signaled(9))) }.wait()
        #expect(waiting.waitFor(1) == [.failed(ChannelFailure.exited(.signaled(9)).description)])
        #expect(listening.waitFor(2) == [.stream, .streamEnded])
        // Later calls fail at once.
        let late = CallProbe(loop: callerLoop)
        try late.start(request(#"{"id":2}"#, over: channel, id: .int(2)))
        #expect(late.waitFor(1) == [.failed(ChannelFailure.exited(.signaled(9)).description)])
    }

    @Test("a stopped call hears nothing more, and its late response is dropped, not given to the next request")
    func stoppedCall() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let stopped = CallProbe(loop: callerLoop)
        try stopped.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        try stopped.stop()
        let next = CallProbe(loop: callerLoop)
        try next.start(request(#"{"id":2}"#, over: channel, id: .int(2)))
        usleep(20_000)
        try play(transport, #"{"id":1,"result":"late"}"#)
        try play(transport, #"{"id":2,"result":"mine"}"#)
        #expect(next.waitFor(1) == [.json(#"{"id":2,"result":"mine"}"#)])
        #expect(stopped.heard.isEmpty)
    }

    @Test("no first message within requestTimeout fails the call as a timeout")
    func timeout() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request(#"{"id":1}"#, over: channel, id: .int(1)), requestTimeout: .milliseconds(50))
        #expect(probe.waitFor(1) == [.failed(ChannelFailure.timeout.description)])
    }

    @Test("messages for no one are kept (bounded, oldest dropped) and replayed to the next listener")
    func orphans() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        for n in 1...3 { try play(transport, #"{"method":"notifications/message","params":{"n":\#(n)}}"#) }
        let listening = CallProbe(loop: callerLoop)
        try listening.start(request("", over: channel, id: nil, method: .GET))
        #expect(
            listening.waitFor(3) == [
                .stream, .events([#"{"method":"notifications/message","params":{"n":2}}"#]),
                .events([#"{"method":"notifications/message","params":{"n":3}}"#]),
            ])
    }

    @Test("a notification is answered 202 once written, as one line")
    func notificationAccepted() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request("{\"method\":\r\n\"notifications/initialized\"}", over: channel, id: nil))
        #expect(probe.waitFor(1) == [.accepted(202)])
        #expect(try transport.sentLines() == ["{\"method\":  \"notifications/initialized\"}"])
    }

    @Test("lines that are not JSON-RPC are skipped; too many in a row close the channel")
    func badLines() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport, maxBadLines: 3)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request(#"{"id":1}"#, over: channel, id: .int(1)))
        try play(transport, "Server starting...")
        try play(transport, #"{"id":1,"result":1}"#)
        #expect(probe.waitFor(1) == [.json(#"{"id":1,"result":1}"#)])
        for _ in 0..<3 { try play(transport, "garbage") }
        #expect(try channelLoop.submit { transport.closedWith }.wait() == .tooManyBadLines(3))
    }

    @Test("DELETE closes the channel")
    func deleteCloses() throws {
        let transport = FakeChannelTransport(eventLoop: channelLoop)
        let channel = try channel(transport)
        let probe = CallProbe(loop: callerLoop)
        try probe.start(request("", over: channel, id: nil, method: .DELETE))
        #expect(probe.waitFor(1) == [.accepted(200)])
        for _ in 0..<100 where try channelLoop.submit({ transport.closedWith }).wait() == nil { usleep(2_000) }
        #expect(try channelLoop.submit { transport.closedWith }.wait() == .closed(.deleted))
    }
}
