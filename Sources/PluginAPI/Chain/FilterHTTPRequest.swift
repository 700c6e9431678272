/// The HTTP request as the chain sees it: what the host hands `FilterChain.makeRequest`. Plain values,
/// no NIO types: the host converts its `HTTPRequestHead` once per request.
public struct FilterHTTPRequest: Sendable {
    /// "POST", "GET", "DELETE", "OPTIONS", ...
    public var method: String
    /// Path and query as received ("/mcp?x=1").
    public var path: String
    /// Header fields in order; names compare case-insensitively, repeated names keep every value.
    public var headers: [(name: String, value: String)]
    /// `Mcp-Session-Id` as sent by the client, if any.
    public var sessionID: String?
    /// `MCP-Protocol-Version` as sent by the client (or negotiated for the session), if known.
    public var protocolVersion: String?
    /// The peer address, for logs and per-address limits.
    public var remoteAddress: String?

    /// Creates a request description. `sessionID` and `protocolVersion` default to the headers' values.
    public init(
        method: String, path: String, headers: [(name: String, value: String)] = [],
        sessionID: String? = nil, protocolVersion: String? = nil, remoteAddress: String? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.sessionID = sessionID ?? FilterHTTPRequest.first("mcp-session-id", in: headers)
        self.protocolVersion = protocolVersion ?? FilterHTTPRequest.first("mcp-protocol-version", in: headers)
        self.remoteAddress = remoteAddress
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        FilterHTTPRequest.first(name, in: headers)
    }

    static func first(_ name: String, in headers: [(name: String, value: String)]) -> String? {
        headers.first(where: { asciiCaseInsensitiveEquals($0.name, name) })?.value
    }

    /// Compares header names ignoring ASCII case, without allocating.
    static func asciiCaseInsensitiveEquals(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        for (a, b) in zip(lhs.utf8, rhs.utf8) where a != b {
            let lowerA = (0x41...0x5A).contains(a) ? a | 0x20 : a
            let lowerB = (0x41...0x5A).contains(b) ? b | 0x20 : b
            if lowerA != lowerB { return false }
        }
        return true
    }
}
