/// Everything the gateway remembers about one client session, carried inside the sealed
/// `Mcp-Session-Id` instead of in a store (DESIGN.md §4).
///
/// `SessionCodec` encodes it in a compact binary form. Strings are limited to
/// `maxFieldByteCount` UTF-8 bytes and there are at most `maxEntryCount` entries; check
/// `fitsEncodingLimits` before sealing a state built from values that came from outside (an
/// upstream's `Mcp-Session-Id`, for one).
public struct SessionState: Sendable, Equatable {
    /// One upstream target the session is pinned to.
    public struct Entry: Sendable, Equatable {
        /// The configured target name (the federation prefix).
        public var target: String
        /// The upstream endpoint URL chosen at initialize; every later request of the session goes there.
        public var endpoint: String
        /// The `Mcp-Session-Id` the upstream gave us, if it gave one.
        public var upstreamSessionID: String?
        /// For a member that lives in one gateway process (a stdio process, an upstream HTTP+SSE session): which
        /// replica holds it and under which channel key. nil for Streamable HTTP members, which any replica serves.
        public var localPin: LocalPin?

        /// Creates an entry.
        public init(target: String, endpoint: String, upstreamSessionID: String? = nil, localPin: LocalPin? = nil) {
            self.target = target
            self.endpoint = endpoint
            self.upstreamSessionID = upstreamSessionID
            self.localPin = localPin
        }
    }

    /// The most entries an encoded state may hold.
    public static let maxEntryCount = 255
    /// The most UTF-8 bytes any one string field may hold.
    public static let maxFieldByteCount = 4096

    /// The MCP protocol version negotiated at initialize, e.g. `2025-06-18`.
    public var protocolVersion: String
    /// The principal the session is bound to, or nil for an unauthenticated session.
    public var principal: PrincipalDigest?
    /// When the session was created, in Unix seconds.
    public var issuedAt: UInt64
    /// The first Unix second at which the session is no longer valid.
    public var expiresAt: UInt64
    /// The pinned upstream targets, in the order the router created them.
    public var entries: [Entry]

    /// Creates a state.
    public init(
        protocolVersion: String,
        principal: PrincipalDigest? = nil,
        issuedAt: UInt64,
        expiresAt: UInt64,
        entries: [Entry]
    ) {
        self.protocolVersion = protocolVersion
        self.principal = principal
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.entries = entries
    }

    /// True when the state fits the encoding limits (`maxEntryCount`, `maxFieldByteCount`). A state
    /// that does not fit seals to a token that never opens (it is refused as `.malformed`).
    public var fitsEncodingLimits: Bool {
        guard entries.count <= Self.maxEntryCount, Self.fits(protocolVersion) else { return false }
        return entries.allSatisfy { entry in
            Self.fits(entry.target) && Self.fits(entry.endpoint) && (entry.upstreamSessionID.map(Self.fits) ?? true)
        }
    }

    private static func fits(_ field: String) -> Bool {
        field.utf8.count <= maxFieldByteCount
    }
}
