/// A REJECT decision (or a plugin failure failing closed): what the client gets instead of the
/// upstream's answer.
public struct FilterRejection: Sendable, Equatable {
    /// HTTP status for the reply (403 unless the plugin chose; 500 for plugin failures).
    public var httpStatus: Int
    /// JSON-RPC error code (-32600 unless the plugin chose; -32603 for plugin failures).
    public var rpcCode: Int
    /// JSON-RPC error message.
    public var message: String
    /// `error.data` as compact JSON text, if the plugin gave one.
    public var dataJSON: String?
    /// The instance that decided.
    public var instance: String
    /// True when this is a plugin failure failing closed, not a policy decision.
    public var isPluginFailure: Bool

    /// Creates a rejection.
    public init(httpStatus: Int, rpcCode: Int, message: String, dataJSON: String? = nil, instance: String, isPluginFailure: Bool = false) {
        self.httpStatus = httpStatus
        self.rpcCode = rpcCode
        self.message = message
        self.dataJSON = dataJSON
        self.instance = instance
        self.isPluginFailure = isPluginFailure
    }

    /// The JSON-RPC error object `{"code":…,"message":…,"data":…}` as JSON text.
    public var errorObjectJSON: String {
        var out = "{\"code\":\(rpcCode),\"message\":\(JSONString.quote(message))"
        if let dataJSON { out += ",\"data\":\(dataJSON)" }
        return out + "}"
    }

    /// A whole JSON-RPC error response. `idJSON` is the request's id as JSON text ("7", "\"a\"", or
    /// "null" when unknown: the host fills ids, plugins never do).
    public func responseBody(idJSON: String) -> String {
        "{\"jsonrpc\":\"2.0\",\"id\":\(idJSON),\"error\":\(errorObjectJSON)}"
    }
}
