/// Turns one parsed YAML document into a ``GatewayConfig``, checking every key and value on the way and
/// collecting warnings. Used once per load; a value type with no shared state.
struct ConfigReader {
    /// The configuration file as the operator named it, for messages.
    let file: String
    /// Where relative paths in the file (plugins) are resolved from: the file's own directory.
    let baseDirectory: String
    /// `SESSION_KEY` / `SESSION_KEYS`, `MCPGATE_ADMIN_TOKEN`, and the `PATH` that stdio commands are found in,
    /// are read from here.
    let environment: [String: String]
    /// Things that load but deserve the operator's attention, in document order.
    private(set) var warnings: [String] = []
    /// Route names seen so far, with where each was first given (names are unique across the file).
    var routeNames: [String: ConfigNode] = [:]
    /// The routes given identities derived from what they serve so far, by identity (two routes that serve the
    /// same thing share one; a different route that would get the same one is numbered).
    var derivedIdentities: [String: Route] = [:]
    /// Every address the gateway will listen on so far (binds, admin, stats, readiness), with where each was given.
    /// A `nil` host is a bind on all interfaces.
    private var listenPlaces: [(host: String?, port: Int, place: ConfigNode, shared: Bool)] = []
    /// Where `config.limits.maxConnections` was given, if it was (a configured value is lowered with a warning).
    var maxConnectionsPlace: ConfigNode?

    init(file: String, baseDirectory: String, environment: [String: String]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    static let topLevelKeys = ["config", "binds"]

    /// Reads the whole document (`config:` and `binds:`).
    mutating func readDocument(_ root: ConfigNode) throws(ConfigError) -> GatewayConfig {
        if root.isNull {
            throw ConfigError(
                file: file, path: "", message: "expected a mapping with a key \"binds\", got an empty document")
        }
        let top = try root.mapping(allowed: Self.topLevelKeys) { key in
            switch key {
            case "frontendPolicies", "policies", "backends", "services", "workloads", "llm", "mcp":
                return "agentgateway's top-level \(key) is not supported by mcpgate; configure routes under binds"
            default:
                return nil
            }
        }
        var config = GatewayConfig()
        try readSettings(top.present("config"), into: &config)
        config.binds = try readBinds(try top.required("binds", "the ports to listen on"))
        budgetDescriptorsForStdio(&config)
        return config
    }

    /// Records that the gateway listens on `host:port`, refusing a port another entry already listens on with an
    /// overlapping address (the same one, or all interfaces on either side). The operator endpoints (`shared`:
    /// admin, stats, readiness) may name the very same address, which then serves them together.
    mutating func claimListenAddress(
        host: String?,
        port: Int,
        at place: ConfigNode,
        what: String,
        shared: Bool = false
    ) throws(ConfigError) {
        func isWildcard(_ host: String?) -> Bool { host == nil || host == "0.0.0.0" || host == "::" }
        for other in listenPlaces where other.port == port {
            if shared && other.shared && host == other.host { continue }
            if isWildcard(host) || isWildcard(other.host) || host == other.host {
                throw place.error(
                    "expected \(what) not already listened on by \(other.place.lineReference), got \(place.found)"
                )
            }
        }
        listenPlaces.append((host: host, port: port, place: place, shared: shared))
    }

    /// Adds a warning, prefixed with the file and, when given, the place in it.
    mutating func warn(_ message: String, at node: ConfigNode? = nil) {
        var text = file
        if let line = node?.line {
            text += ":\(line)"
            if let column = node?.column { text += ":\(column)" }
        }
        text += ": "
        if let path = node?.path, !path.isEmpty { text += path + ": " }
        warnings.append(text + message)
    }

    /// Resolves a path from the file against the file's directory, unless absolute. `.` segments and repeated
    /// slashes are removed; `..` is kept (symlinks make it ambiguous).
    func resolvePath(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : (baseDirectory.isEmpty ? "." : baseDirectory) + "/" + path
        let parts = joined.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let body = parts.joined(separator: "/")
        if joined.hasPrefix("/") { return "/" + body }
        return body.isEmpty ? "." : body
    }
}
