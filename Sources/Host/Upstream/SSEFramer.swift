import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One server-sent event as it arrived: its original bytes (up to and including the blank line that ends
/// it) and its fields.
package struct SSEEvent {
    /// The event exactly as received, ready to relay unchanged.
    package var raw: ByteBuffer
    /// `data:` lines joined with `\n`; nil when the event had no data field.
    package var data: ByteBuffer?
    package var eventType: String?
    package var id: String?
    package var retry: String?

    /// True for keep-alive comments and other events without any field.
    package var isEmpty: Bool { data == nil && eventType == nil && id == nil && retry == nil }

    /// Serializes an event carrying `data` (one JSON message) with the given type and id.
    package static func encode(
        data: some Collection<UInt8>, eventType: String? = "message", id: String? = nil, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var out = allocator.buffer(capacity: data.count + 32)
        if let eventType { out.writeString("event: \(eventType)\n") }
        if let id { out.writeString("id: \(id)\n") }
        out.writeString("data: ")
        out.writeBytes(data)
        out.writeString("\n\n")
        return out
    }
}

/// Splits a `text/event-stream` body into events as bytes arrive, in any chunking, with `\n`, `\r\n` or `\r`
/// line endings (WHATWG "event stream interpretation"). Holds at most one partial event, bounded by
/// `maxEventBytes`.
///
/// Linear in the bytes received, however they are chunked: the search for line ends resumes where the last
/// chunk left it (with `memchr`, never byte by byte from the start of the line), each byte is examined at
/// most once per kind of line end, and the unfinished event is copied only when it is appended to or
/// when a completed event before it is dropped. A 16 MiB `data:` line fed in 1 KiB chunks costs 16 MiB of
/// scanning, not the 128 GiB a rescan from the line's start would (`bytesScanned` lets tests hold it to that).
///
/// A value type owned by one upstream response; not shared between threads.
package struct SSEFramer {
    package enum FramingError: Error { case eventTooLarge }

    private let maxEventBytes: Int
    private let allocator: ByteBufferAllocator
    /// The bytes not yet part of a returned event. Every offset below counts from its reader index, which
    /// is where the oldest unfinished event starts between calls.
    private var buffer: ByteBuffer
    /// Where the event being assembled starts (above 0 only while `feed` runs).
    private var eventStart = 0
    /// Where the line being assembled starts.
    private var lineStart = 0
    private var carriageReturns = ByteScan(byte: UInt8(ascii: "\r"))
    private var lineFeeds = ByteScan(byte: UInt8(ascii: "\n"))
    /// The first `data:` value of the event, as offsets into `buffer` (sliced, not copied, when the event ends).
    private var firstData: Range<Int>?
    /// Every `data:` value joined, once the event has a second one.
    private var joinedData: ByteBuffer?
    private var eventType: String?
    private var id: String?
    private var retry: String?
    /// Bytes examined while looking for line ends, over the framer's life: at most twice the bytes fed.
    private(set) var bytesScanned = 0

    package init(maxEventBytes: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxEventBytes = maxEventBytes
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: 0)
    }

    /// Adds bytes and returns every event they complete, in order.
    package mutating func feed(_ chunk: ByteBuffer) throws(FramingError) -> [SSEEvent] {
        append(chunk)
        var events: [SSEEvent] = []
        while let (position, length) = nextLineEnd() {
            if position == lineStart {
                events.append(dispatch(endingAt: position + length))
            } else {
                processLine(from: lineStart, to: position)
            }
            lineStart = position + length
        }
        if eventStart > 0 {
            // Completed events leave the buffer; their slices keep the bytes they need.
            buffer.moveReaderIndex(forwardBy: eventStart)
            lineStart -= eventStart
            carriageReturns.rebase(by: eventStart)
            lineFeeds.rebase(by: eventStart)
            firstData = firstData.map { ($0.lowerBound - eventStart)..<($0.upperBound - eventStart) }
            eventStart = 0
        }
        if buffer.readableBytes > maxEventBytes {
            throw .eventTooLarge
        }
        return events
    }

    /// Bytes received after the last complete event (a stream that ends here ended mid-event).
    package var pendingBytes: Int { buffer.readableBytes }

    // MARK: Private

    /// Appends `chunk` to the unfinished event. With nothing unfinished, the chunk itself becomes the buffer
    /// (no copy); after events were dropped from the front, the rest moves into a fresh buffer once, so the
    /// returned events' slices never force a copy-on-write of what is still pending.
    private mutating func append(_ chunk: ByteBuffer) {
        var chunk = chunk
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

    /// The next line end at or after `lineStart`: its offset and length (`\r\n` is 2), or nil when the line
    /// is unfinished, including a `\r` that is the last byte so far (it may be the first half of `\r\n`).
    private mutating func nextLineEnd() -> (Int, Int)? {
        let lineFeed = lineFeeds.next(from: lineStart, in: buffer, scanned: &bytesScanned)
        guard let carriageReturn = carriageReturns.next(from: lineStart, in: buffer, scanned: &bytesScanned) else {
            return lineFeed.map { ($0, 1) }
        }
        if let lineFeed, lineFeed < carriageReturn { return (lineFeed, 1) }
        if carriageReturn + 1 == lineFeed { return (carriageReturn, 2) }
        if carriageReturn + 1 >= buffer.readableBytes { return nil }
        return (carriageReturn, 1)
    }

    /// Ends the event being assembled at `end` (just past its blank line) and resets the fields.
    private mutating func dispatch(endingAt end: Int) -> SSEEvent {
        let start = buffer.readerIndex
        let raw = buffer.getSlice(at: start + eventStart, length: end - eventStart) ?? ByteBuffer()
        let data = joinedData ?? firstData.flatMap { buffer.getSlice(at: start + $0.lowerBound, length: $0.count) }
        let event = SSEEvent(raw: raw, data: data, eventType: eventType, id: id, retry: retry)
        eventStart = end
        firstData = nil
        joinedData = nil
        eventType = nil
        id = nil
        retry = nil
        return event
    }

    /// Reads one field line (`name: value`, `name:value`, `name`); comments (`: …`) and unknown names are skipped.
    private mutating func processLine(from start: Int, to end: Int) {
        let view = buffer.readableBytesView
        guard view[view.startIndex + start] != UInt8(ascii: ":") else { return }  // a comment
        let line = view[(view.startIndex + start)..<(view.startIndex + end)]
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = line[line.startIndex..<(colon ?? line.endIndex)]
        var valueStart = colon.map { line.index(after: $0) } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart = line.index(after: valueStart) }
        let value = (valueStart - view.startIndex)..<end
        if name.elementsEqual(Self.dataName) {
            if let first = firstData {
                if joinedData == nil {
                    joinedData = ByteBuffer(bytes: view[(view.startIndex + first.lowerBound)..<(view.startIndex + first.upperBound)])
                }
                joinedData?.writeInteger(UInt8(ascii: "\n"))
                joinedData?.writeBytes(view[(view.startIndex + value.lowerBound)..<(view.startIndex + value.upperBound)])
            } else {
                firstData = value
            }
            return
        }
        let text = String(decoding: view[(view.startIndex + value.lowerBound)..<(view.startIndex + value.upperBound)], as: UTF8.self)
        if name.elementsEqual(Self.eventName) {
            eventType = text
        } else if name.elementsEqual(Self.idName) {
            id = text
        } else if name.elementsEqual(Self.retryName) {
            retry = text
        }
    }

    private static let dataName = Array("data".utf8)
    private static let eventName = Array("event".utf8)
    private static let idName = Array("id".utf8)
    private static let retryName = Array("retry".utf8)
}

