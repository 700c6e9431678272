/// The validated configuration the gateway runs on: what `ConfigLoader` produces from an
/// agentgateway-shaped YAML file (see docs/config.md). Plain immutable values, `Sendable`, built once at
/// load (or reload) and never mutated; the hot path only reads them.
public struct GatewayConfig: Sendable, Equatable {
    /// `config.session`: the keyring that seals `Mcp-Session-Id` (and gateway `requestState`, cursors).
    public var session: SessionSettings
    /// `config.adminAddr`, `config.statsAddr` (`/metrics`), `config.readinessAddr` (`/healthz/ready`).
    public var adminAddr: SocketAddressSpec?
    public var statsAddr: SocketAddressSpec?
    public var readinessAddr: SocketAddressSpec?
    /// `config.limits`: every bound the gateway enforces on client traffic.
    public var limits: Limits
    /// `config.upstream`: timeouts and pool sizes towards MCP servers.
    public var upstream: UpstreamSettings
    /// `binds`: one listening port each.
    public var binds: [Bind]

    public init(
        session: SessionSettings = SessionSettings(),
        adminAddr: SocketAddressSpec? = nil,
        statsAddr: SocketAddressSpec? = nil,
        readinessAddr: SocketAddressSpec? = nil,
        limits: Limits = Limits(),
        upstream: UpstreamSettings = UpstreamSettings(),
        binds: [Bind] = []
    ) {
        self.session = session
        self.adminAddr = adminAddr
        self.statsAddr = statsAddr
        self.readinessAddr = readinessAddr
        self.limits = limits
        self.upstream = upstream
        self.binds = binds
    }
}

/// `config.session`.
public struct SessionSettings: Sendable, Equatable {
    /// 32-byte keys, already decoded from 64 hex characters. The first seals; every key opens.
    /// Empty means "none configured": the gateway generates one at start and warns.
    public var keys: [[UInt8]]
    /// Whether `keys` came from the `SESSION_KEY` environment variable (it wins over the file, as in agentgateway).
    public var keysFromEnvironment: Bool
    /// Absolute lifetime of a client session from `initialize` (`config.session.ttl`, default 24h).
    public var ttl: Duration

    public init(keys: [[UInt8]] = [], keysFromEnvironment: Bool = false, ttl: Duration = .seconds(24 * 3600)) {
        self.keys = keys
        self.keysFromEnvironment = keysFromEnvironment
        self.ttl = ttl
    }
}

/// A `host:port` listening address (`127.0.0.1:15000`, `[::1]:15000`, `0.0.0.0:15000`, `localhost:15000`).
public struct SocketAddressSpec: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// `config.limits`. Sizes in bytes, counts as plain integers.
public struct Limits: Sendable, Equatable {
    /// Largest POST body accepted (413 past it). Default 4 MiB, as the MCP Python SDK.
    public var maxRequestBodyBytes: Int
    /// Largest total size of request headers (names + values) accepted (431 past it). Default 64 KiB.
    public var maxHeaderBytes: Int
    /// Largest JSON (non-SSE) upstream response the gateway will hold to inspect (502 past it). Default 16 MiB.
    public var maxResponseBodyBytes: Int
    /// Largest single SSE event relayed (the stream is ended with an error past it). Default 16 MiB.
    public var maxSseEventBytes: Int
    /// Most client streams (SSE responses and GET streams) open at once across the process. Default 10000.
    public var maxOpenStreams: Int
    /// Most client connections open at once per bind. Default 20000.
    public var maxConnections: Int
    /// A client connection idle (no request in flight) for this long is closed. Default 5m.
    public var clientIdleTimeout: Duration

    public init(
        maxRequestBodyBytes: Int = 4 << 20,
        maxHeaderBytes: Int = 64 << 10,
        maxResponseBodyBytes: Int = 16 << 20,
        maxSseEventBytes: Int = 16 << 20,
        maxOpenStreams: Int = 10_000,
        maxConnections: Int = 20_000,
        clientIdleTimeout: Duration = .seconds(300)
    ) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxResponseBodyBytes = maxResponseBodyBytes
        self.maxSseEventBytes = maxSseEventBytes
        self.maxOpenStreams = maxOpenStreams
        self.maxConnections = maxConnections
        self.clientIdleTimeout = clientIdleTimeout
    }
}

/// `config.upstream`: how the gateway talks to MCP servers.
public struct UpstreamSettings: Sendable, Equatable {
    /// TCP (+TLS) connect timeout. Default 5s.
    public var connectTimeout: Duration
    /// Time from sending a request to receiving the response head. Default 60s.
    public var requestTimeout: Duration
    /// Longest silence on an open upstream response body (a POST's answer or a GET stream; SSE comments count
    /// as traffic) before it is ended. Default 5m.
    public var streamIdleTimeout: Duration
    /// Pooled keep-alive connections per endpoint and event loop, for requests; a request that finds them all
    /// busy waits for one. Standing GET streams use connections of their own, outside this limit. Default 512.
    public var maxConnectionsPerEndpoint: Int
    /// An idle pooled connection is closed after this long. Default 60s.
    public var poolIdleTimeout: Duration
    /// Client headers forwarded upstream besides the default allow-list (`UpstreamHeaders`), lowercase.
    public var forwardHeaders: Set<String>

    public init(
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(60),
        streamIdleTimeout: Duration = .seconds(300),
        maxConnectionsPerEndpoint: Int = 512,
        poolIdleTimeout: Duration = .seconds(60),
        forwardHeaders: Set<String> = []
    ) {
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.streamIdleTimeout = streamIdleTimeout
        self.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint
        self.poolIdleTimeout = poolIdleTimeout
        self.forwardHeaders = forwardHeaders
    }
}

