/// Turns a `SessionState` into the client-facing `Mcp-Session-Id` and back (DESIGN.md §4).
///
/// The token is a `Sealer` token for `SealPurpose.session` whose context is the route identity, so
/// any replica holding a key of the keyring opens it, and a session id minted for one route is
/// refused on every other. It is an immutable value, safe to share across threads; sealing and
/// opening take a few microseconds and derive no keys.
public struct SessionCodec: Sendable {
    private let sealer: Sealer

    /// Uses the keyring's session keys (derived when the keyring was built).
    public init(keyring: Keyring) {
        self.sealer = Sealer(keyring: keyring, purpose: .session)
    }

    /// Seals `state` for `route` into a session id of visible ASCII characters (base64url).
    ///
    /// A state that does not fit the encoding limits (`SessionState.fitsEncodingLimits`) gives a
    /// token that never opens, rather than a crash.
    public func seal(_ state: SessionState, route: String) -> String {
        sealer.seal(state.encoded(), context: route.utf8)
    }

    /// Opens a session id sealed for `route` and checks it has not expired at `now` (Unix seconds).
    ///
    /// Never traps on any input.
    ///
    /// - Throws: `.malformed`, `.unknownKey`, `.tampered` (also for a token of another route or
    ///   purpose), or `.expired` when `now >= expiresAt`.
    public func open(_ token: some StringProtocol, route: String, now: UInt64) throws(SessionError) -> SessionState {
        let payload: [UInt8]
        do {
            payload = try sealer.open(token, context: route.utf8)
        } catch {
            switch error {
            case .malformed, .unsupportedVersion: throw .malformed
            case .unknownKey: throw .unknownKey
            case .authenticationFailed: throw .tampered
            }
        }
        let state = try SessionState(encoded: payload)
        guard now < state.expiresAt else { throw .expired }
        return state
    }
}
