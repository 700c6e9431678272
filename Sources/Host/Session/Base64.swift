/// Base64 (RFC 4648) on byte arrays, with no Foundation in between: one codec for the two alphabets and with or
/// without padding. Session ids and cursors use `Base64.url` (§5, unpadded); the `=?base64?…?=` form of MCP header
/// values uses `Base64.standard` (§4, padded).
///
/// | codec                                   | alphabet, 62 and 63 | padding                  |
/// |-----------------------------------------|---------------------|--------------------------|
/// | `.url` (session ids, cursors)           | `-` `_`             | none; `=` is refused     |
/// | `.standard` (`=?base64?…?=` headers)    | `+` `/`             | `=` to a multiple of 4   |
/// | `Base64(alphabet:padded:)`              | either              | either                   |
///
/// Encoding emits only the alphabet's characters (and `=` when padded). Decoding is strict and canonical: it
/// refuses whitespace, any character outside the alphabet, the other alphabet's two characters, padding where the
/// codec has none and missing or misplaced padding where it has some, a length that leaves a lone 6-bit group, and
/// non-zero unused bits in the last character. So every byte string has exactly one accepted encoding per codec, and
/// a token that differs from a sealed one in any bit never decodes to the same bytes.
///
/// A value type with no state beyond its two settings; the lookup tables are built once per process.
public struct Base64: Sendable, Hashable {
    /// The two RFC 4648 alphabets; they differ in the characters for 62 and 63.
    public enum Alphabet: Sendable, Hashable {
        /// §4: `A-Z a-z 0-9 + /`.
        case standard
        /// §5, URL and filename safe: `A-Z a-z 0-9 - _`.
        case url
    }

    /// Which characters encode the 6-bit values.
    public let alphabet: Alphabet
    /// Whether the encoding is padded with `=` to a multiple of four characters (and decoding requires it).
    public let padded: Bool

    public init(alphabet: Alphabet, padded: Bool) {
        self.alphabet = alphabet
        self.padded = padded
    }

    /// Base64url without padding: session ids and cursors.
    public static let url = Base64(alphabet: .url, padded: false)
    /// Standard base64 with padding: the `=?base64?…?=` form of `Mcp-Name` and `Mcp-Param-*` values.
    public static let standard = Base64(alphabet: .standard, padded: true)

    /// The number of characters `encode` produces for `byteCount` bytes.
    public func encodedCount(_ byteCount: Int) -> Int {
        padded ? (byteCount + 2) / 3 * 4 : (byteCount / 3) * 4 + [0, 2, 3][byteCount % 3]
    }

