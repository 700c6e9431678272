import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// The repository root, found from this file (Tests/MCPGateTests/ConfigLoaderTests.swift).
private let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

private let keyA = String(repeating: "0123456789abcdef", count: 4)
private let keyB = String(repeating: "fedcba9876543210", count: 4)

/// Parses `yaml` as `config.yaml` in `/etc/mcpgate` with the given environment.
private func parse(_ yaml: String, environment: [String: String] = [:]) throws -> (GatewayConfig, warnings: [String]) {
    try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/etc/mcpgate", environment: environment)
}

/// The one-line message loading `yaml` fails with, or a failed expectation when it loads.
private func failure(
    _ yaml: String,
    environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) -> String {
    do {
        _ = try parse(yaml, environment: environment)
        Issue.record("expected the configuration to be refused", sourceLocation: sourceLocation)
        return ""
    } catch let error as ConfigError {
        return error.description
    } catch {
        Issue.record("expected a ConfigError, got \(error)", sourceLocation: sourceLocation)
        return ""
    }
}

/// A minimal valid file with `route` spliced in as the one route (indented for its place).
private func withRoute(_ route: String) -> String {
    """
    binds:
    - port: 3000
      listeners:
      - routes:
    \(route)
    """
}

// MARK: - Files that must load

@Test func agentgatewayQuickstartLoadsUnchanged() throws {
    let path = repositoryRoot + "/examples/agentgateway-quickstart.yaml"
    let (config, warnings) = try ConfigLoader.load(path: path, environment: [:])

    #expect(config.binds.count == 1)
    let bind = try #require(config.binds.first)
    #expect(bind.port == 3000)
    #expect(bind.address == nil)
    let route = try #require(bind.listeners.first?.routes.first)
    #expect(route.name == nil)
    #expect(route.identity == "* -> mcp")
    #expect(route.pathMatches.isEmpty)
    #expect(
        route.policies.cors
            == .object([
                "allowOrigins": .array([.string("*")]),
                "allowHeaders": .array([.string("*")]),
                "exposeHeaders": .array([.string("Mcp-Session-Id")]),
            ])
    )
    #expect(route.policies.jwtAuth == nil)
    #expect(route.backend.prefixMode == .conditional)
    #expect(route.backend.failureMode == .failClosed)
    #expect(
        route.backend.targets == [
            Target(
                name: "mcp",
                endpoints: [
                    UpstreamEndpoint(
                        url: "http://localhost:3005/mcp/", scheme: "http", host: "localhost", port: 3005, path: "/mcp/")
                ]
            )
        ]
    )
    #expect(config.session.keys.isEmpty)
    #expect(config.limits == Limits())
    #expect(config.upstream == UpstreamSettings())
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("no session key configured") == true)
}

@Test func designDocumentExampleLoads() throws {
    let yaml = """
        config:
          session: { keys: ["\(keyA)"] }        # or SESSION_KEY env
          adminAddr: 127.0.0.1:15000             # admin API and UI
          statsAddr: 127.0.0.1:15020             # /metrics
          readinessAddr: 127.0.0.1:15021         # /healthz/ready
        binds:
        - port: 3000
          listeners:
          - routes:
            - policies:
                cors: { allowOrigins: ["*"], allowHeaders: ["*"], exposeHeaders: ["Mcp-Session-Id"] }
                jwtAuth: { issuer: https://idp.example.com, audiences: [mcp], jwks: { file: ./jwks.json } }
                localRateLimit: [ { maxTokens: 10, tokensPerFill: 10, fillInterval: 1s, key: [principal, tool] } ]
                cache: { ttl: 30s }
                plugins: [ { path: ./libmy_policy.so, config: { level: 2 } } ]
              backends:
              - mcp:
                  targets:
                  - name: alpha
                    mcp: { host: http://127.0.0.1:3005/mcp }
                  - name: beta
                    mcp: { hosts: [http://10.0.0.1:3005/mcp, http://10.0.0.2:3005/mcp] }   # replicas, pinned per session
        """
    let (config, warnings) = try parse(yaml)

    #expect(warnings.isEmpty)
    #expect(config.session.keys.count == 1)
    #expect(config.session.keys.first?.count == 32)
    #expect(config.session.keys.first?.prefix(2) == [0x01, 0x23])
    #expect(config.session.keysFromEnvironment == false)
    #expect(config.adminAddr == SocketAddressSpec(host: "127.0.0.1", port: 15000))
    #expect(config.statsAddr == SocketAddressSpec(host: "127.0.0.1", port: 15020))
    #expect(config.readinessAddr == SocketAddressSpec(host: "127.0.0.1", port: 15021))
    let route = try #require(config.binds.first?.listeners.first?.routes.first)
    #expect(
        route.policies.localRateLimit
            == .array([
                .object([
                    "maxTokens": .integer(10), "tokensPerFill": .integer(10), "fillInterval": .string("1s"),
                    "key": .array([.string("principal"), .string("tool")]),
                ])
            ])
    )
    #expect(route.policies.cache == .object(["ttl": .string("30s")]))
    // Relative to the config file's directory, like plugin paths.
    #expect(route.policies.jwtAuth?.objectValue?["jwks"] == .object(["file": .string("/etc/mcpgate/jwks.json")]))
    #expect(
        route.policies.plugins == [
            PluginReference(path: "/etc/mcpgate/libmy_policy.so", config: .object(["level": .integer(2)]))
        ])
    #expect(route.backend.targets.map(\.name) == ["alpha", "beta"])
    #expect(
        route.backend.targets.last?.endpoints.map(\.url) == ["http://10.0.0.1:3005/mcp", "http://10.0.0.2:3005/mcp"])
}

