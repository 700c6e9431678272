import NIOCore

/// Reads the envelope of one JSON-RPC message (one stdout line of a stdio upstream, one SSE `message` event)
/// in a single linear pass, without building a tree: a hostile line costs its length, never a node per value.
///
/// What it reads: the top-level `id`, `method`, whether `result` or `error` is there, and `params.progressToken`
/// (kept for a `notifications/progress` message only). Every other value is skipped by depth, but still
/// checked, so the whole line is validated as strict JSON (RFC 8259): one object, optional whitespace around it,
/// nothing after it; strings with valid escapes, no raw control characters and valid UTF-8; numbers in JSON's
/// grammar; `true`, `false`, `null`; nesting at most `maxDepth` deep (the message object is depth 1).
///
/// Decisions (nil means "not a JSON-RPC message", the caller's bad-line policy applies):
/// - kind: `method` and an `id` member → `.request`; `method` without `id` → `.notification`; `result` or
///   `error` without `method` → `.response`. `method` together with `result` or `error`, or none of the three →
///   nil. `method` must be a string. `jsonrpc` is not checked.
/// - `id`: a string is decoded (escapes, `\uXXXX` and surrogate pairs), so `"\u00e9"` and `"é"` are one id. An
///   integer in `Int64` range is `.int`. `null`, a fraction, an exponent, an integer out of range, or a string
///   with a lone surrogate escape keep the kind with a nil `id`: the message is well formed, but the gateway
///   cannot correlate it (a response with a nil id reaches no waiter). An object, array or boolean id → nil.
/// - `progressToken`: a string or an `Int64` integer, as for `id`; any other value is no token.
/// - A repeated key among those read (`id`, `method`, `result`, `error`, `params`, and `progressToken` inside
///   `params`) → nil: two readers of the line could otherwise disagree on which request it answers. Repeats of
///   other keys are allowed (JSON leaves them to the reader).
///
/// A namespace of pure functions: safe from any thread.
package enum JSONRPCEnvelopeScanner {
    /// The deepest nesting accepted by default; the message object is depth 1.
    package static let defaultMaxDepth = 64

    /// The envelope of `line` (its readable bytes), or nil when they are not exactly one JSON-RPC object.
    package static func scan(_ line: ByteBuffer, maxDepth: Int = defaultMaxDepth) -> JSONRPCEnvelope? {
        line.withUnsafeReadableBytes { bytes in
            var cursor = JSONCursor(bytes: bytes, maxDepth: max(1, min(maxDepth, 64)))
            return cursor.message()
        }
    }
}

/// An `id` or `progressToken` value as read.
private enum IDValue: Equatable {
    /// The member is not there.
    case absent
    /// There, but not an id the gateway correlates (`null`, a fraction, out of range, a lone surrogate).
    case uncorrelatable
    case id(JSONRPCID)

    var id: JSONRPCID? {
        if case .id(let id) = self { return id }
        return nil
    }
}

/// The top-level keys the scanner reads.
private enum Key {
    case id, method, result, error, params, progressToken, other
}

/// A position in one line and the reading of JSON from there. Every read checks the bounds, and advances only
/// over what it accepted. `maxDepth` is at most 64, so one `UInt64` holds the kinds of the open containers.
private struct JSONCursor {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var position = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    // MARK: The message

