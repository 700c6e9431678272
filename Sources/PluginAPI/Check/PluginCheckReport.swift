/// The result of `PluginCheck.run`: a printable report and whether everything passed.
public struct PluginCheckReport: Sendable {
    /// The human-readable report (descriptor, each exchange's decisions, logs, metrics, summary).
    public var text: String
    /// True when the plugin loaded, accepted its config, met every expectation and never failed.
    public var ok: Bool
    /// Number of exchanges run.
    public var exchangeCount: Int
    /// Exchanges whose `expect` was not met.
    public var expectationFailures: Int
    /// Plugin failures that failed closed (ERROR, unknown actions, failing request_new...).
    public var pluginFailures: Int
}
