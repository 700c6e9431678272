import PluginAPI

/// Turns a route's `policies` into its filter chain: the built-in policies map to the bundled plugins
/// (`cors` → `libmcpgate_cors.so`, `jwtAuth` → `libmcpgate_jwt.so`, `localRateLimit` →
/// `libmcpgate_ratelimit.so`, `cache` → `libmcpgate_cache.so`, found on `PluginLoader.bundledPluginSearchPath`:
/// `$MCPGATE_PLUGIN_DIR`, else next to the executable, else `../lib/mcpgate`), in that order, then
/// `policies.plugins` in the order written.
enum PolicyChains {
    /// The chain for `route`, or nil when it has no policy at all. Plugin load and config errors name the
    /// route and the policy.
    static func build(for route: Route, services: HostServices) throws(RuntimeBuildError) -> FilterChain? {
        var specs: [FilterInstanceSpec] = []
        /// Where each spec was written in the config file (`file:line:col: path`), in spec order.
        var locations: [String] = []
        for builtin in Policies.builtins {
            guard let body = route.policies.body(of: builtin.policy) else { continue }
            let location = route.policies.locations[builtin.policy] ?? "route \(route.identity): policies.\(builtin.policy)"
            do {
                let plugin = try PluginLoader.load(path: try PluginLoader.locateBundledPlugin(named: builtin.plugin))
                // Named per route, so metric series and logs of the same policy on two routes stay apart.
                specs.append(FilterInstanceSpec(plugin: plugin, name: "\(builtin.policy)@\(route.identity)", configJSON: body.jsonText))
                locations.append(location)
            } catch {
                throw RuntimeBuildError("\(location): \(error)")
            }
        }
        for (index, reference) in route.policies.plugins.enumerated() {
            let location = reference.location ?? "route \(route.identity): policies.plugins[\(index)]"
            do {
                let plugin = try PluginLoader.load(path: reference.path)
                specs.append(FilterInstanceSpec(plugin: plugin, configJSON: reference.config.jsonText, failOpen: reference.failOpen))
                locations.append(location)
            } catch {
                throw RuntimeBuildError("\(location): \(error)")
            }
        }
        guard !specs.isEmpty else { return nil }
        do {
            return try FilterChain(specs, services: services)
        } catch {
            let instance: String
            switch error {
            case .invalidConfigJSON(let name, _), .configRejected(let name, _, _, _): instance = name
            }
            let names = FilterChain.instanceNames(of: specs)
            let location = names.firstIndex(of: instance).map { locations[$0] } ?? "route \(route.identity)"
            throw RuntimeBuildError("\(location): \(error)")
        }
    }
}
