/// Why `SessionCodec.open` refused a session id. The gateway answers every case with 404 and a
/// JSON-RPC error (DESIGN.md §4), which tells a spec client to initialize again; the cases exist for
/// logs and metrics.
public enum SessionError: Error, Equatable, Sendable {
    /// Not a session token at all: not canonical base64url, too short, an unknown envelope version,
    /// or a decrypted payload that does not decode.
    case malformed
    /// Sealed with a key this keyring no longer (or never) held.
    case unknownKey
    /// Failed authentication: modified, sealed for another purpose, or sealed for another route.
    /// The codec cannot tell a wrong route from tampering, so it reports both as `tampered`.
    case tampered
    /// Valid, but `now` is at or past its expiry.
    case expired
}
