import MCPGateUpstream

/// The validated configuration the gateway runs on: what `ConfigLoader` produces from an
/// agentgateway-shaped YAML file (see docs/config.md). Plain immutable values, `Sendable`, built once at
/// load (or reload) and never mutated; the hot path only reads them.
public struct GatewayConfig: Sendable, Equatable {
    /// `config.session`: the keyring that seals `Mcp-Session-Id` (and gateway `requestState`, cursors).
    public var session: SessionSettings
    /// `config.adminAddr`, `config.statsAddr` (`/metrics`), `config.readinessAddr` (`/healthz/ready`).
    public var adminAddr: SocketAddressSpec?
    /// `config.adminToken` (or `MCPGATE_ADMIN_TOKEN`): when set, every admin API request needs
    /// `Authorization: Bearer <token>`. Required when `adminAddr` is beyond loopback. A secret: never shown.
    public var adminToken: String?
    public var statsAddr: SocketAddressSpec?
    public var readinessAddr: SocketAddressSpec?
    /// `config.limits`: every bound the gateway enforces on client traffic.
    public var limits: Limits
    /// `config.upstream`: timeouts and pool sizes towards MCP servers.
    public var upstream: UpstreamSettings
    /// `config.stdio`: bounds on the processes run for `stdio` targets.
    public var stdio: StdioSettings
    /// `binds`: one listening port each.
    public var binds: [Bind]

