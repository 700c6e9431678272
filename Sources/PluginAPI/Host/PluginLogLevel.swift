import CMCPGate

/// Severity of a plugin log line (the `MCPGATE_LOG_*` values).
public enum PluginLogLevel: Int32, Sendable, Comparable, CaseIterable {
    case trace = 0
    case debug = 1
    case info = 2
    case warning = 3
    case error = 4

    /// Orders by severity.
    public static func < (lhs: PluginLogLevel, rhs: PluginLogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level for a C value; out-of-range values clamp to the nearest level.
    init(clamping raw: Int32) {
        self = PluginLogLevel(rawValue: min(max(raw, 0), 4)) ?? .error
    }
}
