/// A JSON-RPC request id as the key that pairs an upstream message with the request it answers. Strings are
/// held decoded, so `"\u00e9"` and `"é"` are the same id; numbers are integers (a fractional or out-of-range
/// number is not an id the gateway correlates).
package enum JSONRPCID: Hashable, Sendable, CustomStringConvertible {
    case int(Int64)
    case string(String)

    package var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        }
    }
}
