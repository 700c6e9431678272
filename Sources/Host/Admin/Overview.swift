import MCPGateUpstream
import PluginAPI

/// The admin overview (`GET /ui/api/overview`, docs/ui.md): the running configuration as the UI shows it — binds,
/// listeners, routes with their endpoint URL and policies (secrets redacted, `SecretRedaction`), targets by kind
/// with their replicas' live state (http and sse) or their command (stdio, `env` names only) — plus the process's
/// facts: config file, start, last reload, session key ids (never the keys), admin addresses. Pure: the live parts
/// come in as arguments.
enum Overview {
    /// The process's facts (`GatewayStatus`, the keyring) at the time of asking.
    struct Facts {
        var configFile: String
        var startedAtMs: Int64
        var lastReload: GatewayStatus.Reload?
        var keyIDs: [UInt16]
        /// `config`, `environment` or `generated`.
        var keysFrom: String
    }

    /// A loaded plugin as the overview shows it.
    struct Plugin {
        var path: String
        var name: String
        var version: String
        /// The config members it marks secret (ABI 1.1).
        var secretMembers: Set<String>
    }

    /// What is known of one replica now.
    struct Replica {
        var health: EndpointHealth.Snapshot?
        /// nil when not probed; `.some(nil)` when it accepted a connection; else why not.
        var probe: String??
    }

    /// The overview document. `plugin(reference)`: the loaded plugin for a bundled plugin's name (`jwt`) or a path.
    static func document(
        config: GatewayConfig, facts: Facts, replica: (String) -> Replica, plugin: (String) -> Plugin? = { _ in nil }
    ) -> JSONValue {
        var document: [String: JSONValue] = [
            "version": .string(MCPGateVersion.string),
            "configFile": .string(facts.configFile),
            "startedAt": .string(GatewayStatus.timestamp(ms: facts.startedAtMs)),
            "adminTokenSet": .bool(config.adminToken != nil),
            "addresses": .object([
                "admin": config.adminAddr.map { .string($0.description) } ?? .null,
                "stats": config.statsAddr.map { .string($0.description) } ?? .null,
                "readiness": config.readinessAddr.map { .string($0.description) } ?? .null,
            ]),
            "session": .object([
                "keyIds": .array(facts.keyIDs.map { .string(hex($0)) }),
                "keysFrom": .string(facts.keysFrom),
                "ttlSeconds": .integer(config.session.ttl.components.seconds),
            ]),
            "limits": limits(config.limits),
            "upstream": upstream(config.upstream),
            "stdio": stdio(config.stdio),
        ]
        document["lastReload"] =
            facts.lastReload.map { reload in
                .object([
                    "at": .string(GatewayStatus.timestamp(ms: reload.atMs)), "ok": .bool(reload.ok), "message": .string(reload.message),
                ])
            } ?? .null
        document["binds"] = .array(
            config.binds.map { bind in
                .object([
                    "address": bind.address.map { .string($0) } ?? .null,
                    "port": .integer(Int64(bind.port)),
                    "listeners": .array(
                        bind.listeners.map { listener in
                            .object([
                                "name": listener.name.map { .string($0) } ?? .null,
                                "hostname": listener.hostname.map { .string($0) } ?? .null,
                                "routes": .array(
                                    listener.routes.map { route(bind: bind, route: $0, replica: replica, plugin: plugin) }),
                            ])
                        }),
                ])
            })
        return .object(document)
    }

    /// The URL a client (and the playground) uses for a route: the bind's address (loopback when it listens on every
    /// interface), its port, and the route's path (its first exact path or prefix; `/mcp` when it matches every path).
    static func endpointURL(bind: Bind, route: Route) -> String {
        var host = bind.address ?? "127.0.0.1"
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        var path = "/mcp"
        switch route.pathMatches.first {
        case .exact(let exact)?: path = exact
        case .prefix(let prefix)? where prefix != "/": path = prefix
        default: break
        }
        return "http://\(host):\(bind.port)\(path)"
    }

    private static func route(
        bind: Bind, route: Route, replica: (String) -> Replica, plugin: (String) -> Plugin?
    ) -> JSONValue {
        var policies: [JSONValue] = []
        for builtin in Policies.builtins {
            guard let body = route.policies.body(of: builtin.policy) else { continue }
            policies.append(policy(kind: builtin.policy, config: body, failOpen: false, loaded: plugin(builtin.plugin), path: nil))
        }
        for reference in route.policies.plugins {
            let loaded = plugin(reference.path)
            policies.append(
                policy(kind: "plugin", config: reference.config, failOpen: reference.failOpen, loaded: loaded, path: reference.path))
        }
        let targets: [JSONValue] = route.backend.targets.map { target in
            var object: [String: JSONValue] = [
                "name": .string(target.name),
                "kind": .string(target.transport.key),
                "forwardAuthorization": .bool(target.forwardAuthorization),
                "replicas": .array(target.endpoints.map { self.replica(url: $0.url, state: replica($0.url)) }),
            ]
            if let command = target.stdioCommand { object["stdio"] = stdio(command) }
            return .object(object)
        }
        return .object([
            "name": route.name.map { .string($0) } ?? .null,
            "identity": .string(route.identity),
            "matches": .array(
                route.pathMatches.map {
                    switch $0 {
                    case .exact(let path): .object(["exact": .string(path)])
                    case .prefix(let path): .object(["pathPrefix": .string(path)])
                    }
                }),
            "endpoint": .string(endpointURL(bind: bind, route: route)),
            "policies": .array(policies),
            "backend": .object([
                "prefixMode": .string(route.backend.prefixMode.rawValue),
                "failureMode": .string(route.backend.failureMode.rawValue),
                "targets": .array(targets),
            ]),
        ])
    }

