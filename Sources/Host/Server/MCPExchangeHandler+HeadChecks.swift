import NIOHTTP1
import MCPGateUpstream
import MCPGateSession

/// What a request head alone decides, before any exchange exists.
extension MCPExchangeHandler {
    /// What the head alone already refuses, before any exchange: requests no MCP server can serve.
    static func refusal(of head: HTTPRequestHead, limits: Limits) -> GatewayError? {
        var headerBytes = head.uri.utf8.count
        for (name, value) in head.headers { headerBytes += name.utf8.count + value.utf8.count + 4 }
        if headerBytes > limits.maxHeaderBytes {
            return GatewayError(.init(statusCode: 431), code: -32600, "Request headers exceed \(limits.maxHeaderBytes) bytes")
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
