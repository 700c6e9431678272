import Crypto

/// How a federated route names what its targets offer (agentgateway's scheme, so its users' clients see
/// the same names): tools and prompts as `{target}_{name}`, resources and resource templates as
/// `{target}+{uri}`. `prefixMode: conditional` prefixes only when the route has several targets,
/// `always` even with one, `never` not at all (names must then be unique across targets).
///
/// Tool names are kept within `maxToolNameLength` (the ceiling many model providers enforce): a name whose
/// prefixed form would be longer becomes `{target}_{head}~{8 hex of SHA-256(name)}`, which the router maps
/// back through the names it learned from the target's `tools/list`.
struct TargetNaming: Sendable {
    static let toolSeparator: Character = "_"
    static let uriSeparator: Character = "+"
    static let maxToolNameLength = 64
    private static let hashLength = 8

    /// Whether names carry the target prefix.
    let prefixed: Bool

    init(mode: PrefixMode, targetCount: Int) {
        switch mode {
        case .always: prefixed = true
        case .never: prefixed = false
        case .conditional: prefixed = targetCount > 1
        }
    }

    // MARK: Tools and prompts

    /// The name a client sees for `name` of `target`.
    func exposedName(_ name: String, target: String, limit: Int? = maxToolNameLength) -> String {
        guard prefixed else { return name }
        let full = target + String(Self.toolSeparator) + name
        guard let limit, full.utf8.count > limit else { return full }
        let digest = SHA256.hash(data: Array(name.utf8)).prefix(Self.hashLength / 2).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        let room = limit - target.utf8.count - 1 - 1 - Self.hashLength
        let head = String(decoding: Array(name.utf8.prefix(max(0, room))), as: UTF8.self)
        return target + String(Self.toolSeparator) + head + "~" + digest
    }

    /// Splits a client-facing name into (target, name at the target). Nil when it names no target.
    /// A shortened name comes back with its hash form; `resolveShortened` maps it to the real name.
    func split(_ exposed: String, targets: [String]) -> (target: String, name: String)? {
        guard prefixed else { return nil }
        guard let separator = exposed.firstIndex(of: Self.toolSeparator) else { return nil }
        let target = String(exposed[..<separator])
        guard targets.contains(target) else { return nil }
        return (target, String(exposed[exposed.index(after: separator)...]))
    }

    /// Whether `name` (already split from its target) is a shortened form that needs the learned names.
    static func isShortened(_ name: String) -> Bool {
        guard name.utf8.count > hashLength + 1, let tilde = name.lastIndex(of: "~") else { return false }
        let hash = name[name.index(after: tilde)...]
        return hash.utf8.count == hashLength && hash.allSatisfy { $0.isHexDigit }
    }

    // MARK: Resources

    /// The URI a client sees for `uri` of `target`. URIs without a scheme stay as they are.
    func exposedURI(_ uri: String, target: String) -> String {
        guard prefixed, uri.contains(":") else { return uri }
        return target + String(Self.uriSeparator) + uri
    }

    /// Splits a client-facing URI into (target, URI at the target).
    func splitURI(_ exposed: String, targets: [String]) -> (target: String, uri: String)? {
        guard prefixed, let separator = exposed.firstIndex(of: Self.uriSeparator) else { return nil }
        let target = String(exposed[..<separator])
        guard targets.contains(target) else { return nil }
        return (target, String(exposed[exposed.index(after: separator)...]))
    }
}
