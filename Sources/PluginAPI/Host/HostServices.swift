/// The services a chain offers its plugins through the host table: the KV store, the metrics
/// registry, the clocks and the log sink. One value is shared by every chain of a gateway (so KV
/// entries and metric families survive config reloads); tests make their own.
///
/// Immutable and `Sendable`; every member is thread-safe.
public struct HostServices: Sendable {
    /// Backs `kv_*` and `rate_limit`.
    public let kvStore: any KVStore
    /// Receives `metric_define` / `metric_record` and the chain's own failure counter.
    public let metrics: MetricsRegistry
    /// Backs `monotonic_ns` / `wall_unix_ns` (and should be the KV store's clock too).
    public let clock: any HostClock
    /// Receives plugin log lines and chain diagnostics.
    public let logSink: any PluginLogSink

    /// Creates a set of services. The defaults: a 64 MiB in-memory KV store, a fresh registry, the
    /// system clock and standard error.
    public init(
        kvStore: (any KVStore)? = nil,
        metrics: MetricsRegistry = MetricsRegistry(),
        clock: any HostClock = SystemHostClock(),
        logSink: any PluginLogSink = StandardErrorLogSink()
    ) {
        self.kvStore = kvStore ?? InMemoryKVStore(clock: clock)
        self.metrics = metrics
        self.clock = clock
        self.logSink = logSink
    }
}
