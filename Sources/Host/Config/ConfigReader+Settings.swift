extension ConfigReader {
    static let settingsKeys = ["session", "adminAddr", "statsAddr", "readinessAddr", "limits", "upstream"]
    static let limitsKeys = [
        "maxRequestBodyBytes", "maxHeaderBytes", "maxResponseBodyBytes", "maxSseEventBytes", "maxOpenStreams",
        "maxConnections", "clientIdleTimeout",
    ]
    static let upstreamKeys = [
        "connectTimeout", "requestTimeout", "streamIdleTimeout", "maxConnectionsPerEndpoint", "poolIdleTimeout",
        "forwardHeaders",
    ]

    /// Reads the `config:` block (absent: every default, and the session keyring from the environment).
    mutating func readSettings(_ node: ConfigNode?, into config: inout GatewayConfig) throws(ConfigError) {
        guard let node else {
            config.session = try readSession(nil)
            return
        }
        let settings = try node.mapping(allowed: Self.settingsKeys) { key in
            switch key {
            case "logging", "tracing", "metrics", "backend", "workerThreads", "xdsAddress", "xdsAuthToken", "dns",
                "hbone", "http", "mcp", "enableIpv6", "connectionTerminationDeadline", "localXdsPath", "caAddress":
                return "agentgateway's config.\(key) is not supported by mcpgate"
            default:
                return nil
            }
        }
        config.session = try readSession(settings.present("session"))
        if let value = settings.value("adminAddr") {
            let address = try value.socketAddress()
            if !Self.isLoopback(address.host) {
                warn(
                    "the admin API listens on \(address), beyond this machine; bind it to 127.0.0.1 unless a firewall guards it",
                    at: value)
            }
            try claimListenAddress(host: address.host, port: address.port, at: value, what: "an address", shared: true)
            config.adminAddr = address
        }
        if let value = settings.value("statsAddr") {
            let address = try value.socketAddress()
            try claimListenAddress(host: address.host, port: address.port, at: value, what: "an address", shared: true)
            config.statsAddr = address
        }
        if let value = settings.value("readinessAddr") {
            let address = try value.socketAddress()
            try claimListenAddress(host: address.host, port: address.port, at: value, what: "an address", shared: true)
            config.readinessAddr = address
        }
        if let node = settings.present("limits") { config.limits = try readLimits(node) }
        if let node = settings.present("upstream") { config.upstream = try readUpstream(node) }
    }

    /// `config.limits`: sizes, counts and the client idle timeout; each absent key keeps its default.
    func readLimits(_ node: ConfigNode) throws(ConfigError) -> Limits {
        let keys = try node.mapping(allowed: Self.limitsKeys)
        var limits = Limits()
        if let value = keys.value("maxRequestBodyBytes") { limits.maxRequestBodyBytes = try value.byteSize() }
        if let value = keys.value("maxHeaderBytes") { limits.maxHeaderBytes = try value.byteSize() }
        if let value = keys.value("maxResponseBodyBytes") { limits.maxResponseBodyBytes = try value.byteSize() }
        if let value = keys.value("maxSseEventBytes") { limits.maxSseEventBytes = try value.byteSize() }
        if let value = keys.value("maxOpenStreams") { limits.maxOpenStreams = try value.positiveCount() }
        if let value = keys.value("maxConnections") { limits.maxConnections = try value.positiveCount() }
        if let value = keys.value("clientIdleTimeout") { limits.clientIdleTimeout = try value.duration() }
        return limits
    }

    /// `config.upstream`: timeouts and pool sizes towards MCP servers; each absent key keeps its default.
    func readUpstream(_ node: ConfigNode) throws(ConfigError) -> UpstreamSettings {
        let keys = try node.mapping(allowed: Self.upstreamKeys)
        var upstream = UpstreamSettings()
        if let value = keys.value("connectTimeout") { upstream.connectTimeout = try value.duration() }
        if let value = keys.value("requestTimeout") { upstream.requestTimeout = try value.duration() }
        if let value = keys.value("streamIdleTimeout") { upstream.streamIdleTimeout = try value.duration() }
        if let value = keys.value("maxConnectionsPerEndpoint") {
            upstream.maxConnectionsPerEndpoint = try value.positiveCount()
        }
        if let value = keys.value("poolIdleTimeout") { upstream.poolIdleTimeout = try value.duration() }
        if let value = keys.value("forwardHeaders") { upstream.forwardHeaders = try Self.forwardHeaders(value) }
        return upstream
    }

    /// `config.upstream.forwardHeaders`: header names (RFC 9110 tokens) forwarded from clients besides the
    /// default allow-list, lowercased. Hop-by-hop headers and those the gateway writes itself are refused, each
    /// with the reason.
    static func forwardHeaders(_ node: ConfigNode) throws(ConfigError) -> Set<String> {
        let what = "header names (letters, digits and !#$%&'*+-.^_`|~)"
        var names: [String: ConfigNode] = [:]
        for item in try node.sequence(of: what) {
            let name = try item.text("a header name")
            let token = "!#$%&'*+-.^_`|~"
            guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || token.unicodeScalars.contains($0)) })
            else { throw item.expected("a header name (letters, digits and !#$%&'*+-.^_`|~)") }
            let lower = name.lowercased()
            if lower == "authorization" {
                throw item.error("expected a header name other than Authorization: set forwardAuthorization: true on the targets that should get it")
            }
            if UpstreamHeaders.reserved.contains(lower) {
                throw item.error("expected a header the client owns end to end, got \(ConfigNode.quoted(name)): the gateway writes it itself or it belongs to one hop")
            }
            if let first = names[lower] {
                throw item.error("expected distinct header names, got \(ConfigNode.quoted(name)) again (first at \(first.lineReference))")
            }
            names[lower] = item
        }
        return Set(names.keys)
    }

    /// Loopback names and addresses: `localhost`, `127.x.x.x`, `::1`.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}
