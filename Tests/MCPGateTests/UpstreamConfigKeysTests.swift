import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// `config.upstream.forwardHeaders` (L12) and `targets[].mcp.redirectOrigins` (M3): read, normalised, and
/// refused with the place and the reason like every other key.
@Suite("Config: forwardHeaders and redirectOrigins")
struct UpstreamConfigKeysTests {
    private func parse(_ yaml: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/etc/mcpgate", environment: [:]).0
    }

    private func failure(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try parse(yaml)
            Issue.record("expected the configuration to be refused", sourceLocation: sourceLocation)
            return ""
        } catch {
            return String(describing: error)
        }
    }

    private func withUpstream(_ upstream: String) -> String {
        """
        config:
          upstream: \(upstream)
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/mcp } } ] } } ]
        """
    }

    private func withTarget(_ mcp: String) -> String {
        """
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: a, mcp: \(mcp) } ] } } ]
        """
    }

    @Test("forwardHeaders are read lowercased")
    func forwardHeadersAreRead() throws {
        let config = try parse(withUpstream("{ forwardHeaders: [X-Api-Key, x-tenant] }"))
        #expect(config.upstream.forwardHeaders == ["x-api-key", "x-tenant"])
        #expect(try parse(withUpstream("{ requestTimeout: 5s }")).upstream.forwardHeaders.isEmpty)
    }

    @Test(
        "forwardHeaders refuses what the gateway owns, Authorization, duplicates and non-tokens",
        arguments: [
            (
                "[Host]",
                "config.yaml:2:32: config.upstream.forwardHeaders[0]: expected a header the client owns end to end, got \"Host\": the gateway writes it itself or it belongs to one hop"
            ),
            (
                "[authorization]",
                "config.yaml:2:32: config.upstream.forwardHeaders[0]: expected a header name other than Authorization: set forwardAuthorization: true on the targets that should get it"
            ),
            (
                "[X-A, x-a]",
                "config.yaml:2:37: config.upstream.forwardHeaders[1]: expected distinct header names, got \"x-a\" again (first at config.upstream.forwardHeaders[0] (line 2))"
            ),
            (
                "[\"x a\"]",
                "config.yaml:2:32: config.upstream.forwardHeaders[0]: expected a header name (letters, digits and !#$%&'*+-.^_`|~), got \"x a\""
            ),
            (
                "X-A",
                "config.yaml:2:31: config.upstream.forwardHeaders: expected a list of header names (letters, digits and !#$%&'*+-.^_`|~), got \"X-A\""
            ),
        ])
    func forwardHeadersRefusals(value: String, message: String) {
        #expect(failure(withUpstream("{ forwardHeaders: \(value) }")) == message)
    }

    @Test("redirectOrigins are normalised as UpstreamTarget writes origins")
    func redirectOriginsAreNormalised() throws {
        let config = try parse(
            withTarget(
                "{ host: https://a.example/mcp, redirectOrigins: [HTTPS://Auth.Example, \"https://b.example:8443/\", \"https://[::1]:443\"] }"
            ))
        let target = try #require(config.binds.first?.listeners.first?.routes.first?.backend.targets.first)
        #expect(target.redirectOrigins == ["https://auth.example", "https://b.example:8443", "https://[::1]"])
        #expect(UpstreamTarget(url: "https://b.example:8443/x")?.origin == "https://b.example:8443")
    }

    @Test(
        "redirectOrigins refuses paths, downgrades and duplicates",
        arguments: [
            ("[http://b.example/mcp]", "expected an http:// or https:// origin (scheme, host and optional port; no path)"),
            (
                "[http://b.example]",
                "expected an https:// origin, got \"http://b.example\": the target is https and redirects never go from https to http"
            ),
            ("[https://b.example, \"https://b.example:443\"]", "expected distinct origins, got https://b.example again"),
            ("[ftp://b.example]", "expected an http:// or https:// URL"),
        ])
    func redirectOriginsRefusals(value: String, message: String) {
        let text = failure(withTarget("{ host: https://a.example/mcp, redirectOrigins: \(value) }"))
        #expect(text.contains("backends[0].mcp.targets[0].mcp.redirectOrigins["), "\(text)")
        #expect(text.contains(message), "\(text)")
    }
}
