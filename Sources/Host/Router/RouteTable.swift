import MCPGateSession
import PluginAPI

/// The routes of one bind, in the order requests are matched against them: listener by `Host`, then route
/// by path. Built at load; read-only afterwards.
struct RouteTable: Sendable {
    struct Entry: Sendable {
        var hostname: String?
        var pathMatches: [PathMatch]
        var route: RouteRuntime
    }

    let entries: [Entry]
    /// The bind listens on a loopback address only: requests must name a loopback host (DNS-rebinding guard).
    let loopbackOnly: Bool

    /// The first route whose listener hostname and path match.
    func route(host: String?, path: String) -> RouteRuntime? {
        let bareHost = host.map(Self.stripPort)?.lowercased()
        for entry in entries {
            if let hostname = entry.hostname, !Self.hostMatches(hostname, bareHost) { continue }
            if entry.pathMatches.isEmpty || entry.pathMatches.contains(where: { Self.pathMatches($0, path) }) {
                return entry.route
            }
        }
        return nil
    }

    static func pathMatches(_ match: PathMatch, _ path: String) -> Bool {
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        switch match {
        case .exact(let exact): return pathOnly == exact
        case .prefix(let prefix):
            if prefix == "/" { return true }
            let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
            return pathOnly == trimmed || pathOnly.hasPrefix(trimmed + "/")
        }
    }

    static func hostMatches(_ pattern: String, _ host: String?) -> Bool {
        guard let host else { return false }
        let pattern = pattern.lowercased()
        if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst(1))) }
        return host == pattern
    }

    /// `example.com:3000` -> `example.com`, `[::1]:3000` -> `[::1]`.
    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { return String(host[...close]) }
            return host
        }
        if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon { return String(host[..<colon]) }
        return host
    }
}

/// One route at run time: its targets and its policies' derived state.
struct RouteRuntime: Sendable {
    var identity: String
    /// `identity` as bytes: bound into every token sealed for this route.
    var sealContext: [UInt8]
    var targets: [TargetPool]
    var origins: OriginPolicy
    /// The route's filter chain; nil when it has no policy (nothing runs per request then).
    var chain: FilterChain?
    /// How target names prefix what the targets offer.
    var naming: TargetNaming
    var failureMode: FailureMode

    /// Whether requests need the federation paths (several targets, or prefixed names); a single
    /// unprefixed target is relayed byte for byte.
    var federates: Bool { targets.count > 1 || naming.prefixed }

    var targetNames: [String] { targets.map(\.name) }

    func target(named name: String) -> TargetPool? {
        targets.first { $0.name == name }
    }
}
