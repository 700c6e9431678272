import CMCPGate

/// The request's method, path, remote address, session id and protocol version as C strings, in one
/// allocation, for the `mcpgate_http_request` / `mcpgate_rpc_message` fields. Immutable; rebuilt by
/// `RequestContext` when the host changes the session id or protocol version.
final class RequestStrings {
    let method: mcpgate_str
    let path: mcpgate_str
    let remoteAddress: mcpgate_str
    let sessionID: mcpgate_str
    let protocolVersion: mcpgate_str
    private let storage: UnsafeMutablePointer<CChar>

    init(_ http: FilterHTTPRequest) {
        let parts = [http.method, http.path, http.remoteAddress ?? "", http.sessionID ?? "", http.protocolVersion ?? ""]
        let total = parts.reduce(0) { $0 + $1.utf8.count + 1 }
        storage = UnsafeMutablePointer<CChar>.allocate(capacity: total)
        var strings: [mcpgate_str] = []
        strings.reserveCapacity(5)
        var offset = 0
        for part in parts {
            let start = storage + offset
            for byte in part.utf8 {
                storage[offset] = CChar(bitPattern: byte)
                offset += 1
            }
            storage[offset] = 0
            offset += 1
            strings.append(mcpgate_str(ptr: UnsafePointer(start), len: part.utf8.count))
        }
        method = strings[0]
        path = strings[1]
        remoteAddress = strings[2]
        sessionID = strings[3]
        protocolVersion = strings[4]
    }

    deinit {
        storage.deallocate()
    }
}
