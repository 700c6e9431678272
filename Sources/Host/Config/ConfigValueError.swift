/// Why a scalar's text is not the value a key wants, before the loader knows where that scalar sits.
///
/// The pure parsers (URLs, addresses) throw it; ``ConfigNode`` turns it into a ``ConfigError`` carrying the
/// file, line, column and path.
struct ConfigValueError: Error {
    /// What the key wants, as the operator should read it: `an http:// or https:// URL`.
    var expected: String
    /// What was found, when the raw text must not be echoed (credentials in a URL). `nil` quotes the text.
    var found: String?

    init(expected: String, found: String? = nil) {
        self.expected = expected
        self.found = found
    }
}
