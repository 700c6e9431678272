import MCPGateUpstream
import PluginAPI

/// A JSON summary of the running configuration for the admin API (`/config`) and `mcpgate check`: routes, targets
/// by kind with their endpoints or command, limits; never the session keys, and of a stdio target's `env` only
/// the names (the values are often API keys).
enum ConfigSummary {
    static func json(_ config: GatewayConfig) -> String {
        var out = "{\"sessionKeys\":\(config.session.keys.count),\"sessionTTLSeconds\":\(config.session.ttl.components.seconds),\"binds\":["
        out += config.binds.map { bind in
            var text = "{\"port\":\(bind.port),\"routes\":["
            text += bind.listeners.flatMap(\.routes).map { route in
                var routeText = "{\"identity\":" + JSONString.quote(route.identity) + ",\"targets\":["
                routeText += route.backend.targets.map(target).joined(separator: ",")
                return routeText + "]}"
            }.joined(separator: ",")
            return text + "]}"
        }.joined(separator: ",")
        let limits = config.limits
        out +=
            "],\"limits\":{\"maxRequestBodyBytes\":\(limits.maxRequestBodyBytes),\"maxHeaderBytes\":\(limits.maxHeaderBytes),\"maxResponseBodyBytes\":\(limits.maxResponseBodyBytes),\"maxSseEventBytes\":\(limits.maxSseEventBytes),\"maxOpenStreams\":\(limits.maxOpenStreams),\"maxConnections\":\(limits.maxConnections)}}"
        return out
    }

    /// One target: its name, kind (`mcp`, `sse`, `stdio`) and endpoints; for stdio also `cmd`, `executable`, `args`,
    /// `clearEnv` and the names in `env`.
    private static func target(_ target: Target) -> String {
        var text = "{\"name\":" + JSONString.quote(target.name) + ",\"kind\":" + JSONString.quote(target.transport.key)
        text += ",\"endpoints\":[" + target.endpoints.map { JSONString.quote($0.url) }.joined(separator: ",") + "]"
        if let command = target.stdioCommand {
            text += ",\"cmd\":" + JSONString.quote(command.cmd) + ",\"executable\":" + JSONString.quote(command.executable)
            text += ",\"args\":[" + command.args.map { JSONString.quote($0) }.joined(separator: ",") + "]"
            text += ",\"envKeys\":[" + command.env.keys.sorted().map { JSONString.quote($0) }.joined(separator: ",") + "]"
            text += ",\"clearEnv\":\(command.clearEnv)"
        }
        return text + "}"
    }
}
