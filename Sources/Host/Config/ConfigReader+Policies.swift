import Yams

extension ConfigReader {
    static let policyKeys = ["cors", "jwtAuth", "localRateLimit", "cache", "plugins"]
    static let pluginKeys = ["path", "config", "failOpen"]

    /// `routes[].policies`. Bodies are kept as JSON for the filter plugins, which check their own settings; any
    /// policy mcpgate does not have is an error, because ignoring a security policy would be unsafe.
    mutating func readPolicies(_ node: ConfigNode) throws(ConfigError) -> Policies {
        let keys = try node.mapping(allowed: Self.policyKeys, noun: "policies") { key in
            if ConfigNode.closest(to: key, in: Self.policyKeys) != nil { return nil }
            return "mcpgate does not support this policy, and never ignores one; remove it, or enforce it with a "
                + "plugin (policies.plugins)"
        }
        var policies = Policies()
        for key in ["cors", "jwtAuth", "localRateLimit", "cache"] {
            if let value = keys.value(key) { policies.locations[key] = value.location }
        }
        if let value = keys.value("cors") { policies.cors = try Self.policyBody(value, shape: .mapping) }
        if let value = keys.value("jwtAuth") {
            policies.jwtAuth = resolvingJWKSFile(try Self.policyBody(value, shape: .mapping))
        }
        if let value = keys.value("localRateLimit") {
            policies.localRateLimit = try Self.policyBody(value, shape: .listOrMapping)
        }
        if let value = keys.value("cache") { policies.cache = try Self.policyBody(value, shape: .mapping) }
        if let value = keys.value("plugins") {
            for item in try value.sequence(of: "plugins ({path, config, failOpen})") {
                policies.plugins.append(try readPlugin(item))
            }
        }
        return policies
    }

    /// `jwtAuth.jwks.file`, like plugin paths, is relative to the config file's directory.
    func resolvingJWKSFile(_ body: JSONValue) -> JSONValue {
        guard case .object(var policy) = body, case .object(var jwks)? = policy["jwks"], case .string(let file)? = jwks["file"] else {
            return body
        }
        jwks["file"] = .string(resolvePath(file))
        policy["jwks"] = .object(jwks)
        return .object(policy)
    }

    /// The shape a policy body must have at its top.
    enum PolicyShape {
        case mapping, listOrMapping
    }

    /// A policy body as JSON, after checking its top-level shape (a mapping; for rate limits also a list).
    static func policyBody(_ node: ConfigNode, shape: PolicyShape) throws(ConfigError) -> JSONValue {
        switch (node.node, shape) {
        case (.mapping, _), (.sequence, .listOrMapping):
            return try node.json()
        case (_, .mapping):
            throw node.expected("a mapping of the policy's settings")
        case (_, .listOrMapping):
            throw node.expected("a list of rate limits (or a mapping)")
        }
    }

    /// `policies.plugins[]`: a shared library path (relative to this file's directory), its config, `failOpen`.
    mutating func readPlugin(_ node: ConfigNode) throws(ConfigError) -> PluginReference {
        let keys = try node.mapping(allowed: Self.pluginKeys)
        let path = try keys.required("path", "the plugin's shared library").name(
            "a shared library path", maxLength: 4096)
        var plugin = PluginReference(path: resolvePath(path))
        plugin.location = node.location
        if let value = keys.present("config") { plugin.config = try value.json() }
        if let value = keys.value("failOpen") {
            plugin.failOpen = try value.bool()
            if plugin.failOpen {
                warn("requests pass this plugin unchecked whenever it fails", at: value)
            }
        }
        return plugin
    }
}
