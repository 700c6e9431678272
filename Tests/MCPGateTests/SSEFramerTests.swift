import NIOCore
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

@Suite("SSE framing")
struct SSEFramerTests {
    private func feed(_ chunks: [String], max: Int = 1 << 20) throws -> [SSEEvent] {
        var framer = SSEFramer(maxEventBytes: max)
        var events: [SSEEvent] = []
        for chunk in chunks { events += try framer.feed(ByteBuffer(string: chunk)) }
        return events
    }

    @Test("an event split at every byte boundary comes out whole, with its original bytes")
    func splitAnywhere() throws {
        let text = "event: message\r\ndata: {\"a\":1}\r\n\r\n"
        for cut in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            let events = try feed([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
            #expect(events.count == 1, "cut at \(cut)")
            #expect(events.first.map { String(buffer: $0.raw) } == text)
            #expect(events.first?.data.map { String(buffer: $0) } == "{\"a\":1}")
            #expect(events.first?.eventType == "message")
        }
    }

    @Test("LF, CRLF and CR line endings all delimit events")
    func lineEndings() throws {
        let events = try feed(["data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n"])
        #expect(events.map { $0.data.map { String(buffer: $0) } } == ["a", "b", "c"])
    }

    @Test("multi-line data is joined with newlines; id and retry are read; comments are skipped")
    func fields() throws {
        let events = try feed([": ping\nid: 7\nretry: 500\ndata: x\ndata:y\n\n"])
        #expect(events.count == 1)
        #expect(events[0].data.map { String(buffer: $0) } == "x\ny")
        #expect(events[0].id == "7")
        #expect(events[0].retry == "500")
    }

    @Test("a comment-only event is relayed as an empty event")
    func keepAliveComment() throws {
        let events = try feed([": keepalive\n\n"])
        #expect(events.count == 1)
        #expect(events[0].isEmpty)
        #expect(String(buffer: events[0].raw) == ": keepalive\n\n")
    }

    @Test("an event larger than the bound is refused")
    func bounded() {
        var framer = SSEFramer(maxEventBytes: 64)
        #expect(throws: SSEFramer.FramingError.self) {
            _ = try framer.feed(ByteBuffer(string: "data: " + String(repeating: "x", count: 100)))
        }
    }

    @Test("many events in one chunk come out in order")
    func many() throws {
        let chunk = (0..<100).map { "data: \($0)\n\n" }.joined()
        let events = try feed([chunk])
        #expect(events.map { $0.data.map { String(buffer: $0) } ?? "" } == (0..<100).map(String.init))
    }
}
