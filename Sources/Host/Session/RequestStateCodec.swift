/// Wraps an upstream's 2026-07-28 `requestState` in the gateway's own AEAD envelope, so the retry that
/// carries it back reaches the same target and replica, from the same principal, within a bounded time
/// (MCP spec: `requestState` is attacker-controlled and must be integrity-protected when it drives routing).
///
/// Token: `mcpgate.` + a `Sealer` token (purpose `requestState`, context = route identity).
package struct RequestStateCodec: Sendable {
    package static let prefix = "mcpgate."
    /// How long a wrapped state stays valid (the SDK's own default is 600 s).
    package static let lifetimeSeconds: UInt64 = 600

    package struct State: Equatable {
        package var target: String
        package var endpoint: String
        package var principal: PrincipalDigest?
        package var expiresAt: UInt64
        /// The upstream's `requestState`, byte for byte.
        package var upstreamState: String

        package init(target: String, endpoint: String, principal: PrincipalDigest?, expiresAt: UInt64, upstreamState: String) {
            self.target = target
            self.endpoint = endpoint
            self.principal = principal
            self.expiresAt = expiresAt
            self.upstreamState = upstreamState
        }
    }

    package enum OpenError: Error { case notOurs, invalid, expired }

    private let sealer: Sealer

    package init(keyring: Keyring) {
        self.sealer = Sealer(keyring: keyring, purpose: .requestState)
    }

    package func seal(_ state: State, route: [UInt8]) -> String {
        var out: [UInt8] = [1]
        Self.append(state.expiresAt, to: &out)
        Self.append(Array(state.target.utf8), to: &out)
        Self.append(Array(state.endpoint.utf8), to: &out)
        Self.append(state.principal?.bytes ?? [], to: &out)
        Self.append(Array(state.upstreamState.utf8), to: &out)
        return Self.prefix + sealer.seal(out, context: route)
    }

    /// Opens a token the gateway sealed. `notOurs` when it is not a gateway token at all (the upstream's own
    /// state, passed through as is).
    package func open(_ token: String, route: [UInt8], now: UInt64) throws(OpenError) -> State {
        guard token.hasPrefix(Self.prefix) else { throw .notOurs }
        let bytes: [UInt8]
        do {
            bytes = try sealer.open(token.dropFirst(Self.prefix.count), context: route)
        } catch {
            throw .invalid
        }
        var reader = ByteReader(bytes)
        guard reader.readUInt8() == 1,
            let expiresAt = reader.readUInt64(),
            let target = reader.readField(), let endpoint = reader.readField(),
            let principal = reader.readField(), let upstream = reader.readField(),
            reader.isAtEnd,
            principal.isEmpty || principal.count == 16
        else { throw .invalid }
        guard now < expiresAt else { throw .expired }
        return State(
            target: String(decoding: target, as: UTF8.self),
            endpoint: String(decoding: endpoint, as: UTF8.self),
            principal: PrincipalDigest(bytes: principal),
            expiresAt: expiresAt,
            upstreamState: String(decoding: upstream, as: UTF8.self))
    }

    private static func append(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    private static func append(_ field: [UInt8], to out: inout [UInt8]) {
        let count = UInt32(field.count)
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        out += field
    }
}

extension ByteReader {
    /// A field written by `RequestStateCodec`: a 32-bit big-endian length, then that many bytes.
    fileprivate mutating func readField() -> [UInt8]? {
        guard let length = readBytes(4) else { return nil }
        let count = length.reduce(0) { $0 << 8 | Int($1) }
        return readBytes(count).map(Array.init)
    }
}
