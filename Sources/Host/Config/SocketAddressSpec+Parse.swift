extension SocketAddressSpec {
    /// Reads `host:port`: `127.0.0.1:15000`, `localhost:15000`, `0.0.0.0:15000`, `[::1]:15000`. The host is kept
    /// lowercased, IPv6 without its brackets.
    init(parsing text: String) throws(ConfigValueError) {
        let expected = "host:port (127.0.0.1:15000, [::1]:15000)"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ConfigValueError(expected: expected)
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ConfigValueError(expected: expected) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw ConfigValueError(expected: "host:port with an IPv6 host in brackets ([::1]:15000)")
            }
        }
        guard let hostname = Self.validatedHost(host) else { throw ConfigValueError(expected: expected) }
        guard !portText.isEmpty, portText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let port = Int(portText), (1...65535).contains(port)
        else {
            throw ConfigValueError(expected: "host:port with a port 1-65535")
        }
        self.init(host: hostname, port: port)
    }

    /// A DNS name, an IPv4 address, or an IPv6 address (brackets already removed), lowercased; `nil` when
    /// `text` is none of these.
    static func validatedHost(_ text: Substring) -> String? {
        guard !text.isEmpty else { return nil }
        if text.contains(":") {
            guard text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return text.lowercased()
        }
        guard
            text.unicodeScalars.allSatisfy({
                ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || $0 == "-"
                    || $0 == "."
            })
        else { return nil }
        return text.lowercased()
    }

    /// Whether this is an all-interfaces address (`0.0.0.0`, `::`), which overlaps every other address on its port.
    var isWildcard: Bool {
        host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0"
    }
}
