/// Why a `Keyring` could not be built from the configured master keys.
///
/// The messages name the offending key by its position and never include key material.
public enum KeyringError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No master key was given; a keyring needs at least one to seal with.
    case noKeys
    /// The master key at `index` is `byteCount` bytes long instead of 32.
    case wrongKeyLength(index: Int, byteCount: Int)
    /// The hex master key at `index` is not 64 hexadecimal digits.
    case invalidHex(index: Int)

    /// A one-line explanation meant for an operator reading a config error.
    public var description: String {
        switch self {
        case .noKeys:
            return "no session key given: at least one 32-byte key is required"
        case .wrongKeyLength(let index, let byteCount):
            return "session key #\(index + 1) is \(byteCount) bytes long, expected 32"
        case .invalidHex(let index):
            return "session key #\(index + 1) is not 64 hexadecimal digits"
        }
    }
}