    mutating func message() -> JSONRPCEnvelope? {
        var id = IDValue.absent
        var method: String?
        var hasResult = false
        var hasError = false
        var hasParams = false
        var progressToken = IDValue.absent
        skipWhitespace()
        guard take(.openBrace) else { return nil }
        skipWhitespace()
        if !take(.closeBrace) {
            repeat {
                skipWhitespace()
                guard let key = memberKey(), skipWhitespaceThenColon() else { return nil }
                skipWhitespace()
                switch key {
                case .id:
                    guard id == .absent, let value = idValue() else { return nil }
                    id = value
                case .method:
                    guard method == nil, peek() == .quote, let text = string() else { return nil }
                    method = text.value
                case .result:
                    guard !hasResult, skipValue(enclosingDepth: 1) else { return nil }
                    hasResult = true
                case .error:
                    guard !hasError, skipValue(enclosingDepth: 1) else { return nil }
                    hasError = true
                case .params:
                    guard !hasParams else { return nil }
                    hasParams = true
                    if peek() == .openBrace {
                        guard let token = paramsProgressToken() else { return nil }
                        progressToken = token
                    } else {
                        guard skipValue(enclosingDepth: 1) else { return nil }
                    }
                case .progressToken, .other:
                    guard skipValue(enclosingDepth: 1) else { return nil }
                }
                skipWhitespace()
            } while take(.comma)
            guard take(.closeBrace) else { return nil }
        }
        skipWhitespace()
        guard position == bytes.count else { return nil }

        if let method {
            guard !hasResult, !hasError else { return nil }
            let token = method == "notifications/progress" ? progressToken.id : nil
            if id == .absent { return JSONRPCEnvelope(kind: .notification, method: method, progressToken: token) }
            return JSONRPCEnvelope(kind: .request, id: id.id, method: method, progressToken: token)
        }
        guard hasResult || hasError else { return nil }
        return JSONRPCEnvelope(kind: .response, id: id.id)
    }

    /// The `params` object (at the cursor): its `progressToken`, every other member skipped. nil: invalid.
    private mutating func paramsProgressToken() -> IDValue? {
        guard take(.openBrace), maxDepth >= 2 else { return nil }
        var token = IDValue.absent
        skipWhitespace()
        if take(.closeBrace) { return token }
        repeat {
            skipWhitespace()
            guard let key = memberKey(), skipWhitespaceThenColon() else { return nil }
            skipWhitespace()
            if key == .progressToken {
                guard token == .absent else { return nil }
                if let first = peek(), first == .quote || first == .minus || first.isDigit {
                    guard let value = idValue() else { return nil }
                    token = value
                } else {
                    guard skipValue(enclosingDepth: 2) else { return nil }
                    token = .uncorrelatable
                }
            } else {
                guard skipValue(enclosingDepth: 2) else { return nil }
            }
            skipWhitespace()
        } while take(.comma)
        guard take(.closeBrace) else { return nil }
        return token
    }

    /// An `id` value: a string, a number or null. nil for anything else (not a JSON-RPC id) or invalid JSON.
    private mutating func idValue() -> IDValue? {
        switch peek() {
        case .quote?:
            guard let text = string() else { return nil }
            return text.lossless ? .id(.string(text.value)) : .uncorrelatable
        case .letterN?:
            return literal(Self.nullLiteral) ? .uncorrelatable : nil
        default:
            guard let number = number() else { return nil }
            return number.map { .id(.int($0)) } ?? .uncorrelatable
        }
    }

    /// A member's key (at the cursor), decoded and matched against the keys read.
    private mutating func memberKey() -> Key? {
        guard peek() == .quote, let range = scanString() else { return nil }
        if !range.escaped { return Self.key(bytes[range.content]) }
        let decoded = decode(range.content)
        return decoded.withUnsafeBytes { Self.key($0[...]) }
    }

    private static func key(_ name: Slice<UnsafeRawBufferPointer>) -> Key {
        switch name.count {
        case 2 where name.elementsEqual(idKey): return .id
        case 5 where name.elementsEqual(errorKey): return .error
        case 6 where name.elementsEqual(methodKey): return .method
        case 6 where name.elementsEqual(paramsKey): return .params
        case 6 where name.elementsEqual(resultKey): return .result
        case 13 where name.elementsEqual(progressTokenKey): return .progressToken
        default: return .other
        }
    }

    private static let idKey = Array("id".utf8)
    private static let methodKey = Array("method".utf8)
    private static let resultKey = Array("result".utf8)
    private static let errorKey = Array("error".utf8)
    private static let paramsKey = Array("params".utf8)
    private static let progressTokenKey = Array("progressToken".utf8)
    private static let nullLiteral = Array("null".utf8)
    private static let trueLiteral = Array("true".utf8)
    private static let falseLiteral = Array("false".utf8)

    // MARK: Values

