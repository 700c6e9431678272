import Synchronization

/// One linear pass over a JSON text before jansson builds a tree of it: how many values the tree would hold (each
/// costs about 100 bytes however small it is in the text, so a 4 MiB body of `[]` would cost ~175 MB), and which
/// integer literals lie outside int64 (valid JSON, which jansson refuses with "too big integer").
///
/// It does not validate: jansson does that on the real parse. A value type; no state is shared.
public struct JSONPrescan: Sendable {
    /// The most values one document may hold, for every document the gateway parses (`config.limits.maxJsonNodes`;
    /// set when a configuration is installed, read on every parse).
    public static let nodeLimit = Atomic<Int>(200_000)

    /// Values counted (objects, arrays, strings including keys, numbers, literals), up to the limit + 1.
    public private(set) var nodes = 0
    /// Byte ranges of integer literals outside int64.
    public private(set) var bigIntegers: [Range<Int>] = []

    /// Scans `bytes`; stops counting past `limit` (the result then has `nodes > limit`).
    public init(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        var inString = false
        var escaped = false
        var tokenStart = -1
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                index += 1
                continue
            }
            if tokenStart >= 0 {
                if Self.isTokenByte(byte) {
                    index += 1
                    continue
                }
                noteToken(bytes, tokenStart..<index)
                tokenStart = -1
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                nodes += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                nodes += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                nodes += 1
                tokenStart = index
            default:
                break
            }
            if nodes > limit { return }
            index += 1
        }
        if tokenStart >= 0 { noteToken(bytes, tokenStart..<count) }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    /// Records `range` if it is an integer literal outside int64 (a fraction or exponent makes it a real).
    private mutating func noteToken(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) {
        var digits = 0
        var negative = false
        for index in range {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "-") where index == range.lowerBound: negative = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            default: return  // a real, a literal or not a number at all
            }
        }
        guard digits >= 19 else { return }
        if digits > 19 {
            bigIntegers.append(range)
            return
        }
        let limit = negative ? "9223372036854775808" : "9223372036854775807"
        let text = bytes[(negative ? range.lowerBound + 1 : range.lowerBound)..<range.upperBound]
        if text.lexicographicallyPrecedes(limit.utf8) || text.elementsEqual(limit.utf8) { return }
        bigIntegers.append(range)
    }

    /// A copy of `bytes` in which every integer outside int64 is written as the nearest double (clamped to the
    /// largest finite one), which jansson parses as a real: the tree keeps the magnitude (a schema's
    /// `maximum: 18446744073709551615` stays ~1.8e19), an `id` of that kind is no longer an integer (and is refused as
    /// such), and the original bytes are what the gateway forwards when it changes nothing.
    public func approximatingBigIntegers(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bigIntegers.count * 8)
        var position = 0
        for range in bigIntegers {
            out.append(contentsOf: bytes[position..<range.lowerBound])
            let literal = String(decoding: bytes[range], as: UTF8.self)
            var value = Double(literal) ?? 0
            if !value.isFinite { value = value < 0 ? -Double.greatestFiniteMagnitude : Double.greatestFiniteMagnitude }
            var text = "\(value)"
            if !text.contains(".") && !text.contains("e") { text += ".0" }
            out.append(contentsOf: text.utf8)
            position = range.upperBound
        }
        out.append(contentsOf: bytes[position..<bytes.count])
        return out
    }
}
