import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

@testable import MCPGateUpstream

/// A `ChannelTransport` the test drives: it records what was sent and lets the test play the upstream's
/// lines and its end. Confined to its loop like a real transport.
final class FakeChannelTransport: ChannelTransport, @unchecked Sendable {
    let eventLoop: any EventLoop
    var onMessage: ((ByteBuffer) -> EventLoopFuture<Void>?)?
    var onClosed: ((ChannelFailure) -> Void)?
    private(set) var sent: [String] = []
    private(set) var closedWith: ChannelFailure?
    /// When set, `send` fails with it.
    var sendFailure: ChannelFailure?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func send(_ line: ByteBuffer, headers: HTTPHeaders) -> EventLoopFuture<Void> {
        if let sendFailure { return eventLoop.makeFailedFuture(sendFailure) }
        sent.append(String(buffer: line))
        return eventLoop.makeSucceededVoidFuture()
    }

    func close(_ reason: ChannelFailure) {
        guard closedWith == nil else { return }
        closedWith = reason
        onClosed?(reason)
    }

    /// The upstream writes `line`; returns the future the channel gave back (backpressure).
    @discardableResult
    func play(_ line: String) -> EventLoopFuture<Void>? {
        onMessage?(ByteBuffer(string: line))
    }

    /// Reads what was sent, on the loop.
    func sentLines() throws -> [String] { try eventLoop.submit { self.sent }.wait() }
}

/// A scanner good enough for tests (Foundation's JSON), so these tests do not depend on the real one.
@Sendable func testEnvelope(_ line: ByteBuffer) -> JSONRPCEnvelope? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.readableBytesView)) as? [String: Any] else { return nil }
    func id(_ value: Any?) -> JSONRPCID? {
        if let number = value as? Int { return .int(Int64(number)) }
        if let text = value as? String { return .string(text) }
        return nil
    }
    let method = object["method"] as? String
    if object["result"] != nil || object["error"] != nil { return JSONRPCEnvelope(kind: .response, id: id(object["id"])) }
    guard let method else { return nil }
    var token: JSONRPCID?
    if method == "notifications/progress" { token = id((object["params"] as? [String: Any])?["progressToken"]) }
    if object["id"] != nil { return JSONRPCEnvelope(kind: .request, id: id(object["id"]), method: method) }
    return JSONRPCEnvelope(kind: .notification, method: method, progressToken: token)
}

/// Records what a channel delivered to one receiver.
final class RecordingReceiver: ChannelReceiver, @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [(String, Bool)] = []
    private var _failure: ChannelFailure?

    var lines: [(String, Bool)] { lock.withLock { _lines } }
    var failure: ChannelFailure? { lock.withLock { _failure } }

    func receive(_ line: ByteBuffer, final: Bool) -> EventLoopFuture<Void>? {
        lock.withLock { _lines.append((String(buffer: line), final)) }
        return nil
    }

    func fail(_ failure: ChannelFailure) {
        lock.withLock { _failure = failure }
    }
}
