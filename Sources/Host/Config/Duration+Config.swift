extension Duration {
    /// Reads a configuration duration: a whole number of seconds (`30`), or one or more `<number><unit>` parts with
    /// units `ms`, `s`, `m`, `h` and an optional decimal fraction (`500ms`, `1.5s`, `15m`, `1h30m`). `nil` for
    /// anything else, a negative sign included, or a value beyond about 292 years (Int64 nanoseconds).
    /// Precision is one nanosecond; finer fractions are dropped.
    init?(configText text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy(Self.isDigit) {
            guard let seconds = Int64(text), seconds <= Int64.max / 1_000_000_000 else { return nil }
            self = .seconds(seconds)
            return
        }
        var total: Int64 = 0
        var index = 0
        while index < bytes.count {
            var whole: Int64 = 0
            var wholeDigits = 0
            while index < bytes.count, Self.isDigit(bytes[index]) {
                let (shifted, overflow1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(Int64(bytes[index] - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                whole = sum
                wholeDigits += 1
                index += 1
            }
            // The fraction as billionths of the unit: "5" -> 500_000_000.
            var fraction: Int64 = 0
            var fractionDigits = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                var scale: Int64 = 100_000_000
                while index < bytes.count, Self.isDigit(bytes[index]) {
                    fraction += Int64(bytes[index] - UInt8(ascii: "0")) * scale
                    scale /= 10
                    fractionDigits += 1
                    index += 1
                }
                guard fractionDigits > 0 else { return nil }
            }
            guard wholeDigits > 0 || fractionDigits > 0 else { return nil }
            let unitNanoseconds: Int64
            if bytes[index...].starts(with: "ms".utf8) {
                unitNanoseconds = 1_000_000
                index += 2
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "s") {
                unitNanoseconds = 1_000_000_000
                index += 1
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "m") {
                unitNanoseconds = 60_000_000_000
                index += 1
            } else if index < bytes.count, bytes[index] == UInt8(ascii: "h") {
                unitNanoseconds = 3_600_000_000_000
                index += 1
            } else {
                return nil
            }
            let (wholePart, overflow1) = whole.multipliedReportingOverflow(by: unitNanoseconds)
            // Every unit is a whole number of milliseconds, so this stays exact and far from overflow.
            let fractionPart = fraction * (unitNanoseconds / 1_000_000) / 1_000
            let (part, overflow2) = wholePart.addingReportingOverflow(fractionPart)
            let (sum, overflow3) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2, !overflow3 else { return nil }
            total = sum
        }
        self = .nanoseconds(total)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
