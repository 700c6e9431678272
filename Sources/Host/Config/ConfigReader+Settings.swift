import MCPGateUpstream

extension ConfigReader {
    static let settingsKeys = [
        "session", "adminAddr", "adminToken", "statsAddr", "readinessAddr", "limits", "upstream", "stdio",
    ]
    /// The environment variable that gives the admin token (it wins over `config.adminToken`).
    static let adminTokenVariable = "MCPGATE_ADMIN_TOKEN"
    static let limitsKeys = [
        "maxRequestBodyBytes", "maxHeaderBytes", "maxResponseBodyBytes", "maxSseEventBytes", "maxOpenStreams",
        "maxConnections", "maxConnectionsPerClient", "clientIdleTimeout", "requestHeaderTimeout", "requestBodyTimeout",
        "maxJsonNodes", "maxBufferedBodyBytes", "shutdownGracePeriod",
    ]
    static let upstreamKeys = [
        "connectTimeout", "requestTimeout", "streamIdleTimeout", "maxConnectionsPerEndpoint", "poolIdleTimeout",
        "forwardHeaders", "sseEndpointTimeout", "sseIdleTimeout", "sseMaxPendingRequests", "ssePoolSize",
    ]

    /// Reads the `config:` block (absent: every default, and the session keyring from the environment).
    mutating func readSettings(_ node: ConfigNode?, into config: inout GatewayConfig) throws(ConfigError) {
        guard let node else {
            config.session = try readSession(nil)
            config.adminToken = try readAdminToken(nil)
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
        config.adminToken = try readAdminToken(settings.value("adminToken"))
        if let value = settings.value("adminAddr") {
            let address = try value.socketAddress()
            if !Self.isLoopback(address.host) && config.adminToken == nil {
                throw value.error(
                    "expected a loopback address (127.0.0.1:15000), got \(address): the admin API can reload the gateway, so "
                        + "beyond this machine it needs config.adminToken (or \(Self.adminTokenVariable))")
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
        if let node = settings.present("stdio") { config.stdio = try readStdioSettings(node) }
    }

    /// `config.limits`: sizes, counts and the client idle timeout; each absent key keeps its default.
    mutating func readLimits(_ node: ConfigNode) throws(ConfigError) -> Limits {
        let keys = try node.mapping(allowed: Self.limitsKeys)
        var limits = Limits()
        if let value = keys.value("maxRequestBodyBytes") { limits.maxRequestBodyBytes = try value.byteSize() }
        if let value = keys.value("maxHeaderBytes") { limits.maxHeaderBytes = try value.byteSize() }
        if let value = keys.value("maxResponseBodyBytes") { limits.maxResponseBodyBytes = try value.byteSize() }
        if let value = keys.value("maxSseEventBytes") { limits.maxSseEventBytes = try value.byteSize() }
        if let value = keys.value("maxOpenStreams") { limits.maxOpenStreams = try value.positiveCount() }
        if let value = keys.value("maxConnections") {
            limits.maxConnections = try value.positiveCount()
            maxConnectionsPlace = value
            let allowed = FileDescriptorLimit.defaultMaxConnections
            if limits.maxConnections > allowed {
                warn(
                    "maxConnections \(limits.maxConnections) is more than the descriptor limit allows "
                        + "(RLIMIT_NOFILE \(FileDescriptorLimit.current)): lowered to \(allowed); raise `ulimit -n` to allow more",
                    at: value)
                limits.maxConnections = allowed
            }
        }
        if let value = keys.value("maxConnectionsPerClient") { limits.maxConnectionsPerClient = try value.positiveCount() }
        if let value = keys.value("clientIdleTimeout") { limits.clientIdleTimeout = try value.duration() }
        if let value = keys.value("requestHeaderTimeout") { limits.requestHeaderTimeout = try value.duration() }
        if let value = keys.value("requestBodyTimeout") { limits.requestBodyTimeout = try value.duration() }
        if let value = keys.value("maxJsonNodes") { limits.maxJsonNodes = try value.positiveCount() }
        if let value = keys.value("maxBufferedBodyBytes") { limits.maxBufferedBodyBytes = try value.byteSize() }
        if let value = keys.value("shutdownGracePeriod") {
            limits.shutdownGracePeriod = try value.duration()
            guard limits.shutdownGracePeriod <= Limits.maxShutdownGracePeriod else {
                throw value.expected("a duration of at most 10m (how long a shutdown waits for requests and streams)")
            }
        }
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
        if let value = keys.value("sseEndpointTimeout") { upstream.sseEndpointTimeout = try value.duration() }
        if let value = keys.value("sseIdleTimeout") { upstream.sseIdleTimeout = try value.duration() }
        if let value = keys.value("sseMaxPendingRequests") { upstream.sseMaxPendingRequests = try value.positiveCount() }
        if let value = keys.value("ssePoolSize") { upstream.ssePoolSize = try value.positiveCount() }
        return upstream
    }

    /// `config.adminToken`, or `MCPGATE_ADMIN_TOKEN` (which wins): at least 16 visible ASCII characters. Messages
    /// describe it, never quote it.
    func readAdminToken(_ node: ConfigNode?) throws(ConfigError) -> String? {
        func acceptable(_ token: String) -> Bool {
            token.utf8.count >= 16 && token.utf8.count <= 4096 && token.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
        }
        if let token = environment[Self.adminTokenVariable], !token.isEmpty {
            guard acceptable(token) else {
                throw ConfigError(
                    file: "environment", path: Self.adminTokenVariable,
                    message: "expected at least 16 visible ASCII characters (openssl rand -hex 32), got \(token.utf8.count) characters")
            }
            return token
        }
        guard let node else { return nil }
        let token = try node.text("a token of at least 16 visible ASCII characters")
        guard acceptable(token) else {
            throw node.error("expected at least 16 visible ASCII characters (openssl rand -hex 32); the value is not shown")
        }
        return token
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
            guard !name.isEmpty,
                name.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || token.unicodeScalars.contains($0))
                })
            else { throw item.expected("a header name (letters, digits and !#$%&'*+-.^_`|~)") }
            let lower = name.lowercased()
            if lower == "authorization" {
                throw item.error(
                    "expected a header name other than Authorization: set forwardAuthorization: true on the targets that should get it")
            }
            if UpstreamHeaders.reserved.contains(lower) {
                throw item.error(
                    "expected a header the client owns end to end, got \(ConfigNode.quoted(name)): the gateway writes it itself or it belongs to one hop"
                )
            }
            if let first = names[lower] {
                throw item.error("expected distinct header names, got \(ConfigNode.quoted(name)) again (first at \(first.lineReference))")
            }
            names[lower] = item
        }
        return Set(names.keys)
    }

    /// Loopback names and addresses, decided exactly (`OriginPolicy.isLoopback(name:)`).
    static func isLoopback(_ host: String) -> Bool {
        OriginPolicy.isLoopback(name: host)
    }
}
