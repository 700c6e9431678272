import NIOHTTP1
import PluginAPI

/// An error the gateway answers itself: an HTTP status plus one JSON-RPC error object (docs/errors.md).
struct GatewayError: Error, Sendable {
    var status: HTTPResponseStatus
    var code: Int
    var message: String
    /// Already-serialized JSON for `error.data`, or nil.
    var dataJSON: String?
    /// Extra response headers (`Allow`, `Retry-After`, …).
    var headers: [(String, String)] = []

    init(_ status: HTTPResponseStatus, code: Int, _ message: String, dataJSON: String? = nil, headers: [(String, String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.dataJSON = dataJSON
        self.headers = headers
    }

    /// The response body: `{"jsonrpc":"2.0","id":…,"error":{…}}`.
    func body(idJSON: String) -> String {
        var out = "{\"jsonrpc\":\"2.0\",\"id\":\(idJSON),\"error\":{\"code\":\(code),\"message\":"
        JSONString.append(message, to: &out)
        if let dataJSON {
            out += ",\"data\":\(dataJSON)"
        }
        out += "}}"
        return out
    }
}

extension GatewayError {
    static let missingSession = GatewayError(.badRequest, code: -32600, "Bad Request: Missing session ID")
    static let sessionNotFound = GatewayError(.notFound, code: -32600, "Session not found")

    static func invalidRequest(_ message: String, status: HTTPResponseStatus = .badRequest) -> GatewayError {
        GatewayError(status, code: -32600, message)
    }

    static func headerMismatch(_ message: String) -> GatewayError {
        GatewayError(.badRequest, code: -32020, message)
    }

    static func unsupportedVersion(_ requested: String) -> GatewayError {
        var data = "{\"supported\":["
        data += ProtocolVersion.advertised.map { "\"\($0)\"" }.joined(separator: ",")
        data += "],\"requested\":"
        JSONString.append(requested, to: &data)
        data += "}"
        return GatewayError(.badRequest, code: -32022, "Unsupported protocol version", dataJSON: data)
    }

    static func upstream(_ status: HTTPResponseStatus, target: String, _ message: String) -> GatewayError {
        var data = "{\"target\":"
        JSONString.append(target, to: &data)
        data += "}"
        return GatewayError(status, code: -32603, message, dataJSON: data)
    }
}
