/// Why an exchanges file could not be used.
struct RecordedExchangeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
