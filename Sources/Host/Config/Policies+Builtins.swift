/// The built-in policies, which the bundled plugins implement.
extension Policies {
    /// (policy key, bundled plugin name) in chain order: `cors` → `libmcpgate_cors.so`, `jwtAuth` →
    /// `libmcpgate_jwt.so`, `localRateLimit` → `libmcpgate_ratelimit.so`, `cache` → `libmcpgate_cache.so`.
    static let builtins: [(policy: String, plugin: String)] = [
        ("cors", "cors"), ("jwtAuth", "jwt"), ("localRateLimit", "ratelimit"), ("cache", "cache"),
    ]

    /// The config of the built-in policy `policy`, when the route has it.
    func body(of policy: String) -> JSONValue? {
        switch policy {
        case "cors": cors
        case "jwtAuth": jwtAuth
        case "localRateLimit": localRateLimit
        case "cache": cache
        default: nil
        }
    }
}