/// Finds the next occurrence of one byte with `memchr` and remembers both the hit and how far the search
/// got, so that no byte is examined twice for it, however many chunks a line takes to arrive.
private struct ByteScan {
    package let byte: UInt8
    /// The offset of the next `byte` at or after the position last asked about, when one was found.
    private var found: Int?
    /// Every offset below this one, except `found`, was examined and is not `byte`.
    private var searchedTo = 0

    package init(byte: UInt8) {
        self.byte = byte
    }

    /// The offset of the first `byte` at or after `position` in `buffer`'s readable bytes, or nil when there is
    /// none yet. Adds the bytes it examined to `scanned`.
    package mutating func next(from position: Int, in buffer: ByteBuffer, scanned: inout Int) -> Int? {
        if let found, found >= position { return found }
        found = nil
        let start = max(position, searchedTo)
        let end = buffer.readableBytes
        guard start < end else { return nil }
        let byte = self.byte
        let hit = buffer.withUnsafeReadableBytes { raw -> Int? in
            guard let base = raw.baseAddress, let match = memchr(base + start, Int32(byte), end - start) else { return nil }
            return base.distance(to: UnsafeRawPointer(match))
        }
        searchedTo = hit.map { $0 + 1 } ?? end
        scanned += searchedTo - start
        found = hit
        return hit
    }

    /// The buffer's first `shift` bytes were dropped.
    package mutating func rebase(by shift: Int) {
        found = found.map { $0 - shift }
        searchedTo = max(0, searchedTo - shift)
    }
}
