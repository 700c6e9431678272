import Testing

@testable import MCPGate

@Suite("Origin validation and route matching")
struct RoutingTests {
    @Test("loopback and same-origin requests pass; foreign origins need the CORS allow list")
    func origins() {
        let strict = OriginPolicy(corsAllowOrigins: [])
        #expect(strict.allows(origin: "http://localhost:5173", host: "gw.example:3000"))
        #expect(strict.allows(origin: "http://127.0.0.1:8080", host: "gw.example:3000"))
        #expect(strict.allows(origin: "http://[::1]:8080", host: "gw.example:3000"))
        #expect(strict.allows(origin: "https://gw.example:3000", host: "gw.example:3000"))
        #expect(!strict.allows(origin: "http://evil.example", host: "gw.example:3000"))
        #expect(!strict.allows(origin: "null", host: "gw.example:3000"))
        let listed = OriginPolicy(corsAllowOrigins: ["https://app.example"])
        #expect(listed.allows(origin: "https://app.example", host: "gw.example"))
        #expect(!listed.allows(origin: "https://app.example.evil", host: "gw.example"))
        #expect(OriginPolicy(corsAllowOrigins: ["*"]).allows(origin: "http://evil.example", host: nil))
        let subdomains = OriginPolicy(corsAllowOrigins: ["https://*.example.com"])
        #expect(subdomains.allows(origin: "https://app.example.com", host: "gw.internal"))
        #expect(subdomains.allows(origin: "https://a.b.example.com", host: "gw.internal"))
        #expect(!subdomains.allows(origin: "https://app.example.com:8443", host: "gw.internal"))  // as the CORS plugin: the port is part of the pattern
        #expect(!subdomains.allows(origin: "http://app.example.com", host: "gw.internal"))
        #expect(!subdomains.allows(origin: "https://example.com", host: "gw.internal"))
        #expect(!subdomains.allows(origin: "https://evilexample.com", host: "gw.internal"))
    }

    @Test("path matches: exact, prefix on segment boundaries, queries ignored")
    func paths() {
        #expect(RouteTable.pathMatches(.exact("/mcp"), "/mcp?x=1"))
        #expect(!RouteTable.pathMatches(.exact("/mcp"), "/mcp/"))
        #expect(RouteTable.pathMatches(.prefix("/mcp"), "/mcp/a"))
        #expect(RouteTable.pathMatches(.prefix("/mcp/"), "/mcp"))
        #expect(!RouteTable.pathMatches(.prefix("/mcp"), "/mcpx"))
        #expect(RouteTable.stripPort("[::1]:80") == "[::1]")
        #expect(RouteTable.stripPort("a.example:80") == "a.example")
    }
}
