extension MetricsRegistry {
    /// Every family in the Prometheus text exposition format (version 0.0.4), ready to append to the
    /// host's `/metrics` output.
    public func prometheusText() -> String {
        var out = ""
        for family in snapshot() {
            if !family.help.isEmpty {
                out += "# HELP \(family.name) \(Self.escapeHelp(family.help))\n"
            }
            out += "# TYPE \(family.name) \(family.kind.prometheusType)\n"
            for series in family.series {
                let pairs = zip(family.labelNames, series.labelValues).map { "\($0)=\"\(Self.escapeLabel($1))\"" }
                switch family.kind {
                case .counter, .gauge:
                    out += "\(family.name)\(Self.labelSet(pairs)) \(Self.format(series.value))\n"
                case .histogram:
                    for bucket in series.buckets {
                        let le = bucket.upperBound.isInfinite ? "+Inf" : Self.format(bucket.upperBound)
                        out += "\(family.name)_bucket\(Self.labelSet(pairs + ["le=\"\(le)\""])) \(bucket.cumulativeCount)\n"
                    }
                    out += "\(family.name)_sum\(Self.labelSet(pairs)) \(Self.format(series.value))\n"
                    out += "\(family.name)_count\(Self.labelSet(pairs)) \(series.count)\n"
                }
            }
        }
        return out
    }

    private static func labelSet(_ pairs: [String]) -> String {
        pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
    }

    private static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private static func escapeLabel(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    private static func escapeHelp(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
