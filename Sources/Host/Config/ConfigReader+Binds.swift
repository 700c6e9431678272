extension ConfigReader {
    static let bindKeys = ["port", "address", "listeners"]
    static let listenerKeys = ["name", "hostname", "protocol", "routes"]
    static let routeKeys = ["name", "matches", "policies", "backends"]

    /// `binds`: at least one, each on its own port (per address).
    mutating func readBinds(_ node: ConfigNode) throws(ConfigError) -> [Bind] {
        var binds: [Bind] = []
        for item in try node.sequence(of: "binds", atLeastOne: "bind") {
            let keys = try item.mapping(allowed: Self.bindKeys)
            let portNode = try keys.required("port", "the TCP port to listen on")
            let port = try portNode.port()
            var address: String?
            if let value = keys.value("address") {
                let text = try value.text("an IP address or host name to listen on")
                let bare = text.hasPrefix("[") && text.hasSuffix("]") ? text.dropFirst().dropLast() : Substring(text)
                guard let host = SocketAddressSpec.validatedHost(bare) else {
                    throw value.expected("an IP address or host name to listen on (0.0.0.0, 127.0.0.1, ::1, localhost)")
                }
                address = host
            }
            try claimListenAddress(host: address, port: port, at: portNode, what: "a port")
            let listenerNodes = try keys.required("listeners").sequence(of: "listeners", atLeastOne: "listener")
            var listeners: [Listener] = []
            for (index, listenerNode) in listenerNodes.enumerated() {
                listeners.append(try readListener(listenerNode))
            }
            binds.append(Bind(port: port, address: address, listeners: listeners))
        }
        return binds
    }

    /// `binds[].listeners[]`: plain HTTP, optionally for one host name, with at least one route.
    mutating func readListener(_ node: ConfigNode) throws(ConfigError) -> Listener {
        let keys = try node.mapping(allowed: Self.listenerKeys) { key in
            switch key {
            case "tls": "TLS termination is not supported by mcpgate yet; terminate TLS in front of it"
            case "tcpRoutes": "TCP routes are not supported by mcpgate, which serves MCP over HTTP"
            default: nil
            }
        }
        var listener = Listener(routes: [])
        if let value = keys.value("name") { listener.name = try value.name("a listener name") }
        if let value = keys.value("hostname") { listener.hostname = try Self.hostnamePattern(value) }
        if let value = keys.value("protocol") {
            let what = "HTTP"
            switch try value.text(what) {
            case "HTTP":
                break
            case "HTTPS", "TLS":
                throw value.error(
                    "expected \(what), got \(value.found): TLS is not supported by mcpgate yet; terminate TLS in front of it"
                )
            case "TCP", "HBONE":
                throw value.error("expected \(what), got \(value.found): mcpgate serves MCP over HTTP only")
            default:
                throw value.expected(what)
            }
        }
        let routeNodes = try keys.required("routes").sequence(of: "routes", atLeastOne: "route")
        for routeNode in routeNodes {
            listener.routes.append(try readRoute(routeNode, hostname: listener.hostname))
        }
        return listener
    }

    /// `routes[]`: path matches, policies and exactly one MCP backend. A route without a name gets an identity
    /// derived from what it serves (`identity(hostname:pathMatches:targets:)`), never from where it listens.
    mutating func readRoute(_ node: ConfigNode, hostname: String?) throws(ConfigError) -> Route {
        let keys = try node.mapping(allowed: Self.routeKeys) { key in
            key == "hostnames" ? "route hostnames are not supported by mcpgate; set hostname on the listener" : nil
        }
        var name: String?
        if let value = keys.value("name") {
            let routeName = try value.name("a route name")
            if let first = routeNames[routeName] {
                throw value.error(
                    "expected a route name unique in the file, got \(value.found), already given at \(first.lineReference)"
                )
            }
            routeNames[routeName] = value
            name = routeName
        }
        var matches: [PathMatch] = []
        if let value = keys.present("matches") {
            for match in try value.sequence(of: "matches") {
                matches.append(try Self.pathMatch(match))
            }
        }
        var policies = Policies()
        if let value = keys.present("policies") {
            policies = try readPolicies(value)
        }
        let backend = try readBackends(try keys.required("backends", "the MCP backend"))
        if let name {
            return Route(name: name, identity: name, pathMatches: matches, policies: policies, backend: backend)
        }
        let served = Self.identity(hostname: hostname, pathMatches: matches, targets: backend.targets.map(\.name))
        var route = Route(identity: served, pathMatches: matches, policies: policies, backend: backend)
        var number = 2
        while let other = derivedIdentities[route.identity], !other.servesTheSame(as: route) {
            route.identity = "\(served) #\(number)"
            number += 1
        }
        derivedIdentities[route.identity] = route
        return route
    }

    /// The identity of an unnamed route, from what it serves: the listener's host name, the path matches and the
    /// target names (`/mcp -> alpha,beta`, `mcp.example.com/mcp* -> tools`, `* -> tools` with no match). Two
    /// gateways, or two binds, serving the same route on different ports give it the same identity, so their
    /// sealed session ids open on each other; a route serving other paths or targets gets another, and ids of one
    /// are refused on the other.
    static func identity(hostname: String?, pathMatches: [PathMatch], targets: [String]) -> String {
        let paths =
            pathMatches.isEmpty
            ? "*"
            : pathMatches.map { match in
                switch match {
                case .exact(let path): path
                case .prefix(let path): path + "*"
                }
            }.joined(separator: "|")
        return (hostname ?? "") + paths + " -> " + targets.joined(separator: ",")
    }

    /// `matches[]`: `{path: {exact: /mcp}}` or `{path: {pathPrefix: /mcp}}`.
    static func pathMatch(_ node: ConfigNode) throws(ConfigError) -> PathMatch {
        let keys = try node.mapping(allowed: ["path"]) { key in
            switch key {
            case "headers", "method", "query":
                "matching on \(key) is not supported by mcpgate; routes match on path only"
            default: nil
            }
        }
        let path = try keys.required("path")
        let kinds = try path.mapping(allowed: ["exact", "pathPrefix"]) { key in
            key == "regex" ? "regex path matches are not supported by mcpgate; use exact or pathPrefix" : nil
        }
        let exact = kinds.value("exact")
        let prefix = kinds.value("pathPrefix")
        let what = "a path starting with /"
        switch (exact, prefix) {
        case (.some(let value), nil):
            let text = try value.text(what)
            guard text.hasPrefix("/") else { throw value.expected(what) }
            return .exact(text)
        case (nil, .some(let value)):
            let text = try value.text(what)
            guard text.hasPrefix("/") else { throw value.expected(what) }
            return .prefix(text)
        case (.some, .some):
            throw path.error("expected exactly one of exact, pathPrefix, got both")
        case (nil, nil):
            throw path.expected("a key \"exact\" or \"pathPrefix\"")
        }
    }

    /// A listener `hostname`: `mcp.example.com` or `*.example.com`, lowercased.
    static func hostnamePattern(_ node: ConfigNode) throws(ConfigError) -> String {
        let what = "a host name such as mcp.example.com or *.example.com"
        let text = try node.text(what).lowercased()
        let name = text.hasPrefix("*.") ? text.dropFirst(2) : Substring(text)
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.count <= 253,
            labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy {
                        ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                    }
            })
        else { throw node.expected(what) }
        return text
    }
}
