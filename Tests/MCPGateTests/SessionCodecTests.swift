import Testing

@testable import MCPGate
@testable import MCPGateSession

/// A small deterministic generator so a failing fuzz case can be replayed.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Sealed session state")
struct SessionCodecTests {
    static let masterKey: [UInt8] = Array(0..<32)
    static let otherMasterKey: [UInt8] = Array(repeating: 0xA5, count: 32)
    static let route = "route-main"
    static let now: UInt64 = 1_750_000_000

    static let oneTarget = SessionState(
        protocolVersion: "2025-06-18",
        principal: PrincipalDigest(principal: "alice@example.com"),
        issuedAt: now - 10,
        expiresAt: now + 3600,
        entries: [.init(target: "alpha", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "3f2b8c1e-upstream")]
    )

    static let threeTargets = SessionState(
        protocolVersion: "2025-11-25",
        principal: nil,
        issuedAt: now,
        expiresAt: now + 86_400,
        entries: [
            .init(target: "alpha", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "a-1"),
            .init(target: "beta", endpoint: "http://10.0.0.2:3005/mcp"),
            .init(target: "gämma", endpoint: "https://example.com/mcp?x=1", upstreamSessionID: ""),
        ]
    )

    static func codec(_ keys: [UInt8]...) throws -> SessionCodec {
        SessionCodec(keyring: try Keyring(masterKeys: keys))
    }

    static func sessionError(_ body: () throws(SessionError) -> SessionState) -> SessionError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Round trips

    @Test func sealedStateOpensToTheSameState() throws {
        let codec = try Self.codec(Self.masterKey)
        for state in [Self.oneTarget, Self.threeTargets] {
            let token = codec.seal(state, route: Self.route)
            #expect(try codec.open(token, route: Self.route, now: Self.now) == state)
        }
    }

    @Test func emptyStateAndExtremeValuesRoundTrip() throws {
        let codec = try Self.codec(Self.masterKey)
        let state = SessionState(protocolVersion: "", issuedAt: 0, expiresAt: .max, entries: [])
        #expect(try codec.open(codec.seal(state, route: ""), route: "", now: .max - 1) == state)

        let limits = SessionState(
            protocolVersion: String(repeating: "v", count: SessionState.maxFieldByteCount),
            issuedAt: .max,
            expiresAt: .max,
            entries: Array(
                repeating: .init(target: "t", endpoint: "e", upstreamSessionID: "u"),
                count: SessionState.maxEntryCount
            )
        )
        #expect(limits.fitsEncodingLimits)
        #expect(try codec.open(codec.seal(limits, route: Self.route), route: Self.route, now: 0) == limits)
    }

    @Test func openAcceptsASubstringToken() throws {
        let codec = try Self.codec(Self.masterKey)
        let header = "Mcp-Session-Id: " + codec.seal(Self.oneTarget, route: Self.route)
        let token = header.dropFirst("Mcp-Session-Id: ".count)
        #expect(try codec.open(token, route: Self.route, now: Self.now) == Self.oneTarget)
    }

    @Test func sealingTwiceGivesDifferentTokens() throws {
        let codec = try Self.codec(Self.masterKey)
        let first = codec.seal(Self.oneTarget, route: Self.route)
        let second = codec.seal(Self.oneTarget, route: Self.route)
        #expect(first != second)
        #expect(first.dropFirst(4).prefix(16) != second.dropFirst(4).prefix(16))  // the nonce
    }

