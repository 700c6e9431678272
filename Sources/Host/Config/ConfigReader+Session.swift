import Yams

extension ConfigReader {
    static let sessionKeys = ["keys", "key", "ttl"]
    static let sessionKeyExpected = "64 hexadecimal characters (a 32-byte key, as `openssl rand -hex 32` prints)"

    /// `config.session` and the `SESSION_KEY` / `SESSION_KEYS` environment variables, which win over the file.
    mutating func readSession(_ node: ConfigNode?) throws(ConfigError) -> SessionSettings {
        var session = SessionSettings()
        var fileKeys: [[UInt8]] = []
        var fileKeysPlace: ConfigNode?
        if let node {
            // A key written where a mapping or list belongs must not be echoed back in the error.
            guard case .mapping = node.node else {
                throw node.error(
                    "expected a mapping with the keys \(Self.sessionKeys.joined(separator: ", ")), got \(Self.redacted(node))"
                )
            }
            let keys = try node.mapping(allowed: Self.sessionKeys)
            if let single = keys.value("key"), let list = keys.value("keys") {
                let place = keys.keyNode("keys") ?? list
                throw place.error(
                    "expected either key (one key) or keys (a keyring), got both; \(single.path) is the same as a one-element keys"
                )
            }
            if let single = keys.value("key") {
                fileKeys = [try Self.sessionKey(single)]
                fileKeysPlace = single
            }
            if let list = keys.value("keys") {
                guard case .sequence = list.node else {
                    throw list.error(
                        "expected a list of session keys (keys: [\"…\"], or key: … for one), got \(Self.redacted(list))"
                    )
                }
                for item in try list.sequence(of: "session keys, each \(Self.sessionKeyExpected)") {
                    let key = try Self.sessionKey(item)
                    if let first = fileKeys.firstIndex(of: key) {
                        throw item.error("expected distinct keys, got the same key as \(list.path)[\(first)]")
                    }
                    fileKeys.append(key)
                }
                fileKeysPlace = list
            }
            if let ttl = keys.value("ttl") { session.ttl = try ttl.duration() }
        }
        if let (variable, environmentKeys) = try keysFromEnvironment() {
            if let fileKeysPlace, !fileKeys.isEmpty {
                warn("ignored: the \(variable) environment variable is set and wins over the file", at: fileKeysPlace)
            }
            session.keys = environmentKeys
            session.keysFromEnvironment = true
        } else {
            session.keys = fileKeys
            if fileKeys.isEmpty {
                warn(
                    "no session key configured (SESSION_KEY or config.session.keys): a random key is made at start, so "
                        + "sessions end with the process and replicas cannot share them"
                )
            }
        }
        return session
    }

    /// The keyring from `SESSION_KEY` (one key) or `SESSION_KEYS` (comma-separated, the first seals), with the
    /// variable's name; `nil` when neither is set (an empty value counts as unset).
    func keysFromEnvironment() throws(ConfigError) -> (String, [[UInt8]])? {
        let single = environment["SESSION_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let list = environment["SESSION_KEYS"].flatMap { $0.isEmpty ? nil : $0 }
        func failure(_ path: String, _ message: String) -> ConfigError {
            ConfigError(file: "environment", path: path, message: message)
        }
        switch (single, list) {
        case (.some, .some):
            throw failure("SESSION_KEY", "expected SESSION_KEY or SESSION_KEYS, got both set")
        case (.some(let text), nil):
            guard let key = Self.decodeHexKey(text) else {
                throw failure("SESSION_KEY", "expected \(Self.sessionKeyExpected), got \(Self.describeBadKey(text))")
            }
            return ("SESSION_KEY", [key])
        case (nil, .some(let text)):
            var keys: [[UInt8]] = []
            for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                var trimmed = part.drop(while: \.isWhitespace)
                while trimmed.last?.isWhitespace == true { trimmed = trimmed.dropLast() }
                guard let key = Self.decodeHexKey(String(trimmed)) else {
                    throw failure(
                        "SESSION_KEYS[\(index)]",
                        "expected comma-separated keys of \(Self.sessionKeyExpected), got \(Self.describeBadKey(String(trimmed)))"
                    )
                }
                if let first = keys.firstIndex(of: key) {
                    throw failure(
                        "SESSION_KEYS[\(index)]", "expected distinct keys, got the same key as SESSION_KEYS[\(first)]")
                }
                keys.append(key)
            }
            return ("SESSION_KEYS", keys)
        case (nil, nil):
            return nil
        }
    }

    /// One key from the file. Errors describe the value's length and characters, never the value.
    static func sessionKey(_ node: ConfigNode) throws(ConfigError) -> [UInt8] {
        guard case .scalar(let scalar) = node.node, !node.isNull else {
            throw node.expected(sessionKeyExpected)
        }
        guard let key = decodeHexKey(scalar.string) else {
            throw node.error("expected \(sessionKeyExpected), got \(describeBadKey(scalar.string))")
        }
        return key
    }

    /// What a node is, without its text when it is a scalar (which may be a key).
    static func redacted(_ node: ConfigNode) -> String {
        guard case .scalar = node.node, !node.isNull else { return node.found }
        return "a single value (not shown)"
    }

    /// 64 hex characters (either case) as 32 bytes; `nil` otherwise.
    static func decodeHexKey(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count == 64 else { return nil }
        var key: [UInt8] = []
        key.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            key.append(high << 4 | low)
            index += 2
        }
        return key
    }

    /// What is wrong with a key, without showing it: its length, or that it has non-hex characters.
    static func describeBadKey(_ text: String) -> String {
        let count = text.unicodeScalars.count
        if count != 64 { return "a value of \(count) character\(count == 1 ? "" : "s") (not shown)" }
        return "64 characters, not all hexadecimal (not shown)"
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
