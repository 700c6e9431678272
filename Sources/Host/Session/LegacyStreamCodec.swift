/// What the `sessionId` of a client's HTTP+SSE stream (`GET /sse`, MCP 2024-11-05) says: which process holds
/// the stream, which of its streams it is, who opened it, and until when it may be posted to.
///
/// A stream lives in one process only (its GET connection is there), so the token names the replica and the
/// stream's key in that process's table; the key is a plain counter and needs no secrecy, since it only ever
/// travels sealed.
public struct LegacyStreamState: Sendable, Equatable {
    /// The process that holds the stream.
    public var replica: ReplicaID
    /// The stream's key in that process's table.
    public var stream: UInt64
    /// The verified principal that opened the stream, if any: every POST must come from the same one.
    public var principal: PrincipalDigest?
    /// Unix seconds.
    public var issuedAt: UInt64
    /// Unix seconds; the token is refused from this second on.
    public var expiresAt: UInt64

    public init(replica: ReplicaID, stream: UInt64, principal: PrincipalDigest?, issuedAt: UInt64, expiresAt: UInt64) {
        self.replica = replica
        self.stream = stream
        self.principal = principal
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// Turns a `LegacyStreamState` into the `sessionId` query value of an HTTP+SSE stream's `endpoint` URL and
/// back. The token is a `Sealer` token for `SealPurpose.legacyStream` whose context is the route identity, so a
/// stream id opens only on the route that issued it, and never as a `Mcp-Session-Id` (another purpose, another
/// key), nor the other way round. Base64url, so it needs no escaping in a query.
///
/// The sealed payload, integers big-endian:
///
/// ```
/// u8  format version (1)
/// 16  replica id
/// u64 stream key
/// u64 issuedAt            u64 expiresAt
/// u8  flags               bit 0: a principal digest follows; other bits zero
/// [16 bytes principal digest]
/// ```
///
/// 42 or 58 bytes, so a token is 98 or 119 characters. Decoding is strict: another format version, unknown flag
/// bits, short or trailing bytes are refused.
///
/// An immutable value, safe to share across threads; sealing and opening take a few microseconds and derive no
/// keys.
public struct LegacyStreamCodec: Sendable {
    /// The payload format this build writes and reads.
    package static let formatVersion: UInt8 = 1

    private let sealer: Sealer

    /// Uses the keyring's `legacyStream` keys (derived when the keyring was built).
    public init(keyring: Keyring) {
        self.sealer = Sealer(keyring: keyring, purpose: .legacyStream)
    }

    /// Seals `state` for `route` (its identity).
    public func seal(_ state: LegacyStreamState, route: String) -> String {
        sealer.seal(Self.encode(state), context: route.utf8)
    }

    /// Opens a token sealed for `route` and checks it has not expired at `now` (Unix seconds). Never traps.
    ///
    /// - Throws: `.malformed`, `.unknownKey`, `.tampered` (also for a token of another route or purpose), or
    ///   `.expired` when `now >= expiresAt`. The replica is not checked here: the caller compares it with its own.
    public func open(_ token: some StringProtocol, route: String, now: UInt64) throws(SessionError) -> LegacyStreamState {
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
        let state = try Self.decode(payload)
        guard now < state.expiresAt else { throw .expired }
        return state
    }

    package static func encode(_ state: LegacyStreamState) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(42 + (state.principal == nil ? 0 : PrincipalDigest.byteCount))
        bytes.append(formatVersion)
        bytes.append(contentsOf: state.replica.bytes)
        append(state.stream, to: &bytes)
        append(state.issuedAt, to: &bytes)
        append(state.expiresAt, to: &bytes)
        if let principal = state.principal {
            bytes.append(1)
            bytes.append(contentsOf: principal.bytes)
        } else {
            bytes.append(0)
        }
        return bytes
    }

    package static func decode(_ bytes: [UInt8]) throws(SessionError) -> LegacyStreamState {
        var reader = ByteReader(bytes)
        guard reader.readUInt8() == formatVersion,
            let replica = reader.readBytes(ReplicaID.byteCount).flatMap({ ReplicaID(bytes: Array($0)) }),
            let stream = reader.readUInt64(),
            let issuedAt = reader.readUInt64(),
            let expiresAt = reader.readUInt64(),
            let flags = reader.readUInt8(), flags <= 1
        else { throw .malformed }
        var principal: PrincipalDigest?
        if flags == 1 {
            guard let digest = reader.readBytes(PrincipalDigest.byteCount).flatMap(PrincipalDigest.init(bytes:)) else {
                throw .malformed
            }
            principal = digest
        }
        guard reader.isAtEnd else { throw .malformed }
        return LegacyStreamState(replica: replica, stream: stream, principal: principal, issuedAt: issuedAt, expiresAt: expiresAt)
    }

    private static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
