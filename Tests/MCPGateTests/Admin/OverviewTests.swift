import NIOHTTP1
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// The overview document: each route's endpoint URL, the replicas' live state as given, key ids but no key.
@Suite("Admin overview document")
struct OverviewTests {
    private func route(_ matches: [PathMatch], policies: Policies = Policies()) -> Route {
        let endpoint = UpstreamEndpoint(url: "http://10.0.0.1:3005/mcp", scheme: "http", host: "10.0.0.1", port: 3005, path: "/mcp")
        return Route(
            identity: "r", pathMatches: matches, policies: policies,
            backend: MCPBackend(targets: [Target(name: "tools", endpoints: [endpoint])]))
    }

    @Test func endpointURLs() {
        #expect(Overview.endpointURL(bind: Bind(port: 3000, listeners: []), route: route([])) == "http://127.0.0.1:3000/mcp")
        #expect(
            Overview.endpointURL(bind: Bind(port: 3000, address: "0.0.0.0", listeners: []), route: route([.exact("/a")]))
                == "http://127.0.0.1:3000/a")
        #expect(
            Overview.endpointURL(bind: Bind(port: 3000, address: "::", listeners: []), route: route([.prefix("/")]))
                == "http://[::1]:3000/mcp")
        #expect(
            Overview.endpointURL(bind: Bind(port: 8080, address: "10.1.2.3", listeners: []), route: route([.prefix("/tools")]))
                == "http://10.1.2.3:8080/tools")
    }

    @Test func theDocumentCarriesLiveStateAndKeyIdsButNoKeyOrToken() throws {
        var config = GatewayConfig(binds: [
            Bind(
                port: 3000,
                listeners: [
                    Listener(routes: [route([.exact("/mcp")], policies: Policies(jwtAuth: .object(["hmacSecret": .string("topsecret")])))])
                ])
        ])
        config.session.keys = [Array(repeating: 7, count: 32)]
        config.adminToken = "admin-token-0123456789"
        let facts = Overview.Facts(
            configFile: "/etc/mcpgate/config.yaml", startedAtMs: 1_764_780_000_000,
            lastReload: GatewayStatus.Reload(atMs: 1_764_780_060_000, ok: false, message: "bad yaml"), keyIDs: [0x0a1b], keysFrom: "config")
        var health = EndpointHealth.Snapshot(
            requests: 5, failures: 1, inFlight: 2, openStreams: 1, sessionsOpened: 3, sessionsClosed: 1, lastOkAtMs: 1_764_780_001_000,
            lastError: "connection refused", lastErrorAtMs: 1_764_780_002_000)
        health.requests = 5
        let text = Overview.document(
            config: config, facts: facts, replica: { _ in Overview.Replica(health: health, probe: .some("connection refused")) }
        ).jsonText
        #expect(text.contains(#""keyIds":["0a1b"]"#))
        #expect(text.contains(#""endpoint":"http://127.0.0.1:3000/mcp""#))
        #expect(text.contains(#""reachable":false"#))
        #expect(text.contains(#""probeError":"connection refused""#))
        #expect(text.contains(#""requests":5"#))
        #expect(text.contains(#""openStreams":1"#))
        #expect(text.contains(#""sessionsOpened":3"#))
        #expect(text.contains(#""lastErrorAt":"2025-12-03T16:40:02.000Z""#))
        #expect(text.contains(#""lastReload":{"at":"2025-12-03T16:41:00.000Z","message":"bad yaml","ok":false}"#))
        #expect(text.contains(#""adminTokenSet":true"#))
        #expect(text.contains(#""hmacSecret":"[redacted]""#))
        #expect(!text.contains("topsecret"))
        #expect(!text.contains("admin-token-0123456789"))
        #expect(!text.contains("0707070707"))
    }

    @Test func targetsShowTheirKindAndAStdioCommandShowsEnvNamesButNeverValues() throws {
        let sse = UpstreamEndpoint(url: "http://10.0.0.2:8080/sse", scheme: "http", host: "10.0.0.2", port: 8080, path: "/sse")
        let command = StdioCommand(
            cmd: "npx", executable: "/usr/bin/npx", args: ["-y", "@modelcontextprotocol/server-github"],
            env: ["GITHUB_TOKEN": "ghp_topsecretvalue", "LOG_LEVEL": "debug-value"])
        var route = route([.exact("/mcp")])
        route.backend.targets += [
            Target(name: "events", transport: .sse(endpoints: [sse], redirectOrigins: [])),
            Target(name: "github", transport: .stdio(command)),
        ]
        let config = GatewayConfig(binds: [Bind(port: 3000, listeners: [Listener(routes: [route])])])
        let facts = Overview.Facts(configFile: "c.yaml", startedAtMs: 0, lastReload: nil, keyIDs: [], keysFrom: "generated")
        var asked: [String] = []
        let document = Overview.document(
            config: config, facts: facts,
            replica: { url in
                asked.append(url)
                return Overview.Replica(health: nil, probe: nil)
            })
        let text = document.jsonText
        #expect(asked == ["http://10.0.0.1:3005/mcp", "http://10.0.0.2:8080/sse"])
        #expect(text.contains(#""kind":"mcp""#))
        #expect(text.contains(#""kind":"sse""#))
        #expect(text.contains(#""url":"http://10.0.0.2:8080/sse""#))
        #expect(
            text.contains(
                #""stdio":{"args":["-y","@modelcontextprotocol/server-github"],"clearEnv":false,"cmd":"npx","envKeys":["GITHUB_TOKEN","LOG_LEVEL"],"executable":"/usr/bin/npx"}"#
            ))
        #expect(text.contains(#""maxProcesses":64"#))
        #expect(text.contains(#""sseEndpointTimeoutMs":10000"#))

        let summary = ConfigSummary.json(config)
        #expect(
            summary.contains(
                #"{"name":"github","kind":"stdio","endpoints":[],"cmd":"npx","executable":"/usr/bin/npx","args":["-y","@modelcontextprotocol/server-github"],"envKeys":["GITHUB_TOKEN","LOG_LEVEL"],"clearEnv":false}"#
            ))
        #expect(summary.contains(#"{"name":"events","kind":"sse","endpoints":["http://10.0.0.2:8080/sse"]}"#))
        for shown in [text, summary] {
            #expect(!shown.contains("topsecret"))
            #expect(!shown.contains("debug-value"))
        }
    }
}

