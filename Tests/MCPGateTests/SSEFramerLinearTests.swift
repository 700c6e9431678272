import NIOCore
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// The framer's cost is linear in the bytes received, whatever the chunking (attack report H3: one long
/// `data:` line in small chunks used to be rescanned from its start on every chunk), and line ends split
/// across chunks are read as the bytes say.
@Suite("SSE framing: linear cost and chunk boundaries")
struct SSEFramerLinearTests {
    private func feed(_ chunks: [String], max: Int = 1 << 20) throws -> [SSEEvent] {
        var framer = SSEFramer(maxEventBytes: max)
        var events: [SSEEvent] = []
        for chunk in chunks { events += try framer.feed(ByteBuffer(string: chunk)) }
        return events
    }

    private func dataOf(_ events: [SSEEvent]) -> [String?] {
        events.map { $0.data.map { String(buffer: $0) } }
    }

    @Test("one long data line fed in 1 KiB chunks examines each byte at most twice", arguments: [1 << 20, 16 << 20])
    func longLineIsScannedOnce(size: Int) throws {
        var framer = SSEFramer(maxEventBytes: size + 64)
        let chunkSize = 1024
        var fed = 0
        var events = try framer.feed(ByteBuffer(string: "event: message\ndata: "))
        fed += 21
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: chunkSize)
        for _ in 0..<(size / chunkSize) {
            events += try framer.feed(chunk)
            fed += chunkSize
        }
        #expect(events.isEmpty)
        #expect(framer.pendingBytes == fed)
        events += try framer.feed(ByteBuffer(string: "\n\n"))
        fed += 2
        #expect(events.count == 1)
        #expect(events.first?.data?.readableBytes == size)
        #expect(events.first?.raw.readableBytes == fed)
        #expect(framer.pendingBytes == 0)
        // A rescan from the line's start on every chunk would examine about size² / (2 × 1 KiB) bytes.
        #expect(framer.bytesScanned <= 2 * fed, "examined \(framer.bytesScanned) bytes for \(fed) fed")
    }

    @Test("many small events fed one byte at a time examine each byte at most twice")
    func smallEventsByteByByte() throws {
        let text = (0..<500).map { "id: \($0)\r\ndata: {\"n\":\($0)}\r\n\r\n" }.joined()
        var framer = SSEFramer(maxEventBytes: 1 << 10)
        var events: [SSEEvent] = []
        for byte in text.utf8 { events += try framer.feed(ByteBuffer(bytes: [byte])) }
        #expect(events.count == 500)
        #expect(events.last?.id == "499")
        #expect(framer.bytesScanned <= 2 * text.utf8.count)
    }

    @Test("a \\r that ends a chunk and the \\n that starts the next are one line end")
    func carriageReturnThenLineFeedAcrossChunks() throws {
        let events = try feed(["data: a\r", "\ndata: b\r", "\n\r", "\n"])
        #expect(dataOf(events) == ["a\nb"])
        #expect(events.first.map { String(buffer: $0.raw) } == "data: a\r\ndata: b\r\n\r\n")
    }

    @Test("a \\r that ends a chunk followed by anything else is a line end on its own")
    func carriageReturnAloneAcrossChunks() throws {
        // The last \r is held until the next byte shows it is not the first half of \r\n.
        let events = try feed(["data: a\r", "data: b\r", "\r", "data: c\r\r", ":"])
        #expect(dataOf(events) == ["a\nb", "c"])
    }

    @Test("a trailing \\r waits for the next byte before it is read")
    func trailingCarriageReturnIsHeld() throws {
        var framer = SSEFramer(maxEventBytes: 1 << 10)
        #expect(try framer.feed(ByteBuffer(string: "data: a\n\r")).isEmpty)
        #expect(framer.pendingBytes == 9)
        let events = try framer.feed(ByteBuffer(string: "\n"))
        #expect(dataOf(events) == ["a"])
        #expect(framer.pendingBytes == 0)
    }

    @Test("every split of a mixed-ending stream into three chunks frames like the whole")
    func everySplitMatchesTheWhole() throws {
        let text = "event: a\r\ndata: 1\r\ndata: 2\r\n\r\n: c\n\nid: 9\rdata: 3\r\rretry: 5\n\n"
        let whole = try feed([text])
        #expect(dataOf(whole) == ["1\n2", nil, "3", nil])
        let bytes = Array(text.utf8)
        for first in 1..<bytes.count {
            for second in first..<bytes.count {
                let parts = [bytes[..<first], bytes[first..<second], bytes[second...]].map { String(decoding: $0, as: UTF8.self) }
                let events = try feed(parts)
                #expect(events.map { String(buffer: $0.raw) } == whole.map { String(buffer: $0.raw) }, "split at \(first), \(second)")
                #expect(dataOf(events) == dataOf(whole))
                #expect(events.map(\.id) == whole.map(\.id))
                #expect(events.map(\.eventType) == whole.map(\.eventType))
                #expect(events.map(\.retry) == whole.map(\.retry))
            }
        }
    }

    @Test("an unfinished event carried past completed ones keeps its data")
    func pendingEventSurvivesTheEventsBeforeIt() throws {
        let events = try feed(["data: x\n\ndata: part", "ial\ndata: y\n", "\n"])
        #expect(dataOf(events) == ["x", "partial\ny"])
    }

    @Test("an event over the bound is refused while it arrives, not only once it ends")
    func boundHoldsAcrossChunks() throws {
        var framer = SSEFramer(maxEventBytes: 64 << 10)
        _ = try framer.feed(ByteBuffer(string: "data: "))
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1024)
        var refusedAfter: Int?
        for index in 0..<100 {
            do {
                _ = try framer.feed(chunk)
            } catch {
                refusedAfter = index + 1
                break
            }
        }
        #expect(refusedAfter == 64)
    }
}
