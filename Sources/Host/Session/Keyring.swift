import Crypto

/// The session keys of one gateway process: 32-byte master keys, each turned into one AES-256 key
/// per `SealPurpose` with HKDF-SHA256 (salt `mcpgate`, info `mcpgate/<purpose>/v1`).
///
/// Derivation happens once, in the initializer; sealing and opening never derive. The first master
/// key seals; every key opens, which is how keys rotate: put the new key first and keep the old one
/// until its tokens have expired. A keyring is an immutable value and safe to share across threads.
///
/// A key is named in tokens by its key id, the first two bytes of SHA-256 of the master key. Two
/// different master keys share an id with probability 1/65536 per pair; the id only narrows the
/// search, so opening tries every key whose id matches and a collision costs one extra AES-GCM open.
public struct Keyring: Sendable {
    /// One master key's derived keys.
    package struct Member: Sendable {
        /// First two bytes of SHA-256 of the master key, big-endian.
        let id: UInt16
        /// One derived AES-256 key per purpose, indexed like `SealPurpose.allCases`.
        let derivedKeys: [SymmetricKey]

        func key(for purpose: SealPurpose) -> SymmetricKey {
            switch purpose {
            case .session: return derivedKeys[0]
            case .requestState: return derivedKeys[1]
            case .cursor: return derivedKeys[2]
            case .legacyStream: return derivedKeys[3]
            }
        }
    }

    /// The members in configuration order; the first seals. Never empty.
    package let members: [Member]

    /// The byte length every master key must have.
    public static let masterKeyByteCount = 32

    /// Builds a keyring from raw master keys. The first seals, all of them open.
    ///
    /// - Throws: `KeyringError.noKeys` for an empty list, `.wrongKeyLength` for a key that is not
    ///   exactly 32 bytes. A key listed twice is kept once.
    public init(masterKeys: [[UInt8]]) throws(KeyringError) {
        if masterKeys.isEmpty { throw .noKeys }
        for (index, key) in masterKeys.enumerated() where key.count != Self.masterKeyByteCount {
            throw .wrongKeyLength(index: index, byteCount: key.count)
        }
        self.init(validatedMasterKeys: masterKeys)
    }

    /// Builds a keyring from master keys written as 64 hexadecimal digits each (the form of
    /// `config.session.keys` and the `SESSION_KEY` environment variable). Surrounding whitespace is
    /// ignored; upper and lower case are accepted.
    ///
    /// - Throws: `KeyringError.noKeys` for an empty list, `.invalidHex` for anything else than 64 hex digits.
    public init(hexMasterKeys: [String]) throws(KeyringError) {
        var keys: [[UInt8]] = []
        keys.reserveCapacity(hexMasterKeys.count)
        for (index, text) in hexMasterKeys.enumerated() {
            guard let key = Self.bytes(fromHex: text), key.count == Self.masterKeyByteCount else {
                throw .invalidHex(index: index)
            }
            keys.append(key)
        }
        try self.init(masterKeys: keys)
    }

    /// A keyring with one fresh random master key. Its tokens open only in this process (and only
    /// until it exits): use it when no key is configured, and warn that replicas cannot share sessions.
    public static func generated() -> Keyring {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        return Keyring(validatedMasterKeys: [key])
    }

    /// The key ids of the master keys, in order; the first is the one that seals.
    public var keyIDs: [UInt16] { members.map(\.id) }

    /// The master keys are known to be non-empty and 32 bytes each.
    private init(validatedMasterKeys masterKeys: [[UInt8]]) {
        var members: [Member] = []
        var seen: [[UInt8]] = []
        for masterKey in masterKeys where !seen.contains(masterKey) {
            seen.append(masterKey)
            members.append(Self.derive(masterKey: masterKey))
        }
        self.members = members
    }

    private static func derive(masterKey: [UInt8]) -> Member {
        let digest = SHA256.hash(data: masterKey)
        let id = digest.withUnsafeBytes { UInt16($0[0]) << 8 | UInt16($0[1]) }
        let inputKeyMaterial = SymmetricKey(data: masterKey)
        let salt = Array("mcpgate".utf8)
        let derivedKeys = SealPurpose.allCases.map { purpose in
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: inputKeyMaterial,
                salt: salt,
                info: Array(purpose.keyDerivationInfo.utf8),
                outputByteCount: 32
            )
        }
        return Member(id: id, derivedKeys: derivedKeys)
    }

    private static func bytes(fromHex text: String) -> [UInt8]? {
        func isWhitespace(_ character: UInt8) -> Bool {
            character == 0x20 || character == 0x09 || character == 0x0A || character == 0x0D
        }
        let utf8 = Array(text.utf8)
        guard let first = utf8.firstIndex(where: { !isWhitespace($0) }),
            let last = utf8.lastIndex(where: { !isWhitespace($0) })
        else { return nil }
        let digits = utf8[first...last]
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8 = 0
        for (offset, character) in digits.enumerated() {
            let nibble: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = character - UInt8(ascii: "A") + 10
            default: return nil
            }
            if offset % 2 == 0 {
                high = nibble
            } else {
                bytes.append(high << 4 | nibble)
            }
        }
        return bytes
    }
}
