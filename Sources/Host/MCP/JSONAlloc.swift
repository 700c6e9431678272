import CJansson
import CMCPGate

/// jansson constructors that only fail when memory is exhausted, where the process cannot go on anyway.
enum JSONAlloc {
    static func object() -> UnsafeMutablePointer<json_t> {
        guard let object = json_object() else { fatalError("jansson: out of memory") }
        return object
    }

    static func array() -> UnsafeMutablePointer<json_t> {
        guard let array = json_array() else { fatalError("jansson: out of memory") }
        return array
    }
}
