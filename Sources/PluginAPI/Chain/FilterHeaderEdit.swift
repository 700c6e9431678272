import CMCPGate

/// A header change a plugin asked for with `header_edit`. The host applies the edits in order.
public struct FilterHeaderEdit: Sendable, Equatable {
    /// What to do.
    public enum Operation: Int32, Sendable {
        /// Replace every value of the header with `value`.
        case set = 0
        /// Add `value` as one more value.
        case add = 1
        /// Remove every value of the header.
        case remove = 2
    }

    /// What to do.
    public var operation: Operation
    /// The header name as the plugin wrote it.
    public var name: String
    /// The value (empty for `.remove`).
    public var value: String

    /// Creates an edit.
    public init(operation: Operation, name: String, value: String) {
        self.operation = operation
        self.name = name
        self.value = value
    }
}

extension Array where Element == FilterHeaderEdit {
    /// Applies the edits to a header list (case-insensitive names), in order. For hosts that keep
    /// headers as pairs; a NIO host can apply the same operations to `HTTPHeaders`.
    public func applied(to headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var result = headers
        for edit in self {
            let lowered = edit.name.lowercased()
            switch edit.operation {
            case .set:
                result.removeAll { $0.name.lowercased() == lowered }
                result.append((edit.name, edit.value))
            case .add:
                result.append((edit.name, edit.value))
            case .remove:
                result.removeAll { $0.name.lowercased() == lowered }
            }
        }
        return result
    }
}