    /// Skips one value of any kind (at the cursor), checking it, with `enclosingDepth` containers open around
    /// it. Iterative: bit `n` of `objects` says whether the `n`-th container it opened is an object.
    private mutating func skipValue(enclosingDepth: Int) -> Bool {
        var objects: UInt64 = 0
        var open = 0
        while true {
            // A value starts here.
            skipWhitespace()
            guard let byte = peek() else { return false }
            switch byte {
            case .openBrace, .openBracket:
                guard enclosingDepth + open + 1 <= maxDepth else { return false }
                position += 1
                let isObject = byte == .openBrace
                if isObject { objects |= 1 << open } else { objects &= ~(1 << open) }
                open += 1
                skipWhitespace()
                if take(isObject ? .closeBrace : .closeBracket) {
                    open -= 1
                } else {
                    if isObject {
                        guard peek() == .quote, scanString() != nil, skipWhitespaceThenColon() else { return false }
                    }
                    continue
                }
            case .quote:
                guard scanString() != nil else { return false }
            case .letterT:
                guard literal(Self.trueLiteral) else { return false }
            case .letterF:
                guard literal(Self.falseLiteral) else { return false }
            case .letterN:
                guard literal(Self.nullLiteral) else { return false }
            default:
                guard number() != nil else { return false }
            }
            // A value ended: close the containers it ends, or go on to the next member or element.
            while true {
                guard open > 0 else { return true }
                skipWhitespace()
                let inObject = objects & (1 << (open - 1)) != 0
                if take(.comma) {
                    if inObject {
                        skipWhitespace()
                        guard peek() == .quote, scanString() != nil, skipWhitespaceThenColon() else { return false }
                    }
                    break
                }
                guard take(inObject ? .closeBrace : .closeBracket) else { return false }
                open -= 1
            }
        }
    }

    /// A number (at the cursor) in JSON's grammar. The outer optional is validity; the inner value is the
    /// number when it is an integer (no fraction, no exponent) in `Int64` range.
    private mutating func number() -> Int64?? {
        let negative = take(.minus)
        guard let first = peek(), first.isDigit else { return nil }
        var value: Int64? = 0
        if first == .zero {
            position += 1
        } else {
            while let digit = peek(), digit.isDigit {
                position += 1
                if let current = value {
                    let (times10, overflow1) = current.multipliedReportingOverflow(by: 10)
                    let step = Int64(digit - .zero)
                    let (next, overflow2) = negative ? times10.subtractingReportingOverflow(step) : times10.addingReportingOverflow(step)
                    value = overflow1 || overflow2 ? nil : next
                }
            }
        }
        if take(.dot) {
            guard digits() else { return nil }
            value = nil
        }
        if let byte = peek(), byte == .letterE || byte == .capitalE {
            position += 1
            if !take(.plus) { _ = take(.minus) }
            guard digits() else { return nil }
            value = nil
        }
        return .some(value)
    }

    /// One or more digits.
    private mutating func digits() -> Bool {
        let start = position
        while let digit = peek(), digit.isDigit { position += 1 }
        return position > start
    }

    /// `word` exactly.
    private mutating func literal(_ word: [UInt8]) -> Bool {
        guard bytes.count - position >= word.count,
            bytes[position..<(position + word.count)].elementsEqual(word)
        else { return false }
        position += word.count
        return true
    }

    // MARK: Strings

    /// A string (at the cursor), decoded; `lossless` is false when it held a lone surrogate escape (decoded as
    /// U+FFFD, so two such strings could compare equal). nil: invalid.
    private mutating func string() -> (value: String, lossless: Bool)? {
        guard let range = scanString() else { return nil }
        if !range.escaped { return (String(decoding: bytes[range.content], as: UTF8.self), true) }
        var lossless = true
        let decoded = decode(range.content, lossless: &lossless)
        return (String(decoding: decoded, as: UTF8.self), lossless)
    }

