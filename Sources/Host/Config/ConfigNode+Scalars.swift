import MCPGateUpstream
import Yams

extension ConfigNode {
    /// The text of a scalar that is not null; `what` names the expected value in the error otherwise.
    func text(_ what: String) throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !isNull else { throw expected(what) }
        return scalar.string
    }

    /// A name-like string: not empty, no whitespace or control characters, at most `maxLength` characters.
    func name(_ what: String, maxLength: Int = 253) throws(ConfigError) -> String {
        let description = "\(what) (1-\(maxLength) characters, no spaces)"
        let value = try text(description)
        guard !value.isEmpty, value.unicodeScalars.count <= maxLength,
            !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { throw expected(description) }
        return value
    }

    /// `true` or `false` (also `True`, `TRUE`, `False`, `FALSE`, as YAML 1.2).
    func bool() throws(ConfigError) -> Bool {
        let what = "true or false"
        guard case .bool(let value) = YAMLPlainScalar.resolve(try text(what)) else { throw expected(what) }
        return value
    }

    /// A whole number in `range`, written in decimal.
    func integer(_ what: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let value = try text(what)
        guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let number = Int(value),
            range.contains(number)
        else { throw expected(what) }
        return number
    }

    /// A TCP port, 1-65535.
    func port() throws(ConfigError) -> Int {
        try integer("a port number 1-65535", in: 1...65535)
    }

    /// A count that must be at least 1.
    func positiveCount() throws(ConfigError) -> Int {
        try integer("a whole number of at least 1", in: 1...Int.max)
    }

    /// A positive duration: `500ms`, `1.5s`, `15m`, `1h30m`, or a whole number of seconds.
    func duration() throws(ConfigError) -> Duration {
        let what = "a positive duration (500ms, 1.5s, 15m, 1h30m, or whole seconds)"
        guard let duration = Duration(configText: try text(what)), duration > .zero else { throw expected(what) }
        return duration
    }

    /// A positive size in bytes: `65536`, `64KiB`, `4MiB`, `1GiB`, `64KB`, `4MB`.
    func byteSize() throws(ConfigError) -> Int {
        let what = "a positive size in bytes (65536, 64KiB, 4MiB, 1GiB, 64KB, 4MB)"
        guard let size = ByteSize.parse(try text(what)), size > 0 else { throw expected(what) }
        return size
    }

    /// One of an enumeration's spellings: `prefixMode: always`.
    func oneOf<Value: RawRepresentable>(_ cases: [Value]) throws(ConfigError) -> Value where Value.RawValue == String {
        let what = "one of " + cases.map(\.rawValue).joined(separator: ", ")
        guard let value = Value(rawValue: try text(what)), cases.contains(where: { $0.rawValue == value.rawValue })
        else {
            throw expected(what)
        }
        return value
    }

    /// An upstream MCP URL, normalised (see ``UpstreamEndpoint/init(parsing:)``).
    func upstreamEndpoint() throws(ConfigError) -> UpstreamEndpoint {
        let value = try text("an http:// or https:// URL")
        do {
            return try UpstreamEndpoint(parsing: value)
        } catch {
            throw self.error(error)
        }
    }

    /// A `host:port` listening address.
    func socketAddress() throws(ConfigError) -> SocketAddressSpec {
        let value = try text("host:port (127.0.0.1:15000, [::1]:15000)")
        do {
            return try SocketAddressSpec(parsing: value)
        } catch {
            throw self.error(error)
        }
    }
}
