import CMCPGate

/// The kind of a plugin-defined metric (`MCPGATE_METRIC_*`).
public enum MetricKind: Sendable, Equatable {
    /// A monotonically increasing total; records add.
    case counter
    /// A value that goes up and down; records set.
    case gauge
    /// A distribution over fixed buckets; records observe.
    case histogram

    init?(abiValue: Int32) {
        switch abiValue {
        case MCPGATE_METRIC_COUNTER: self = .counter
        case MCPGATE_METRIC_GAUGE: self = .gauge
        case MCPGATE_METRIC_HISTOGRAM: self = .histogram
        default: return nil
        }
    }

    /// The Prometheus `# TYPE` word.
    public var prometheusType: String {
        switch self {
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        }
    }
}
