import Foundation

/// Where an upstream request goes, parsed once: the connection origin (scheme, host, port), the request
/// target (path and query) and the `Host` header value. Built when the configuration loads and when a
/// redirect names a new location; never on the hot path.
package struct UpstreamTarget: Sendable, Equatable {
    /// `https`: the connection is wrapped in TLS.
    package let tls: Bool
    /// The host to connect to, without IPv6 brackets.
    package let host: String
    package let port: Int
    /// The request target: path and query, at least `/`.
    package let path: String
    /// The `Host` header: host, plus `:port` when the port is not the scheme's default.
    package let hostHeader: String
    /// `scheme://host[:port]`: the key of the connection pool and what "same origin" compares.
    package let origin: String

    /// Parses an absolute `http` or `https` URL; nil for anything else.
    package init?(url string: String) {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        host = host.lowercased()  // host names are case-insensitive: one origin, one spelling
        let tls = scheme == "https"
        let defaultPort = tls ? 443 : 80
        let port = components.port ?? defaultPort
        guard (1...65535).contains(port) else { return nil }
        var path = components.percentEncodedPath
        if path.isEmpty { path = "/" }
        if let query = components.percentEncodedQuery { path += "?" + query }
        let literal = host.contains(":") ? "[\(host)]" : host
        self.tls = tls
        self.host = host
        self.port = port
        self.path = path
        self.hostHeader = port == defaultPort ? literal : "\(literal):\(port)"
        self.origin = "\(scheme)://\(self.hostHeader)"
    }

    /// The absolute URL.
    package var url: String { origin + path }

    /// The target a `Location` header names, resolved against this one; nil when it is not http(s).
    /// Whether it may be followed is `RedirectPolicy`'s decision.
    package func resolving(location: String) -> UpstreamTarget? {
        guard let base = URL(string: url), let resolved = URL(string: location, relativeTo: base) else { return nil }
        return UpstreamTarget(url: resolved.absoluteString)
    }
}
