import Foundation
import Testing

@testable import MCPGate
@testable import MCPGateSession

/// An unnamed route's identity (bound into its sealed session ids) comes from what it serves, never from where
/// it listens (issue #10: replicas on other ports share sessions).
@Suite struct RouteIdentityTests {
    private func routes(_ yaml: String) throws -> [Route] {
        let (config, _) = try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/etc/mcpgate", environment: [:])
        return config.binds.flatMap { $0.listeners.flatMap(\.routes) }
    }

    private func file(port: Int, address: String = "127.0.0.1", route: String) -> String {
        """
        binds:
        - port: \(port)
          address: \(address)
          listeners:
          - routes:
        \(route)
        """
    }

    private let plain = """
            - matches: [ { path: { exact: /mcp } } ]
              backends: [ { mcp: { targets: [ { name: alpha, mcp: { host: "http://127.0.0.1:3005/mcp" } } ] } } ]
        """

    @Test func theSameRouteOnAnotherPortHasTheSameIdentity() throws {
        let a = try routes(file(port: 3000, route: plain))
        let b = try routes(file(port: 3001, address: "0.0.0.0", route: plain))
        #expect(a[0].identity == "/mcp -> alpha")
        #expect(a[0].identity == b[0].identity)
    }

    @Test func otherPathsOrTargetsGiveAnotherIdentity() throws {
        let prefix = try routes(file(port: 3000, route: plain.replacingOccurrences(of: "exact", with: "pathPrefix")))
        let otherTarget = try routes(file(port: 3000, route: plain.replacingOccurrences(of: "name: alpha", with: "name: beta")))
        let noMatch = try routes(
            file(
                port: 3000,
                route: """
                        - backends: [ { mcp: { targets: [ { name: alpha, mcp: { host: "http://127.0.0.1:3005/mcp" } } ] } } ]
                    """))
        #expect(prefix[0].identity == "/mcp* -> alpha")
        #expect(otherTarget[0].identity == "/mcp -> beta")
        #expect(noMatch[0].identity == "* -> alpha")
    }

    @Test func theListenerHostNameIsPartOfTheIdentity() throws {
        let yaml = """
            binds:
            - port: 3000
              listeners:
              - hostname: mcp.example.com
                routes:
                - matches: [ { path: { exact: /mcp } } ]
                  backends: [ { mcp: { targets: [ { name: a, mcp: { host: "http://127.0.0.1:3005/mcp" } }, { name: b, mcp: { host: "http://127.0.0.1:3006/mcp" } } ] } } ]
            """
        #expect(try routes(yaml)[0].identity == "mcp.example.com/mcp -> a,b")
    }

    @Test func aNameWins() throws {
        let named = try routes(file(port: 3000, route: plain.replacingOccurrences(of: "- matches", with: "- name: tools\n      matches")))
        #expect(named[0].identity == "tools")
    }

    @Test func twoBindsServingTheSameRouteShareItsIdentity() throws {
        let yaml = """
            binds:
            - port: 3000
              listeners:
              - routes:
            \(plain)
            - port: 3001
              listeners:
              - routes:
            \(plain)
            """
        let found = try routes(yaml)
        #expect(found.map(\.identity) == ["/mcp -> alpha", "/mcp -> alpha"])
    }

    @Test func aDifferentRouteThatWouldCollideIsNumbered() throws {
        // Same paths and target names, other policies: sessions of one must not open on the other.
        let withPolicy = plain.replacingOccurrences(
            of: "  backends:", with: "  policies: { cors: { allowOrigins: [\"*\"] } }\n      backends:")
        let yaml = """
            binds:
            - port: 3000
              listeners:
              - routes:
            \(plain)
            - port: 3001
              listeners:
              - routes:
            \(withPolicy)
            """
        let found = try routes(yaml)
        #expect(found.map(\.identity) == ["/mcp -> alpha", "/mcp -> alpha #2"])
    }

    @Test func sessionsSealedForOneRouteOpenOnlyOnRoutesOfTheSameIdentity() throws {
        let codec = SessionCodec(keyring: try Keyring(masterKeys: [Array(repeating: 7, count: 32)]))
        let a = try routes(file(port: 3000, route: plain))[0]
        let b = try routes(file(port: 3001, route: plain))[0]
        let other = try routes(file(port: 3000, route: plain.replacingOccurrences(of: "/mcp }", with: "/other }")))[0]
        let state = SessionState(protocolVersion: "2025-11-25", principal: nil, issuedAt: 1, expiresAt: UInt64.max / 2, entries: [])
        let token = codec.seal(state, route: a.identity)
        #expect(throws: Never.self) { try codec.open(token, route: b.identity, now: 2) }
        #expect(throws: (any Error).self) { try codec.open(token, route: other.identity, now: 2) }
    }
}
