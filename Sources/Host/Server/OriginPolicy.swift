/// Which browser origins may call a route (spec: servers MUST validate `Origin`; a present, invalid one
/// gets 403), and the DNS-rebinding guard for loopback listeners (a foreign `Host` gets 421).
struct OriginPolicy: Sendable {
    /// From the route's `cors.allowOrigins`; `*` allows every origin.
    var allowedOrigins: Set<String>
    var allowAny: Bool
    /// `scheme://*.domain[:port]` entries as (scheme, `.domain[:port]`): any subdomain, at any depth, of that
    /// scheme and port (the CORS plugin matches the same way).
    var subdomainPatterns: [(scheme: String, suffix: String)]

    init(corsAllowOrigins: [String]) {
        self.allowAny = corsAllowOrigins.contains("*")
        self.allowedOrigins = Set(corsAllowOrigins.map { $0.lowercased() })
        self.subdomainPatterns = corsAllowOrigins.compactMap { entry in
            guard let (scheme, host) = Self.split(entry.lowercased()), host.hasPrefix("*.") else { return nil }
            return (scheme, String(host.dropFirst()))
        }
    }

    /// Whether a request with this `Origin` (and `Host`) may proceed.
    func allows(origin: String, host: String?) -> Bool {
        if allowAny { return true }
        let origin = origin.lowercased()
        if allowedOrigins.contains(origin) { return true }
        if let (scheme, originHost) = Self.split(origin),
            subdomainPatterns.contains(where: {
                $0.scheme == scheme && originHost.hasSuffix($0.suffix) && originHost.count > $0.suffix.count
            })
        {
            return true
        }
        guard let (_, originHost) = Self.split(origin) else { return false }
        if Self.isLoopbackAuthority(originHost) { return true }
        if let host, originHost == host.lowercased() { return true }
        return false
    }

    /// `http://a.example:8080` -> ("http", "a.example:8080").
    static func split(_ origin: String) -> (String, String)? {
        let parts = origin.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let scheme = String(parts[0])
        let rest = String(parts[1])
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return (scheme, rest)
    }

    /// Whether `authority` (`host[:port]`, as in a `Host` header or an origin) names this machine's loopback
    /// interface: `isLoopback(name:)` of its host, with nothing but an optional numeric port after it. Anything
    /// malformed is not loopback (`127.0.0.1 evil`, `[::1]x`, `a:b:c`).
    static func isLoopbackAuthority(_ authority: String) -> Bool {
        guard let host = host(ofAuthority: authority) else { return false }
        return isLoopback(name: host)
    }

    /// The host of `host[:port]` (`[v6][:port]` keeps its brackets), or nil when the port is not numeric or the
    /// shape is wrong.
    static func host(ofAuthority authority: String) -> String? {
        func isPort(_ text: Substring) -> Bool { text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber } }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let rest = authority[authority.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return nil }
            return String(authority[...close])
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return authority
        case 2: return isPort(parts[1]) ? String(parts[0]) : nil
        default: return nil
        }
    }

    /// Whether `name` is a loopback name, decided exactly: `localhost` and names under `.localhost` (RFC 6761),
    /// `::1` (bracketed or not), and IPv4 literals in 127.0.0.0/8 written as four decimal octets. Never a prefix or
    /// suffix match on anything else: `127.0.0.1.evil.example` and `127.evil.example` are not loopback.
    static func isLoopback(name: String) -> Bool {
        let name = name.lowercased()
        if name == "localhost" || name == "[::1]" || name == "::1" { return true }
        if name.hasSuffix(".localhost") {
            let labels = name.dropLast(".localhost".count).split(separator: ".", omittingEmptySubsequences: false)
            return labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63
                    && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            }
        }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return false }
        var values: [Int] = []
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(octet), value <= 255
            else { return false }
            values.append(value)
        }
        return values[0] == 127
    }
}
