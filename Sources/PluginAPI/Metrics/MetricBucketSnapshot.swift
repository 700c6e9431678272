/// One cumulative histogram bucket.
public struct MetricBucketSnapshot: Sendable, Equatable {
    /// The bucket's inclusive upper bound (`Double.infinity` for the last).
    public var upperBound: Double
    /// Observations less than or equal to `upperBound`.
    public var cumulativeCount: UInt64
}
