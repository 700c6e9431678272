import NIOCore
import NIOHTTP1
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// What a reader told its sink, in a comparable form.
private enum Heard: Equatable {
    case json(String, session: String?)
    case stream(UInt, session: String?)
    case events([String])
    case streamEnded
    case accepted(UInt)
    case lost
    case refused(UInt, contentType: String, body: String)
    case bodyTooLarge(Int)
    case eventTooLarge(Int)
    case transport
    case noAnswer
}

/// Drives an `UpstreamAnswerReader` by hand, as `UpstreamTask` would, and records what its sink hears.
private final class ReaderProbe {
    /// What the sink heard, in order.
    private final class Log {
        var heard: [Heard] = []
    }

    private let log = Log()
    let reader: UpstreamAnswerReader
    var heard: [Heard] { log.heard }

    init(sentSessionID: Bool = false, maxBodyBytes: Int = 1024, maxEventBytes: Int = 256, maxRefusalBytes: Int = 64) {
        let log = self.log
        reader = UpstreamAnswerReader(
            limits: UpstreamAnswerLimits(maxBodyBytes: maxBodyBytes, maxEventBytes: maxEventBytes, maxRefusalBytes: maxRefusalBytes),
            sentSessionID: sentSessionID
        ) { answer in
            log.heard.append(ReaderProbe.describe(answer))
            return nil
        }
    }

    static func describe(_ answer: UpstreamAnswer) -> Heard {
        switch answer {
        case .json(let body, let session): .json(String(buffer: body), session: session)
        case .stream(let status, let session): .stream(status.code, session: session)
        case .events(let events): .events(events.map { $0.data.map { String(buffer: $0) } ?? "" })
        case .streamEnded: .streamEnded
        case .accepted(let status, _): .accepted(status.code)
        case .lost: .lost
        case .refused(let status, let type, let body): .refused(status.code, contentType: type, body: String(buffer: body))
        case .failed(.bodyTooLarge(let limit)): .bodyTooLarge(limit)
        case .failed(.eventTooLarge(let limit)): .eventTooLarge(limit)
        case .failed(.transport): .transport
        case .failed(.noAnswer): .noAnswer
        }
    }

    func head(_ status: HTTPResponseStatus, _ headers: [(String, String)] = []) {
        _ = reader.upstreamHead(HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers)))
    }

    func body(_ text: String) {
        _ = reader.upstreamBody(ByteBuffer(string: text))
    }

    func end() { reader.upstreamEnd() }
}

@Suite("Upstream answer reader")
struct UpstreamAnswerReaderTests {
    @Test("a JSON answer is held whole, across body parts, with the upstream's session id")
    func jsonWhole() {
        let probe = ReaderProbe()
        probe.head(.ok, [("content-type", "application/json; charset=utf-8"), ("mcp-session-id", "up-1")])
        probe.body("{\"jsonrpc\":\"2.0\",")
        probe.body("\"id\":1,\"result\":{}}")
        #expect(probe.heard.isEmpty)
        probe.end()
        #expect(probe.heard == [.json("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", session: "up-1")])
    }

    @Test("a JSON answer over maxBodyBytes stops the request and says so once")
    func jsonTooLarge() {
        let probe = ReaderProbe(maxBodyBytes: 10)
        probe.head(.ok, [("content-type", "application/json")])
        probe.body("0123456789")
        probe.body("x")
        probe.body("more")
        probe.end()
        probe.reader.upstreamFailed(UpstreamError.cancelled)
        #expect(probe.heard == [.bodyTooLarge(10)])
        #expect(probe.reader.finished)
    }

    @Test("404 means the upstream lost the session only when the request carried one")
    func lostSession() {
        let withSession = ReaderProbe(sentSessionID: true)
        withSession.head(.notFound, [("content-type", "application/json")])
        withSession.body("{}")
        withSession.end()
        #expect(withSession.heard == [.lost])

        let without = ReaderProbe(sentSessionID: false)
        without.head(.notFound, [("content-type", "text/plain")])
        without.body("no such path")
        without.end()
        #expect(without.heard == [.refused(404, contentType: "text/plain", body: "no such path")])
    }

    @Test("202, 204 and an empty 2xx are accepted; a 2xx of another content type is refused")
    func acceptedAndOdd() {
        for status in [HTTPResponseStatus.accepted, .noContent] {
            let probe = ReaderProbe()
            probe.head(status)
            probe.end()
            #expect(probe.heard == [.accepted(status.code)])
        }
        let empty = ReaderProbe()
        empty.head(.ok, [("content-length", "0")])
        empty.end()
        #expect(empty.heard == [.accepted(200)])

        let html = ReaderProbe()
        html.head(.ok, [("content-type", "text/html")])
        html.body("<p>hi</p>")
        html.end()
        #expect(html.heard == [.refused(200, contentType: "text/html", body: "<p>hi</p>")])
    }

    @Test("a refused answer keeps at most maxRefusalBytes of its body")
    func refusalBounded() {
        let probe = ReaderProbe(maxRefusalBytes: 8)
        probe.head(.internalServerError, [("content-type", "text/plain")])
        probe.body("0123456")
        probe.body("789abcdef")
        probe.end()
        #expect(probe.heard == [.refused(500, contentType: "text/plain", body: "01234567")])
    }

    @Test("an SSE answer reports the stream, complete events however the body was cut, then its end")
    func streamEvents() {
        let probe = ReaderProbe()
        probe.head(.ok, [("content-type", "text/event-stream"), ("mcp-session-id", "s")])
        probe.body("data: {\"a\":1}\n")
        probe.body("\ndata: {\"b\"")
        probe.body(":2}\n\ndata: {\"c\":3}\n\n")
        probe.end()
        #expect(probe.heard == [.stream(200, session: "s"), .events(["{\"a\":1}"]), .events(["{\"b\":2}", "{\"c\":3}"]), .streamEnded])
    }

    @Test("an SSE event over maxEventBytes stops the request and says so once")
    func eventTooLarge() {
        let probe = ReaderProbe(maxEventBytes: 16)
        probe.head(.ok, [("content-type", "text/event-stream")])
        probe.body("data: " + String(repeating: "x", count: 40))
        probe.body("\n\n")
        probe.end()
        #expect(probe.heard == [.stream(200, session: nil), .eventTooLarge(16)])
    }

    @Test("a transport failure is reported; after stop() nothing is")
    func failures() {
        let failing = ReaderProbe()
        failing.head(.ok, [("content-type", "text/event-stream")])
        failing.reader.upstreamFailed(UpstreamError.remoteConnectionClosed)
        #expect(failing.heard == [.stream(200, session: nil), .transport])

        let stopped = ReaderProbe()
        stopped.head(.ok, [("content-type", "text/event-stream")])
        stopped.reader.stop()
        stopped.body("data: late\n\n")
        stopped.reader.upstreamFailed(UpstreamError.cancelled)
        #expect(stopped.heard == [.stream(200, session: nil)])
        #expect(stopped.reader.finished)
    }

    @Test("an answer that ends before its head is no answer")
    func noHead() {
        let probe = ReaderProbe()
        probe.end()
        #expect(probe.heard == [.noAnswer])
    }
}
