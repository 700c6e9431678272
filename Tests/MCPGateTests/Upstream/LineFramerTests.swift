import NIOCore
import Testing

@testable import MCPGateUpstream

/// `LineFramer`: newline-delimited framing of a stdio upstream's output, the same in any chunking, bounded
/// while a line arrives, and linear in the bytes received.
@Suite("Line framing (stdio)")
struct LineFramerTests {
    private static let stream = "{\"a\":1}\n\n{\"b\":\"x\\ny\"}\r\n\r\n\r\nlast line\r\r\n  \nx\rin the middle\n"
    private static let lines = ["{\"a\":1}", "{\"b\":\"x\\ny\"}", "last line\r", "  ", "x\rin the middle"]

    /// The lines `text` frames into when fed in chunks of `chunkSize` bytes.
    private func frame(_ text: String, chunkSize: Int, max: Int = 1 << 10) throws -> [String] {
        var framer = LineFramer(maxLineBytes: max)
        let bytes = Array(text.utf8)
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            let end = offset + min(chunkSize, bytes.count - offset)
            lines += try framer.feed(ByteBuffer(bytes: bytes[offset..<end])).map { String(buffer: $0) }
            offset = end
        }
        #expect(framer.pendingBytes == 0)
        return lines
    }

    @Test("byte by byte, in 1 KiB chunks and whole, the lines are the same", arguments: [1, 2, 3, 7, 1024, Int.max])
    func anyChunking(chunkSize: Int) throws {
        #expect(try frame(Self.stream, chunkSize: chunkSize) == Self.lines)
    }

    @Test("every split of the stream into three chunks frames like the whole")
    func everySplit() throws {
        let bytes = Array(Self.stream.utf8)
        for first in 0...bytes.count {
            for second in first...bytes.count {
                var framer = LineFramer(maxLineBytes: 64)
                var lines: [String] = []
                for part in [bytes[..<first], bytes[first..<second], bytes[second...]] {
                    lines += try framer.feed(ByteBuffer(bytes: part)).map { String(buffer: $0) }
                }
                #expect(lines == Self.lines, "split at \(first), \(second)")
            }
        }
    }

    @Test("CRLF loses its CR, a lone CR stays in the line, and CRCRLF loses only one CR")
    func carriageReturns() throws {
        #expect(try frame("a\r\nb\rc\nd\r\r\n", chunkSize: .max) == ["a", "b\rc", "d\r"])
        // A CR that ends a chunk is the first half of CRLF when the next chunk starts with LF.
        #expect(try frame("a\r\nb\r\n", chunkSize: 2) == ["a", "b"])
    }

    @Test("empty lines (LF, CRLF) are skipped and only whitespace is a line")
    func emptyLines() throws {
        #expect(try frame("\n\r\n\n\r\n", chunkSize: 1).isEmpty)
        #expect(try frame("\n \n\r\n\t\r\n", chunkSize: 1) == [" ", "\t"])
    }

    @Test("a line of exactly the bound is taken, with LF or CRLF, whole or in pieces", arguments: [1, 5, 1024])
    func lineAtTheBound(chunkSize: Int) throws {
        let line = String(repeating: "a", count: 100)
        #expect(try frame(line + "\n" + line + "\r\n", chunkSize: chunkSize, max: 100) == [line, line])
    }

    @Test("a line of the bound + 1 is refused, complete or still arriving", arguments: [1, 5, 1024])
    func lineOverTheBound(chunkSize: Int) throws {
        let line = String(repeating: "a", count: 101)
        #expect(throws: LineFramer.Overflow(limit: 100)) { try frame(line + "\n", chunkSize: chunkSize, max: 100) }
        // Without its line end: refused as soon as the 101st byte is held.
        var framer = LineFramer(maxLineBytes: 100)
        _ = try framer.feed(ByteBuffer(string: String(repeating: "b", count: 100)))
        #expect(throws: LineFramer.Overflow(limit: 100)) { try framer.feed(ByteBuffer(string: "b")) }
    }

    @Test("bound bytes then a CR wait for the LF: the CR may be half of the line end")
    func boundThenCarriageReturnWaits() throws {
        var framer = LineFramer(maxLineBytes: 4)
        #expect(try framer.feed(ByteBuffer(string: "abcd\r")).isEmpty)
        #expect(framer.pendingBytes == 5)
        #expect(try framer.feed(ByteBuffer(string: "\n")).map { String(buffer: $0) } == ["abcd"])
        // Bound bytes, a CR and anything but LF: the line is longer than the bound.
        var other = LineFramer(maxLineBytes: 4)
        _ = try other.feed(ByteBuffer(string: "abcd\r"))
        #expect(throws: LineFramer.Overflow(limit: 4)) { try other.feed(ByteBuffer(string: "e")) }
    }

    @Test("lines before an over-long one come out when pulled; the framer stays refused until it skips")
    func pullAndSkip() throws {
        var framer = LineFramer(maxLineBytes: 4)
        framer.append(ByteBuffer(string: "ok\ntoo long\nnext\nhalf"))
        #expect(try framer.nextLine().map { String(buffer: $0) } == "ok")
        #expect(throws: LineFramer.Overflow(limit: 4)) { try framer.nextLine() }
        #expect(throws: LineFramer.Overflow(limit: 4)) { try framer.nextLine() }
        #expect(String(buffer: framer.skipOverlongLine()) == "too ")
        #expect(try framer.nextLine().map { String(buffer: $0) } == "next")
        #expect(try framer.nextLine() == nil)
        #expect(framer.pendingBytes == 4)
    }

    @Test("an over-long line still arriving is skipped up to its LF, in later chunks too")
    func skipAcrossChunks() throws {
        var framer = LineFramer(maxLineBytes: 4)
        framer.append(ByteBuffer(string: "abcdefg"))
        #expect(throws: LineFramer.Overflow(limit: 4)) { try framer.nextLine() }
        #expect(String(buffer: framer.skipOverlongLine()) == "abcd")
        #expect(framer.pendingBytes == 0)
        #expect(try framer.feed(ByteBuffer(string: "hijklmnopqrstuvwxyz")).isEmpty)
        #expect(framer.pendingBytes == 0)
        #expect(try framer.feed(ByteBuffer(string: "xyz\nnew\n")).map { String(buffer: $0) } == ["new"])
    }

    @Test("pendingBytes counts what is held: the unfinished line and lines not pulled yet")
    func pendingBytes() throws {
        var framer = LineFramer(maxLineBytes: 64)
        #expect(framer.pendingBytes == 0)
        framer.append(ByteBuffer(string: "one\ntwo\nthr"))
        #expect(framer.pendingBytes == 11)
        _ = try framer.nextLine()
        #expect(framer.pendingBytes == 7)
        _ = try framer.nextLine()
        #expect(framer.pendingBytes == 3)
        #expect(try framer.nextLine() == nil)
        #expect(try framer.feed(ByteBuffer(string: "ee\r")).isEmpty)
        #expect(framer.pendingBytes == 6)
    }

    @Test("the unfinished last line is handed out at the end of the stream, without a CR, cut at the bound")
    func unfinishedLine() throws {
        var framer = LineFramer(maxLineBytes: 8)
        _ = try framer.feed(ByteBuffer(string: "done\nbroken\r"))
        #expect(framer.takeUnfinishedLine().map { String(buffer: $0) } == "broken")
        #expect(framer.pendingBytes == 0)
        #expect(framer.takeUnfinishedLine() == nil)
        _ = try framer.feed(ByteBuffer(string: "\r"))
        #expect(framer.takeUnfinishedLine() == nil)
    }

    @Test("a returned line is a slice that later chunks do not change")
    func linesAreStable() throws {
        var framer = LineFramer(maxLineBytes: 64)
        let first = try framer.feed(ByteBuffer(string: "alpha\nbe"))
        let second = try framer.feed(ByteBuffer(string: "ta\ngamma\n"))
        #expect(first.map { String(buffer: $0) } == ["alpha"])
        #expect(second.map { String(buffer: $0) } == ["beta", "gamma"])
    }
}