    public init(
        session: SessionSettings = SessionSettings(),
        adminAddr: SocketAddressSpec? = nil,
        statsAddr: SocketAddressSpec? = nil,
        readinessAddr: SocketAddressSpec? = nil,
        limits: Limits = Limits(),
        upstream: UpstreamSettings = UpstreamSettings(),
        stdio: StdioSettings = StdioSettings(),
        binds: [Bind] = []
    ) {
        self.session = session
        self.adminAddr = adminAddr
        self.statsAddr = statsAddr
        self.readinessAddr = readinessAddr
        self.limits = limits
        self.upstream = upstream
        self.stdio = stdio
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
    /// Most client connections open at once per bind. Default: what the descriptor limit allows
    /// (`FileDescriptorLimit.defaultMaxConnections`: half of RLIMIT_NOFILE less a reserve, since each client
    /// connection may hold an upstream one); a configured value above that is lowered at start, with a warning.
    public var maxConnections: Int
    /// Most client connections open at once from one client IP address, per bind (past it a new connection is
    /// closed at accept). nil: half of `maxConnections`.
    public var maxConnectionsPerClient: Int?
    /// A client connection idle between requests (keep-alive, nothing received) for this long is closed. Default 5m.
    public var clientIdleTimeout: Duration
    /// From the first byte of a request to the end of its head; past it: 408 and close. Default 30s.
    public var requestHeaderTimeout: Duration
    /// From the end of a request's head to the end of its body (a body trickling in is cut too); past it: 408
    /// and close. Default 60s.
    public var requestBodyTimeout: Duration
    /// Most JSON values (objects, arrays, strings, numbers, literals) in one document the gateway parses (a
    /// client's message or an upstream answer); past it the document is refused before any tree is built, since
    /// a parsed value costs about 100 bytes whatever its size in the body. Default 200000.
    public var maxJsonNodes: Int
    /// Most bytes of request bodies held at once across the process, read or being read (each request holds
    /// its body until it is answered); past it a request is refused with 503 and the connection closes. Keeps
    /// many slow or parked uploads from pinning `maxConnections` × `maxRequestBodyBytes`. Default 256 MiB.
    public var maxBufferedBodyBytes: Int
    /// On SIGTERM or SIGINT: how long requests in flight and open streams may go on after the gateway stopped
    /// accepting (idle keep-alive connections close at once); past it every open stream is ended cleanly and
    /// the upstream requests still running are cancelled. Default 10s; at most `maxShutdownGracePeriod`.
    public var shutdownGracePeriod: Duration

    /// The longest `shutdownGracePeriod` a config may ask for.
    public static let maxShutdownGracePeriod = Duration.seconds(600)

    public init(
        maxRequestBodyBytes: Int = 4 << 20,
        maxHeaderBytes: Int = 64 << 10,
        maxResponseBodyBytes: Int = 16 << 20,
        maxSseEventBytes: Int = 16 << 20,
        maxOpenStreams: Int = 10_000,
        maxConnections: Int = FileDescriptorLimit.defaultMaxConnections,
        clientIdleTimeout: Duration = .seconds(300),
        maxConnectionsPerClient: Int? = nil,
        requestHeaderTimeout: Duration = .seconds(30),
        requestBodyTimeout: Duration = .seconds(60),
        maxJsonNodes: Int = 200_000,
        maxBufferedBodyBytes: Int = 256 << 20,
        shutdownGracePeriod: Duration = .seconds(10)
    ) {
        self.maxRequestBodyBytes = maxRequestBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxResponseBodyBytes = maxResponseBodyBytes
        self.maxSseEventBytes = maxSseEventBytes
        self.maxOpenStreams = maxOpenStreams
        self.maxConnections = maxConnections
        self.clientIdleTimeout = clientIdleTimeout
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.requestHeaderTimeout = requestHeaderTimeout
        self.requestBodyTimeout = requestBodyTimeout
        self.maxJsonNodes = maxJsonNodes
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.shutdownGracePeriod = shutdownGracePeriod
    }

    /// `maxConnectionsPerClient`, or half of `maxConnections` when not configured.
    public var effectiveMaxConnectionsPerClient: Int {
        maxConnectionsPerClient ?? max(1, maxConnections / 2)
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
    /// given, otherwise derived from what it serves (`/mcp -> alpha,beta`; see `ConfigReader.identity`).
    public var identity: String
    /// `matches[].path`; empty means every path.
    public var pathMatches: [PathMatch]
    public var policies: Policies
    /// The MCP backend. agentgateway allows a list; mcpgate serves exactly one `mcp` backend per route.
    public var backend: MCPBackend

    public init(name: String? = nil, identity: String, pathMatches: [PathMatch] = [], policies: Policies = Policies(), backend: MCPBackend)
    {
        self.name = name
        self.identity = identity
        self.pathMatches = pathMatches
        self.policies = policies
        self.backend = backend
    }
}

extension Route {
    /// Whether two routes serve the same thing under the same policies (their names and identities aside).
    func servesTheSame(as other: Route) -> Bool {
        pathMatches == other.pathMatches && backend == other.backend && policies == other.policies
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
    /// Where each built-in policy was written (`cors` -> `config.yaml:14:9: binds[0]…policies.cors`), so that a
    /// plugin refusing its config at chain build points at the file, line and column. Not part of `==`.
    public var locations: [String: String] = [:]
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
    /// Where the entry was written (`config.yaml:20:11: …policies.plugins[0]`), for errors found at chain build.
    /// Not part of `==`.
    public var location: String?
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

/// `targets[]`: one upstream MCP server and how it is reached (`transport`).
public struct Target: Sendable, Equatable {
    public var name: String
    /// `mcp` (Streamable HTTP), `sse` (HTTP+SSE) or `stdio` (a local process).
    public var transport: TargetTransport
    /// mcpgate extension `forwardAuthorization: true`: pass the client's `Authorization` header upstream.
    /// Off by default: the client's bearer token is never forwarded unless asked for. Never set on stdio targets.
    public var forwardAuthorization: Bool

    /// A target of any transport.
    public init(name: String, transport: TargetTransport, forwardAuthorization: Bool = false) {
        self.name = name
        self.transport = transport
        self.forwardAuthorization = forwardAuthorization
    }

    /// A Streamable HTTP (`mcp`) target.
    public init(name: String, endpoints: [UpstreamEndpoint], forwardAuthorization: Bool = false, redirectOrigins: [String] = []) {
        self.init(
            name: name, transport: .streamableHTTP(endpoints: endpoints, redirectOrigins: redirectOrigins),
            forwardAuthorization: forwardAuthorization)
    }

    /// `mcp.host` / `mcp.hosts` or `sse.host` / `sse.hosts` (one element, or replicas, one pinned per session):
    /// normalised absolute URLs. Empty for a stdio target.
    public var endpoints: [UpstreamEndpoint] {
        switch transport {
        case .streamableHTTP(let endpoints, _), .sse(let endpoints, _): endpoints
        case .stdio: []
        }
    }

    /// mcpgate extension `redirectOrigins` (under `mcp` or `sse`): origins other than the endpoints' own that an
    /// upstream 307/308 may lead to, normalised as `scheme://host[:port]` (port only when not the scheme's
    /// default). Empty for a stdio target.
    public var redirectOrigins: [String] {
        switch transport {
        case .streamableHTTP(_, let origins), .sse(_, let origins): origins
        case .stdio: []
        }
    }

    /// The command of a stdio target; nil for the others.
    public var stdioCommand: StdioCommand? {
        if case .stdio(let command) = transport { return command }
        return nil
    }
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

extension Policies {
    /// Equal when every policy is; where they were written does not count.
    public static func == (lhs: Policies, rhs: Policies) -> Bool {
        lhs.cors == rhs.cors && lhs.jwtAuth == rhs.jwtAuth && lhs.localRateLimit == rhs.localRateLimit
            && lhs.cache == rhs.cache && lhs.plugins == rhs.plugins
    }
}

extension PluginReference {
    /// Equal when path, config and failOpen are; where it was written does not count.
    public static func == (lhs: PluginReference, rhs: PluginReference) -> Bool {
        lhs.path == rhs.path && lhs.config == rhs.config && lhs.failOpen == rhs.failOpen
    }
}