@Test func everyKeyIsReadIntoTheModel() throws {
    let yaml = """
        # yaml-language-server: $schema=https://agentgateway.dev/schema/config
        config:
          session:
            keys: ["\(keyA)", "\(keyB.uppercased())"]
            ttl: 1h30m
          limits:
            maxRequestBodyBytes: 1MiB
            maxHeaderBytes: 32KB
            maxResponseBodyBytes: 2000000
            maxSseEventBytes: 1GiB
            maxOpenStreams: 50
            maxConnections: 60
            clientIdleTimeout: 90
          upstream:
            connectTimeout: 500ms
            requestTimeout: 1.5s
            streamIdleTimeout: 15m
            maxConnectionsPerEndpoint: 8
            poolIdleTimeout: 24h
        binds:
        - port: 3000
          address: "[::1]"
          listeners:
          - name: public
            hostname: "*.Example.com"
            protocol: HTTP
            routes:
            - name: tools
              matches:
              - path: { exact: /mcp }
              - path: { pathPrefix: /mcp/ }
              policies:
                plugins:
                - path: /opt/plugins/libaudit.so
                  failOpen: true
                - path: ../lib/libx.so
                  config: [1, 2.5, "3", true, null, ~, 'x']
              backends:
              - mcp:
                  prefixMode: always
                  failureMode: failOpen
                  statefulMode: stateful
                  targets:
                  - name: Alpha.1
                    forwardAuthorization: true
                    mcp: { host: HTTPS://API.Example.COM }
        - port: 3001
          address: 127.0.0.1
          listeners:
          - routes:
            - backends:
              - mcp:
                  targets:
                  - name: b
                    mcp: { host: "http://[::1]:8080?x=1" }
        """
    let (config, warnings) = try parse(yaml)

    #expect(config.session.keys.count == 2)
    #expect(config.session.keys.last?.first == 0xFE)
    #expect(config.session.ttl == .seconds(5400))
    #expect(
        config.limits
            == Limits(
                maxRequestBodyBytes: 1 << 20, maxHeaderBytes: 32_000, maxResponseBodyBytes: 2_000_000,
                maxSseEventBytes: 1 << 30, maxOpenStreams: 50, maxConnections: 60, clientIdleTimeout: .seconds(90)
            )
    )
    #expect(
        config.upstream
            == UpstreamSettings(
                connectTimeout: .milliseconds(500), requestTimeout: .milliseconds(1500),
                streamIdleTimeout: .seconds(900), maxConnectionsPerEndpoint: 8, poolIdleTimeout: .seconds(86_400)
            )
    )
    let first = try #require(config.binds.first)
    #expect(first.address == "::1")
    let listener = try #require(first.listeners.first)
    #expect(listener.name == "public")
    #expect(listener.hostname == "*.example.com")
    let route = try #require(listener.routes.first)
    #expect(route.identity == "tools")
    #expect(route.pathMatches == [.exact("/mcp"), .prefix("/mcp/")])
    #expect(
        route.policies.plugins == [
            PluginReference(path: "/opt/plugins/libaudit.so", failOpen: true),
            PluginReference(
                path: "/etc/mcpgate/../lib/libx.so",
                config: .array([.integer(1), .number(2.5), .string("3"), .bool(true), .null, .null, .string("x")])
            ),
        ]
    )
    #expect(route.backend.prefixMode == .always)
    #expect(route.backend.failureMode == .failOpen)
    #expect(
        route.backend.targets == [
            Target(
                name: "Alpha.1",
                endpoints: [
                    UpstreamEndpoint(
                        url: "https://api.example.com:443/", scheme: "https", host: "api.example.com", port: 443,
                        path: "/")
                ],
                forwardAuthorization: true
            )
        ]
    )
    let second = try #require(config.binds.last)
    #expect(second.listeners.first?.routes.first?.identity == "* -> b")
    #expect(
        second.listeners.first?.routes.first?.backend.targets.first?.endpoints
            == [UpstreamEndpoint(url: "http://[::1]:8080/?x=1", scheme: "http", host: "::1", port: 8080, path: "/?x=1")]
    )
    #expect(
        warnings == [
            "config.yaml:35:21: binds[0].listeners[0].routes[0].policies.plugins[0].failOpen: requests pass this plugin unchecked whenever it fails"
        ])
}

