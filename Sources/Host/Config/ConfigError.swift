/// Why a configuration was refused, and where.
///
/// The ``description`` is one line an operator can act on, in the form compilers use:
/// `config.yaml:14:17: binds[0].listeners[0].routes[0].backends[0].mcp.targets[1].mcp.host: expected an http:// or
/// https:// URL, got "localhost:3005"`. The location is omitted when there is none (an unreadable file, an
/// environment variable), the path when the error is about the file as a whole (YAML syntax).
///
/// Messages never contain secret values: a bad session key is described by its length or its characters' class,
/// never quoted.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The configuration file as the operator named it (`config.yaml`), or `environment` for environment variables.
    public var file: String
    /// 1-based line of the offending node, when the error has a place in the file.
    public var line: Int?
    /// 1-based column (in Unicode scalars) of the offending node, when the error has a place in the file.
    public var column: Int?
    /// Where in the document: `binds[0].listeners[0].routes[0].policies`, or the variable name. Empty for the
    /// document as a whole.
    public var path: String
    /// What was expected and what was found instead: `expected a port number 1-65535, got 70000`.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !path.isEmpty { text += path + ": " }
        text += message
        return text
    }
}
