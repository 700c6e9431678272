/// Why JSON text could not be parsed.
struct JanssonParseError: Error, CustomStringConvertible {
    let line: Int
    let column: Int
    let message: String

    var description: String { "line \(line), column \(column): \(message)" }
}
