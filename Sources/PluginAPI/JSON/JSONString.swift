/// The one JSON string escaper, for the JSON texts built by hand (gateway error bodies, a filter's rejection, the
/// admin summary, policy configs handed to plugins) and for quoting values in configuration error messages.
///
/// The output is a JSON string literal (RFC 8259 §7), byte for byte what the gateway's error bodies and the chain
/// wrote before this type replaced their escapers:
///
/// | input                                  | output                         |
/// |----------------------------------------|--------------------------------|
/// | `"` and `\`                            | `\"` and `\\`                  |
/// | line feed, carriage return, tab        | `\n`, `\r`, `\t`               |
/// | any other U+0000 to U+001F             | `\u00XX`, lowercase hex        |
/// | U+007F (delete)                        | itself, or `\u007f` when `escapingDelete` |
/// | everything else, non-ASCII included    | itself, as UTF-8               |
///
/// No other shortcut escapes (`\b`, `\f`, `\/`) are written. The input is a Swift `String`, which is always valid
/// UTF-8 (bytes that were not became U+FFFD when the string was made), so there is no invalid-UTF-8 case here: a
/// U+FFFD is written as itself. Stateless; callable from any thread.
public enum JSONString {
    /// `value` as a JSON string literal, quotes included.
    public static func quote(_ value: some StringProtocol, escapingDelete: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 2)
        append(value, to: &out, escapingDelete: escapingDelete)
        return out
    }

    /// Appends `value` to `out` as a JSON string literal, quotes included.
    public static func append(_ value: some StringProtocol, to out: inout String, escapingDelete: Bool = false) {
        out.append("\"")
        appendEscaped(value, to: &out, escapingDelete: escapingDelete)
        out.append("\"")
    }

    /// Appends the escaped characters of `value` to `out`, without the surrounding quotes (for a caller that
    /// writes something more before the closing quote, such as a `…` for a shortened value).
    public static func appendEscaped(_ value: some StringProtocol, to out: inout String, escapingDelete: Bool = false) {
        // Only ASCII bytes are ever escaped, and UTF-8 never uses them inside a multi-byte sequence: most values
        // need no escape at all and are appended whole.
        guard value.utf8.contains(where: { needsEscape($0, escapingDelete: escapingDelete) }) else {
            out.append(contentsOf: value)
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20 || (escapingDelete && scalar.value == 0x7F):
                out.append("\\u00")
                out.unicodeScalars.append(hexDigits[Int(scalar.value >> 4)])
                out.unicodeScalars.append(hexDigits[Int(scalar.value & 0xF)])
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    private static let hexDigits: [Unicode.Scalar] = Array("0123456789abcdef".unicodeScalars)

    private static func needsEscape(_ byte: UInt8, escapingDelete: Bool) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (escapingDelete && byte == 0x7F)
    }
}
