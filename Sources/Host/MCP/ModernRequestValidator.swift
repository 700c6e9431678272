import MCPGateSession
import NIOHTTP1
import PluginAPI

/// Checks a 2026-07-28 request the way the spec requires of a server that processes the body, in the order
/// the official SDK checks (so clients see the same error for the same fault): duplicated standard headers,
/// the `_meta` envelope, headers against the body, then the version.
enum ModernRequestValidator {
    static let metaProtocolVersion = "io.modelcontextprotocol/protocolVersion"
    static let metaClientCapabilities = "io.modelcontextprotocol/clientCapabilities"

    /// Methods whose `Mcp-Name` header mirrors a body field.
    static func nameField(for method: String) -> String? {
        switch method {
        case "tools/call", "prompts/get": return "name"
        case "resources/read": return "uri"
        default: return nil
        }
    }

    /// Validates `message` (a request) against `headers`. `toolHeaders` are the `x-mcp-header` parameters
    /// known for the called tool, when the gateway has seen its schema.
    static func validate(
        _ message: RPCMessage,
        headers: HTTPHeaders,
        toolHeaders: [ToolParamHeader]?
    ) -> GatewayError? {
        for name in ["mcp-protocol-version", "mcp-method", "mcp-name"] where headers[name].count > 1 {
            return .headerMismatch("\(name) header appears more than once")
        }
        guard let meta = message.meta, meta.isObject,
            let bodyVersion = meta[metaProtocolVersion]?.string,
            meta[metaClientCapabilities]?.isObject == true
        else {
            return GatewayError(
                .badRequest, code: -32602,
                "params._meta must be an object carrying \(metaProtocolVersion) and \(metaClientCapabilities)")
        }
        guard let headerVersion = headers.first(name: "mcp-protocol-version"), headerVersion == bodyVersion else {
            return .headerMismatch("mcp-protocol-version header does not match the request envelope's protocol version")
        }
        let method = message.method ?? ""
        guard headers.first(name: "mcp-method") == method else {
            return .headerMismatch("mcp-method header does not match the request body's method")
        }
        if let field = nameField(for: method) {
            let bodyValue = message.params?[field]?.string
            let headerValue = headers.first(name: "mcp-name").map(MCPHeaderValue.decode)
            guard let bodyValue, let headerValue, headerValue == bodyValue else {
                return .headerMismatch("mcp-name header does not match the request body's '\(field)' parameter")
            }
        }
        guard ProtocolVersion.sessionless.contains(bodyVersion) else {
            return .unsupportedVersion(bodyVersion)
        }
        return toolHeaderMismatch(message, headers: headers, toolHeaders: toolHeaders)
    }

    /// Checks a `tools/call`'s `Mcp-Param-*` headers against its arguments, given the `x-mcp-header`
    /// parameters known for the tool (nil: not listed yet, unchecked).
    static func toolHeaderMismatch(_ message: RPCMessage, headers: HTTPHeaders, toolHeaders: [ToolParamHeader]?) -> GatewayError? {
        guard message.method == "tools/call", let toolHeaders else { return nil }
        let arguments = message.params?["arguments"]
        for param in toolHeaders {
            if let failure = param.check(arguments: arguments, headers: headers) {
                return .headerMismatch(failure)
            }
        }
        return nil
    }
}

/// One `x-mcp-header` annotation of a tool's input schema: the argument at `path` is mirrored in the
/// header `Mcp-Param-<token>`.
struct ToolParamHeader: Sendable, Equatable {
    enum ValueType: Sendable, Equatable { case string, integer, boolean }
    var token: String
    var path: [String]
    var type: ValueType

    var headerName: String { "Mcp-Param-" + token }

    /// A failure message when the header and the argument disagree, nil when they match.
    func check(arguments: JSONValueRef?, headers: HTTPHeaders) -> String? {
        var value = arguments
        for key in path {
            value = value?[key]
        }
        if let found = value, found.isNull { value = nil }
        let header = headers.first(name: headerName)
        switch (value, header) {
        case (nil, nil):
            return nil
        case (nil, .some):
            return "\(headerName) header is present but the request body's '\(path.joined(separator: "."))' argument is not"
        case (.some, nil):
            return "\(headerName) header is missing but the request body's '\(path.joined(separator: "."))' argument is present"
        case (.some(let argument), .some(let raw)):
            guard let decoded = MCPHeaderValue.decode(raw) else {
                return "\(headerName) header is not valid base64-encoded UTF-8"
            }
            let matches: Bool
            switch type {
            case .string: matches = argument.string == decoded
            case .boolean: matches = argument.bool.map { $0 ? "true" : "false" } == decoded
            case .integer:
                if let number = argument.double, let headerNumber = Double(decoded) {
                    matches = number == headerNumber
                } else {
                    matches = false
                }
            }
            return matches ? nil : "\(headerName) header does not match the request body's '\(path.joined(separator: "."))' argument"
        }
    }
}
