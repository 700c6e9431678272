import Yams

extension ConfigNode {
    /// One entry of a mapping read by ``stringMap(what:)``: its key and value as text, each with its place.
    struct StringMapEntry {
        var key: String
        var keyNode: ConfigNode
        var value: String
        var valueNode: ConfigNode
    }

    /// This node as a mapping whose keys are chosen by the operator (environment variable names, not keys mcpgate
    /// knows) and whose values are scalars, taken as text (`8080` and `true` as written), in document order.
    /// `what` names the mapping in errors. A null value is refused (write `""` for an empty one); the caller
    /// checks the keys themselves. Duplicate keys never get here: the YAML reader refuses them.
    func stringMap(what: String) throws(ConfigError) -> [StringMapEntry] {
        guard case .mapping(let mapping) = node else { throw expected("a mapping of \(what)") }
        var entries: [StringMapEntry] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigNode(node: keyNode, path: path, file: file).expected("a plain key")
            }
            let key = scalar.string
            let value = child(key, valueNode)
            let text = try value.text("text (quote it: \"\" for an empty value)")
            entries.append(StringMapEntry(key: key, keyNode: child(key, keyNode), value: text, valueNode: value))
        }
        return entries
    }
}