    /// Produced independently by Python `cryptography` (HKDF-SHA256 + AESGCM) with a fixed nonce,
    /// following the documented envelope and payload layout. Pins the wire format.
    @Test func opensATokenMadeByAnIndependentImplementation() throws {
        let token =
            "AWMNZGVmZ2hpamtsbW5v8OWt8ReNvTaYUL7k-vNWGViEI0EMyplng6TGjwK92YKNNf6Mjoe0T1NAWuUHhk1cLx22G8XL2LSElk2mp4wLLdHbXuI92aCy_ATR9oFBuSmiNG7wvJ1ChMnoazFRu3MacqWzti8NX2htkOH99-fqW3NOg4GqnO-DlvCBdrgk-sw8ILAvnH_KyRHRn0jN9KU"
        let state = try Self.codec(Self.masterKey).open(token, route: "route-main", now: Self.now)
        #expect(
            state
                == SessionState(
                    protocolVersion: "2025-06-18",
                    principal: PrincipalDigest(principal: "alice@example.com"),
                    issuedAt: 1_700_000_000,
                    expiresAt: 4_000_000_000,
                    entries: [
                        .init(target: "alpha", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "upstream-1"),
                        .init(target: "beta", endpoint: "http://10.0.0.2:3005/mcp"),
                    ]
                )
        )
    }

    // MARK: Refusals

    @Test func everyBitFlipInATokenFails() throws {
        let codec = try Self.codec(Self.masterKey)
        // Three payload lengths, so the last base64 character carries 0, 2 and 4 unused bits.
        for extra in ["", "x", "xy"] {
            var state = Self.oneTarget
            state.entries[0].upstreamSessionID? += extra
            let token = Array(codec.seal(state, route: Self.route).utf8)
            for index in token.indices {
                for bit in 0..<8 {
                    var flipped = token
                    flipped[index] ^= 1 << bit
                    let text = String(decoding: flipped, as: UTF8.self)
                    #expect(Self.sessionError { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } != nil)
                }
            }
        }
    }

    @Test func everyBitFlipInTheEnvelopeFails() throws {
        let codec = try Self.codec(Self.masterKey)
        let envelope = try #require(Base64.url.decode(codec.seal(Self.threeTargets, route: Self.route).utf8))
        for index in envelope.indices {
            for bit in 0..<8 {
                var flipped = envelope
                flipped[index] ^= 1 << bit
                let error = Self.sessionError { () throws(SessionError) in
                    try codec.open(Base64.url.encode(flipped), route: Self.route, now: Self.now)
                }
                switch index {
                case 0: #expect(error == .malformed)  // version
                case 1, 2: #expect(error == .unknownKey)  // key id
                default: #expect(error == .tampered)
                }
            }
        }
    }

    @Test func everyTruncationFails() throws {
        let codec = try Self.codec(Self.masterKey)
        let token = codec.seal(Self.oneTarget, route: Self.route)
        for length in 0..<token.count {
            #expect(
                Self.sessionError { () throws(SessionError) in try codec.open(token.prefix(length), route: Self.route, now: Self.now) }
                    != nil)
        }
        // Appending characters fails too.
        for suffix in ["A", "AA", "AAA", "AAAA", "_"] {
            #expect(
                Self.sessionError { () throws(SessionError) in try codec.open(token + suffix, route: Self.route, now: Self.now) } != nil)
        }
    }

    @Test func garbageIsMalformed() throws {
        let codec = try Self.codec(Self.masterKey)
        let garbage = [
            "", "A", "AA", "====", "AQ==", "not a token", "\u{0}", "é", "🙂🙂🙂🙂", String(repeating: "A", count: 10_000),
            "AQ", "AQAA", String(repeating: "_", count: 41), "Ag" + String(repeating: "A", count: 60),
        ]
        for text in garbage {
            #expect(Self.sessionError { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } == .malformed)
        }
    }

    @Test func sealerReportsAnUnsupportedVersion() throws {
        let sealer = Sealer(keyring: try Keyring(masterKeys: [Self.masterKey]), purpose: .cursor)
        var envelope = try #require(Base64.url.decode(sealer.seal([1, 2, 3], context: []).utf8))
        envelope[0] = 2
        #expect(throws: SealError.unsupportedVersion) { try sealer.open(Base64.url.encode(envelope), context: []) }
        #expect(throws: SealError.malformed) { try sealer.open("AQ", context: []) }
    }

    @Test func wrongRouteFails() throws {
        let codec = try Self.codec(Self.masterKey)
        let token = codec.seal(Self.oneTarget, route: "route-a")
        #expect(throws: SessionError.tampered) { try codec.open(token, route: "route-b", now: Self.now) }
        #expect(throws: SessionError.tampered) { try codec.open(token, route: "route-a ", now: Self.now) }
        #expect(throws: SessionError.tampered) { try codec.open(token, route: "", now: Self.now) }
    }

    @Test func aTokenForAnotherPurposeDoesNotOpen() throws {
        let keyring = try Keyring(masterKeys: [Self.masterKey])
        let payload = Self.oneTarget.encoded()
        let requestState = Sealer(keyring: keyring, purpose: .requestState).seal(payload, context: Self.route.utf8)
        #expect(throws: SessionError.tampered) {
            try SessionCodec(keyring: keyring).open(requestState, route: Self.route, now: Self.now)
        }
        let cursor = Sealer(keyring: keyring, purpose: .cursor).seal(payload, context: Self.route.utf8)
        #expect(throws: SealError.authenticationFailed) {
            try Sealer(keyring: keyring, purpose: .requestState).open(cursor, context: Self.route.utf8)
        }
        #expect(try Sealer(keyring: keyring, purpose: .cursor).open(cursor, context: Self.route.utf8) == payload)
    }

    @Test func expiresAtExpiresAt() throws {
        let codec = try Self.codec(Self.masterKey)
        let token = codec.seal(Self.oneTarget, route: Self.route)
        #expect(try codec.open(token, route: Self.route, now: Self.oneTarget.expiresAt - 1) == Self.oneTarget)
        #expect(throws: SessionError.expired) { try codec.open(token, route: Self.route, now: Self.oneTarget.expiresAt) }
        #expect(throws: SessionError.expired) { try codec.open(token, route: Self.route, now: .max) }
    }

    // MARK: Keys

    @Test func rotationOpensOldTokensAndSealsWithTheNewKey() throws {
        let old = try Self.codec(Self.masterKey)
        let rotated = try Self.codec(Self.otherMasterKey, Self.masterKey)
        let oldToken = old.seal(Self.oneTarget, route: Self.route)
        #expect(try rotated.open(oldToken, route: Self.route, now: Self.now) == Self.oneTarget)

        let newToken = rotated.seal(Self.oneTarget, route: Self.route)
        #expect(throws: SessionError.unknownKey) { try old.open(newToken, route: Self.route, now: Self.now) }
        let retired = try Self.codec(Self.otherMasterKey)
        #expect(throws: SessionError.unknownKey) { try retired.open(oldToken, route: Self.route, now: Self.now) }
    }

    @Test func keysWithCollidingIDsAreAllTried() throws {
        // Find two master keys whose 16-bit ids collide (a birthday search: a few hundred keys).
        var byID: [UInt16: [UInt8]] = [:]
        var pair: ([UInt8], [UInt8])?
        for seed in 0..<UInt32(100_000) {
            let key = (0..<32).map { UInt8(truncatingIfNeeded: seed >> (8 * UInt32($0 % 4))) ^ UInt8($0) }
            let id = try Keyring(masterKeys: [key]).keyIDs[0]
            if let other = byID[id] {
                pair = (other, key)
                break
            }
            byID[id] = key
        }
        let (first, second) = try #require(pair)
        let both = try Self.codec(second, first)
        #expect(Set(try Keyring(masterKeys: [second, first]).keyIDs).count == 1)
        let sealedByFirst = try Self.codec(first).seal(Self.oneTarget, route: Self.route)
        let sealedBySecond = try Self.codec(second).seal(Self.oneTarget, route: Self.route)
        #expect(try both.open(sealedByFirst, route: Self.route, now: Self.now) == Self.oneTarget)
        #expect(try both.open(sealedBySecond, route: Self.route, now: Self.now) == Self.oneTarget)
        #expect(throws: SessionError.tampered) {
            try Self.codec(first).open(sealedBySecond, route: Self.route, now: Self.now)
        }
    }

    @Test func independentKeyringsFromTheSameKeyInteroperate() throws {
        let first = try Self.codec(Self.masterKey)
        let second = try Self.codec(Self.masterKey)
        #expect(try second.open(first.seal(Self.threeTargets, route: Self.route), route: Self.route, now: Self.now) == Self.threeTargets)
        #expect(try first.open(second.seal(Self.threeTargets, route: Self.route), route: Self.route, now: Self.now) == Self.threeTargets)
    }

    @Test func generatedKeyringsDoNotShareSessions() throws {
        let first = SessionCodec(keyring: .generated())
        let second = SessionCodec(keyring: .generated())
        let token = first.seal(Self.oneTarget, route: Self.route)
        #expect(try first.open(token, route: Self.route, now: Self.now) == Self.oneTarget)
        #expect(throws: SessionError.self) { try second.open(token, route: Self.route, now: Self.now) }
    }

    @Test func keyringKeyIDIsTheStartOfTheMasterKeyHash() throws {
        // SHA-256 of bytes 0...31 starts with 630d.
        #expect(try Keyring(masterKeys: [Self.masterKey]).keyIDs == [0x630D])
        #expect(try Keyring(masterKeys: [Self.masterKey, Self.masterKey]).keyIDs == [0x630D])
    }

    @Test func keyringRefusesBadKeys() {
        #expect(throws: KeyringError.noKeys) { try Keyring(masterKeys: []) }
        #expect(throws: KeyringError.wrongKeyLength(index: 1, byteCount: 31)) {
            try Keyring(masterKeys: [Self.masterKey, Array(repeating: 0, count: 31)])
        }
        #expect(throws: KeyringError.noKeys) { try Keyring(hexMasterKeys: []) }
        #expect(throws: KeyringError.invalidHex(index: 0)) { try Keyring(hexMasterKeys: [String(repeating: "0", count: 63)]) }
        #expect(throws: KeyringError.invalidHex(index: 0)) { try Keyring(hexMasterKeys: [String(repeating: "g", count: 64)]) }
        #expect(throws: KeyringError.invalidHex(index: 0)) { try Keyring(hexMasterKeys: [String(repeating: "0", count: 66)]) }
        #expect(throws: KeyringError.invalidHex(index: 0)) { try Keyring(hexMasterKeys: ["00 " + String(repeating: "0", count: 62)]) }
    }

    @Test func hexKeysMatchRawKeys() throws {
        let hex = Self.masterKey.map { byte in String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
        let fromHex = SessionCodec(keyring: try Keyring(hexMasterKeys: ["  " + hex.uppercased() + "\n"]))
        let token = try Self.codec(Self.masterKey).seal(Self.oneTarget, route: Self.route)
        #expect(try fromHex.open(token, route: Self.route, now: Self.now) == Self.oneTarget)
    }

    // MARK: Output and robustness

    @Test func tokensAreVisibleASCIIOnly() throws {
        let codec = try Self.codec(Self.masterKey)
        var generator = SplitMix64(state: 7)
        for _ in 0..<500 {
            var state = Self.threeTargets
            state.entries[0].upstreamSessionID = String(repeating: "x", count: Int.random(in: 0..<80, using: &generator))
            let token = codec.seal(state, route: Self.route)
            #expect(token.utf8.allSatisfy { (0x21...0x7E).contains($0) })
            #expect(token.utf8.allSatisfy { $0.isBase64URLCharacter })
        }
    }

    @Test func randomInputNeverOpensOrCrashes() throws {
        let keyring = try Keyring(masterKeys: [Self.masterKey])
        let codec = SessionCodec(keyring: keyring)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        let valid = Array(codec.seal(Self.oneTarget, route: Self.route).utf8)
        var generator = SplitMix64(state: 0x5EED)
        for iteration in 0..<4000 {
            let text: String
            switch iteration % 4 {
            case 0:  // arbitrary bytes, mostly not UTF-8
                let count = Int.random(in: 0..<200, using: &generator)
                text = String(decoding: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, as: UTF8.self)
            case 1:  // base64url characters of any length
                let count = Int.random(in: 0..<200, using: &generator)
                text = String(decoding: (0..<count).map { _ in alphabet.randomElement(using: &generator) ?? 65 }, as: UTF8.self)
            case 2:  // a well-formed envelope with the right version and key id but random contents
                var envelope: [UInt8] = [1, 0x63, 0x0D]
                envelope += (0..<Int.random(in: 28..<160, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                text = Base64.url.encode(envelope)
            default:  // a real token with a few random characters replaced
                var bytes = valid
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = alphabet.randomElement(using: &generator) ?? 65
                }
                if bytes == valid { continue }
                text = String(decoding: bytes, as: UTF8.self)
            }
            #expect(Self.sessionError { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } != nil)
        }
    }

    // MARK: Payload encoding

    @Test func payloadDecodingIsStrict() throws {
        let encoded = Self.threeTargets.encoded()
        #expect(try SessionState(encoded: encoded) == Self.threeTargets)
        #expect(throws: SessionError.malformed) { try SessionState(encoded: encoded + [0]) }
        #expect(throws: SessionError.malformed) { try SessionState(encoded: Array(encoded.dropLast())) }
        #expect(throws: SessionError.malformed) { try SessionState(encoded: []) }
        var otherFormat = encoded
        otherFormat[0] = 2
        #expect(throws: SessionError.malformed) { try SessionState(encoded: otherFormat) }
        var badFlag = encoded
        badFlag[17] = 2  // principal flag
        #expect(throws: SessionError.malformed) { try SessionState(encoded: badFlag) }

        // A protocol version that claims more bytes than the limit.
        var overLong: [UInt8] = [1] + Array(repeating: 0, count: 16) + [0]
        let length = SessionState.maxFieldByteCount + 1
        overLong += [UInt8(length >> 8), UInt8(length & 0xFF)] + Array(repeating: 0x61, count: length) + [0]
        #expect(throws: SessionError.malformed) { try SessionState(encoded: overLong) }

        // Invalid UTF-8 in a string field.
        let badUTF8: [UInt8] = [1] + Array(repeating: 0, count: 16) + [0, 0, 2, 0xC3, 0x28, 0]
        #expect(throws: SessionError.malformed) { try SessionState(encoded: badUTF8) }
    }

    @Test func aStateOverTheLimitsSealsToATokenThatNeverOpens() throws {
        let codec = try Self.codec(Self.masterKey)
        var tooMany = Self.oneTarget
        tooMany.entries = Array(repeating: Self.oneTarget.entries[0], count: SessionState.maxEntryCount + 1)
        var tooLong = Self.oneTarget
        tooLong.entries[0].upstreamSessionID = String(repeating: "x", count: SessionState.maxFieldByteCount + 1)
        for state in [tooMany, tooLong] {
            #expect(!state.fitsEncodingLimits)
            #expect(throws: SessionError.malformed) {
                try codec.open(codec.seal(state, route: Self.route), route: Self.route, now: Self.now)
            }
        }
    }

    @Test func principalDigestIsTruncatedDomainSeparatedSHA256() throws {
        let digest = PrincipalDigest(principal: "alice@example.com")
        // Python: hashlib.sha256(b"mcpgate-principal\0alice@example.com").hexdigest()[:32]
        let expected: [UInt8] = [
            0xB5, 0x4A, 0xCF, 0xEB, 0xA7, 0x7E, 0xB1, 0xEC, 0x30, 0xF0, 0x0E, 0xC1, 0x9C, 0xEB, 0x1B, 0x91,
        ]
        #expect(digest.bytes == expected)
        #expect(PrincipalDigest(bytes: expected) == digest)
        #expect(PrincipalDigest(bytes: expected.dropLast()) == nil)
        #expect(PrincipalDigest(principal: "bob") != digest)
    }

    // MARK: Local pin (entry flag bit 1)

    static let replica = ReplicaID(bytes: Array(0x10...0x1F))!

    static let pinned = SessionState(
        protocolVersion: "2024-11-05",
        principal: PrincipalDigest(principal: "alice@example.com"),
        issuedAt: now,
        expiresAt: now + 3600,
        entries: [
            .init(target: "h", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "up-1"),
            .init(target: "s", endpoint: "http://127.0.0.1:3006/sse", localPin: LocalPin(replica: replica, channel: 7)),
            .init(target: "p", endpoint: "stdio:p", upstreamSessionID: "", localPin: LocalPin(replica: replica, channel: .max)),
        ]
    )

    @Test func aLocalPinRoundTripsThroughThePayloadAndTheToken() throws {
        #expect(try SessionState(encoded: Self.pinned.encoded()) == Self.pinned)
        let codec = try Self.codec(Self.masterKey)
        #expect(try codec.open(codec.seal(Self.pinned, route: Self.route), route: Self.route, now: Self.now) == Self.pinned)
        var otherReplica = Self.pinned
        otherReplica.entries[1].localPin?.replica = ReplicaID(bytes: Array(repeating: 0xEE, count: 16))!
        #expect(try SessionState(encoded: otherReplica.encoded()) != Self.pinned)
        var unpinned = Self.pinned
        for index in unpinned.entries.indices { unpinned.entries[index].localPin = nil }
        #expect(Self.pinned.encoded().count == unpinned.encoded().count + 2 * (16 + 8))
    }

    /// The payload of a state without pins, written out from the documented layout: adding the pin must not
    /// change a single byte of what version 1 always wrote.
    @Test func aStateWithoutAPinEncodesExactlyAsVersionOneDid() throws {
        let state = SessionState(
            protocolVersion: "2025-06-18", issuedAt: 1_700_000_000, expiresAt: 4_000_000_000,
            entries: [
                .init(target: "alpha", endpoint: "http://a/mcp", upstreamSessionID: "u-1"),
                .init(target: "beta", endpoint: "http://b/mcp"),
            ])
        var golden: [UInt8] = [1]
        golden += [0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xF1, 0x00]  // issuedAt
        golden += [0x00, 0x00, 0x00, 0x00, 0xEE, 0x6B, 0x28, 0x00]  // expiresAt
        golden += [0]  // no principal
        golden += [0, 10] + Array("2025-06-18".utf8)
        golden += [2]  // entries
        golden += [1, 0, 5] + Array("alpha".utf8) + [0, 12] + Array("http://a/mcp".utf8) + [0, 3] + Array("u-1".utf8)
        golden += [0, 0, 4] + Array("beta".utf8) + [0, 12] + Array("http://b/mcp".utf8)
        #expect(state.encoded() == golden)
        #expect(try SessionState(encoded: golden) == state)
    }

    @Test func aPinnedEntryEncodesItsPinAfterTheUpstreamSessionID() throws {
        let state = SessionState(
            protocolVersion: "v", issuedAt: 1, expiresAt: 2,
            entries: [
                .init(
                    target: "p", endpoint: "stdio:p", upstreamSessionID: "u",
                    localPin: LocalPin(replica: Self.replica, channel: 0x0102_0304_0506_0708)),
                .init(target: "s", endpoint: "e", localPin: LocalPin(replica: Self.replica, channel: 9)),
            ])
        var golden: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 1] + Array("v".utf8) + [2]
        golden += [3, 0, 1] + Array("p".utf8) + [0, 7] + Array("stdio:p".utf8) + [0, 1] + Array("u".utf8)
        golden += Array(0x10...0x1F) + [1, 2, 3, 4, 5, 6, 7, 8]
        golden += [2, 0, 1] + Array("s".utf8) + [0, 1] + Array("e".utf8)
        golden += Array(0x10...0x1F) + [0, 0, 0, 0, 0, 0, 0, 9]
        #expect(state.encoded() == golden)
        #expect(try SessionState(encoded: golden) == state)
    }

    @Test func unknownEntryFlagBitsAndShortPinsAreRefused() throws {
        let state = SessionState(
            protocolVersion: "v", issuedAt: 1, expiresAt: 2,
            entries: [.init(target: "s", endpoint: "e", localPin: LocalPin(replica: Self.replica, channel: 9))])
        let encoded = state.encoded()
        let flagsIndex = 1 + 8 + 8 + 1 + 3 + 1
        #expect(encoded[flagsIndex] == 2)
        for bit in 2..<8 {
            var flipped = encoded
            flipped[flagsIndex] |= 1 << bit
            #expect(throws: SessionError.malformed) { try SessionState(encoded: flipped) }
        }
        var withoutTheBit = encoded
        withoutTheBit[flagsIndex] = 0  // the pin's 24 bytes become trailing garbage
        #expect(throws: SessionError.malformed) { try SessionState(encoded: withoutTheBit) }
        var upstreamToo = encoded
        upstreamToo[flagsIndex] = 3  // the pin's bytes read as a string length, then fall short
        #expect(throws: SessionError.malformed) { try SessionState(encoded: upstreamToo) }
        for length in (encoded.count - 24)..<encoded.count {
            #expect(throws: SessionError.malformed) { try SessionState(encoded: Array(encoded.prefix(length))) }
        }
    }

    @Test func everyBitFlipInAPinnedTokenFails() throws {
        let codec = try Self.codec(Self.masterKey)
        let token = Array(codec.seal(Self.pinned, route: Self.route).utf8)
        #expect(try codec.open(String(decoding: token, as: UTF8.self), route: Self.route, now: Self.now) == Self.pinned)
        for index in token.indices {
            for bit in 0..<8 {
                var flipped = token
                flipped[index] ^= 1 << bit
                let text = String(decoding: flipped, as: UTF8.self)
                #expect(Self.sessionError { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } != nil)
            }
        }
    }

    // MARK: Base64url

    @Test func base64URLRoundTripsEveryLengthAndRefusesNonCanonicalText() throws {
        var generator = SplitMix64(state: 1)
        for count in 0..<100 {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Base64.url.encode(bytes)
            #expect(text.utf8.count == Base64.url.encodedCount(count))
            #expect(Base64.url.decode(text.utf8) == bytes)
        }
        #expect(Base64.url.encode(Array("hello?>".utf8)) == "aGVsbG8_Pg")
        #expect(Base64.url.decode("aGVsbG8_Pg".utf8) == Array("hello?>".utf8))
        #expect(Base64.url.decode("aGVsbG8_Ph".utf8) == nil)  // non-zero unused bits
        #expect(Base64.url.decode("aGVsbG8/Pg".utf8) == nil)  // standard alphabet
        #expect(Base64.url.decode("aGVsbG8_Pg==".utf8) == nil)  // padding
        #expect(Base64.url.decode("aGVsb".utf8) == nil)  // lone 6-bit group
    }
}

extension UInt8 {
    fileprivate var isBase64URLCharacter: Bool {
        (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || (0x30...0x39).contains(self) || self == 0x2D
            || self == 0x5F
    }
}
