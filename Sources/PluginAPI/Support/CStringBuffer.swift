#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An owned, NUL-terminated copy of some bytes in C memory, handed to plugins as a borrowed
/// `mcpgate_str`. The pointer stays valid (and does not move) until the buffer is deinitialised.
///
/// Not thread-safe to share while mutating; it is never mutated after creation.
final class CStringBuffer: @unchecked Sendable {
    /// The bytes, followed by one NUL.
    let pointer: UnsafeMutablePointer<CChar>
    /// Number of bytes before the NUL.
    let count: Int

    init(_ string: String) {
        var copy = string
        let result = copy.withUTF8 { utf8 in
            CStringBuffer.copy(UnsafeRawBufferPointer(utf8))
        }
        pointer = result.0
        count = result.1
    }

    init(bytes: UnsafeRawBufferPointer) {
        (pointer, count) = CStringBuffer.copy(bytes)
    }

    init<C: Collection>(bytes: C) where C.Element == UInt8 {
        let array = Array(bytes)
        (pointer, count) = array.withUnsafeBytes { CStringBuffer.copy($0) }
    }

    private static func copy(_ bytes: UnsafeRawBufferPointer) -> (UnsafeMutablePointer<CChar>, Int) {
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        if let base = bytes.baseAddress, bytes.count > 0 {
            UnsafeMutableRawPointer(storage).copyMemory(from: base, byteCount: bytes.count)
        }
        storage[bytes.count] = 0
        return (storage, bytes.count)
    }

    deinit {
        pointer.deallocate()
    }

    /// The bytes as a Swift string (invalid UTF-8 repaired).
    var string: String {
        String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
