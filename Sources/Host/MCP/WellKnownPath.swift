/// A request for OAuth protected-resource metadata (RFC 9728): `/.well-known/oauth-protected-resource`, or
/// its path-suffixed form `/.well-known/oauth-protected-resource/<mcp path>`. The gateway routes it like a
/// request to the MCP path it names, so the route's auth filter can answer it before authentication.
struct WellKnownPath {
    static let prefix = "/.well-known/oauth-protected-resource"

    /// The MCP path the metadata is about (`/` for the root form).
    var resourcePath: String

    init?(_ uri: String) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard path.hasPrefix(Self.prefix) else { return nil }
        let rest = path.dropFirst(Self.prefix.count)
        guard rest.isEmpty || rest.hasPrefix("/") else { return nil }
        resourcePath = rest.isEmpty || rest == "/" ? "/" : String(rest)
    }
}
