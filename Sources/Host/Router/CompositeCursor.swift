import MCPGateSession

/// The pagination cursor of a federated list: every target's own cursor, sealed so clients can neither
/// read nor forge it, and bound to the route and the list method.
struct CompositeCursor: Equatable {
    /// Target name -> that target's `nextCursor`. Targets that finished are absent.
    var cursors: [(target: String, cursor: String)]

    static func == (lhs: CompositeCursor, rhs: CompositeCursor) -> Bool {
        lhs.cursors.map(\.target) == rhs.cursors.map(\.target) && lhs.cursors.map(\.cursor) == rhs.cursors.map(\.cursor)
    }

    func seal(with sealer: Sealer, route: String, method: String) -> String {
        var out: [UInt8] = [1]
        for (target, cursor) in cursors {
            Self.append(Array(target.utf8), to: &out)
            Self.append(Array(cursor.utf8), to: &out)
        }
        return sealer.seal(out, context: Array((route + "\u{0}" + method).utf8))
    }

    static func open(_ token: String, with sealer: Sealer, route: String, method: String) -> CompositeCursor? {
        guard let bytes = try? sealer.open(token, context: Array((route + "\u{0}" + method).utf8)) else { return nil }
        var reader = ByteReader(bytes)
        guard reader.readUInt8() == 1 else { return nil }
        var cursors: [(String, String)] = []
        while !reader.isAtEnd {
            guard let target = readField(&reader), let cursor = readField(&reader) else { return nil }
            cursors.append((String(decoding: target, as: UTF8.self), String(decoding: cursor, as: UTF8.self)))
        }
        return CompositeCursor(cursors: cursors)
    }

    private static func append(_ field: [UInt8], to out: inout [UInt8]) {
        let count = UInt32(field.count)
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        out += field
    }

    private static func readField(_ reader: inout ByteReader) -> [UInt8]? {
        guard let length = reader.readBytes(4) else { return nil }
        return reader.readBytes(length.reduce(0) { $0 << 8 | Int($1) }).map(Array.init)
    }
}
