import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// `config.limits.shutdownGracePeriod`: a positive duration of at most 10 minutes, 10 s when absent.
private func load(_ limits: String) throws -> GatewayConfig {
    let yaml = """
        config:
          limits: { \(limits) }
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: t, mcp: { host: "http://127.0.0.1:9/mcp" } } ] } } ]
        """
    return try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/etc/mcpgate", environment: [:]).0
}

private func refusal(_ limits: String) -> String {
    do {
        _ = try load(limits)
        return "loaded"
    } catch {
        return "\(error)"
    }
}

@Test func shutdownGracePeriodDefaultsToTenSeconds() throws {
    #expect(try load("maxJsonNodes: 10").limits.shutdownGracePeriod == .seconds(10))
    #expect(Limits().shutdownGracePeriod == .seconds(10))
}

@Test func shutdownGracePeriodIsReadAsADuration() throws {
    #expect(try load("shutdownGracePeriod: 3s").limits.shutdownGracePeriod == .seconds(3))
    #expect(try load("shutdownGracePeriod: 1500ms").limits.shutdownGracePeriod == .milliseconds(1500))
    #expect(try load("shutdownGracePeriod: 10m").limits.shutdownGracePeriod == .seconds(600))
}

@Test func shutdownGracePeriodOutOfBoundsIsRefused() {
    #expect(refusal("shutdownGracePeriod: 0s").contains("config.limits.shutdownGracePeriod: expected a positive duration"))
    #expect(refusal("shutdownGracePeriod: soon").contains("config.limits.shutdownGracePeriod: expected a positive duration"))
    #expect(refusal("shutdownGracePeriod: 11m").contains("config.limits.shutdownGracePeriod: expected a duration of at most 10m"))
}
