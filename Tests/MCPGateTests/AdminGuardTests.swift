import NIOHTTP1
import Testing

@testable import MCPGate

/// The admin API refuses what a browser page could send it (attack run M5), and config keeps it off the network
/// without a token.
@Suite("Admin API guards")
struct AdminGuardTests {
    private func head(_ method: HTTPMethod, _ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: "/config", headers: HTTPHeaders(headers))
    }

    @Test func loopbackHostWithoutOriginPasses() {
        #expect(AdminGuard.refusal(of: head(.GET, [("host", "127.0.0.1:15000")]), token: nil) == nil)
        #expect(
            AdminGuard.refusal(of: head(.GET, [("host", "localhost:15000"), ("origin", "http://localhost:15000")]), token: nil) == nil)
    }

    @Test func dnsRebindingHostsAre421() {
        for host in ["attacker.example", "127.0.0.1.attacker.example:15000", "127.evil.example"] {
            #expect(AdminGuard.refusal(of: head(.GET, [("host", host)]), token: nil)?.status == .misdirectedRequest)
        }
        #expect(AdminGuard.refusal(of: head(.GET, []), token: nil)?.status == .badRequest)
        #expect(AdminGuard.refusal(of: head(.GET, [("host", "127.0.0.1"), ("host", "evil.example")]), token: nil)?.status == .badRequest)
    }

    @Test func aForeignOriginIs403() {
        let refusal = AdminGuard.refusal(of: head(.POST, [("host", "127.0.0.1:15000"), ("origin", "http://evil.example")]), token: nil)
        #expect(refusal?.status == .forbidden)
    }

    @Test func formBodiesCannotReload() {
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            #expect(AdminGuard.reloadBodyRefusal(head(.POST, [("content-type", type)]))?.status == .unsupportedMediaType)
        }
        #expect(AdminGuard.reloadBodyRefusal(head(.POST, [])) == nil)
        #expect(AdminGuard.reloadBodyRefusal(head(.POST, [("content-type", "application/json")])) == nil)
    }

    @Test func withATokenEveryRequestNeedsIt() {
        let token = "0123456789abcdef0123"
        #expect(AdminGuard.refusal(of: head(.GET, [("host", "gw.internal:15000")]), token: token)?.status == .unauthorized)
        #expect(
            AdminGuard.refusal(of: head(.GET, [("host", "gw.internal:15000"), ("authorization", "Bearer wrong")]), token: token)?.status
                == .unauthorized)
        #expect(
            AdminGuard.refusal(of: head(.GET, [("host", "gw.internal:15000"), ("authorization", "Bearer \(token)")]), token: token) == nil
        )
        #expect(
            AdminGuard.refusal(of: head(.GET, [("host", "gw.internal:15000"), ("authorization", "bearer \(token)")]), token: token) == nil
        )
        #expect(AdminGuard.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AdminGuard.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!AdminGuard.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }

    private func load(_ yaml: String, environment: [String: String] = [:]) throws -> (GatewayConfig, [String]) {
        try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: environment)
    }

    private let binds = """
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: t, mcp: { host: "http://127.0.0.1:9/mcp" } } ] } } ]
        """

    @Test func anAdminAddressBeyondLoopbackNeedsAToken() throws {
        #expect(throws: ConfigError.self) { try load("config:\n  adminAddr: 0.0.0.0:15000\n" + binds) }
        let (config, _) = try load("config:\n  adminAddr: 0.0.0.0:15000\n  adminToken: 0123456789abcdef0123\n" + binds)
        #expect(config.adminToken == "0123456789abcdef0123")
        let (fromEnvironment, _) = try load(
            "config:\n  adminAddr: 0.0.0.0:15000\n" + binds, environment: ["MCPGATE_ADMIN_TOKEN": "fedcba9876543210fedc"])
        #expect(fromEnvironment.adminToken == "fedcba9876543210fedc")
        do {
            _ = try load("config:\n  adminToken: short\n" + binds)
            Issue.record("a short token loaded")
        } catch {
            #expect(!"\(error)".contains("short"), "the token must not be quoted: \(error)")
        }
    }

    @Test func newLimitsLoadAndMaxConnectionsFollowsTheDescriptorLimit() throws {
        let (config, warnings) = try load(
            """
            config:
              limits: { requestHeaderTimeout: 3s, requestBodyTimeout: 4s, maxConnectionsPerClient: 7, maxJsonNodes: 1234,
                        maxConnections: 1000000000 }
            """ + "\n" + binds)
        #expect(config.limits.requestHeaderTimeout == .seconds(3))
        #expect(config.limits.requestBodyTimeout == .seconds(4))
        #expect(config.limits.effectiveMaxConnectionsPerClient == 7)
        #expect(config.limits.maxJsonNodes == 1234)
        #expect(config.limits.maxConnections == FileDescriptorLimit.defaultMaxConnections)
        #expect(warnings.contains { $0.contains("maxConnections 1000000000 is more than the descriptor limit allows") })
        #expect(Limits().maxConnections == FileDescriptorLimit.defaultMaxConnections)
        #expect(Limits().effectiveMaxConnectionsPerClient == Limits().maxConnections / 2)
    }
}
