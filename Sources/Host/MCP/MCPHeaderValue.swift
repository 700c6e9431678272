import MCPGateSession

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
        guard let bytes = Base64.standard.decode(inner) else { return nil }
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
        return prefix + Base64.standard.encode(Array(value.utf8)) + suffix
    }
}