/// What the upstream transport counts per endpoint for the overview.
@Suite("Endpoint health counters")
struct EndpointHealthTests {
    private func head(_ status: HTTPResponseStatus, _ headers: [(String, String)] = []) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
    }

    @Test func requestsStreamsSessionsAndFailuresAreCounted() {
        let health = EndpointHealth()
        health.started()
        let opened = health.answered(
            method: .POST, requestHadSession: false, head: head(.ok, [("mcp-session-id", "u1"), ("content-type", "application/json")]))
        #expect(!opened)
        health.ended(stream: opened, failure: nil)
        health.started()
        let stream = health.answered(method: .POST, requestHadSession: true, head: head(.ok, [("content-type", "text/event-stream")]))
        #expect(stream)
        #expect(health.snapshot().openStreams == 1)
        #expect(health.snapshot().inFlight == 1)
        health.ended(stream: stream, failure: nil)
        health.started()
        _ = health.answered(method: .DELETE, requestHadSession: true, head: head(.noContent))
        health.ended(stream: false, failure: nil)
        health.started()
        health.ended(stream: false, failure: UpstreamError.deadlineExceeded)
        let snapshot = health.snapshot()
        #expect(snapshot.requests == 4)
        #expect(snapshot.failures == 1)
        #expect(snapshot.inFlight == 0)
        #expect(snapshot.openStreams == 0)
        #expect(snapshot.sessionsOpened == 1)
        #expect(snapshot.sessionsClosed == 1)
        #expect(snapshot.lastError == "deadlineExceeded")
        #expect(snapshot.lastOkAtMs != nil)
    }

    @Test func theBoardKeepsOneRecordPerURL() {
        let board = EndpointHealthBoard()
        #expect(board.health(for: "http://a/mcp") === board.health(for: "http://a/mcp"))
        #expect(board.health(for: "http://a/mcp") !== board.health(for: "http://b/mcp"))
    }
}
