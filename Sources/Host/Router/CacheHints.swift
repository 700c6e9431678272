import PluginAPI

/// The 2026-07-28 cache hints of a result the gateway composes from several targets' results: the
/// shortest `ttlMs` of any part (absent counts as 0), and `public` only when every part said `public`.
/// A value type; fold each part in with `add`.
struct CacheHints: Equatable {
    private var shortestTTL: Int64?
    private var anyPrivate = false

    /// Folds in one target's result.
    mutating func add(_ result: JSONValueRef) {
        let ttl = result["ttlMs"]?.integer ?? 0
        shortestTTL = min(shortestTTL ?? ttl, ttl)
        if result["cacheScope"]?.string != "public" { anyPrivate = true }
    }

    /// The merged `ttlMs` (0 when no part was folded in).
    var ttlMs: Int64 { shortestTTL ?? 0 }
    /// The merged `cacheScope`.
    var cacheScope: String { anyPrivate ? "private" : "public" }
}
