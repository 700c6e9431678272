/// The MCP protocol revisions the gateway speaks, and how a request's era is told from its headers
/// (as the official SDK dispatches: by `MCP-Protocol-Version` only).
enum ProtocolVersion {
    /// The handshake era: `initialize`, `Mcp-Session-Id`, GET stream, DELETE.
    static let handshake: Set<String> = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
    /// The sessionless revisions.
    static let sessionless: Set<String> = ["2026-07-28"]
    /// The newest handshake revision.
    static let latestHandshake = "2025-11-25"
    /// Listed in -32022 errors: sessionless first, then the newest handshake revision so dual-era clients fall back.
    static let advertised = ["2026-07-28", "2025-11-25"]
    /// Assumed when a handshake-era request carries no version header (spec: 2025-03-26).
    static let assumedWhenAbsent = "2025-03-26"

    /// The era a request belongs to, from its `MCP-Protocol-Version` header value.
    static func era(ofHeader value: String?) -> Era {
        guard let value else { return .handshake }
        return handshake.contains(value) ? .handshake : .sessionless
    }
}

/// Which of the two protocol eras an exchange follows.
enum Era: String, Sendable {
    case handshake
    case sessionless
}