/// `binds[]`: one listening port and the listeners on it.
public struct Bind: Sendable, Equatable {
    public var port: Int
    /// mcpgate extension: the address to bind (`address: 127.0.0.1`). Default: all interfaces, as agentgateway.
    public var address: String?
    public var listeners: [Listener]
    public init(port: Int, address: String? = nil, listeners: [Listener]) {
        self.port = port
        self.address = address
        self.listeners = listeners
    }
}

/// `binds[].listeners[]`.
public struct Listener: Sendable, Equatable {
    public var name: String?
    /// `hostname`: when set, only requests whose Host matches (exact, or `*.suffix`) use this listener.
    public var hostname: String?
    public var routes: [Route]
    public init(name: String? = nil, hostname: String? = nil, routes: [Route]) {
        self.name = name
        self.hostname = hostname
        self.routes = routes
    }
}

/// `routes[]`: which requests (by path) go to which MCP backend, under which policies.
public struct Route: Sendable, Equatable {
    public var name: String?
    /// A stable identity for the route, bound into every session id sealed for it: the route's `name` when
    /// given, otherwise its position (`bind 3000/listener 0/route 1`).
    public var identity: String
    /// `matches[].path`; empty means every path.
    public var pathMatches: [PathMatch]
    public var policies: Policies
    /// The MCP backend. agentgateway allows a list; mcpgate serves exactly one `mcp` backend per route.
    public var backend: MCPBackend

    public init(name: String? = nil, identity: String, pathMatches: [PathMatch] = [], policies: Policies = Policies(), backend: MCPBackend) {
        self.name = name
        self.identity = identity
        self.pathMatches = pathMatches
        self.policies = policies
        self.backend = backend
    }
}

/// `matches[].path`: `{exact: /mcp}` or `{pathPrefix: /mcp}`.
public enum PathMatch: Sendable, Equatable {
    case exact(String)
    case prefix(String)
}

/// `routes[].policies`. Policy bodies are kept as JSON: they are handed to the filter plugins as their config.
public struct Policies: Sendable, Equatable {
    public var cors: JSONValue?
    public var jwtAuth: JSONValue?
    /// agentgateway writes a list of buckets here.
    public var localRateLimit: JSONValue?
    public var cache: JSONValue?
    /// `policies.plugins: [{path, config}]`: third-party filters, run after the built-in ones.
    public var plugins: [PluginReference]
    public init(
        cors: JSONValue? = nil,
        jwtAuth: JSONValue? = nil,
        localRateLimit: JSONValue? = nil,
        cache: JSONValue? = nil,
        plugins: [PluginReference] = []
    ) {
        self.cors = cors
        self.jwtAuth = jwtAuth
        self.localRateLimit = localRateLimit
        self.cache = cache
        self.plugins = plugins
    }
}

/// One `policies.plugins[]` entry.
public struct PluginReference: Sendable, Equatable {
    /// Resolved against the config file's directory when relative.
    public var path: String
    public var config: JSONValue
    /// `failOpen: true` lets requests through when this plugin errors (default: fail closed).
    public var failOpen: Bool
    public init(path: String, config: JSONValue = .object([:]), failOpen: Bool = false) {
        self.path = path
        self.config = config
        self.failOpen = failOpen
    }
}

/// `backends[].mcp`.
public struct MCPBackend: Sendable, Equatable {
    public var targets: [Target]
    /// `prefixMode` (federation naming; used once several targets share a route).
    public var prefixMode: PrefixMode
    /// `failureMode` for fan-out when one target fails.
    public var failureMode: FailureMode
    public init(targets: [Target], prefixMode: PrefixMode = .conditional, failureMode: FailureMode = .failClosed) {
        self.targets = targets
        self.prefixMode = prefixMode
        self.failureMode = failureMode
    }
}

public enum PrefixMode: String, Sendable, Equatable {
    case conditional, always, never
}

public enum FailureMode: String, Sendable, Equatable {
    case failClosed, failOpen
}

/// `targets[]`: one upstream MCP server, served by one endpoint or several interchangeable replicas.
public struct Target: Sendable, Equatable {
    public var name: String
    /// `mcp.host` (one element) or `mcp.hosts` (replicas, one pinned per session). Normalised absolute URLs.
    public var endpoints: [UpstreamEndpoint]
    /// mcpgate extension `forwardAuthorization: true`: pass the client's `Authorization` header upstream.
    /// Off by default: the client's bearer token is never forwarded unless asked for.
    public var forwardAuthorization: Bool
    /// mcpgate extension `mcp.redirectOrigins`: origins other than the endpoints' own that an upstream 307/308
    /// may lead to, normalised as `scheme://host[:port]` (port only when not the scheme's default).
    public var redirectOrigins: [String]
    public init(name: String, endpoints: [UpstreamEndpoint], forwardAuthorization: Bool = false, redirectOrigins: [String] = []) {
        self.name = name
        self.endpoints = endpoints
        self.forwardAuthorization = forwardAuthorization
        self.redirectOrigins = redirectOrigins
    }
}

/// One upstream MCP endpoint URL, split once at load.
public struct UpstreamEndpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The URL exactly as normalised (`http://127.0.0.1:3005/mcp`); this string is what a session pins.
    public var url: String
    public var scheme: String
    public var host: String
    public var port: Int
    /// Path plus query, starting with `/`.
    public var path: String
    public init(url: String, scheme: String, host: String, port: Int, path: String) {
        self.url = url
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }
    public var description: String { url }
}

/// A JSON value, as policy configs are carried to plugins.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case integer(Int64)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}
