import Crypto

/// A 16-byte fingerprint of the verified principal (the JWT subject) a session is bound to.
///
/// The digest is `SHA-256("mcpgate-principal\0" + principal)` truncated to 16 bytes. It lets the
/// router check "same principal as at initialize" without putting the subject itself in the token.
/// It is a plain hash, not a secret: the token around it is what keeps it confidential.
public struct PrincipalDigest: Sendable, Equatable, Hashable {
    /// The digest as two big-endian halves; two words compare and hash faster than an array.
    package let high: UInt64
    package let low: UInt64

    /// The number of bytes in a digest.
    public static let byteCount = 16

    /// Digests a principal name (its UTF-8 bytes, with a domain-separation prefix).
    public init(principal: String) {
        var hasher = SHA256()
        hasher.update(data: Array("mcpgate-principal\u{0}".utf8))
        hasher.update(data: Array(principal.utf8))
        let digest = hasher.finalize()
        (high, low) = digest.withUnsafeBytes { bytes in
            (Self.word(bytes, at: 0), Self.word(bytes, at: 8))
        }
    }

    /// Rebuilds a digest from its 16 bytes (as `bytes` returns them); nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count == Self.byteCount else { return nil }
        (high, low) = bytes.withUnsafeBytes { (Self.word($0, at: 0), Self.word($0, at: 8)) }
    }

    /// The 16 digest bytes.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(index % 8)))
        }
    }

    private static func word(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var word: UInt64 = 0
        for index in offset..<offset + 8 {
            word = word << 8 | UInt64(bytes[index])
        }
        return word
    }
}
