import NIOHTTP1

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
        JSONText.appendString(message, to: &out)
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
        JSONText.appendString(requested, to: &data)
        data += "}"
        return GatewayError(.badRequest, code: -32022, "Unsupported protocol version", dataJSON: data)
    }

    static func upstream(_ status: HTTPResponseStatus, target: String, _ message: String) -> GatewayError {
        var data = "{\"target\":"
        JSONText.appendString(target, to: &data)
        data += "}"
        return GatewayError(status, code: -32603, message, dataJSON: data)
    }
}

/// Minimal JSON text building for the few bodies the gateway writes by hand.
enum JSONText {
    /// Appends `value` as a JSON string literal (quoted, escaped).
    static func appendString(_ value: String, to out: inout String) {
        out.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out.append("\\\"")
            case "\\": out.append("\\\\")
            case "\n": out.append("\\n")
            case "\r": out.append("\\r")
            case "\t": out.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    static func quoted(_ value: String) -> String {
        var out = ""
        appendString(value, to: &out)
        return out
    }
}