    /// Encodes `bytes`.
    public func encode(_ bytes: [UInt8]) -> String {
        let outputCount = encodedCount(bytes.count)
        if outputCount == 0 { return "" }
        let padded = padded
        return Self.characters(alphabet).withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeBufferPointer { input in
                String(unsafeUninitializedCapacity: outputCount) { output in
                    var inIndex = 0
                    var outIndex = 0
                    let fullGroupsEnd = input.count - input.count % 3
                    while inIndex < fullGroupsEnd {
                        let group = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8 | UInt32(input[inIndex + 2])
                        output[outIndex] = alphabet[Int(group >> 18)]
                        output[outIndex + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        output[outIndex + 2] = alphabet[Int(group >> 6 & 0x3F)]
                        output[outIndex + 3] = alphabet[Int(group & 0x3F)]
                        inIndex += 3
                        outIndex += 4
                    }
                    switch input.count - fullGroupsEnd {
                    case 1:
                        let group = UInt32(input[inIndex]) << 16
                        output[outIndex] = alphabet[Int(group >> 18)]
                        output[outIndex + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        outIndex += 2
                        if padded {
                            output[outIndex] = Self.pad
                            output[outIndex + 1] = Self.pad
                            outIndex += 2
                        }
                    case 2:
                        let group = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8
                        output[outIndex] = alphabet[Int(group >> 18)]
                        output[outIndex + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        output[outIndex + 2] = alphabet[Int(group >> 6 & 0x3F)]
                        outIndex += 3
                        if padded {
                            output[outIndex] = Self.pad
                            outIndex += 1
                        }
                    default:
                        break
                    }
                    return outIndex
                }
            }
        }
    }

    /// Decodes `text`, or returns nil when it is not the canonical encoding of any byte string in this codec
    /// (see the type's comment).
    public func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) {
            return decoded
        }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    private func decode(buffer: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var input = buffer
        if padded {
            // A multiple of four characters, of which at most the last two are `=`; what is left decodes as unpadded.
            guard input.count % 4 == 0 else { return nil }
            var padding = 0
            while padding < 2, let last = input.last, last == Self.pad {
                input = UnsafeBufferPointer(rebasing: input.dropLast())
                padding += 1
            }
        }
        return Self.decodeUnpadded(input, values: Self.values(alphabet))
    }

    /// Decodes unpadded text with the 6-bit `values` table; `=` is not in any table, so stray padding is refused.
    private static func decodeUnpadded(_ input: UnsafeBufferPointer<UInt8>, values: [UInt8]) -> [UInt8]? {
        let remainder = input.count % 4
        if remainder == 1 { return nil }
        let outputCount = (input.count / 4) * 3 + (remainder == 0 ? 0 : remainder - 1)
        return values.withUnsafeBufferPointer { values -> [UInt8]? in
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { output, initializedCount in
                var inIndex = 0
                var outIndex = 0
                let fullGroupsEnd = input.count - remainder
                // Invalid characters map to 0xFF; OR-ing every value and testing bit 7 once per group
                // keeps the loop branch-free.
                while inIndex < fullGroupsEnd {
                    let a = values[Int(input[inIndex])]
                    let b = values[Int(input[inIndex + 1])]
                    let c = values[Int(input[inIndex + 2])]
                    let d = values[Int(input[inIndex + 3])]
                    if (a | b | c | d) & 0x80 != 0 {
                        valid = false
                        break
                    }
                    let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[outIndex] = UInt8(truncatingIfNeeded: group >> 16)
                    output[outIndex + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    output[outIndex + 2] = UInt8(truncatingIfNeeded: group)
                    inIndex += 4
                    outIndex += 3
                }
                if valid && remainder != 0 {
                    let a = values[Int(input[inIndex])]
                    let b = values[Int(input[inIndex + 1])]
                    let c = remainder == 3 ? values[Int(input[inIndex + 2])] : 0
                    // Canonical form: the bits past the last whole byte must be zero.
                    let unusedBits = remainder == 2 ? b & 0x0F : c & 0x03
                    if (a | b | c) & 0x80 != 0 || unusedBits != 0 {
                        valid = false
                    } else {
                        let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                        output[outIndex] = UInt8(truncatingIfNeeded: group >> 16)
                        outIndex += 1
                        if remainder == 3 {
                            output[outIndex] = UInt8(truncatingIfNeeded: group >> 8)
                            outIndex += 1
                        }
                    }
                }
                initializedCount = outIndex
            }
            return valid ? output : nil
        }
    }

    private static let pad = UInt8(ascii: "=")
    private static let invalid: UInt8 = 0xFF

    /// The 64 output characters of each alphabet, indexed by 6-bit value.
    private static let standardCharacters: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlCharacters: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Input byte to 6-bit value for each alphabet, `invalid` for every byte outside it.
    private static let standardValues = valueTable(standardCharacters)
    private static let urlValues = valueTable(urlCharacters)

    private static func characters(_ alphabet: Alphabet) -> [UInt8] {
        alphabet == .url ? urlCharacters : standardCharacters
    }

    private static func values(_ alphabet: Alphabet) -> [UInt8] {
        alphabet == .url ? urlValues : standardValues
    }

    private static func valueTable(_ characters: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, character) in characters.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }
}
