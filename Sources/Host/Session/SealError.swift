/// Why `Sealer.open` refused a token. None of the cases says anything about the plaintext.
public enum SealError: Error, Equatable, Sendable {
    /// Not base64url, or too short to hold an envelope.
    case malformed
    /// The envelope's version byte is not one this build understands.
    case unsupportedVersion
    /// No key in the keyring has the envelope's key id (sealed with a retired or foreign key).
    case unknownKey
    /// AES-GCM refused it: modified, sealed for another purpose or context, or with another key
    /// whose id happens to match.
    case authenticationFailed
}
