/// How an unquoted YAML scalar reads under the YAML 1.2 core schema (the schema agentgateway's serde_yaml uses):
/// `~`/`null` is null, `true`/`false` are booleans, `12`, `0x1F`, `1.5e3` are numbers, everything else is a string.
/// `yes`, `on` and `1_000` stay strings, as in YAML 1.2.
enum YAMLPlainScalar {
    /// The value an unquoted scalar stands for.
    enum Value: Equatable {
        case null
        case bool(Bool)
        case integer(Int64)
        case number(Double)
        case string(String)
    }

    static func isNull(_ text: String) -> Bool {
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    static func isNumberOrBool(_ text: String) -> Bool {
        switch resolve(text) {
        case .bool, .integer, .number: return true
        case .null, .string: return false
        }
    }

    /// Resolves unquoted `text` (core schema). Infinite and NaN floats resolve to `.number` too; JSON callers
    /// refuse them.
    static func resolve(_ text: String) -> Value {
        if isNull(text) { return .null }
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        let bytes = Array(text.utf8)
        if let integer = integer(bytes) { return integer }
        if isFloat(bytes), let double = Double(text) { return .number(double) }
        return .string(text)
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; decimal integers too large for Int64 become doubles.
    private static func integer(_ bytes: [UInt8]) -> Value? {
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0"),
            bytes[1] == UInt8(ascii: "x") || bytes[1] == UInt8(ascii: "o")
        {
            let radix = bytes[1] == UInt8(ascii: "x") ? 16 : 8
            guard let value = Int64(String(decoding: bytes[2...], as: UTF8.self), radix: radix) else { return nil }
            return .integer(value)
        }
        var digits = bytes[...]
        if let first = digits.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if let value = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .integer(value) }
        return Double(text).map { .number($0) }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
        var mantissa = digits()
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            mantissa += digits()
        }
        guard mantissa > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                index += 1
            }
            guard digits() > 0 else { return false }
        }
        return index == bytes.count
    }
}
