import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Seals and opens opaque bytes for one `SealPurpose` with AES-256-GCM under a `Keyring`.
///
/// A token is base64url without padding (only `A-Z a-z 0-9 - _`, so it fits any header) of the
/// envelope `version(1) | keyID(2, big-endian) | nonce(12) | ciphertext | tag(16)`: 31 bytes plus
/// the plaintext, 42 characters plus 4/3 of the plaintext. The additional authenticated data is
/// `version | keyID | len(purpose) | purpose | context`, so a token opens only with the purpose and
/// the context bytes (for example the route identity) it was sealed with. Nonces are 96 random bits
/// per seal: rotate the sealing key well before 2^32 seals.
///
/// A sealer is an immutable value and safe to use from any thread. Neither call derives keys.
public struct Sealer: Sendable {
    /// The envelope format this build writes and reads.
    package static let version: UInt8 = 1
    /// version + key id + nonce + tag.
    package static let overhead = 1 + 2 + 12 + 16

    /// The purpose this sealer was made for.
    public let purpose: SealPurpose
    private let sealingKeyID: UInt16
    private let sealingKey: SymmetricKey
    private let openingKeyIDs: [UInt16]
    private let openingKeys: [SymmetricKey]
    /// `len(purpose) | purpose`, the part of the AAD between the key id and the context.
    private let purposeTag: [UInt8]

    /// Picks the keyring's derived keys for `purpose`. Costs a few array copies, no derivation.
    public init(keyring: Keyring, purpose: SealPurpose) {
        self.purpose = purpose
        // Keyring guarantees at least one member.
        let sealing = keyring.members[0]
        self.sealingKeyID = sealing.id
        self.sealingKey = sealing.key(for: purpose)
        self.openingKeyIDs = keyring.members.map(\.id)
        self.openingKeys = keyring.members.map { $0.key(for: purpose) }
        let name = Array(purpose.rawValue.utf8)
        self.purposeTag = [UInt8(truncatingIfNeeded: name.count)] + name
    }

    /// Encrypts and authenticates `plaintext` under the keyring's first key, bound to `context`.
    ///
    /// Every call uses a fresh random nonce, so sealing the same bytes twice gives different tokens.
    /// The result contains only visible ASCII (base64url) and opens with `open` given the same context
    /// in any process whose keyring holds the sealing key.
    public func seal(_ plaintext: [UInt8], context: some Collection<UInt8>) -> String {
        let aad = additionalData(keyID: sealingKeyID, context: context)
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(plaintext, using: sealingKey, nonce: AES.GCM.Nonce(), authenticating: aad)
        } catch {
            // AES-GCM with a 256-bit key and a 96-bit nonce fails only past 64 GiB of plaintext.
            preconditionFailure("AES-GCM seal failed: \(error)")
        }
        var envelope: [UInt8] = []
        envelope.reserveCapacity(Self.overhead + plaintext.count)
        envelope.append(Self.version)
        envelope.append(UInt8(truncatingIfNeeded: sealingKeyID >> 8))
        envelope.append(UInt8(truncatingIfNeeded: sealingKeyID))
        if let combined = box.combined {  // nonce | ciphertext | tag; always present for 12-byte nonces
            combined.withUnsafeBytes { envelope.append(contentsOf: $0) }
        } else {
            box.nonce.withUnsafeBytes { envelope.append(contentsOf: $0) }
            envelope.append(contentsOf: box.ciphertext)
            envelope.append(contentsOf: box.tag)
        }
        return Base64.url.encode(envelope)
    }

    /// Verifies and decrypts a token made by `seal` with the same purpose and `context`.
    ///
    /// Never traps on any input. Tries every key of the keyring whose id matches the token's.
    ///
    /// - Throws: `.malformed` for anything that is not a canonical base64url envelope,
    ///   `.unsupportedVersion`, `.unknownKey` when no key has the token's id, and
    ///   `.authenticationFailed` when no matching key verifies it (tampered, other purpose, other
    ///   context, or another key with the same id).
    public func open(_ token: some StringProtocol, context: some Collection<UInt8>) throws(SealError) -> [UInt8] {
        guard let envelope = Base64.url.decode(token.utf8), !envelope.isEmpty else { throw .malformed }
        guard envelope[0] == Self.version else { throw .unsupportedVersion }
        guard envelope.count >= Self.overhead else { throw .malformed }
        let keyID = UInt16(envelope[1]) << 8 | UInt16(envelope[2])
        guard openingKeyIDs.contains(keyID) else { throw .unknownKey }

        let aad = additionalData(keyID: keyID, context: context)
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(combined: envelope[3...])
        } catch {
            throw .malformed
        }
        for (index, id) in openingKeyIDs.enumerated() where id == keyID {
            do {
                let plaintext = try AES.GCM.open(box, using: openingKeys[index], authenticating: aad)
                return Array(plaintext)
            } catch {
                continue
            }
        }
        throw .authenticationFailed
    }

    private func additionalData(keyID: UInt16, context: some Collection<UInt8>) -> [UInt8] {
        var aad: [UInt8] = []
        aad.reserveCapacity(3 + purposeTag.count + context.count)
        aad.append(Self.version)
        aad.append(UInt8(truncatingIfNeeded: keyID >> 8))
        aad.append(UInt8(truncatingIfNeeded: keyID))
        aad.append(contentsOf: purposeTag)
        aad.append(contentsOf: context)
        return aad
    }
}