    /// Checks the string at the cursor (which is on its opening quote) and moves past its closing quote.
    /// Returns the range of its content and whether it has escapes; nil when it is not a valid JSON string.
    private mutating func scanString() -> (content: Range<Int>, escaped: Bool)? {
        position += 1
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == .quote {
                position += 1
                return (start..<(position - 1), escaped)
            }
            if byte == .backslash {
                escaped = true
                position += 1
                guard let escape = peek() else { return nil }
                switch escape {
                case .quote, .backslash, .slash, .letterB, .letterF, .letterN, .letterR, .letterT:
                    position += 1
                case .letterU:
                    guard bytes.count - position >= 5, hex4(at: position + 1) != nil else { return nil }
                    position += 5
                default:
                    return nil
                }
            } else if byte < 0x20 {
                return nil
            } else if byte < 0x80 {
                position += 1
            } else {
                guard let length = utf8SequenceLength(at: position) else { return nil }
                position += length
            }
        }
        return nil
    }

    /// The length of the well-formed UTF-8 sequence (RFC 3629) that starts with a non-ASCII byte at `index`.
    private func utf8SequenceLength(at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: return nil
        }
        guard bytes.count - index >= length, secondRange.contains(bytes[index + 1]) else { return nil }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { return nil }
        return length
    }

    /// The value of four hex digits at `index` (the caller checked they are in bounds).
    private func hex4(at index: Int) -> UInt16? {
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - .zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private func decode(_ content: Range<Int>) -> [UInt8] {
        var lossless = true
        return decode(content, lossless: &lossless)
    }

    /// The UTF-8 bytes of a string's content that `scanString` accepted, escapes resolved. A lone surrogate
    /// becomes U+FFFD and clears `lossless`.
    private func decode(_ content: Range<Int>, lossless: inout Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var index = content.lowerBound
        while index < content.upperBound {
            let byte = bytes[index]
            guard byte == .backslash, index + 1 < content.upperBound else {
                out.append(byte)
                index += 1
                continue
            }
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case .letterB: out.append(0x08)
            case .letterF: out.append(0x0C)
            case .letterN: out.append(0x0A)
            case .letterR: out.append(0x0D)
            case .letterT: out.append(0x09)
            case .letterU:
                let unit = hex4(at: index) ?? 0xFFFD
                index += 4
                var scalar: Unicode.Scalar?
                if (0xD800...0xDBFF).contains(unit), content.upperBound - index >= 6, bytes[index] == .backslash,
                    bytes[index + 1] == .letterU, let low = hex4(at: index + 2), (0xDC00...0xDFFF).contains(low)
                {
                    scalar = Unicode.Scalar(0x10000 + (UInt32(unit - 0xD800) << 10 | UInt32(low - 0xDC00)))
                    index += 6
                } else {
                    scalar = Unicode.Scalar(unit)
                }
                if scalar == nil { lossless = false }
                UTF8.encode(scalar ?? "\u{FFFD}") { out.append($0) }
            default: out.append(escape)  // `"`, `\`, `/`
            }
        }
        return out
    }

    // MARK: Bytes

    private func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): position += 1
            default: return
            }
        }
    }

    private mutating func skipWhitespaceThenColon() -> Bool {
        skipWhitespace()
        return take(.colon)
    }
}

extension UInt8 {
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let slash = UInt8(ascii: "/")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
    fileprivate static let comma = UInt8(ascii: ",")
    fileprivate static let colon = UInt8(ascii: ":")
    fileprivate static let minus = UInt8(ascii: "-")
    fileprivate static let plus = UInt8(ascii: "+")
    fileprivate static let dot = UInt8(ascii: ".")
    fileprivate static let zero = UInt8(ascii: "0")
    fileprivate static let nine = UInt8(ascii: "9")
    fileprivate static let letterB = UInt8(ascii: "b")
    fileprivate static let letterE = UInt8(ascii: "e")
    fileprivate static let capitalE = UInt8(ascii: "E")
    fileprivate static let letterF = UInt8(ascii: "f")
    fileprivate static let letterN = UInt8(ascii: "n")
    fileprivate static let letterR = UInt8(ascii: "r")
    fileprivate static let letterT = UInt8(ascii: "t")
    fileprivate static let letterU = UInt8(ascii: "u")

    fileprivate var isDigit: Bool { self >= .zero && self <= .nine }
}
