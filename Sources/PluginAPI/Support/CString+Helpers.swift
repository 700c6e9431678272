import CMCPGate

/// An empty, NUL-terminated C string with static storage, for `mcpgate_str` fields that have no value.
nonisolated(unsafe) let emptyCString: UnsafePointer<CChar> = {
    let storage = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    storage.initialize(to: 0)
    return UnsafePointer(storage)
}()

extension mcpgate_str {
    /// The empty host string `{"", 0}`.
    static var empty: mcpgate_str { mcpgate_str(ptr: emptyCString, len: 0) }

    /// A host string borrowing `buffer`'s storage (valid while `buffer` lives).
    init(_ buffer: CStringBuffer) {
        self.init(ptr: UnsafePointer(buffer.pointer), len: buffer.count)
    }

    /// The bytes as a Swift string; empty when `ptr` is NULL.
    var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    /// The bytes as an array; empty when `ptr` is NULL.
    var bytes: [UInt8] {
        guard let ptr, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: len))
    }

    /// The bytes as a buffer pointer (no copy); empty when `ptr` is NULL.
    var rawBuffer: UnsafeRawBufferPointer {
        guard let ptr, len > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: ptr, count: len)
    }
}

/// A C string from a host-to-Swift `const char *`, or nil when the pointer is NULL.
func optionalString(_ pointer: UnsafePointer<CChar>?) -> String? {
    pointer.map { String(cString: $0) }
}
