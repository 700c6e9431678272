/// `mcpgate plugin check <file.so> [config.json]`: loads a plugin with the real loader, prints its
/// descriptor, runs it over recorded MCP exchanges through a real chain (with an in-memory KV store
/// and a manual clock) and reports every decision, so a plugin author tests without a gateway.
///
/// The CLI wires arguments to `run` and prints `report.text`; exit status 0 when `report.ok`.
public enum PluginCheck {
    /// Checks a plugin.
    ///
    /// - Parameters:
    ///   - pluginPath: the `.so` to load.
    ///   - configJSON: the instance's config as JSON text (nil: "{}").
    ///   - exchangesJSON: exchanges in the format of examples/exchanges/README.md (nil: the default
    ///     set, `PluginCheck.defaultExchangesJSON`).
    ///   - failOpen: the instance's failOpen setting.
    public static func run(
        pluginPath: String, configJSON: String? = nil, exchangesJSON: String? = nil, failOpen: Bool = false
    ) -> PluginCheckReport {
        var lines: [String] = []
        func fail(_ message: String) -> PluginCheckReport {
            lines.append("FAILED: \(message)")
            return PluginCheckReport(
                text: lines.joined(separator: "\n") + "\n", ok: false, exchangeCount: 0, expectationFailures: 0, pluginFailures: 0)
        }

        let plugin: LoadedPlugin
        do {
            plugin = try PluginLoader.load(path: pluginPath)
        } catch {
            return fail(error.description)
        }
        lines.append(plugin.info.description)

        let exchanges: RecordedExchangeSet
        do {
            exchanges = try RecordedExchangeSet(json: exchangesJSON ?? defaultExchangesJSON)
        } catch {
            return fail(error.description)
        }

        let clock = ManualHostClock()
        let logs = CapturingLogSink()
        let services = HostServices(kvStore: InMemoryKVStore(byteLimit: 8 << 20, clock: clock), clock: clock, logSink: logs)
        let config = configJSON ?? "{}"
        lines.append("config:      \(config.split(separator: "\n").map { $0.trimmingSpaces }.joined(separator: " "))")
        lines.append("failOpen:    \(failOpen)")
        let chain: FilterChain
        do {
            chain = try FilterChain([FilterInstanceSpec(plugin: plugin, configJSON: config, failOpen: failOpen)], services: services)
        } catch {
            return fail(error.description)
        }

        for line in logs.drain() {
            lines.append("log:         [\(line.level)] \(line.message)")
        }

        var expectationFailures = 0
        var pluginFailures = 0
        for (index, exchange) in exchanges.exchanges.enumerated() {
            let outcome = ExchangeRunner.run(exchange, through: chain)
            clock.advance(milliseconds: 1)
            pluginFailures += outcome.failures
            lines.append("")
            lines.append("exchange \(index + 1)/\(exchanges.exchanges.count) \"\(exchange.name)\": \(outcome.decisionName)")
            for step in outcome.steps {
                let subject = step.subject.isEmpty ? "" : " [\(step.subject)]"
                lines.append("  \(step.hook.rawValue)\(subject): \(ExchangeOutcome.describe(step.decision))")
            }
            for edit in outcome.upstreamEdits {
                lines.append("  upstream header \(edit.operation) \(edit.name)\(edit.operation == .remove ? "" : ": \(edit.value)")")
            }
            for edit in outcome.responseEdits {
                lines.append("  response header \(edit.operation) \(edit.name)\(edit.operation == .remove ? "" : ": \(edit.value)")")
            }
            for (key, value) in outcome.attributes where !exchange.attributes.contains(where: { $0.0 == key && $0.1 == value }) {
                lines.append("  attribute \(key) = \(value)")
            }
            for line in logs.drain() {
                lines.append("  log [\(line.level)] \(line.message)")
            }
            if let expected = exchange.expectation {
                let problems = check(expected, against: outcome)
                if problems.isEmpty {
                    lines.append("  expect \(expected.decision): ok")
                } else {
                    expectationFailures += 1
                    for problem in problems { lines.append("  expect \(expected.decision): MISMATCH \(problem)") }
                }
            }
        }

        let metrics = services.metrics.prometheusText()
        if !metrics.isEmpty {
            lines.append("")
            lines.append("metrics:")
            for line in metrics.split(separator: "\n") where !line.hasPrefix("#") { lines.append("  \(line)") }
        }
        let ok = expectationFailures == 0 && pluginFailures == 0
        lines.append("")
        lines.append(
            "summary: \(exchanges.exchanges.count) exchanges, \(expectationFailures) expectation failures, \(pluginFailures) plugin failures: \(ok ? "OK" : "FAILED")"
        )
        return PluginCheckReport(
            text: lines.joined(separator: "\n") + "\n", ok: ok, exchangeCount: exchanges.exchanges.count,
            expectationFailures: expectationFailures, pluginFailures: pluginFailures)
    }

    private static func check(_ expected: RecordedExchange.Expectation, against outcome: ExchangeOutcome) -> [String] {
        var problems: [String] = []
        if outcome.decisionName != expected.decision {
            problems.append("got \(outcome.decisionName)")
            return problems
        }
        guard let deciding = outcome.deciding else { return problems }
        if let hook = expected.hook, hook != deciding.hook.rawValue {
            problems.append("decided in \(deciding.hook.rawValue), expected \(hook)")
        }
        switch deciding.decision {
        case .reject(let rejection):
            if let status = expected.httpStatus, status != rejection.httpStatus {
                problems.append("HTTP \(rejection.httpStatus), expected \(status)")
            }
            if let code = expected.rpcCode, code != rejection.rpcCode {
                problems.append("JSON-RPC code \(rejection.rpcCode), expected \(code)")
            }
        case .respond(let reply):
            if let status = expected.httpStatus, status != reply.httpStatus {
                problems.append("HTTP \(reply.httpStatus), expected \(status)")
            }
        case .continue, .drop:
            break
        }
        return problems
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var value = self
        while value.first == " " { value = value.dropFirst() }
        while value.last == " " { value = value.dropLast() }
        return value
    }
}
