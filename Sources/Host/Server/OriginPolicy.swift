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
            subdomainPatterns.contains(where: { $0.scheme == scheme && originHost.hasSuffix($0.suffix) && originHost.count > $0.suffix.count })
        {
            return true
        }
        guard let (_, originHost) = Self.split(origin) else { return false }
        if Self.isLoopback(name: RouteTable.stripPort(originHost)) { return true }
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

    static func isLoopback(name: String) -> Bool {
        let name = name.lowercased()
        return name == "localhost" || name == "[::1]" || name == "::1" || name.hasPrefix("127.") || name.hasSuffix(".localhost")
    }
}
