import Yams

extension ConfigNode {
    /// This node as a mapping whose every key is in `allowed`.
    ///
    /// An unknown key is an error at that key listing the keys allowed here, with a "did you mean" when one is
    /// close; `unsupported` may explain keys mcpgate knows but refuses (agentgateway features it does not have).
    /// A typo never passes silently.
    func mapping(
        allowed: [String],
        noun: String = "keys",
        unsupported: (String) -> String? = { _ in nil }
    ) throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else {
            throw expected("a mapping with the \(noun) \(allowed.joined(separator: ", "))")
        }
        var entries: [(key: ConfigNode, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            let keyPlace = ConfigNode(node: keyNode, path: path, file: file)
            guard case .scalar(let scalar) = keyNode else {
                throw keyPlace.expected("a plain key")
            }
            let key = scalar.string
            guard allowed.contains(key) else {
                var message = "expected one of the \(noun) \(allowed.joined(separator: ", ")), got \(Self.quoted(key))"
                if let reason = unsupported(key) {
                    message += ": \(reason)"
                } else if let suggestion = Self.closest(to: key, in: allowed) {
                    message += " (did you mean \"\(suggestion)\"?)"
                }
                throw keyPlace.error(message)
            }
            entries.append((key: child(key, keyNode), value: child(key, valueNode)))
        }
        return ConfigMapping(owner: self, entries: entries)
    }

    /// This node as a list of `what` (`binds`, `targets`), each element with its indexed path. When `atLeastOne`
    /// names an element (`bind`), an empty list is an error.
    func sequence(of what: String, atLeastOne elementName: String? = nil) throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else {
            throw expected("a list of \(what)")
        }
        if let elementName, sequence.isEmpty {
            throw expected("at least one \(elementName)")
        }
        return sequence.enumerated().map { element($0.offset, $0.element) }
    }

    /// The allowed key closest to a mistyped one: same letters in another case, or at most two edits away.
    static func closest(to key: String, in allowed: [String]) -> String? {
        let lowered = key.lowercased()
        if let match = allowed.first(where: { $0.lowercased() == lowered }) { return match }
        let limit = key.count <= 4 ? 1 : 2
        var best: (key: String, distance: Int)?
        for candidate in allowed {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.key
    }

    /// Edit distance between two short keys, counting a swap of two neighbours as one edit (`cros` -> `cors`).
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
