/// Reads configuration sizes: a whole number of bytes (`65536`), or a whole number with a unit: `B`, decimal `KB`,
/// `MB`, `GB` (powers of 1000) or binary `KiB`, `MiB`, `GiB` (powers of 1024). Units are case-sensitive, no space
/// between number and unit.
enum ByteSize {
    static let units: [(suffix: String, multiplier: Int)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
        ("B", 1),
    ]

    /// The number of bytes `text` spells, or `nil` when it is not a size or does not fit in an `Int`.
    static func parse(_ text: String) -> Int? {
        var number = Substring(text)
        var multiplier = 1
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            multiplier = unit.multiplier
            break
        }
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int(number)
        else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
