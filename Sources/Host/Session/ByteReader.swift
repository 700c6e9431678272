/// A cursor over a byte array for strict binary decoding: every read checks the bounds and
/// returns nil instead of trapping when the input is short.
package struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// True when every byte has been read.
    package var isAtEnd: Bool { offset == bytes.count }

    package mutating func readUInt8() -> UInt8? {
        guard offset < bytes.count else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readUInt16() -> UInt16? {
        guard bytes.count - offset >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    package mutating func readUInt64() -> UInt64? {
        guard bytes.count - offset >= 8 else { return nil }
        var value: UInt64 = 0
        for index in offset..<offset + 8 {
            value = value << 8 | UInt64(bytes[index])
        }
        offset += 8
        return value
    }

    package mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Reads a `u16 length | UTF-8 bytes` string; nil when short, longer than `maxByteCount`, or
    /// not valid UTF-8.
    package mutating func readString(maxByteCount: Int) -> String? {
        guard let length = readUInt16(), Int(length) <= maxByteCount, let utf8 = readBytes(Int(length)) else {
            return nil
        }
        return String(validating: utf8, as: UTF8.self)
    }
}
