import MCPGateUpstream
import NIOHTTP1

/// What a request head alone decides, before any exchange exists.
extension MCPExchangeHandler {
    /// What the head alone already refuses, before any exchange: requests no MCP server can serve.
    /// The request target counts against `maxHeaderBytes` here; the header fields are bounded inside the HTTP
    /// decoder (`HeaderOverflowHandler`), before any head exists.
    static func refusal(of head: HTTPRequestHead, limits: Limits) -> GatewayError? {
        if head.uri.utf8.count > limits.maxHeaderBytes {
            return HeaderOverflowHandler.refusal(limit: limits.maxHeaderBytes)
        }
        if head.method == .CONNECT {
            return GatewayError(.methodNotAllowed, code: -32600, "Method Not Allowed", headers: [("allow", "GET, POST, DELETE")])
        }
        let hosts = head.headers["host"]
        if hosts.count > 1 {
            return GatewayError(.badRequest, code: -32600, "Bad Request: more than one Host header")
        }
        if hosts.isEmpty && head.version.minor >= 1 {
            return GatewayError(.badRequest, code: -32600, "Bad Request: HTTP/1.1 requires a Host header")
        }
        let codings = head.headers["transfer-encoding"].flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
        if !codings.isEmpty && codings != ["chunked"] {
            return GatewayError(.notImplemented, code: -32600, "Not Implemented: Transfer-Encoding other than chunked")
        }
        return nil
    }

    /// The answer to a body larger than `limits.maxRequestBodyBytes` (its `Content-Length`, or what arrived).
    static func bodyTooLarge(_ limits: Limits) -> GatewayError {
        GatewayError(.payloadTooLarge, code: -32600, "Request body exceeds \(limits.maxRequestBodyBytes) bytes")
    }

    /// The path of an absolute-form request target (`http://host:port/mcp?x` -> `/mcp?x`, RFC 9112 §3.2.2), or
    /// nil when the target is already in origin form.
    static func originFormPath(of uri: String) -> String? {
        guard uri.first != "/" else { return nil }
        let rest: Substring
        if uri.lowercased().hasPrefix("http://") {
            rest = uri.dropFirst(7)
        } else if uri.lowercased().hasPrefix("https://") {
            rest = uri.dropFirst(8)
        } else {
            return nil
        }
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let path = String(rest[slash...])
        return path.hasPrefix("/") ? path : "/" + path
    }

}
