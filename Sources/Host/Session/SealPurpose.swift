/// What a sealed token is for. Each purpose has its own derived key and its own AAD tag, so a
/// token sealed for one purpose never opens as another.
public enum SealPurpose: String, Sendable, CaseIterable {
    /// The client-facing `Mcp-Session-Id` (handshake era).
    case session
    /// The opaque `requestState` of the sessionless era's `input_required` round trips.
    case requestState
    /// Pagination cursors the gateway hands out when it merges fanned-out list results.
    case cursor
    /// The `sessionId` of a client's HTTP+SSE stream (`GET /sse`, `LegacyStreamCodec`).
    case legacyStream

    /// The HKDF `info` string: `mcpgate/<purpose>/v1`.
    package var keyDerivationInfo: String { "mcpgate/\(rawValue)/v1" }
}
