import NIOCore
import Testing

@testable import MCPGateUpstream

/// The line framer's cost is linear in the bytes received, whatever the chunking: a 16 MiB line in 1 KiB
/// chunks is searched once, not from its start on every chunk (as `SSEFramerLinearTests` holds the SSE framer).
@Suite("Line framing: linear cost")
struct LineFramerLinearTests {
    @Test("one long line fed in 1 KiB chunks examines each byte once", arguments: [1 << 20, 16 << 20])
    func longLineIsScannedOnce(size: Int) throws {
        var framer = LineFramer(maxLineBytes: size)
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 1024)
        var fed = 0
        var lines: [ByteBuffer] = []
        for _ in 0..<(size / 1024) {
            lines += try framer.feed(chunk)
            fed += 1024
        }
        #expect(lines.isEmpty)
        #expect(framer.pendingBytes == fed)
        lines += try framer.feed(ByteBuffer(string: "\r\n"))
        fed += 2
        #expect(lines.count == 1)
        #expect(lines.first?.readableBytes == size)
        #expect(framer.pendingBytes == 0)
        // A search from the line's start on every chunk would examine about size² / (2 × 1 KiB) bytes.
        #expect(framer.bytesScanned <= fed, "examined \(framer.bytesScanned) bytes for \(fed) fed")
    }

    @Test("many small lines fed one byte at a time examine each byte once")
    func smallLinesByteByByte() throws {
        let text = (0..<2000).map { "{\"jsonrpc\":\"2.0\",\"id\":\($0)}\r\n" }.joined()
        var framer = LineFramer(maxLineBytes: 64)
        var count = 0
        var last: String?
        for byte in text.utf8 {
            for line in try framer.feed(ByteBuffer(bytes: [byte])) {
                count += 1
                last = String(buffer: line)
            }
        }
        #expect(count == 2000)
        #expect(last == "{\"jsonrpc\":\"2.0\",\"id\":1999}")
        #expect(framer.bytesScanned <= text.utf8.count)
    }

    @Test("many lines in one chunk, pulled one at a time, examine each byte once")
    func pulledLinesAreScannedOnce() throws {
        let text = String(repeating: "x\n", count: 50_000) + String(repeating: "y", count: 1000)
        var framer = LineFramer(maxLineBytes: 4096)
        framer.append(ByteBuffer(string: text))
        var count = 0
        while try framer.nextLine() != nil { count += 1 }
        #expect(count == 50_000)
        #expect(framer.pendingBytes == 1000)
        #expect(framer.bytesScanned <= text.utf8.count)
    }

    @Test("a skipped over-long line costs its bytes once")
    func skippedLineIsScannedOnce() throws {
        var framer = LineFramer(maxLineBytes: 1024)
        let chunk = ByteBuffer(repeating: UInt8(ascii: "z"), count: 1024)
        var fed = 0
        var skipped = false
        for _ in 0..<4096 {
            do {
                _ = try framer.feed(chunk)
            } catch {
                #expect(!skipped)
                skipped = true
                #expect(framer.skipOverlongLine().readableBytes == 1024)
            }
            fed += 1024
        }
        #expect(skipped)
        #expect(try framer.feed(ByteBuffer(string: "\nok\n")).map { String(buffer: $0) } == ["ok"])
        fed += 4
        #expect(framer.bytesScanned <= fed)
    }
}
