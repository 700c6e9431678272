import MCPGateUpstream

extension ConfigReader {
    static let mcpBackendKeys = ["targets", "prefixMode", "failureMode", "statefulMode"]
    static let targetKeys = ["name", "mcp", "forwardAuthorization"]
    static let targetTransportKeys = ["host", "hosts", "redirectOrigins"]

    /// `routes[].backends`: exactly one element, an `mcp` backend.
    func readBackends(_ node: ConfigNode) throws(ConfigError) -> MCPBackend {
        let items = try node.sequence(of: "backends (one mcp backend)", atLeastOne: "mcp backend")
        if items.count > 1 {
            throw items[1].error("expected exactly one mcp backend per route, got \(items.count) backends")
        }
        let kinds = try items[0].mapping(allowed: ["mcp"]) { key in
            if ConfigNode.closest(to: key, in: ["mcp"]) != nil { return nil }
            return "mcpgate routes to MCP backends only"
        }
        return try readMCPBackend(try kinds.required("mcp", "the MCP backend"))
    }

    /// `backends[0].mcp`: targets and how they are federated.
    func readMCPBackend(_ node: ConfigNode) throws(ConfigError) -> MCPBackend {
        let keys = try node.mapping(allowed: Self.mcpBackendKeys)
        var backend = MCPBackend(targets: [])
        if let value = keys.value("prefixMode") {
            backend.prefixMode = try value.oneOf([PrefixMode.conditional, .always, .never])
        }
        if let value = keys.value("failureMode") {
            backend.failureMode = try value.oneOf([FailureMode.failClosed, .failOpen])
        }
        if let value = keys.value("statefulMode") {
            switch try value.text("stateful") {
            case "stateful":
                break
            case "stateless":
                throw value.error(
                    "expected stateful, got \"stateless\": stateless mode is not supported by mcpgate yet "
                        + "(sessions are sealed in their ids, so any replica serves them)"
                )
            default:
                throw value.expected("stateful")
            }
        }
        var names: [String: ConfigNode] = [:]
        let targetNodes = try keys.required("targets", "the MCP servers").sequence(of: "targets", atLeastOne: "target")
        for targetNode in targetNodes {
            let (target, nameNode) = try readTarget(targetNode)
            if let first = names[target.name] {
                throw nameNode.error(
                    "expected target names unique within the backend, got \(nameNode.found) again (first at \(first.lineReference))"
                )
            }
            names[target.name] = nameNode
            backend.targets.append(target)
        }
        return backend
    }

    /// `targets[]`: a name and a Streamable HTTP server (one URL or replicas). Returns the name's node for
    /// duplicate checks.
    func readTarget(_ node: ConfigNode) throws(ConfigError) -> (Target, ConfigNode) {
        let keys = try node.mapping(allowed: Self.targetKeys) { key in
            switch key {
            case "sse", "stdio", "openapi":
                "the \(key) transport is not supported by mcpgate yet; targets speak Streamable HTTP (mcp)"
            case "policies":
                "per-target policies (backendTLS, backendAuth, ...) are not supported by mcpgate yet"
            default:
                nil
            }
        }
        let nameNode = try keys.required("name", "the target's name")
        let name = try Self.targetName(nameNode)
        let transport = try keys.required("mcp", "the Streamable HTTP server")
        var target = Target(name: name, endpoints: try Self.endpoints(transport))
        target.redirectOrigins = try Self.redirectOrigins(transport, endpoints: target.endpoints)
        if let value = keys.value("forwardAuthorization") { target.forwardAuthorization = try value.bool() }
        return (target, nameNode)
    }

    /// A target name: `^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$`. `_` and `+` are refused because federation joins target
    /// and tool names with `_` and target and resource URIs with `+`.
    static func targetName(_ node: ConfigNode) throws(ConfigError) -> String {
        let what =
            "a target name of 1-63 letters, digits, '.' or '-', starting with a letter or digit "
            + "('_' and '+' are reserved: they join target and tool names, and target and resource URIs)"
        let name = try node.text(what)
        func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        let scalars = Array(name.unicodeScalars)
        guard let first = scalars.first, isLetterOrDigit(first), scalars.count <= 63,
            scalars.allSatisfy({ isLetterOrDigit($0) || $0 == "." || $0 == "-" })
        else { throw node.expected(what) }
        return name
    }

    /// `targets[].mcp.redirectOrigins` (*mcpgate*): the origins besides the endpoints' own that an upstream's
    /// 307/308 may lead to, as `scheme://host[:port]`, normalised the way `UpstreamTarget.origin` writes them
    /// (lowercase, the port only when it is not the scheme's default). An origin has no path, query or
    /// credentials; an http origin is refused when every endpoint is https (redirects never downgrade).
    static func redirectOrigins(_ node: ConfigNode, endpoints: [UpstreamEndpoint]) throws(ConfigError) -> [String] {
        let keys = try node.mapping(allowed: Self.targetTransportKeys)
        guard let list = keys.value("redirectOrigins") else { return [] }
        let what = "an http:// or https:// origin (scheme, host and optional port; no path)"
        var origins: [String: ConfigNode] = [:]
        var ordered: [String] = []
        for item in try list.sequence(of: "origins (scheme://host[:port]) a redirect may lead to") {
            let text = try item.text(what)
            let endpoint: UpstreamEndpoint
            do {
                endpoint = try UpstreamEndpoint(parsing: text)
            } catch {
                throw item.error(error)
            }
            guard endpoint.path == "/", let origin = UpstreamTarget(url: endpoint.url)?.origin
            else { throw item.expected(what) }
            if endpoint.scheme == "http", !endpoints.isEmpty, endpoints.allSatisfy({ $0.scheme == "https" }) {
                throw item.error(
                    "expected an https:// origin, got \(ConfigNode.quoted(text)): the target is https and redirects never go from https to http"
                )
            }
            if let first = origins[origin] {
                throw item.error("expected distinct origins, got \(origin) again (first at \(first.lineReference))")
            }
            origins[origin] = item
            ordered.append(origin)
        }
        return ordered
    }

    /// `targets[].mcp`: `{host: URL}` or `{hosts: [URL, ...]}`, normalised, without duplicates.
    static func endpoints(_ node: ConfigNode) throws(ConfigError) -> [UpstreamEndpoint] {
        let keys = try node.mapping(allowed: Self.targetTransportKeys) { key in
            switch key {
            case "port", "path":
                "a separate \(key) is not supported by mcpgate; give the whole URL in host (http://host:port/path)"
            case "backend": "named backends are not supported by mcpgate; give the URL in host"
            default: nil
            }
        }
        switch (keys.value("host"), keys.value("hosts")) {
        case (.some(let host), nil):
            return [try host.upstreamEndpoint()]
        case (nil, .some(let hosts)):
            var endpoints: [UpstreamEndpoint] = []
            for item in try hosts.sequence(of: "http:// or https:// URLs (replicas of one server)", atLeastOne: "URL") {
                let endpoint = try item.upstreamEndpoint()
                if let first = endpoints.firstIndex(of: endpoint) {
                    throw item.error(
                        "expected distinct replicas, got \(endpoint.url) again (same as \(hosts.path)[\(first)])")
                }
                endpoints.append(endpoint)
            }
            return endpoints
        case (.some, .some):
            throw (keys.keyNode("hosts") ?? node).error(
                "expected either host (one server) or hosts (replicas), got both")
        case (nil, nil):
            throw node.expected("a key \"host\" (one URL) or \"hosts\" (replica URLs)")
        }
    }
}
