import CJansson
import CMCPGate

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small jansson helpers shared by the chain and the checker. Every function leaves reference counts
/// as it found them unless its name says it consumes.
enum JanssonText {
    /// Compact JSON text of `value` (jansson's `json_dumps` with `JSON_COMPACT | JSON_ENCODE_ANY`).
    static func compact(_ value: UnsafePointer<json_t>) -> String? {
        let flags = Int(JSON_COMPACT) | Int(JSON_ENCODE_ANY)
        guard let text = json_dumps(value, flags) else { return nil }
        defer { free(text) }
        return String(cString: text)
    }

    /// Parses JSON text (any value, duplicate keys rejected). The caller owns the result.
    static func parse(_ text: String) -> Result<UnsafeMutablePointer<json_t>, JanssonParseError> {
        var error = json_error_t()
        let flags = Int(JSON_REJECT_DUPLICATES) | Int(JSON_DECODE_ANY)
        let parsed = text.withCString { json_loads($0, flags, &error) }
        guard let parsed else {
            var text = error.text
            let capacity = MemoryLayout.size(ofValue: text)
            let message = withUnsafePointer(to: &text) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: capacity) { String(cString: $0) }
            }
            return .failure(JanssonParseError(line: Int(error.line), column: Int(error.column), message: message))
        }
        return .success(parsed)
    }

    /// The string value of `object[key]` if it is a JSON string.
    static func string(_ object: UnsafePointer<json_t>, _ key: String) -> String? {
        guard let value = json_object_get(object, key), json_is_string_value(value) else { return nil }
        return json_string_value(value).map { String(cString: $0) }
    }

    /// Whether `value` is a JSON string.
    static func json_is_string_value(_ value: UnsafePointer<json_t>) -> Bool {
        value.pointee.type == JSON_STRING
    }
}
