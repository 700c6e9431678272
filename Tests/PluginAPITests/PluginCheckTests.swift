import Foundation
import Testing

@testable import PluginAPI

/// `mcpgate plugin check`: the real loader, a real chain, recorded exchanges, a printable report.
@Suite struct PluginCheckTests {
    @Test func defaultExchangesRunAndReportEveryHook() {
        let report = PluginCheck.run(pluginPath: TestPlugins.behaviorPath, configJSON: #"{"tag":"T"}"#)
        #expect(report.ok)
        #expect(report.exchangeCount == 12)
        #expect(report.text.contains("plugin:      test_behavior 1.0.0"))
        #expect(report.text.contains("exchange 5/12 \"tools/call search by alice\": continue"))
        #expect(report.text.contains("  on_rpc_message [tools/call search id=3]: continue"))
        #expect(report.text.contains("  on_sse_event [notifications/progress]: continue"))
        #expect(report.text.contains("summary: 12 exchanges, 0 expectation failures, 0 plugin failures: OK"))
    }

    @Test func embeddedDefaultExchangesMatchTheShippedFile() throws {
        let file = try String(contentsOfFile: TestPlugins.repoRoot + "/examples/exchanges/default.json", encoding: .utf8)
        #expect(PluginCheck.defaultExchangesJSON == String(file.dropLast()))
    }

    @Test func expectationsAreCheckedAndMismatchesFailTheCheck() {
        let exchanges = #"""
            {"exchanges": [
              {"name": "denied", "messages": [{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}],
               "expect": {"decision": "reject", "httpStatus": 451, "rpcCode": -32003, "hook": "on_rpc_message"}},
              {"name": "wrong", "messages": [{"jsonrpc":"2.0","id":2,"method":"tools/list"}], "expect": "continue"}
            ]}
            """#
        let good = PluginCheck.run(
            pluginPath: TestPlugins.behaviorPath, configJSON: #"{"rpc":"reject","status":451,"code":-32003}"#,
            exchangesJSON: exchanges.replacingOccurrences(of: #""expect": "continue""#, with: #""expect": "reject""#))
        #expect(good.ok, "\(good.text)")
        #expect(good.text.contains("expect reject: ok"))

        let bad = PluginCheck.run(
            pluginPath: TestPlugins.behaviorPath, configJSON: #"{"rpc":"reject","status":403}"#, exchangesJSON: exchanges)
        #expect(!bad.ok)
        #expect(bad.expectationFailures == 2)
        #expect(bad.text.contains("expect reject: MISMATCH HTTP 403, expected 451"))
        #expect(bad.text.contains("expect continue: MISMATCH got reject"))
    }

    @Test func pluginFailuresFailTheCheck() {
        let report = PluginCheck.run(pluginPath: TestPlugins.behaviorPath, configJSON: #"{"rpc":"error"}"#)
        #expect(!report.ok)
        #expect(report.pluginFailures > 0)
        #expect(report.text.contains("FAILURE (fail closed) by test_behavior: HTTP 500, JSON-RPC -32603"))
    }

    @Test func refusalsAreReported() throws {
        let missing = PluginCheck.run(pluginPath: "/nope/libx.so")
        #expect(!missing.ok)
        #expect(missing.text == "FAILED: plugin /nope/libx.so: no such file\n")

        let badConfig = PluginCheck.run(pluginPath: TestPlugins.behaviorPath, configJSON: #"{"config_fails":true}"#)
        #expect(!badConfig.ok)
        #expect(
            badConfig.text.contains(
                "FAILED: filter test_behavior (plugin test_behavior) refused its config (status 2): config_fails is set"))

        let badExchanges = PluginCheck.run(pluginPath: TestPlugins.behaviorPath, exchangesJSON: #"{"exchanges": [{"expect": "maybe"}]}"#)
        #expect(badExchanges.text.contains("FAILED: exchanges[0].expect: unknown decision \"maybe\""))
    }

    @Test func reportShowsEditsAttributesAndLogs() {
        let report = PluginCheck.run(
            pluginPath: TestPlugins.behaviorPath,
            configJSON: #"{"tag":"R","response_header":["X-Policy","checked"],"upstream_header":["X-User","u"]}"#)
        #expect(report.text.contains("  response header set X-Policy: checked"))
        #expect(report.text.contains("  upstream header set X-User: u"))
        #expect(report.text.contains("log:         [info] configured tag R"))
        #expect(report.text.contains("  attribute test.trace = "))
    }
}