@Test func emptySectionsWithCommentedOutChildrenMeanNone() throws {
    let yaml = withRoute(
        """
            - policies:
                # cors: {}
              matches:
              backends:
              - mcp:
                  targets:
                  - name: a
                    mcp:
                      host: http://127.0.0.1:3005/mcp
        """)
    let (config, _) = try parse(yaml)
    let route = try #require(config.binds.first?.listeners.first?.routes.first)
    #expect(route.policies == Policies())
    #expect(route.pathMatches.isEmpty)
}

// MARK: - Session keys

@Test func sessionKeyEnvironmentVariableWinsOverTheFile() throws {
    let yaml = """
        config:
          session:
            keys: ["\(keyA)"]
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends:
              - mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] }
        """
    let (config, warnings) = try parse(yaml, environment: ["SESSION_KEY": keyB])
    #expect(config.session.keysFromEnvironment)
    #expect(config.session.keys.count == 1)
    #expect(config.session.keys.first?.first == 0xFE)
    #expect(
        warnings == [
            "config.yaml:3:11: config.session.keys: ignored: the SESSION_KEY environment variable is set and wins over the file"
        ])
}

@Test func sessionKeysEnvironmentVariableHoldsAKeyringWhoseFirstKeySeals() throws {
    let yaml = withRoute("    - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]")
    let (config, warnings) = try parse(yaml, environment: ["SESSION_KEYS": "\(keyB), \(keyA)"])
    #expect(config.session.keysFromEnvironment)
    #expect(config.session.keys.map(\.first) == [0xFE, 0x01])
    #expect(warnings.isEmpty)
}

@Test func agentgatewaySingularSessionKeyIsAccepted() throws {
    let yaml = """
        config:
          session: { key: "\(keyA)" }
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
        """
    let (config, warnings) = try parse(yaml)
    #expect(config.session.keys.count == 1)
    #expect(config.session.keysFromEnvironment == false)
    #expect(warnings.isEmpty)
}

// MARK: - Scalars

@Test(arguments: [
    ("500ms", Duration.milliseconds(500)),
    ("1s", .seconds(1)),
    ("1.5s", .milliseconds(1500)),
    ("15m", .seconds(900)),
    ("1h", .seconds(3600)),
    ("24h", .seconds(86_400)),
    ("1h30m", .seconds(5400)),
    ("30", .seconds(30)),
    ("0.25h", .seconds(900)),
    ("2m0.5s", .milliseconds(120_500)),
])
func durationsReadTheirUnits(text: String, expected: Duration) {
    #expect(Duration(configText: text) == expected)
}

@Test(arguments: ["", "1", "s", "1.s", "1x", "-1s", "1h30", "1 s", "1.5", "ms", "99999999999999999999s"])
func durationsRefuseMalformedText(text: String) {
    if text == "1" {
        #expect(Duration(configText: text) == .seconds(1))
    } else {
        #expect(Duration(configText: text) == nil)
    }
}

