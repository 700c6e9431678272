/// This gateway process among its replicas: 16 random bytes drawn at start. Sealed into what only this process
/// can serve (a session member that is a local process or upstream stream, a client's HTTP+SSE stream), so
/// another replica recognises such a token and answers 404 instead of guessing.
public struct ReplicaID: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 16
    /// Exactly `byteCount` bytes.
    public let bytes: [UInt8]

    /// Nil unless `bytes` has exactly `byteCount` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A fresh random id.
    public static func random() -> ReplicaID {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard let id = ReplicaID(bytes: bytes) else { preconditionFailure("16 random bytes make a replica id") }
        return id
    }

    /// All 16 bytes in lower-case hex.
    public var hex: String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }

    /// The first four bytes in hex, for the log.
    public var description: String { String(hex.prefix(8)) }
}
