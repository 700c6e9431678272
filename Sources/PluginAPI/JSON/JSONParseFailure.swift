/// Why a text is not JSON (or not one the gateway accepts): jansson's message and where it stopped.
///
/// `description` is the form messages about hand-written JSON use: `line 3, column 7: <message>`.
public struct JSONParseFailure: Error, CustomStringConvertible, Sendable {
    /// jansson's message (`'[' or '{' expected near 'x'`), or the gateway's (`more than 200000 JSON values`).
    public var message: String
    /// Byte offset where parsing stopped (0 when the text was refused before parsing).
    public var position: Int
    /// 1-based line where parsing stopped, or 0 when not known.
    public var line: Int
    /// Column (in characters) where parsing stopped, or 0 when not known.
    public var column: Int

    public init(message: String, position: Int, line: Int = 0, column: Int = 0) {
        self.message = message
        self.position = position
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
