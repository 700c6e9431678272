import Foundation
import Testing

@testable import PluginAPI

/// The third-party example (examples/plugins/tool-acl), built with plain cc as its Makefile does,
/// loaded by the real loader and run over its own exchanges and through a chain.
@Suite struct ExamplePluginTests {
    private static let directory = TestPlugins.repoRoot + "/examples/plugins/tool-acl"

    private func build() throws -> String {
        try TestPlugins.compile("mcpgate_tool_acl", source: "examples/plugins/tool-acl/tool_acl.c", flags: ["-Wpedantic"])
    }

    @Test func passesItsOwnExchangesUnderPluginCheck() throws {
        let path = try build()
        let config = try String(contentsOfFile: Self.directory + "/config.example.json", encoding: .utf8)
        let exchanges = try String(contentsOfFile: Self.directory + "/exchanges.json", encoding: .utf8)
        let report = PluginCheck.run(pluginPath: path, configJSON: config, exchangesJSON: exchanges)
        #expect(report.ok, "\(report.text)")
        #expect(report.exchangeCount == 10)
        #expect(report.text.contains("plugin:      tool_acl 1.0.0"))
        #expect(
            report.text.contains(#"mcpgate_plugin_tool_acl_decisions_total{plugin="tool_acl",instance="tool_acl",decision="denied"} 2"#))
    }

    @Test func runsBehindAnAuthFilterInAChain() throws {
        let acl = try PluginLoader.load(path: try build())
        let auth = try PluginLoader.load(path: TestPlugins.behaviorPath)
        let chain = try FilterChain(
            [
                FilterInstanceSpec(plugin: auth, name: "auth", configJSON: #"{"set_principal":"bob"}"#),
                FilterInstanceSpec(plugin: acl, name: "acl", configJSON: #"{"rules":[{"principal":"bob","allow":["search"]}]}"#),
            ], services: HostServices(logSink: CapturingLogSink()))
        let allowed = chain.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp"))
        #expect(allowed.onHTTPRequestHeaders() == .continue)
        #expect(allowed.rpc(toolsCall) == .continue)
        let denied = chain.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp"))
        _ = denied.onHTTPRequestHeaders()
        guard case .reject(let rejection) = denied.rpc(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}"#) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(rejection.instance == "acl")
        #expect(
            rejection.responseBody(idJSON: "1")
                == #"{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"tool 'rm' is not allowed for principal 'bob'","data":{"tool":"rm","principal":"bob"}}}"#
        )
    }
}
