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

    private var stringsCache: RequestStrings?

    init(http: FilterHTTPRequest) {
        self.http = http
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ pointer: OpaquePointer) -> RequestContext {
        Unmanaged<RequestContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// The request's strings in C form, made on first use (one allocation).
    var strings: RequestStrings {
        if let stringsCache { return stringsCache }
        let made = RequestStrings(http)
        stringsCache = made
        return made
    }

    /// Forgets the C strings after the host changed the session id or protocol version. Strings lent
    /// to a hook that is still running are not affected: the host changes them between hooks.
    func invalidateStrings() {
        stringsCache = nil
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
