/// Where plugin log lines and chain diagnostics go. The host adapts this to swift-log.
///
/// Called from any thread, possibly concurrently: implementations must be thread-safe and must not
/// block for long (hooks run on event loops).
public protocol PluginLogSink: Sendable {
    /// Whether lines at `level` are recorded (plugins skip formatting otherwise).
    func isEnabled(_ level: PluginLogLevel) -> Bool
    /// Records one line. `plugin` and `instance` are empty for host-level lines.
    func log(_ level: PluginLogLevel, plugin: String, instance: String, message: String)
}
