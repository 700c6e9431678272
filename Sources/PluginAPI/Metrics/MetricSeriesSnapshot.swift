/// The value of one labelled series at the time of a snapshot.
public struct MetricSeriesSnapshot: Sendable, Equatable {
    /// Label values, in the order of the family's `labelNames`.
    public var labelValues: [String]
    /// Counter total or gauge value; for histograms the sum of observations.
    public var value: Double
    /// Histograms: cumulative counts per upper bound (the last bound is +infinity). Empty otherwise.
    public var buckets: [MetricBucketSnapshot]
    /// Histograms: number of observations. 0 otherwise.
    public var count: UInt64
}
