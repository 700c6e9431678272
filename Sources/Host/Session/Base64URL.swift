/// Base64url (RFC 4648 §5) without padding, on byte arrays, with no Foundation in between.
///
/// Encoding emits only `A-Z a-z 0-9 - _`. Decoding is strict and canonical: it refuses padding,
/// whitespace, any other character, a length that leaves a lone 6-bit group, and non-zero unused
/// bits in the last character. So every byte string has exactly one accepted encoding, and a token
/// that differs from a sealed one in any bit never decodes to the same bytes.
package enum Base64URL {
    /// The 64 output characters, indexed by 6-bit value.
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Maps an input byte to its 6-bit value, or to `invalid` when it is not in the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    private static let invalid: UInt8 = 0xFF

    /// The number of characters `encode` produces for `byteCount` bytes.
    package static func encodedCount(_ byteCount: Int) -> Int {
        (byteCount / 3) * 4 + [0, 2, 3][byteCount % 3]
    }

    /// Encodes `bytes` as unpadded base64url.
    package static func encode(_ bytes: [UInt8]) -> String {
        let outputCount = encodedCount(bytes.count)
        if outputCount == 0 { return "" }
        return alphabet.withUnsafeBufferPointer { alphabet in
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
                    case 2:
                        let group = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8
                        output[outIndex] = alphabet[Int(group >> 18)]
                        output[outIndex + 1] = alphabet[Int(group >> 12 & 0x3F)]
                        output[outIndex + 2] = alphabet[Int(group >> 6 & 0x3F)]
                        outIndex += 3
                    default:
                        break
                    }
                    return outIndex
                }
            }
        }
    }

    /// Decodes unpadded base64url, or returns nil when `text` is not the canonical encoding of any
    /// byte string (see the type's comment).
    package static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        if let decoded = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) {
            return decoded
        }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    private static func decode(buffer input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
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
}
