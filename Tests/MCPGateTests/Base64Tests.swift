import Testing

@testable import MCPGate
@testable import MCPGateSession

/// The one base64 codec: every alphabet and padding combination round-trips, each refuses every non-canonical
/// text, and the standard padded codec decides exactly as the decoder it replaced (`MCPHeaderValue`'s).
@Suite struct Base64Tests {
    private static let codecs = [
        Base64.url, Base64.standard, Base64(alphabet: .url, padded: true), Base64(alphabet: .standard, padded: false),
    ]

    @Test(arguments: codecs)
    func roundTripsEveryLength(codec: Base64) {
        for count in 0..<70 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 * 151 + count * 7 + 3) }
            let text = codec.encode(bytes)
            #expect(text.utf8.count == codec.encodedCount(count))
            #expect(codec.padded || !text.contains("="))
            #expect(!codec.padded || text.utf8.count % 4 == 0)
            #expect(codec.decode(text.utf8) == bytes)
        }
    }

    @Test func theFourCombinationsSpellTheSameBytes() {
        let bytes = Array("hello?>".utf8)  // ends in 0x3F 0x3E: characters 62 and 63 both appear
        #expect(Base64.url.encode(bytes) == "aGVsbG8_Pg")
        #expect(Base64.standard.encode(bytes) == "aGVsbG8/Pg==")
        #expect(Base64(alphabet: .url, padded: true).encode(bytes) == "aGVsbG8_Pg==")
        #expect(Base64(alphabet: .standard, padded: false).encode(bytes) == "aGVsbG8/Pg")
        #expect(Base64.standard.encode([0xFB, 0xFF]) == "+/8=")
        #expect(Base64.url.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test(arguments: codecs)
    func refusesNonCanonicalText(codec: Base64) {
        let (c62, c63) = codec.alphabet == .url ? ("-", "_") : ("+", "/")
        let (o62, o63) = codec.alphabet == .url ? ("+", "/") : ("-", "_")
        let pad1 = codec.padded ? "=" : ""
        let pad2 = codec.padded ? "==" : ""
        // The canonical forms decode.
        #expect(codec.decode("aGVsbG8\(c63)Pg\(pad2)".utf8) == Array("hello?>".utf8))
        #expect(codec.decode("\(c62)\(c63)8\(pad1)".utf8) == [0xFB, 0xFF])
        // Non-zero unused bits in the last character, with 4 and 2 of them.
        #expect(codec.decode("aGVsbG8\(c63)Ph\(pad2)".utf8) == nil)
        #expect(codec.decode("\(c62)\(c63)9\(pad1)".utf8) == nil)
        // The other alphabet's characters.
        #expect(codec.decode("aGVsbG8\(o63)Pg\(pad2)".utf8) == nil)
        #expect(codec.decode("\(o62)\(o63)8\(pad1)".utf8) == nil)
        // A lone 6-bit group, whitespace, characters outside both alphabets.
        #expect(codec.decode("aGVsb".utf8) == nil)
        #expect(codec.decode("aGVs bG8h".utf8) == nil)
        #expect(codec.decode("aGVs\nbG8h".utf8) == nil)
        #expect(codec.decode("aGVs.G8h".utf8) == nil)
        #expect(codec.decode("".utf8) == [])
        if codec.padded {
            #expect(codec.decode("aGVsbG8\(c63)Pg".utf8) == nil)  // padding missing
            #expect(codec.decode("aGVsbG8\(c63)Pg=".utf8) == nil)  // too little padding
            #expect(codec.decode("aGVsbG8\(c63)Pg===".utf8) == nil)  // too much
            #expect(codec.decode("aGVsbG8h====".utf8) == nil)  // a whole group of padding
            #expect(codec.decode("aG=sbG8h".utf8) == nil)  // padding inside
            #expect(codec.decode("A===".utf8) == nil)  // padding where a character must be
            #expect(codec.decode("SGVsbG9=".utf8) == nil)  // non-zero bits under the padding
        } else {
            #expect(codec.decode("aGVsbG8\(c63)Pg==".utf8) == nil)  // padding where there is none
            #expect(codec.decode("\(c62)\(c63)8=".utf8) == nil)
        }
    }

    /// `MCPHeaderValue`'s standard decoder before the merge, kept as the reference for the padded codec.
    private static func previousDecodeCanonical(_ chars: [UInt8]) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var reverse = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { reverse[Int(char)] = UInt8(index) }
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        var index = 0
        while index < chars.count {
            let isLast = index + 4 == chars.count
            let c2 = chars[index + 2]
            let c3 = chars[index + 3]
            let pad = (c3 == UInt8(ascii: "=") ? 1 : 0) + (c2 == UInt8(ascii: "=") ? 1 : 0)
            if pad > 0 && !isLast { return nil }
            if c2 == UInt8(ascii: "=") && c3 != UInt8(ascii: "=") { return nil }
            var n: UInt32 = 0
            for offset in 0..<(4 - pad) {
                let value = reverse[Int(chars[index + offset])]
                if value == 0xFF { return nil }
                n |= UInt32(value) << UInt32(18 - 6 * offset)
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if pad < 1 { out.append(UInt8(n & 0xFF)) }
            if pad == 1 && n & 0xFF != 0 { return nil }
            if pad == 2 && n & 0xFFFF != 0 { return nil }
            index += 4
        }
        return out
    }

    @Test func standardDecidesExactlyAsTheHeaderDecoderItReplaced() {
        // Every text of 4 characters over a set that hits each rule (both alphabets' 62 and 63, padding, values
        // with and without low bits set, a byte outside every alphabet), then 20,000 random ones of 4 to 12.
        let characters = Array("A=+/-_gQB.".utf8)
        var checked = 0
        func check(_ text: [UInt8]) {
            #expect(Base64.standard.decode(text) == Self.previousDecodeCanonical(text), "\(String(decoding: text, as: UTF8.self))")
            checked += 1
        }
        for length in [0, 4] {
            var indices = [Int](repeating: 0, count: length)
            while true {
                check(indices.map { characters[$0] })
                var position = length - 1
                while position >= 0 && indices[position] == characters.count - 1 {
                    indices[position] = 0
                    position -= 1
                }
                if position < 0 { break }
                indices[position] += 1
            }
        }
        var state: UInt64 = 7
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 60) % 3 * 4 + 4
            let text = (0..<length).map { index in characters[Int((state >> UInt64(index * 3 % 56)) & 0xFF) % characters.count] }
            check(text)
        }
        #expect(checked > 30_000)
    }
}
