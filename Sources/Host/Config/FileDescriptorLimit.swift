#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's descriptor limit (RLIMIT_NOFILE), which bounds how many client connections can be open: a
/// `maxConnections` above what descriptors allow would let `accept` fail with EMFILE while the gateway still
/// thinks it has room, and then nothing is served, readiness included.
public enum FileDescriptorLimit {
    /// Descriptors kept for everything that is not a client connection's pair (listeners, admin, plugins' files,
    /// the JWKS fetcher, logs).
    static let reserve = 64

    /// Raises the soft limit to the hard limit (as Go's runtime and most servers do at start), so the default
    /// `maxConnections` is as large as the operator's `ulimit -Hn` allows. Returns the soft limit now in force.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return current }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised)
        }
        return current
    }

    /// The soft RLIMIT_NOFILE now (1024 if it cannot be read; capped at 2^30).
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur == rlim_t.max { return 1 << 30 }  // RLIM_INFINITY
        return Int(min(limit.rlim_cur, 1 << 30))
    }

    /// The most client connections the descriptors allow: each may hold an upstream connection too, so half of
    /// what is left after the reserve (at least 16).
    public static var defaultMaxConnections: Int {
        max(16, (current - reserve) / 2)
    }

    /// The most client connections the descriptors allow when up to `stdioProcesses` stdio processes run too,
    /// each holding three pipe descriptors (stdin, stdout, stderr): half of what is left after the reserve and
    /// the pipes (at least 16).
    public static func maxConnections(stdioProcesses: Int) -> Int {
        max(16, (current - reserve - 3 * stdioProcesses) / 2)
    }
}