@Test(arguments: [
    ("65536", 65536), ("64KiB", 65536), ("4MiB", 4 << 20), ("1GiB", 1 << 30), ("64KB", 64_000), ("4MB", 4_000_000),
    ("2GB", 2_000_000_000), ("10B", 10),
])
func sizesReadTheirUnits(text: String, expected: Int) {
    #expect(ByteSize.parse(text) == expected)
}

@Test(arguments: ["", "KiB", "1.5MiB", "4 MiB", "4mib", "-1", "4TiB", "99999999999999999999GiB"])
func sizesRefuseMalformedText(text: String) {
    #expect(ByteSize.parse(text) == nil)
}

@Test(arguments: [
    ("http://localhost:3005/mcp/", "http://localhost:3005/mcp/"),
    ("HTTP://LocalHost:3005/MCP", "http://localhost:3005/MCP"),
    ("https://example.com", "https://example.com:443/"),
    ("http://example.com?a=b", "http://example.com:80/?a=b"),
    ("http://[2001:DB8::1]/mcp", "http://[2001:db8::1]:80/mcp"),
    ("http://mcp_server:8080/mcp", "http://mcp_server:8080/mcp"),
])
func upstreamURLsAreNormalisedWithAnExplicitPort(text: String, url: String) throws {
    #expect(try UpstreamEndpoint(parsing: text).url == url)
}

// MARK: - Errors: one per class, with the exact place

@Test func unknownKeyIsRefusedWithTheAllowedKeysAndASuggestion() {
    let message = failure(
        withRoute(
            """
                - polices:
                    cors: {}
                  backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
            """))
    #expect(
        message
            == #"config.yaml:5:7: binds[0].listeners[0].routes[0]: expected one of the keys name, matches, policies, backends, got "polices" (did you mean "policies"?)"#
    )
}

@Test func missingRequiredKeyNamesTheParentAndTheKey() {
    let message = failure(
        """
        binds:
        - address: 127.0.0.1
          listeners: []
        """)
    #expect(
        message
            == #"config.yaml:2:3: binds[0]: expected a key "port" (the TCP port to listen on), got a mapping without it"#
    )
}

@Test func missingBindsIsRefused() {
    let message = failure("config:\n  adminAddr: 127.0.0.1:15000\n")
    #expect(message == #"config.yaml:1:1: expected a key "binds" (the ports to listen on), got a mapping without it"#)
}

@Test func hostWithoutSchemeIsRefusedAtItsLineAndColumn() {
    let yaml = """
        config:
          adminAddr: 127.0.0.1:15000
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends:
              - mcp:
                  targets:
                  - name: alpha
                    mcp: { host: http://127.0.0.1:3005/mcp }
                  - name: beta
                    mcp:
                     host: localhost:3005
        """
    #expect(
        failure(yaml)
            == #"config.yaml:14:20: binds[0].listeners[0].routes[0].backends[0].mcp.targets[1].mcp.host: expected an http:// or https:// URL, got "localhost:3005""#
    )
}

@Test func credentialsInAURLAreRefusedWithoutBeingEchoed() {
    let message = failure(
        withRoute("    - backends: [ { mcp: { targets: [ { name: a, mcp: { host: \"http://u:hunter2@a:1/\" } } ] } } ]")
    )
    #expect(
        message.hasPrefix(
            "config.yaml:5:63: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].mcp.host: expected"))
    #expect(!message.contains("hunter2"))
}

@Test func sessionKeyThatIsNotSixtyFourHexCharactersIsRefusedWithoutEchoingIt() {
    let secret = String(repeating: "g", count: 64)
    let yaml = """
        config:
          session:
            keys:
            - \(keyA)
            - \(secret)
        binds: []
        """
    let message = failure(yaml)
    #expect(
        message
            == "config.yaml:5:7: config.session.keys[1]: expected 64 hexadecimal characters (a 32-byte key, as `openssl rand -hex 32` prints), got 64 characters, not all hexadecimal (not shown)"
    )
    #expect(!message.contains(secret))
}

@Test func sessionKeyWrittenWhereAListBelongsIsRefusedWithoutEchoingIt() {
    let message = failure("config:\n  session:\n    keys: \(keyA)\nbinds: []\n")
    #expect(
        message
            == #"config.yaml:3:11: config.session.keys: expected a list of session keys (keys: ["…"], or key: … for one), got a single value (not shown)"#
    )
    #expect(!message.contains(keyA))
}

