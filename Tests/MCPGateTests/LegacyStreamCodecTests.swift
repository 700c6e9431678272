import Testing

@testable import MCPGateSession

@Suite("Sealed HTTP+SSE stream ids")
struct LegacyStreamCodecTests {
    static let masterKey: [UInt8] = Array(0..<32)
    static let route = "route-main"
    static let now: UInt64 = 1_750_000_000
    static let replica = ReplicaID(bytes: Array(100..<116))!

    static let bound = LegacyStreamState(
        replica: replica, stream: 0x0102_0304_0506_0708, principal: PrincipalDigest(principal: "alice@example.com"),
        issuedAt: now - 5, expiresAt: now + 3600)
    static let anonymous = LegacyStreamState(replica: replica, stream: 1, principal: nil, issuedAt: now, expiresAt: now + 60)

    static func codec() throws -> LegacyStreamCodec {
        LegacyStreamCodec(keyring: try Keyring(masterKeys: [masterKey]))
    }

    static func error(_ body: () throws(SessionError) -> LegacyStreamState) -> SessionError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    @Test func sealedStateOpensToTheSameState() throws {
        let codec = try Self.codec()
        for state in [Self.bound, Self.anonymous] {
            let token = codec.seal(state, route: Self.route)
            #expect(try codec.open(token, route: Self.route, now: Self.now) == state)
            #expect(token.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || ($0 < 128 && isAlphanumeric($0)) })
        }
        #expect(codec.seal(Self.anonymous, route: Self.route).count == 98)
        #expect(codec.seal(Self.bound, route: Self.route).count == 119)
    }

    @Test func everyBitFlipInATokenFails() throws {
        let codec = try Self.codec()
        for state in [Self.bound, Self.anonymous] {
            let token = Array(codec.seal(state, route: Self.route).utf8)
            for index in token.indices {
                for bit in 0..<8 {
                    var flipped = token
                    flipped[index] ^= 1 << bit
                    let text = String(decoding: flipped, as: UTF8.self)
                    #expect(Self.error { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } != nil)
                }
            }
        }
    }

    @Test func everyTruncationFails() throws {
        let codec = try Self.codec()
        let token = codec.seal(Self.bound, route: Self.route)
        for length in 0..<token.count {
            #expect(Self.error { () throws(SessionError) in try codec.open(token.prefix(length), route: Self.route, now: Self.now) } != nil)
        }
    }

    @Test func aSessionTokenIsNotAStreamTokenNorTheOtherWayRound() throws {
        let keyring = try Keyring(masterKeys: [Self.masterKey])
        let streams = LegacyStreamCodec(keyring: keyring)
        let sessions = SessionCodec(keyring: keyring)
        let session = SessionState(protocolVersion: "2024-11-05", issuedAt: Self.now, expiresAt: Self.now + 60, entries: [])
        let sessionToken = sessions.seal(session, route: Self.route)
        #expect(throws: SessionError.tampered) { try streams.open(sessionToken, route: Self.route, now: Self.now) }
        let streamToken = streams.seal(Self.bound, route: Self.route)
        #expect(throws: SessionError.tampered) { try sessions.open(streamToken, route: Self.route, now: Self.now) }
        // The same payload under the session key still does not open as a stream.
        let forged = Sealer(keyring: keyring, purpose: .session).seal(LegacyStreamCodec.encode(Self.bound), context: Self.route.utf8)
        #expect(throws: SessionError.tampered) { try streams.open(forged, route: Self.route, now: Self.now) }
    }

    @Test func anotherRouteFails() throws {
        let codec = try Self.codec()
        let token = codec.seal(Self.bound, route: "route-a")
        #expect(throws: SessionError.tampered) { try codec.open(token, route: "route-b", now: Self.now) }
        #expect(throws: SessionError.tampered) { try codec.open(token, route: "", now: Self.now) }
    }

    @Test func anotherKeyFails() throws {
        let token = try Self.codec().seal(Self.bound, route: Self.route)
        let other = LegacyStreamCodec(keyring: try Keyring(masterKeys: [Array(repeating: 7, count: 32)]))
        #expect(throws: SessionError.unknownKey) { try other.open(token, route: Self.route, now: Self.now) }
    }

    @Test func expiresAtExpiresAt() throws {
        let codec = try Self.codec()
        let token = codec.seal(Self.bound, route: Self.route)
        #expect(try codec.open(token, route: Self.route, now: Self.bound.expiresAt - 1) == Self.bound)
        #expect(throws: SessionError.expired) { try codec.open(token, route: Self.route, now: Self.bound.expiresAt) }
        #expect(throws: SessionError.expired) { try codec.open(token, route: Self.route, now: .max) }
    }

    @Test func payloadDecodingIsStrict() throws {
        let good = LegacyStreamCodec.encode(Self.bound)
        #expect(try LegacyStreamCodec.decode(good) == Self.bound)
        var badVersion = good
        badVersion[0] = 2
        var badFlags = LegacyStreamCodec.encode(Self.anonymous)
        badFlags[badFlags.count - 1] = 2
        for bytes in [badVersion, badFlags, Array(good.dropLast()), good + [0], [], [1]] {
            #expect(throws: SessionError.malformed) { try LegacyStreamCodec.decode(bytes) }
        }
        // A principal flag with no digest after it.
        var missing = LegacyStreamCodec.encode(Self.anonymous)
        missing[missing.count - 1] = 1
        #expect(throws: SessionError.malformed) { try LegacyStreamCodec.decode(missing) }
    }

    @Test func garbageIsMalformed() throws {
        let codec = try Self.codec()
        for text in ["", "A", "not a token", "é", String(repeating: "A", count: 500)] {
            #expect(Self.error { () throws(SessionError) in try codec.open(text, route: Self.route, now: Self.now) } == .malformed)
        }
    }

    private func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
