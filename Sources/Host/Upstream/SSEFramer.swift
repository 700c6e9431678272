import NIOCore

/// One server-sent event as it arrived: its original bytes (up to and including the blank line that ends
/// it) and its fields.
struct SSEEvent {
    /// The event exactly as received, ready to relay unchanged.
    var raw: ByteBuffer
    /// `data:` lines joined with `\n`; nil when the event had no data field.
    var data: ByteBuffer?
    var eventType: String?
    var id: String?
    var retry: String?

    /// True for keep-alive comments and other events without any field.
    var isEmpty: Bool { data == nil && eventType == nil && id == nil && retry == nil }

    /// Serializes an event carrying `data` (one JSON message) with the given type and id.
    static func encode(data: some Collection<UInt8>, eventType: String? = "message", id: String? = nil, allocator: ByteBufferAllocator) -> ByteBuffer {
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
/// A value type owned by one upstream response; not shared between threads.
struct SSEFramer {
    enum FramingError: Error { case eventTooLarge }

    private let maxEventBytes: Int
    private var buffer: ByteBuffer
    /// Where the event being assembled starts in `buffer`.
    private var eventStart: Int = 0
    /// Where the next line starts.
    private var lineStart: Int = 0
    private var data: ByteBuffer?
    private var eventType: String?
    private var id: String?
    private var retry: String?

    init(maxEventBytes: Int, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxEventBytes = maxEventBytes
        self.buffer = allocator.buffer(capacity: 0)
    }

    /// Adds bytes and returns every event they complete, in order.
    mutating func feed(_ chunk: ByteBuffer) throws(FramingError) -> [SSEEvent] {
        var chunk = chunk
        buffer.writeBuffer(&chunk)
        var events: [SSEEvent] = []
        let base = buffer.readerIndex
        let end = buffer.writerIndex
        var position = base + lineStart
        while position < end {
            guard let byte = buffer.getInteger(at: position, as: UInt8.self) else { break }
            if byte != 0x0A && byte != 0x0D {
                position += 1
                continue
            }
            var terminatorLength = 1
            if byte == 0x0D {
                if position + 1 >= end { break }  // need the next byte to tell "\r" from "\r\n"
                if buffer.getInteger(at: position + 1, as: UInt8.self) == 0x0A { terminatorLength = 2 }
            }
            let lineBegin = base + lineStart
            let lineLength = position - lineBegin
            if lineLength == 0 {
                let eventEnd = position + terminatorLength - base
                if let raw = buffer.getSlice(at: base + eventStart, length: eventEnd - eventStart) {
                    events.append(SSEEvent(raw: raw, data: data, eventType: eventType, id: id, retry: retry))
                }
                eventStart = eventEnd
                data = nil
                eventType = nil
                id = nil
                retry = nil
            } else {
                processLine(at: lineBegin, length: lineLength)
            }
            position += terminatorLength
            lineStart = position - base
        }
        if eventStart > 0 {
            buffer.moveReaderIndex(forwardBy: eventStart)
            buffer.discardReadBytes()
            lineStart -= eventStart
            eventStart = 0
        }
        if buffer.readableBytes > maxEventBytes {
            throw .eventTooLarge
        }
        return events
    }

    /// Bytes received after the last complete event (a stream that ends here ended mid-event).
    var pendingBytes: Int { buffer.readableBytes }

    private mutating func processLine(at start: Int, length: Int) {
        guard let line = buffer.getSlice(at: start, length: length) else { return }
        let view = line.readableBytesView
        if view.first == UInt8(ascii: ":") { return }  // comment
        let colon = view.firstIndex(of: UInt8(ascii: ":"))
        let nameEnd = colon ?? view.endIndex
        let name = String(decoding: view[view.startIndex..<nameEnd], as: UTF8.self)
        var valueStart = colon.map { view.index(after: $0) } ?? view.endIndex
        if valueStart < view.endIndex, view[valueStart] == UInt8(ascii: " ") { valueStart = view.index(after: valueStart) }
        let value = view[valueStart..<view.endIndex]
        switch name {
        case "data":
            if data == nil {
                data = ByteBuffer(bytes: value)
            } else {
                data?.writeInteger(UInt8(ascii: "\n"))
                data?.writeBytes(value)
            }
        case "event": eventType = String(decoding: value, as: UTF8.self)
        case "id": id = String(decoding: value, as: UTF8.self)
        case "retry": retry = String(decoding: value, as: UTF8.self)
        default: break
        }
    }
}