@Test func sessionKeyEnvironmentVariableOfWrongLengthIsRefused() {
    let yaml = withRoute("    - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]")
    let message = failure(yaml, environment: ["SESSION_KEY": "abc123"])
    #expect(
        message
            == "environment: SESSION_KEY: expected 64 hexadecimal characters (a 32-byte key, as `openssl rand -hex 32` prints), got a value of 6 characters (not shown)"
    )
}

@Test func duplicateTargetNamesInOneBackendAreRefused() {
    let message = failure(
        withRoute(
            """
                - backends:
                  - mcp:
                      targets:
                      - name: alpha
                        mcp: { host: http://a:1/ }
                      - name: alpha
                        mcp: { host: http://b:1/ }
            """))
    #expect(
        message
            == #"config.yaml:10:19: binds[0].listeners[0].routes[0].backends[0].mcp.targets[1].name: expected target names unique within the backend, got "alpha" again (first at binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].name (line 8))"#
    )
}

@Test func duplicateReplicaURLsInOneTargetAreRefused() {
    let message = failure(
        withRoute(
            "    - backends: [ { mcp: { targets: [ { name: a, mcp: { hosts: [http://a:80/x, \"HTTP://A/x\"] } } ] } } ]"
        ))
    #expect(
        message
            == "config.yaml:5:80: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].mcp.hosts[1]: expected distinct replicas, got http://a:80/x again (same as binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].mcp.hosts[0])"
    )
}

@Test func targetNameWithAFederationSeparatorIsRefused() {
    let message = failure(
        withRoute("    - backends: [ { mcp: { targets: [ { name: my_server, mcp: { host: http://a:1/ } } ] } } ]"))
    #expect(
        message
            == #"config.yaml:5:47: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].name: expected a target name of 1-63 letters, digits, '.' or '-', starting with a letter or digit ('_' and '+' are reserved: they join target and tool names, and target and resource URIs), got "my_server""#
    )
}

@Test func agentgatewayPolicyMcpgateLacksIsRefusedNotIgnored() {
    let message = failure(
        withRoute(
            """
                - policies:
                    cors: { allowOrigins: ["*"] }
                    mcpAuthorization:
                      rules: ["mcp.tool.name == 'echo'"]
                  backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
            """))
    #expect(
        message
            == #"config.yaml:7:9: binds[0].listeners[0].routes[0].policies: expected one of the policies cors, jwtAuth, localRateLimit, cache, plugins, got "mcpAuthorization": mcpgate does not support this policy, and never ignores one; remove it, or enforce it with a plugin (policies.plugins)"#
    )
}

@Test func openapiTargetIsRefusedAsNotSupportedYet() {
    let message = failure(
        withRoute(
            """
                - backends:
                  - mcp:
                      targets:
                      - name: petstore
                        openapi: { schema: { file: petstore.json } }
            """))
    #expect(
        message
            == #"config.yaml:9:13: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0]: expected one of the keys name, mcp, sse, stdio, forwardAuthorization, got "openapi": the openapi transport is not supported by mcpgate yet; targets speak mcp (Streamable HTTP), sse or stdio"#
    )
}

@Test func statelessModeIsRefusedAsNotSupportedYet() {
    let message = failure(
        withRoute(
            "    - backends: [ { mcp: { statefulMode: stateless, targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]"
        ))
    #expect(
        message.hasPrefix(
            "config.yaml:5:42: binds[0].listeners[0].routes[0].backends[0].mcp.statefulMode: expected stateful, got \"stateless\": stateless mode is not supported by mcpgate yet"
        ))
}

@Test func secondBackendOnARouteIsRefused() {
    let message = failure(
        withRoute(
            """
                - backends:
                  - mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] }
                  - host: 127.0.0.1:8080
            """))
    #expect(
        message
            == "config.yaml:7:9: binds[0].listeners[0].routes[0].backends[1]: expected exactly one mcp backend per route, got 2 backends"
    )
}

@Test func httpsListenerIsRefusedAsNotSupportedYet() {
    let yaml = """
        binds:
        - port: 3000
          listeners:
          - protocol: HTTPS
            routes: []
        """
    #expect(
        failure(yaml)
            == #"config.yaml:4:15: binds[0].listeners[0].protocol: expected HTTP, got "HTTPS": TLS is not supported by mcpgate yet; terminate TLS in front of it"#
    )
}

