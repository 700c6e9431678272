import MCPGateUpstream

extension ConfigReader {
    static let mcpBackendKeys = ["targets", "prefixMode", "failureMode", "statefulMode"]
    static let targetKeys = ["name", "mcp", "sse", "stdio", "forwardAuthorization"]
    /// The transports a target may name, one of them.
    static let transportKeys = ["mcp", "sse", "stdio"]
    static let targetTransportKeys = ["host", "hosts", "redirectOrigins"]
    static let sseTransportKeys = ["host", "hosts", "port", "path", "redirectOrigins"]
    /// The path of `sse: {host, port}` when no `path` is given (agentgateway's and the MCP SDK's).
    static let defaultSSEPath = "/sse"

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

    /// `targets[]`: a name and exactly one transport: a Streamable HTTP server (`mcp`), an HTTP+SSE server (`sse`)
    /// or a local process (`stdio`). Returns the name's node for duplicate checks.
    func readTarget(_ node: ConfigNode) throws(ConfigError) -> (Target, ConfigNode) {
        let keys = try node.mapping(allowed: Self.targetKeys) { key in
            switch key {
            case "openapi":
                "the openapi transport is not supported by mcpgate yet; targets speak mcp (Streamable HTTP), sse or stdio"
            case "policies":
                "per-target policies (backendTLS, backendAuth, ...) are not supported by mcpgate yet"
            default:
                nil
            }
        }
        let nameNode = try keys.required("name", "the target's name")
        let name = try Self.targetName(nameNode)
        let given = Self.transportKeys.filter { keys.value($0) != nil }
        guard given.count == 1 else {
            if given.isEmpty {
                throw node.error(
                    "expected a key \"mcp\" (a Streamable HTTP server), \"sse\" (an HTTP+SSE server) or \"stdio\" (a local "
                        + "process), got \(node.found) without one")
            }
            let place = keys.keyNode(given[1]) ?? node
            throw place.error(
                "expected exactly one transport (mcp, sse or stdio), got \(given.dropLast().joined(separator: ", ")) and \(given[given.count - 1])"
            )
        }
        let transportNode = try keys.required(given[0])
        var target: Target
        switch given[0] {
        case "sse":
            let endpoints = try Self.sseEndpoints(transportNode)
            let origins = try Self.redirectOrigins(transportNode, allowed: Self.sseTransportKeys, endpoints: endpoints)
            target = Target(name: name, transport: .sse(endpoints: endpoints, redirectOrigins: origins))
        case "stdio":
            target = Target(name: name, transport: .stdio(try readStdioCommand(transportNode)))
            if let value = keys.value("forwardAuthorization") {
                throw (keys.keyNode("forwardAuthorization") ?? value).error(
                    "expected no forwardAuthorization on a stdio target: it has no meaning for a stdio process (no HTTP "
                        + "request carries the client's Authorization); give the process its credentials in stdio.env")
            }
        default:
            let endpoints = try Self.endpoints(transportNode)
            let origins = try Self.redirectOrigins(transportNode, allowed: Self.targetTransportKeys, endpoints: endpoints)
            target = Target(name: name, transport: .streamableHTTP(endpoints: endpoints, redirectOrigins: origins))
        }
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

    /// `targets[].mcp.redirectOrigins` and `targets[].sse.redirectOrigins` (*mcpgate*): the origins besides the
    /// endpoints' own that an upstream's 307/308 may lead to, as `scheme://host[:port]`, normalised the way
    /// `UpstreamTarget.origin` writes them (lowercase, the port only when it is not the scheme's default). An
    /// origin has no path, query or credentials; an http origin is refused when every endpoint is https
    /// (redirects never downgrade). `allowed`: the transport's keys (already checked by the caller).
    static func redirectOrigins(
        _ node: ConfigNode, allowed: [String], endpoints: [UpstreamEndpoint]
    ) throws(ConfigError) -> [String] {
        let keys = try node.mapping(allowed: allowed)
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
        return try endpoints(keys, in: node)
    }

    /// `targets[].sse`: `{host: URL}` or `{hosts: [URL, ...]}` as for `mcp`, or agentgateway's
    /// `{host: name, port: p, path: /sse}` (`path` defaults to `/sse`), which is `http://name:p/sse`.
    static func sseEndpoints(_ node: ConfigNode) throws(ConfigError) -> [UpstreamEndpoint] {
        let keys = try node.mapping(allowed: Self.sseTransportKeys) { key in
            key == "backend" ? "named backends are not supported by mcpgate; give the URL in host" : nil
        }
        let separate = ["port", "path"].filter { keys.value($0) != nil }
        guard let firstSeparate = separate.first else { return try endpoints(keys, in: node) }
        let place = keys.keyNode(firstSeparate) ?? node
        if keys.value("hosts") != nil {
            throw place.error(
                "expected either hosts (replica URLs, each with its port and path) or host with port and path, got hosts and \(firstSeparate)"
            )
        }
        guard let hostNode = keys.value("host") else {
            throw node.error("expected a key \"host\" (the server's name or address) with \(firstSeparate), got \(node.found) without it")
        }
        let host = try hostNode.text("a host name or IP address")
        if host.contains("://") {
            throw place.error(
                "expected either a URL in host (host: http://name:port/sse) or a name in host with port and path "
                    + "(host: name, port: 8080, path: /sse), got a URL with \(firstSeparate)")
        }
        let hostWhat = "a host name or IP address (no scheme, port or path)"
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), !host.contains("?"), !host.contains("#"),
            !host.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        else { throw hostNode.expected(hostWhat) }
        let portNode = try keys.required("port", "the server's port")
        let port = try portNode.port()
        var path = defaultSSEPath
        if let pathNode = keys.value("path") {
            path = try pathNode.text("a path starting with /")
            guard path.hasPrefix("/") else { throw pathNode.expected("a path starting with /") }
        }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        do {
            return [try UpstreamEndpoint(parsing: "http://\(bracketed):\(port)\(path)")]
        } catch {
            // The host or the path did not parse: say which.
            if (try? UpstreamEndpoint(parsing: "http://\(bracketed):\(port)/")) == nil { throw hostNode.expected(hostWhat) }
            throw (keys.value("path") ?? node).error(error)
        }
    }

    /// The `host` or `hosts` of a transport already read as a mapping, normalised, without duplicates.
    private static func endpoints(_ keys: ConfigMapping, in node: ConfigNode) throws(ConfigError) -> [UpstreamEndpoint] {
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
