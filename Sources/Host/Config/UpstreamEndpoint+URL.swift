import MCPGateUpstream

extension UpstreamEndpoint {
    /// Reads and normalises an upstream MCP URL: `http` or `https` only, a host (DNS name, IPv4, or IPv6 in
    /// brackets), an optional port (default 80 / 443), and a path plus query kept exactly as given (default `/`).
    /// Scheme and host are lowercased and the port is always written, so one server has one spelling:
    /// `HTTP://LocalHost:3005/mcp/` becomes `http://localhost:3005/mcp/`. `host` holds an IPv6 address without
    /// brackets.
    ///
    /// Refused: other schemes, credentials (`user:pass@`, which would end up in logs and session pins), fragments,
    /// whitespace. A refusal never echoes credentials back.
    init(parsing text: String) throws(ConfigValueError) {
        let urlExpected = "an http:// or https:// URL"
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") {
            scheme = "http"
        } else if lowered.hasPrefix("https://") {
            scheme = "https"
        } else {
            throw ConfigValueError(expected: urlExpected)
        }
        guard
            !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { throw ConfigValueError(expected: "\(urlExpected) without spaces or control characters") }
        let rest = text.dropFirst(scheme.count + 3)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var pathAndQuery = String(rest[authorityEnd...])
        if authority.contains("@") {
            throw ConfigValueError(
                expected: "\(urlExpected) without credentials (forward the client's Authorization instead)",
                found: "a URL with user information before '@'"
            )
        }
        if pathAndQuery.contains("#") {
            throw ConfigValueError(expected: "\(urlExpected) without a #fragment")
        }
        if pathAndQuery.hasPrefix("?") || pathAndQuery.isEmpty { pathAndQuery = "/" + pathAndQuery }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ConfigValueError(expected: "\(urlExpected) whose IPv6 host is closed with ']'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterHost = authority[authority.index(after: close)...]
            if !afterHost.isEmpty {
                guard afterHost.hasPrefix(":") else {
                    throw ConfigValueError(expected: "\(urlExpected) with ':' and a port after the IPv6 host")
                }
                portText = afterHost.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw ConfigValueError(expected: "\(urlExpected) whose bracketed host is an IPv6 address")
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            guard
                host.unicodeScalars.allSatisfy({
                    ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || $0 == "-"
                        || $0 == "." || $0 == "_"
                })
            else {
                throw ConfigValueError(
                    expected: "\(urlExpected) whose host is a DNS name or IP address (IPv6 in [brackets])")
            }
        }
        guard !host.isEmpty else {
            throw ConfigValueError(expected: "\(urlExpected) with a host")
        }
        let port: Int
        if let portText {
            guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let value = Int(portText), (1...65535).contains(value)
            else {
                throw ConfigValueError(expected: "\(urlExpected) whose port is 1-65535")
            }
            port = value
        } else {
            port = scheme == "https" ? 443 : 80
        }
        let normalisedHost = host.lowercased()
        let hostInURL = normalisedHost.contains(":") ? "[\(normalisedHost)]" : normalisedHost
        self.init(
            url: "\(scheme)://\(hostInURL):\(port)\(pathAndQuery)",
            scheme: scheme,
            host: normalisedHost,
            port: port,
            path: pathAndQuery
        )
    }
}