@Test func malformedDurationIsRefused() {
    let yaml = """
        config:
          upstream:
            requestTimeout: 10 seconds
        binds: []
        """
    #expect(
        failure(yaml)
            == #"config.yaml:3:21: config.upstream.requestTimeout: expected a positive duration (500ms, 1.5s, 15m, 1h30m, or whole seconds), got "10 seconds""#
    )
}

@Test func zeroDurationIsRefused() {
    let yaml = "config:\n  session: { ttl: 0s }\nbinds: []\n"
    #expect(failure(yaml).hasPrefix("config.yaml:2:19: config.session.ttl: expected a positive duration"))
}

@Test func malformedSizeIsRefused() {
    let yaml = """
        config:
          limits:
            maxRequestBodyBytes: 4 MB
        binds: []
        """
    #expect(
        failure(yaml)
            == #"config.yaml:3:26: config.limits.maxRequestBodyBytes: expected a positive size in bytes (65536, 64KiB, 4MiB, 1GiB, 64KB, 4MB), got "4 MB""#
    )
}

@Test func twoBindsOnTheSamePortAreRefused() {
    let route = "    - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]"
    let yaml = """
        binds:
        - port: 3000
          listeners:
          - routes:
        \(route)
        - port: 3000
          address: 127.0.0.1
          listeners:
          - routes:
        \(route)
        """
    #expect(
        failure(yaml)
            == "config.yaml:6:9: binds[1].port: expected a port not already listened on by binds[0].port (line 2), got 3000"
    )
}

@Test func sameSocketForAdminAndABindIsRefused() {
    let yaml = """
        config:
          adminAddr: 127.0.0.1:3000
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
        """
    #expect(
        failure(yaml)
            == "config.yaml:4:9: binds[0].port: expected a port not already listened on by config.adminAddr (line 2), got 3000"
    )
}

@Test func operatorEndpointsMayShareOneAddress() throws {
    let yaml = """
        config:
          adminAddr: 127.0.0.1:15000
          statsAddr: 127.0.0.1:15000
          readinessAddr: "[::1]:15000"
        binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
        """
    let (config, _) = try parse(yaml)
    #expect(config.statsAddr == config.adminAddr)
    #expect(config.readinessAddr == SocketAddressSpec(host: "::1", port: 15000))
}

@Test func portOutOfRangeIsRefused() {
    #expect(
        failure("binds:\n- port: 70000\n  listeners: []\n")
            == "config.yaml:2:9: binds[0].port: expected a port number 1-65535, got 70000")
}

@Test func yamlSyntaxErrorCarriesLineAndColumn() {
    let yaml = """
        binds:
        - port: 3000
          listeners: [
        """
    #expect(
        failure(yaml)
            == "config.yaml:4:1: invalid YAML: did not find expected node content (while parsing a flow node at 4:1)")
}

@Test func duplicateYAMLKeyIsRefused() {
    let yaml = """
        binds:
        - port: 3000
          port: 3001
          listeners: []
        """
    #expect(
        failure(yaml)
            == #"config.yaml:2:3: invalid YAML: expected each key once per mapping, got "port" more than once"#)
}

@Test func duplicateRouteNamesAreRefused() {
    let message = failure(
        withRoute(
            """
                - name: r
                  backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
                - name: r
                  backends: [ { mcp: { targets: [ { name: a, mcp: { host: http://a:1/ } } ] } } ]
            """))
    #expect(
        message
            == #"config.yaml:7:13: binds[0].listeners[0].routes[1].name: expected a route name unique in the file, got "r", already given at binds[0].listeners[0].routes[0].name (line 5)"#
    )
}

@Test func listenerWithoutRoutesIsRefused() {
    let yaml = "binds:\n- port: 3000\n  listeners:\n  - routes: []\n"
    #expect(
        failure(yaml)
            == "config.yaml:4:13: binds[0].listeners[0].routes: expected at least one route, got an empty list")
}

@Test func missingFileIsReportedWithTheOperatingSystemsReason() {
    do {
        _ = try ConfigLoader.load(path: "/nonexistent/mcpgate.yaml", environment: [:])
        Issue.record("expected a missing file to be refused")
    } catch {
        #expect(
            error.description
                == "/nonexistent/mcpgate.yaml: cannot open the configuration file: No such file or directory")
    }
}

extension JSONValue {
    fileprivate var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }
}