    /// A stdio target's command: `cmd`, the resolved `executable`, `args`, `clearEnv`, and the names in `env` only
    /// (its values are often API keys; secrets belong there, not in `args`).
    private static func stdio(_ command: StdioCommand) -> JSONValue {
        .object([
            "cmd": .string(command.cmd),
            "executable": .string(command.executable),
            "args": .array(command.args.map { .string($0) }),
            "envKeys": .array(command.env.keys.sorted().map { .string($0) }),
            "clearEnv": .bool(command.clearEnv),
        ])
    }

    private static func policy(kind: String, config: JSONValue, failOpen: Bool, loaded: Plugin?, path: String?) -> JSONValue {
        .object([
            "kind": .string(kind),
            "path": (loaded?.path ?? path).map { .string($0) } ?? .null,
            "plugin": loaded.map { .object(["name": .string($0.name), "version": .string($0.version)]) } ?? .null,
            "failOpen": .bool(failOpen),
            "config": SecretRedaction.redact(config, secretMembers: loaded?.secretMembers ?? []),
        ])
    }

    private static func replica(url: String, state: Replica) -> JSONValue {
        var out: [String: JSONValue] = ["url": .string(url)]
        switch state.probe {
        case .none:
            out["reachable"] = .null
            out["probeError"] = .null
        case .some(.none):
            out["reachable"] = .bool(true)
            out["probeError"] = .null
        case .some(.some(let error)):
            out["reachable"] = .bool(false)
            out["probeError"] = .string(error)
        }
        let health = state.health
        out["requests"] = .integer(Int64(health?.requests ?? 0))
        out["failures"] = .integer(Int64(health?.failures ?? 0))
        out["inFlight"] = .integer(Int64(health?.inFlight ?? 0))
        out["openStreams"] = .integer(Int64(health?.openStreams ?? 0))
        out["sessionsOpened"] = .integer(Int64(health?.sessionsOpened ?? 0))
        out["sessionsClosed"] = .integer(Int64(health?.sessionsClosed ?? 0))
        out["lastOkAt"] = health?.lastOkAtMs.map { .string(GatewayStatus.timestamp(ms: $0)) } ?? .null
        out["lastError"] = health?.lastError.map { .string($0) } ?? .null
        out["lastErrorAt"] = health?.lastErrorAtMs.map { .string(GatewayStatus.timestamp(ms: $0)) } ?? .null
        return .object(out)
    }

    private static func hex(_ id: UInt16) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    private static func limits(_ limits: Limits) -> JSONValue {
        .object([
            "maxRequestBodyBytes": .integer(Int64(limits.maxRequestBodyBytes)),
            "maxHeaderBytes": .integer(Int64(limits.maxHeaderBytes)),
            "maxResponseBodyBytes": .integer(Int64(limits.maxResponseBodyBytes)),
            "maxSseEventBytes": .integer(Int64(limits.maxSseEventBytes)),
            "maxOpenStreams": .integer(Int64(limits.maxOpenStreams)),
            "maxConnections": .integer(Int64(limits.maxConnections)),
            "maxConnectionsPerClient": .integer(Int64(limits.effectiveMaxConnectionsPerClient)),
            "maxJsonNodes": .integer(Int64(limits.maxJsonNodes)),
            "maxBufferedBodyBytes": .integer(Int64(limits.maxBufferedBodyBytes)),
            "clientIdleTimeoutMs": .integer(milliseconds(limits.clientIdleTimeout)),
            "requestHeaderTimeoutMs": .integer(milliseconds(limits.requestHeaderTimeout)),
            "requestBodyTimeoutMs": .integer(milliseconds(limits.requestBodyTimeout)),
            "shutdownGracePeriodMs": .integer(milliseconds(limits.shutdownGracePeriod)),
        ])
    }

    private static func upstream(_ settings: UpstreamSettings) -> JSONValue {
        .object([
            "connectTimeoutMs": .integer(milliseconds(settings.connectTimeout)),
            "requestTimeoutMs": .integer(milliseconds(settings.requestTimeout)),
            "streamIdleTimeoutMs": .integer(milliseconds(settings.streamIdleTimeout)),
            "maxConnectionsPerEndpoint": .integer(Int64(settings.maxConnectionsPerEndpoint)),
            "poolIdleTimeoutMs": .integer(milliseconds(settings.poolIdleTimeout)),
            "forwardHeaders": .array(settings.forwardHeaders.sorted().map { .string($0) }),
            "sseEndpointTimeoutMs": .integer(milliseconds(settings.sseEndpointTimeout)),
            "sseIdleTimeoutMs": .integer(milliseconds(settings.sseIdleTimeout)),
            "sseMaxPendingRequests": .integer(Int64(settings.sseMaxPendingRequests)),
            "ssePoolSize": .integer(Int64(settings.ssePoolSize)),
        ])
    }

    private static func stdio(_ settings: StdioSettings) -> JSONValue {
        .object([
            "maxProcesses": .integer(Int64(settings.maxProcesses)),
            "maxProcessesPerTarget": .integer(Int64(settings.maxProcessesPerTarget)),
            "poolSize": .integer(Int64(settings.poolSize)),
            "maxPendingRequests": .integer(Int64(settings.maxPendingRequests)),
            "idleTimeoutMs": .integer(milliseconds(settings.idleTimeout)),
            "maxLineBytes": .integer(Int64(settings.maxLineBytes)),
            "stopGracePeriodMs": .integer(milliseconds(settings.stopGracePeriod)),
        ])
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
