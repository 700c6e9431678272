import Yams

/// A YAML mapping whose keys were all checked against the keys allowed at its place (see
/// ``ConfigNode/mapping(allowed:noun:unsupported:)``), so reading a key can no longer meet a typo.
struct ConfigMapping {
    /// The mapping itself, for errors about a key it lacks.
    let owner: ConfigNode
    private let keyNodes: [String: ConfigNode]
    private let values: [String: ConfigNode]

    init(owner: ConfigNode, entries: [(key: ConfigNode, value: ConfigNode)]) {
        self.owner = owner
        var keyNodes: [String: ConfigNode] = [:]
        var values: [String: ConfigNode] = [:]
        for entry in entries {
            guard case .scalar(let scalar) = entry.key.node else { continue }
            keyNodes[scalar.string] = entry.key
            values[scalar.string] = entry.value
        }
        self.keyNodes = keyNodes
        self.values = values
    }

    /// The value under `key`, possibly null (`key:` with nothing after it); `nil` when the key is absent.
    func value(_ key: String) -> ConfigNode? {
        values[key]
    }

    /// The value under `key`, or `nil` when the key is absent or null. For optional sections, where an empty
    /// `policies:` (its children commented out) means none.
    func present(_ key: String) -> ConfigNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    /// The value under `key`; an error at the mapping, naming its path and the key, when absent.
    func required(_ key: String, _ what: String? = nil) throws(ConfigError) -> ConfigNode {
        guard let value = values[key] else {
            let purpose = what.map { " (\($0))" } ?? ""
            throw owner.error("expected a key \"\(key)\"\(purpose), got \(owner.found) without it")
        }
        return value
    }

    /// The key's own node, to point an error at the key rather than at its value.
    func keyNode(_ key: String) -> ConfigNode? {
        keyNodes[key]
    }
}
