import Synchronization

/// Every metric plugins defined (and the chain's own `mcpgate_plugin_errors_total`), for the host to
/// export. Thread-safe; families are created at config time and recorded into from any thread.
public final class MetricsRegistry: Sendable {
    private struct State {
        var families: [String: MetricFamily] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())
    /// The most series one family may hold; records for new label sets beyond it are dropped and counted.
    public let seriesLimitPerFamily: Int

    /// The name of the chain's own counter of plugin failures (labels plugin, instance, hook).
    public static let pluginErrorsMetricName = "mcpgate_plugin_errors_total"

    /// Creates an empty registry.
    public init(seriesLimitPerFamily: Int = 1_000) {
        self.seriesLimitPerFamily = seriesLimitPerFamily
    }

    /// Returns the family `name`, creating it; nil when it exists with another shape.
    func family(name: String, help: String, kind: MetricKind, labelNames: [String], buckets: [Double]) -> MetricFamily? {
        state.withLock { state in
            if let existing = state.families[name] {
                return existing.hasShape(kind: kind, labelNames: labelNames, buckets: buckets) ? existing : nil
            }
            let family = MetricFamily(
                name: name, help: help, kind: kind, labelNames: labelNames, buckets: buckets,
                seriesLimit: seriesLimitPerFamily)
            state.families[name] = family
            state.order.append(name)
            return family
        }
    }

    /// Counts one plugin failure.
    func recordPluginError(plugin: String, instance: String, hook: String) {
        let family = family(
            name: MetricsRegistry.pluginErrorsMetricName,
            help: "Plugin hooks that failed (returned ERROR, an unknown or disallowed action, or failed request_new).",
            kind: .counter, labelNames: ["plugin", "instance", "hook"], buckets: [])
        _ = family?.record(labelValues: [plugin, instance, hook], value: 1)
    }

    /// The current value of every family, in definition order.
    public func snapshot() -> [MetricFamilySnapshot] {
        let families = state.withLock { state in state.order.compactMap { state.families[$0] } }
        return families.map { $0.snapshot() }
    }

    /// The value of one series, or nil if it does not exist: counter total, gauge value, histogram sum.
    public func value(of name: String, labels: [String: String]) -> Double? {
        guard let family = snapshot().first(where: { $0.name == name }) else { return nil }
        let wanted = family.labelNames.map { labels[$0] ?? "" }
        return family.series.first(where: { $0.labelValues == wanted })?.value
    }
}
