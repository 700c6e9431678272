/// A metric family and all its series at the time of `MetricsRegistry.snapshot()`.
public struct MetricFamilySnapshot: Sendable, Equatable {
    /// The exported name (`mcpgate_plugin_<name>` for plugin metrics).
    public var name: String
    /// The help text.
    public var help: String
    /// Counter, gauge or histogram.
    public var kind: MetricKind
    /// Label names, `plugin` and `instance` first for plugin metrics.
    public var labelNames: [String]
    /// Every series, in creation order.
    public var series: [MetricSeriesSnapshot]
    /// Records refused because the family reached its series cap.
    public var droppedRecords: Int
}
