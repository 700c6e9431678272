import CJansson
import CMCPGate

/// A borrowed view of a jansson value: valid only while its owner (a `JSONDocument`, or the plugin or chain that
/// lent the pointer) holds it. Takes no reference; copying it copies the pointer.
///
/// The readers are `@inlinable`: the host reads messages through them on every request, across the module line.
public struct JSONValueRef {
    /// The value; borrowed, never released by this view.
    public let pointer: UnsafeMutablePointer<json_t>

    @inlinable
    public init(_ pointer: UnsafeMutablePointer<json_t>) {
        self.pointer = pointer
    }

    @inlinable public var type: json_type { pointer.pointee.type }
    @inlinable public var isObject: Bool { type == JSON_OBJECT }
    @inlinable public var isString: Bool { type == JSON_STRING }
    @inlinable public var isInteger: Bool { type == JSON_INTEGER }
    @inlinable public var isNull: Bool { type == JSON_NULL }
    @inlinable public var isNumber: Bool { type == JSON_INTEGER || type == JSON_REAL }
    @inlinable public var isBool: Bool { type == JSON_TRUE || type == JSON_FALSE }

    /// The member `key` of an object, or nil.
    @inlinable
    public subscript(key: String) -> JSONValueRef? {
        guard isObject, let child = json_object_get(pointer, key) else { return nil }
        return JSONValueRef(child)
    }

    /// The string value (all of it, NULs included), or nil when this is not a string.
    @inlinable
    public var string: String? {
        guard isString, let chars = json_string_value(pointer) else { return nil }
        let length = json_string_length(pointer)
        return chars.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    @inlinable public var integer: Int64? { isInteger ? Int64(json_integer_value(pointer)) : nil }

    @inlinable public var double: Double? { isNumber ? json_number_value(pointer) : nil }

    @inlinable
    public var bool: Bool? {
        switch type {
        case JSON_TRUE: return true
        case JSON_FALSE: return false
        default: return nil
        }
    }

    /// Compact serialization of this value (any type, not only objects and arrays); empty only when jansson
    /// cannot serialize it (out of memory).
    public func serialized() -> [UInt8] {
        let flags = Int(JSON_COMPACT) | Int(JSON_ENCODE_ANY)
        let size = json_dumpb(pointer, nil, 0, flags)
        guard size > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            initialized =
                buffer.baseAddress.map { base in
                    json_dumpb(pointer, UnsafeMutableRawPointer(base).assumingMemoryBound(to: CChar.self), size, flags)
                } ?? 0
        }
    }

    /// `serialized()` as text, or nil when jansson cannot serialize the value.
    public func serializedText() -> String? {
        let bytes = serialized()
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    /// Sets `key` of this object to a new string value.
    public func set(_ key: String, string value: String) {
        guard isObject, let newValue = json_stringn(value, value.utf8.count) else { return }
        json_object_set_new(pointer, key, newValue)
    }
}
