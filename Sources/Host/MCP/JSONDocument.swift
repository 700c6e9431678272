import CJansson
import Synchronization

/// One parsed JSON value owned through jansson's reference count: the form in which the gateway holds an
/// MCP message (and lends it to filter plugins as `const json_t *`).
///
/// Not `Sendable`: a document lives on the event loop of the exchange that parsed it.
final class JSONDocument {
    /// The root value; one reference owned by this object.
    let root: UnsafeMutablePointer<json_t>

    /// About how many bytes the tree holds, when it is large enough to be worth a memory trim once freed.
    private var approximateBytes = 0

    /// Takes over one reference to `root`.
    init(owning root: UnsafeMutablePointer<json_t>) {
        self.root = root
    }

    deinit {
        json_decref(root)
        MemoryTrim.noteLargeFree(bytes: approximateBytes)
    }

    /// Parses exactly one JSON text (UTF-8, whole buffer; trailing garbage is an error).
    /// Returns nil with jansson's message when the bytes are not JSON, or when they hold more values than
    /// `JSONPrescan.nodeLimit` (refused before any tree is built). Integers outside int64 (valid JSON that
    /// jansson refuses) are parsed as the nearest real; see `JSONPrescan.approximatingBigIntegers`.
    static func parse(
        _ bytes: UnsafeRawBufferPointer, nodeLimit: Int = JSONPrescan.nodeLimit.load(ordering: .relaxed)
    ) -> Result<JSONDocument, JSONParseFailure> {
        let limit = nodeLimit
        let prescan = JSONPrescan(bytes, limit: limit)
        if prescan.nodes > limit {
            return .failure(JSONParseFailure(message: "more than \(limit) JSON values", position: 0))
        }
        let parsed = prescan.bigIntegers.isEmpty
            ? parseExactly(bytes) : prescan.approximatingBigIntegers(bytes).withUnsafeBytes { parseExactly($0) }
        if case .success(let document) = parsed {
            // ~100 bytes per value (jansson node + hash table slot + malloc overhead) plus the strings.
            document.approximateBytes = prescan.nodes * 100 + bytes.count
        }
        return parsed
    }

    /// jansson's parse of the whole buffer.
    private static func parseExactly(_ bytes: UnsafeRawBufferPointer) -> Result<JSONDocument, JSONParseFailure> {
        var error = json_error_t()
        guard let base = bytes.baseAddress,
            let value = json_loadb(base.assumingMemoryBound(to: CChar.self), bytes.count, Int(JSON_DECODE_ANY), &error)
        else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return .failure(JSONParseFailure(message: message.isEmpty ? "empty body" : message, position: Int(error.position)))
        }
        return .success(JSONDocument(owning: value))
    }

    /// The compact serialization of `root` (what is sent when a message had to be changed).
    func serialized() -> [UInt8] {
        JSONValueRef(root).serialized()
    }
}

/// Why a body is not JSON.
struct JSONParseFailure: Error {
    var message: String
    var position: Int
}

/// A borrowed view of a jansson value: valid only while its owning `JSONDocument` lives.
struct JSONValueRef {
    let pointer: UnsafeMutablePointer<json_t>

    init(_ pointer: UnsafeMutablePointer<json_t>) {
        self.pointer = pointer
    }

    var type: json_type { pointer.pointee.type }
    var isObject: Bool { type == JSON_OBJECT }
    var isString: Bool { type == JSON_STRING }
    var isInteger: Bool { type == JSON_INTEGER }
    var isNull: Bool { type == JSON_NULL }
    var isNumber: Bool { type == JSON_INTEGER || type == JSON_REAL }
    var isBool: Bool { type == JSON_TRUE || type == JSON_FALSE }

    /// The member `key` of an object, or nil.
    subscript(key: String) -> JSONValueRef? {
        guard isObject, let child = json_object_get(pointer, key) else { return nil }
        return JSONValueRef(child)
    }

    /// The string value, or nil when this is not a string.
    var string: String? {
        guard isString, let chars = json_string_value(pointer) else { return nil }
        let length = json_string_length(pointer)
        return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    var integer: Int64? { isInteger ? Int64(json_integer_value(pointer)) : nil }

    var double: Double? { isNumber ? json_number_value(pointer) : nil }

    var bool: Bool? {
        switch type {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: return nil
        }
    }

    /// Compact serialization of this value (any type, not only objects and arrays).
    func serialized() -> [UInt8] {
        let flags = Int(JSON_COMPACT) | Int(JSON_ENCODE_ANY)
        let size = json_dumpb(pointer, nil, 0, flags)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized = buffer.baseAddress.map { base in
                json_dumpb(pointer, UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self), size, flags)
            } ?? 0
        }
    }

    /// Sets `key` of this object to a new string value.
    func set(_ key: String, string value: String) {
        guard isObject, let newValue = json_stringn(value, value.utf8.count) else { return }
        json_object_set_new(pointer, key, newValue)
    }
}
