import CMCPGate
import Synchronization

/// One named metric with a fixed label set and its series. Thread-safe (one mutex per family);
/// recording into an existing series allocates nothing.
final class MetricFamily: Sendable {
    struct Series {
        /// Label values joined with 0xFF (never valid inside UTF-8), the lookup key.
        var key: [UInt8]
        var labelValues: [String]
        var value: Double
        var bucketCounts: [UInt64]
        var count: UInt64
    }

    struct State {
        var lookup: [UInt64: [Int]] = [:]
        var series: [Series] = []
        var dropped = 0
    }

    /// What `record` did.
    enum RecordResult {
        case recorded
        case seriesLimit
        case badArgument
    }

    let name: String
    let help: String
    let kind: MetricKind
    let labelNames: [String]
    let buckets: [Double]
    let seriesLimit: Int
    private let state = Mutex(State())

    static let defaultBuckets: [Double] = [
        0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    init(name: String, help: String, kind: MetricKind, labelNames: [String], buckets: [Double], seriesLimit: Int) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labelNames = labelNames
        self.buckets = kind == .histogram ? (buckets.isEmpty ? MetricFamily.defaultBuckets : buckets) : []
        self.seriesLimit = seriesLimit
    }

    /// Whether another definition has the same shape.
    func hasShape(kind: MetricKind, labelNames: [String], buckets: [Double]) -> Bool {
        guard self.kind == kind, self.labelNames == labelNames else { return false }
        return kind != .histogram || buckets.isEmpty || self.buckets == buckets
    }

    private static let separator: UInt8 = 0xFF

    private static func hash(prefix: [UInt8], values: UnsafeBufferPointer<mcpgate_str>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prefix {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        for value in values {
            for byte in value.rawBuffer {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            hash = (hash ^ UInt64(separator)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private static func matches(_ key: [UInt8], prefix: [UInt8], values: UnsafeBufferPointer<mcpgate_str>) -> Bool {
        var position = 0
        let count = key.count
        for byte in prefix {
            guard position < count, key[position] == byte else { return false }
            position += 1
        }
        for value in values {
            for byte in value.rawBuffer {
                guard position < count, key[position] == byte else { return false }
                position += 1
            }
            guard position < count, key[position] == separator else { return false }
            position += 1
        }
        return position == count
    }

    /// Encodes fixed leading label values (plugin, instance) as a key prefix.
    static func prefix(_ values: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values {
            bytes.append(contentsOf: value.utf8)
            bytes.append(separator)
        }
        return bytes
    }

    /// Records `value` for the series whose label values are `prefixValues` followed by `values`.
    func record(prefix: [UInt8], prefixValues: [String], values: UnsafeBufferPointer<mcpgate_str>, value: Double) -> RecordResult {
        guard prefixValues.count + values.count == labelNames.count, value.isFinite else { return .badArgument }
        if kind == .counter && value < 0 { return .badArgument }
        let hash = MetricFamily.hash(prefix: prefix, values: values)
        return state.withLock { state in
            var index: Int? = nil
            if let candidates = state.lookup[hash] {
                for candidate in candidates where MetricFamily.matches(state.series[candidate].key, prefix: prefix, values: values) {
                    index = candidate
                    break
                }
            }
            if index == nil {
                guard state.series.count < seriesLimit else {
                    state.dropped += 1
                    return .seriesLimit
                }
                var key = prefix
                var labelValues = prefixValues
                for value in values {
                    key.append(contentsOf: value.rawBuffer)
                    key.append(MetricFamily.separator)
                    labelValues.append(value.string)
                }
                let series = Series(
                    key: key, labelValues: labelValues, value: 0,
                    bucketCounts: Array(repeating: 0, count: buckets.count + 1), count: 0)
                state.series.append(series)
                index = state.series.count - 1
                state.lookup[hash, default: []].append(state.series.count - 1)
            }
            guard let index else { return .badArgument }
            switch kind {
            case .counter:
                state.series[index].value += value
            case .gauge:
                state.series[index].value = value
            case .histogram:
                var bucket = buckets.count
                for (position, bound) in buckets.enumerated() where value <= bound {
                    bucket = position
                    break
                }
                state.series[index].bucketCounts[bucket] += 1
                state.series[index].value += value
                state.series[index].count += 1
            }
            return .recorded
        }
    }

    /// Records with Swift strings (host-side metrics).
    func record(labelValues: [String], value: Double) -> RecordResult {
        let buffers = labelValues.map { CStringBuffer($0) }
        let strs = buffers.map { mcpgate_str($0) }
        return strs.withUnsafeBufferPointer { record(prefix: [], prefixValues: [], values: $0, value: value) }
    }

    func snapshot() -> MetricFamilySnapshot {
        state.withLock { state in
            let series = state.series.map { series -> MetricSeriesSnapshot in
                var buckets: [MetricBucketSnapshot] = []
                if kind == .histogram {
                    var total: UInt64 = 0
                    for (position, count) in series.bucketCounts.enumerated() {
                        total += count
                        let bound = position < self.buckets.count ? self.buckets[position] : Double.infinity
                        buckets.append(MetricBucketSnapshot(upperBound: bound, cumulativeCount: total))
                    }
                }
                return MetricSeriesSnapshot(
                    labelValues: series.labelValues, value: series.value, buckets: buckets, count: series.count)
            }
            return MetricFamilySnapshot(
                name: name, help: help, kind: kind, labelNames: labelNames, series: series,
                droppedRecords: state.dropped)
        }
    }
}
