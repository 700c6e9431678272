/// The value encoding of `Mcp-Name` and `Mcp-Param-*` headers (2026-07-28): plain printable ASCII as is,
/// anything else as `=?base64?<base64 of UTF-8>?=`.
enum MCPHeaderValue {
    private static let prefix = "=?base64?"
    private static let suffix = "?="

    /// Decodes a header value; nil when it uses the base64 form but is not canonical base64 of UTF-8.
    static func decode(_ value: String) -> String? {
        guard value.hasPrefix(prefix), value.hasSuffix(suffix), value.utf8.count >= prefix.utf8.count + suffix.utf8.count else {
            return value
        }
        let inner = value.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard let bytes = Base64.decodeCanonical(inner) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return text
    }

    /// Encodes a value the way the SDK client does.
    static func encode(_ value: String) -> String {
        let needsEncoding =
            value.utf8.contains { $0 < 0x20 || $0 > 0x7E }
            || value.first.map { $0 == " " || $0 == "\t" } ?? false
            || value.last.map { $0 == " " || $0 == "\t" } ?? false
            || (value.hasPrefix(prefix) && value.hasSuffix(suffix))
        guard needsEncoding else { return value }
        return prefix + Base64.encode(Array(value.utf8)) + suffix
    }
}

/// Standard (padded) base64, strict: the decoder accepts only the canonical encoding.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded base64; nil unless `encode(decoded) == input`.
    static func decodeCanonical<C: Collection>(_ input: C) -> [UInt8]? where C.Element == UInt8 {
        let chars = Array(input)
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var index = 0
        while index < chars.count {
            let isLast = index + 4 == chars.count
            let c2 = chars[index + 2], c3 = chars[index + 3]
            let pad = (c3 == UInt8(ascii: "=") ? 1 : 0) + (c2 == UInt8(ascii: "=") ? 1 : 0)
            if pad > 0 && !isLast { return nil }
            if c2 == UInt8(ascii: "=") && c3 != UInt8(ascii: "=") { return nil }
            var n: UInt32 = 0
            for offset in 0..<(4 - pad) {
                let value = reverse[Int(chars[index + offset])]
                if value == 0xFF { return nil }
                n |= UInt32(value) << UInt32(18 - 6 * offset)
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if pad < 1 { out.append(UInt8(n & 0xFF)) }
            // Canonical: the bits dropped by padding must be zero.
            if pad == 1 && n & 0xFF != 0 { return nil }
            if pad == 2 && n & 0xFFFF != 0 { return nil }
            index += 4
        }
        return out
    }
}
