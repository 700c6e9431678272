import MCPGateUpstream
import PluginAPI

/// A JSON summary of the running configuration for the admin API: routes, targets, endpoints, limits;
/// never the session keys.
enum ConfigSummary {
    static func json(_ config: GatewayConfig) -> String {
        var out = "{\"sessionKeys\":\(config.session.keys.count),\"sessionTTLSeconds\":\(config.session.ttl.components.seconds),\"binds\":["
        out += config.binds.map { bind in
            var text = "{\"port\":\(bind.port),\"routes\":["
            text += bind.listeners.flatMap(\.routes).map { route in
                var routeText = "{\"identity\":" + JSONString.quote(route.identity) + ",\"targets\":["
                routeText += route.backend.targets.map { target in
                    "{\"name\":" + JSONString.quote(target.name) + ",\"endpoints\":["
                        + target.endpoints.map { JSONString.quote($0.url) }.joined(separator: ",") + "]}"
                }.joined(separator: ",")
                return routeText + "]}"
            }.joined(separator: ",")
            return text + "]}"
        }.joined(separator: ",")
        let limits = config.limits
        out +=
            "],\"limits\":{\"maxRequestBodyBytes\":\(limits.maxRequestBodyBytes),\"maxHeaderBytes\":\(limits.maxHeaderBytes),\"maxResponseBodyBytes\":\(limits.maxResponseBodyBytes),\"maxSseEventBytes\":\(limits.maxSseEventBytes),\"maxOpenStreams\":\(limits.maxOpenStreams),\"maxConnections\":\(limits.maxConnections)}}"
        return out
    }
}
