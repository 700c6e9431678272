import Yams

extension ConfigNode {
    /// The most values one policy body may expand to. YAML aliases copy whole subtrees, so a small file can
    /// otherwise describe billions of values ("billion laughs").
    static let maxJSONValues = 100_000

    /// This node as JSON, as policy bodies are handed to plugins: mappings become objects (keys are the key
    /// scalars' text), lists arrays; unquoted scalars follow the YAML 1.2 core schema (null, booleans, integers,
    /// floats, else strings); quoted, literal and folded scalars and `!!str` stay strings. Infinite and NaN
    /// numbers and other explicit tags are refused.
    func json() throws(ConfigError) -> JSONValue {
        var budget = Self.maxJSONValues
        return try json(budget: &budget)
    }

    private func json(budget: inout Int) throws(ConfigError) -> JSONValue {
        budget -= 1
        guard budget >= 0 else {
            throw error("expected at most \(Self.maxJSONValues) values in one policy, got more (aliases expand)")
        }
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ConfigNode(node: keyNode, path: path, file: file).expected("a plain key")
                }
                object[key.string] = try child(key.string, valueNode).json(budget: &budget)
            }
            return .object(object)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            array.reserveCapacity(sequence.count)
            for (index, item) in sequence.enumerated() {
                array.append(try element(index, item).json(budget: &budget))
            }
            return .array(array)
        case .scalar(let scalar):
            let tag = Tag.Name(rawValue: scalar.tag.rawValue)
            if tag == .str { return .string(scalar.string) }
            let plain = scalar.style == .plain || scalar.style == .any
            guard
                tag == .implicit || tag == .nonSpecific || tag == .null || tag == .bool || tag == .int || tag == .float
            else {
                throw expected(
                    "a plain YAML value (only the tags !!str, !!int, !!float, !!bool, !!null are understood)")
            }
            guard plain || tag != .implicit && tag != .nonSpecific else { return .string(scalar.string) }
            switch YAMLPlainScalar.resolve(scalar.string) {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .integer(let value): return .integer(value)
            case .number(let value):
                guard value.isFinite else { throw expected("a finite number (JSON has no infinity or NaN)") }
                return .number(value)
            case .string(let value):
                guard tag == .implicit || tag == .nonSpecific else { throw expected("a value matching its tag") }
                return .string(value)
            }
        case .alias:
            throw expected("a value (unresolved alias)")
        }
    }
}
