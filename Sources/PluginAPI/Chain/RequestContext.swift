import CMCPGate

/// The object behind a plugin's `mcpgate_request *`: everything host functions taking a request
/// reach (headers, attributes, queued header edits). Owned by one `FilterChainRequest` and confined to
/// its event loop; C sees it only during hooks.
final class RequestContext {
    var http: FilterHTTPRequest
    /// Response headers, readable only during `on_response_headers`.
    var responseHeaders: [(name: String, value: String)]? = nil
    /// The hook running now, nil between hooks (host calls outside hooks fail with ERR_STATE).
    var currentHook: FilterHook? = nil
    var attributes: [String: RequestAttribute] = [:]
    var upstreamEdits: [FilterHeaderEdit] = []
    var responseEdits: [FilterHeaderEdit] = []
    /// Values lent by header_get during the current hook; released after it returns.
    var lent: [CStringBuffer] = []

    private(set) lazy var methodBuffer = CStringBuffer(http.method)
    private(set) lazy var pathBuffer = CStringBuffer(http.path)
    private(set) lazy var remoteAddressBuffer = CStringBuffer(http.remoteAddress ?? "")
    var sessionIDBuffer: CStringBuffer?
    var protocolVersionBuffer: CStringBuffer?

    init(http: FilterHTTPRequest) {
        self.http = http
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer) -> RequestContext {
        Unmanaged<RequestContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    var sessionID: mcpgate_str {
        guard let value = http.sessionID else { return .empty }
        if sessionIDBuffer == nil { sessionIDBuffer = CStringBuffer(value) }
        return sessionIDBuffer.map { mcpgate_str($0) } ?? .empty
    }

    var protocolVersion: mcpgate_str {
        guard let value = http.protocolVersion else { return .empty }
        if protocolVersionBuffer == nil { protocolVersionBuffer = CStringBuffer(value) }
        return protocolVersionBuffer.map { mcpgate_str($0) } ?? .empty
    }

    /// Lends `value` to C until the current hook returns.
    func lend(_ value: String) -> mcpgate_str {
        let buffer = CStringBuffer(value)
        lent.append(buffer)
        return mcpgate_str(buffer)
    }

    func endHook() {
        currentHook = nil
        if !lent.isEmpty { lent.removeAll(keepingCapacity: true) }
    }
}
