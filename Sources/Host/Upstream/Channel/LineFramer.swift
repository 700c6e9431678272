import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into lines (a stdio upstream's newline-delimited JSON-RPC, or its stderr) as bytes
/// arrive, in any chunking. A line ends at `\n`; one `\r` before it is dropped; empty lines are skipped. Each
/// line comes out without its line end, as a slice of the bytes received (no copy).
///
/// Bounded: a line longer than `maxLineBytes` (not counting its line end) is refused with `Overflow` as soon
/// as the framer holds more of it than that, not only once it ends. A line of exactly `maxLineBytes` is fine.
///
/// Linear in the bytes received, however they are chunked: the search for `\n` (`memchr`) resumes where the
/// last one stopped, so each byte is examined once, and the unfinished line is copied only when a chunk is
/// appended after complete lines were taken from the front. `bytesScanned` lets tests hold it to that.
///
/// Pull or push: `append` then `nextLine()` until nil, so a consumer that applies backpressure stops pulling
/// and the bytes wait here; or `feed`, which does both and returns every line.
///
/// A value type owned by one reader (a channel handler); not shared between threads.
package struct LineFramer {
    /// A line longer than the framer's `maxLineBytes`.
    package struct Overflow: Error, Equatable {
        /// The bound that was passed.
        package var limit: Int
    }

    /// The longest line accepted, without its line end.
    package let maxLineBytes: Int
    private let allocator: ByteBufferAllocator
    /// The bytes not yet returned; the unfinished or next line starts at its reader index.
    private var buffer: ByteBuffer
    /// Every byte below this offset (from the reader index) was examined and, but for `lineFeed`, is not `\n`.
    private var searchedTo = 0
    /// The offset of the `\n` found last, until the line it ends is consumed.
    private var lineFeed: Int?
    /// After `skipOverlongLine`: the rest of the refused line is dropped up to and including its `\n`.
    private var skipping = false
    /// Bytes examined while looking for `\n`, over the framer's life: at most the bytes appended.
    private(set) var bytesScanned = 0

    package init(maxLineBytes: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxLineBytes = maxLineBytes
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: 0)
    }

    /// Bytes received and not yet returned as lines (complete lines not pulled yet and the unfinished one).
    package var pendingBytes: Int { buffer.readableBytes }

    /// Adds bytes and returns every line they complete, in order. Throws when a line passes the bound; the
    /// lines before it in the same chunk are lost then (a caller that needs them pulls with `nextLine`).
    package mutating func feed(_ chunk: ByteBuffer) throws(Overflow) -> [ByteBuffer] {
        append(chunk)
        var lines: [ByteBuffer] = []
        while let line = try nextLine() { lines.append(line) }
        return lines
    }

    /// Adds bytes to what is pending. Takes `chunk`'s storage as is when nothing is pending; otherwise copies
    /// it behind the pending bytes (and the pending bytes into a fresh buffer, once, when lines were taken from
    /// the front, so the returned slices never force a copy of what is still pending).
    package mutating func append(_ chunk: ByteBuffer) {
        var chunk = chunk
        guard chunk.readableBytes > 0 else { return }
        if buffer.readableBytes == 0 {
            buffer = chunk
        } else if buffer.readerIndex > 0 {
            var fresh = allocator.buffer(capacity: buffer.readableBytes + chunk.readableBytes)
            fresh.writeBuffer(&buffer)
            fresh.writeBuffer(&chunk)
            buffer = fresh
        } else {
            buffer.writeBuffer(&chunk)
        }
    }

    /// The next complete, non-empty line, or nil when none is complete yet. Throws `Overflow` when the line
    /// being read is longer than `maxLineBytes`; the framer then stays on that line (every later call throws
    /// again) until `skipOverlongLine` drops it.
    package mutating func nextLine() throws(Overflow) -> ByteBuffer? {
        while let end = nextLineFeed() {
            if skipping {
                skipping = false
                consume(end + 1)
                continue
            }
            let hasCarriageReturn = end > 0 && buffer.getInteger(at: buffer.readerIndex + end - 1, as: UInt8.self) == UInt8(ascii: "\r")
            let length = hasCarriageReturn ? end - 1 : end
            guard length <= maxLineBytes else { throw Overflow(limit: maxLineBytes) }
            let line = length > 0 ? buffer.getSlice(at: buffer.readerIndex, length: length) : nil
            consume(end + 1)
            if let line { return line }
        }
        if skipping {
            consume(buffer.readableBytes)
        } else if buffer.readableBytes > maxLineBytes + 1
            || (buffer.readableBytes == maxLineBytes + 1
                && buffer.getInteger(at: buffer.writerIndex - 1, as: UInt8.self) != UInt8(ascii: "\r"))
        {
            // The unfinished line is already longer than the bound (one more byte may be the `\r` of its end).
            throw Overflow(limit: maxLineBytes)
        }
        return nil
    }

    /// After `nextLine` threw: drops the line it refused (what has arrived of it, and the rest up to its `\n`
    /// as it arrives) and returns its first `maxLineBytes` bytes, for a log. Reading goes on with `nextLine`.
    package mutating func skipOverlongLine() -> ByteBuffer {
        let end = nextLineFeed()
        let head = buffer.getSlice(at: buffer.readerIndex, length: min(maxLineBytes, end ?? buffer.readableBytes)) ?? ByteBuffer()
        if let end {
            consume(end + 1)
        } else {
            consume(buffer.readableBytes)
            skipping = true
        }
        return head
    }

    /// At the end of the stream: the unfinished last line (without a trailing `\r`), or nil when there is none
    /// or it is the rest of a line `skipOverlongLine` dropped. Only the first `maxLineBytes` bytes of it.
    package mutating func takeUnfinishedLine() -> ByteBuffer? {
        defer {
            consume(buffer.readableBytes)
            skipping = false
        }
        guard !skipping else { return nil }
        var length = buffer.readableBytes
        if length > 0, buffer.getInteger(at: buffer.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") { length -= 1 }
        guard length > 0 else { return nil }
        return buffer.getSlice(at: buffer.readerIndex, length: min(length, maxLineBytes))
    }

    // MARK: Private

    /// The offset (from the reader index) of the next `\n`, searching only bytes not examined before.
    private mutating func nextLineFeed() -> Int? {
        if let lineFeed { return lineFeed }
        let start = searchedTo
        let end = buffer.readableBytes
        guard start < end else { return nil }
        let hit = buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let base = raw.baseAddress, let match = memchr(base + start, Int32(UInt8(ascii: "\n")), end - start) else {
                return nil
            }
            return base.distance(to: UnsafeRawPointer(match))
        }
        searchedTo = hit.map { $0 + 1 } ?? end
        bytesScanned += searchedTo - start
        lineFeed = hit
        return hit
    }

    /// Drops the first `count` bytes (a line and its end, or bytes being skipped).
    private mutating func consume(_ count: Int) {
        buffer.moveReaderIndex(forwardBy: count)
        searchedTo = max(0, searchedTo - count)
        lineFeed = lineFeed.flatMap { $0 >= count ? $0 - count : nil }
        if buffer.readableBytes == 0 {
            // Let go of the storage (the lines handed out keep what they need).
            buffer = allocator.buffer(capacity: 0)
            searchedTo = 0
        }
    }
}
