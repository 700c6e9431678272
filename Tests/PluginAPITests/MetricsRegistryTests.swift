import Testing

@testable import PluginAPI

/// The registry the host exports: families, series, the cap, and the Prometheus text.
@Suite struct MetricsRegistryTests {
    @Test func histogramBucketsAreCumulative() throws {
        let registry = MetricsRegistry()
        let family = try #require(registry.family(name: "latency", help: "l", kind: .histogram, labelNames: ["route"], buckets: [0.1, 1]))
        for value in [0.05, 0.5, 5.0] { _ = family.record(labelValues: ["a"], value: value) }
        let text = registry.prometheusText()
        #expect(text.contains(#"latency_bucket{route="a",le="0.1"} 1"#))
        #expect(text.contains(#"latency_bucket{route="a",le="1"} 2"#))
        #expect(text.contains(#"latency_bucket{route="a",le="+Inf"} 3"#))
        #expect(text.contains(#"latency_count{route="a"} 3"#))
        #expect(text.contains(#"latency_sum{route="a"} 5.55"#))
    }

    @Test func redefinitionMustHaveTheSameShape() {
        let registry = MetricsRegistry()
        let first = registry.family(name: "x", help: "", kind: .counter, labelNames: ["a"], buckets: [])
        #expect(first != nil)
        #expect(registry.family(name: "x", help: "", kind: .counter, labelNames: ["a"], buckets: []) === first)
        #expect(registry.family(name: "x", help: "", kind: .gauge, labelNames: ["a"], buckets: []) == nil)
        #expect(registry.family(name: "x", help: "", kind: .counter, labelNames: ["b"], buckets: []) == nil)
    }

    @Test func seriesCapDropsNewLabelSets() throws {
        let registry = MetricsRegistry(seriesLimitPerFamily: 2)
        let family = try #require(registry.family(name: "c", help: "", kind: .counter, labelNames: ["k"], buckets: []))
        #expect(family.record(labelValues: ["1"], value: 1) == .recorded)
        #expect(family.record(labelValues: ["2"], value: 1) == .recorded)
        #expect(family.record(labelValues: ["3"], value: 1) == .seriesLimit)
        #expect(family.record(labelValues: ["1"], value: 1) == .recorded)
        let snapshot = try #require(registry.snapshot().first)
        #expect(snapshot.droppedRecords == 1)
        #expect(snapshot.series.map(\.value) == [2, 1])
    }

    @Test func labelValuesAreEscaped() throws {
        let registry = MetricsRegistry()
        let family = try #require(registry.family(name: "g", help: "h", kind: .gauge, labelNames: ["k"], buckets: []))
        _ = family.record(labelValues: ["a\"b\\c\nd"], value: 2.5)
        #expect(registry.prometheusText().contains(#"g{k="a\"b\\c\nd"} 2.5"#))
    }
}
