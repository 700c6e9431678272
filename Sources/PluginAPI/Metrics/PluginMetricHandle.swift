/// The object behind a plugin's `mcpgate_metric *`: a family plus the fixed `plugin` and `instance`
/// label values of the instance that defined it. Immutable; lives as long as the instance.
final class PluginMetricHandle: Sendable {
    let family: MetricFamily
    let prefix: [UInt8]
    let prefixValues: [String]

    init(family: MetricFamily, plugin: String, instance: String) {
        self.family = family
        self.prefixValues = [plugin, instance]
        self.prefix = MetricFamily.prefix([plugin, instance])
    }
}
