import Foundation
import MCPGateSession
import PluginAPI
import NIOCore
import NIOPosix
import Testing

@testable import MCPGate
@testable import MCPGateUpstream

/// `targets[].sse`, `targets[].stdio`, `config.stdio` and the `config.upstream.sse*` keys (issue #14, plan §4 and
/// §7): read into the model, or refused with the place and the reason like every other key.
@Suite("Config: sse and stdio targets")
struct TargetTransportConfigTests {
    static let path = "/usr/bin:/bin"
    /// Set so that the only warnings are the ones under test.
    static let sessionKey = String(repeating: "0123456789abcdef", count: 4)
    static let environment = ["PATH": path, "SESSION_KEY": sessionKey]

    private func parse(
        _ yaml: String, baseDirectory: String = "/etc/mcpgate", environment: [String: String] = TargetTransportConfigTests.environment
    ) throws -> (GatewayConfig, warnings: [String]) {
        try ConfigLoader.parse(yaml: yaml, file: "config.yaml", baseDirectory: baseDirectory, environment: environment)
    }

    private func failure(
        _ yaml: String, baseDirectory: String = "/etc/mcpgate", environment: [String: String] = TargetTransportConfigTests.environment,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> String {
        do {
            _ = try parse(yaml, baseDirectory: baseDirectory, environment: environment)
            Issue.record("expected the configuration to be refused", sourceLocation: sourceLocation)
            return ""
        } catch {
            return String(describing: error)
        }
    }

    /// A file whose one route has one target with `body` (a flow mapping) as its keys besides the name.
    private func withTarget(_ body: String, config: String = "") -> String {
        """
        \(config)binds:
        - port: 3000
          listeners:
          - routes:
            - backends: [ { mcp: { targets: [ { name: t, \(body) } ] } } ]
        """
    }

    private func target(
        _ body: String, baseDirectory: String = "/etc/mcpgate", environment: [String: String] = TargetTransportConfigTests.environment
    )
        throws -> Target
    {
        let (config, _) = try parse(withTarget(body), baseDirectory: baseDirectory, environment: environment)
        return try #require(config.binds.first?.listeners.first?.routes.first?.backend.targets.first)
    }

    private func endpoint(_ url: String) throws -> UpstreamEndpoint {
        try UpstreamEndpoint(parsing: url)
    }

    /// Where the target's keys start on the one line `withTarget` puts them (`config.yaml:5:…`).
    private let place = "config.yaml:5:39: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0]"

    // MARK: sse

    @Test func sseReadsAURLOrReplicasAsMcpDoes() throws {
        #expect(
            try target("sse: { host: http://S:8080/sse }").transport
                == .sse(endpoints: [try endpoint("http://s:8080/sse")], redirectOrigins: []))
        let replicas = try target("sse: { hosts: [http://a:1/sse, http://b:1/sse], redirectOrigins: [https://auth.example] }")
        #expect(
            replicas.transport
                == .sse(
                    endpoints: [try endpoint("http://a:1/sse"), try endpoint("http://b:1/sse")], redirectOrigins: ["https://auth.example"]))
        #expect(replicas.endpoints.count == 2)
        #expect(replicas.redirectOrigins == ["https://auth.example"])
        #expect(replicas.stdioCommand == nil)
        #expect(replicas.transport.key == "sse")
    }

    @Test func sseReadsHostPortAndPathWithTheDefaultPath() throws {
        #expect(
            try target("sse: { host: s.example, port: 8080, path: /events }").endpoints == [try endpoint("http://s.example:8080/events")])
        #expect(try target("sse: { host: 10.0.0.5, port: 8080 }").endpoints == [try endpoint("http://10.0.0.5:8080/sse")])
        #expect(try target(#"sse: { host: "::1", port: 9 }"#).endpoints == [try endpoint("http://[::1]:9/sse")])
    }

    @Test(
        "sse refuses mixed or incomplete forms, naming the one to use",
        arguments: [
            (
                "sse: { host: http://s:8080/sse, port: 8080 }",
                "config.yaml:5:82: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse.port: expected either a URL in host (host: http://name:port/sse) or a name in host with port and path (host: name, port: 8080, path: /sse), got a URL with port"
            ),
            (
                "sse: { hosts: [http://a:1/sse], path: /sse }",
                "config.yaml:5:82: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse.path: expected either hosts (replica URLs, each with its port and path) or host with port and path, got hosts and path"
            ),
            (
                "sse: { port: 8080 }",
                "config.yaml:5:55: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse: expected a key \"host\" (the server's name or address) with port, got a mapping without it"
            ),
            (
                "sse: { host: s, path: /sse }",
                "config.yaml:5:55: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse: expected a key \"port\" (the server's port), got a mapping without it"
            ),
            (
                "sse: { host: s, port: 1, path: sse }",
                "config.yaml:5:81: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse.path: expected a path starting with /, got \"sse\""
            ),
            (
                "sse: { host: s/x, port: 1 }",
                "config.yaml:5:63: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse.host: expected a host name or IP address (no scheme, port or path), got \"s/x\""
            ),
            (
                "sse: { host: s, port: 0 }",
                "config.yaml:5:72: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse.port: expected a port number 1-65535, got 0"
            ),
        ])
    func sseFormsAreNotMixed(body: String, message: String) {
        #expect(failure(withTarget(body)) == message)
    }

    // MARK: stdio

    @Test func stdioFindsCmdOnPathAndKeepsItAsWritten() throws {
        let command = try #require(
            try target("stdio: { cmd: sh }", environment: ["PATH": "relative/bin:/nonexistent:/bin", "SESSION_KEY": Self.sessionKey])
                .stdioCommand)
        #expect(command == StdioCommand(cmd: "sh", executable: "/bin/sh"))
        #expect(try target("stdio: { cmd: /bin/sh }").stdioCommand?.executable == "/bin/sh")
    }

    @Test func stdioResolvesARelativeCmdAgainstTheConfigDirectory() throws {
        let directory = try TemporaryDirectory()
        try directory.write("server.sh", "#!/bin/sh\n", mode: 0o755)
        try directory.write("data.txt", "x", mode: 0o644)
        let command = try #require(try target("stdio: { cmd: ./server.sh }", baseDirectory: directory.path).stdioCommand)
        #expect(command.cmd == "./server.sh")
        #expect(command.executable == directory.path + "/server.sh")
        #expect(
            failure(withTarget("stdio: { cmd: ./data.txt }"), baseDirectory: directory.path)
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected an executable file, got \"./data.txt\" (\(directory.path)/data.txt: not executable)"
        )
        #expect(
            failure(withTarget("stdio: { cmd: ./missing }"), baseDirectory: directory.path)
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected an executable file, got \"./missing\" (\(directory.path)/missing: not found)"
        )
        #expect(
            failure(withTarget("stdio: { cmd: ./ }"), baseDirectory: directory.path)
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected an executable file, got \"./\" (\(directory.path): a directory)"
        )
    }

    @Test func stdioRefusesACmdNotOnPath() {
        #expect(
            failure(withTarget("stdio: { cmd: no-such-program-mcpgate }"))
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected an executable file (searched PATH: /usr/bin:/bin), got \"no-such-program-mcpgate\""
        )
        #expect(
            failure(withTarget("stdio: { cmd: sh }"), environment: ["SESSION_KEY": Self.sessionKey])
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected an executable file, got \"sh\": PATH is not set, so give cmd as a path (/usr/bin/sh)"
        )
        #expect(
            failure(withTarget(#"stdio: { cmd: "" }"#))
                == "config.yaml:5:64: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.cmd: expected a program name or path, got \"\""
        )
        #expect(
            failure(withTarget("stdio: { args: [x] }"))
                == "config.yaml:5:57: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio: expected a key \"cmd\" (the program to run), got a mapping without it"
        )
    }

    @Test func stdioTakesArgsAsTextAndEnvAndClearEnv() throws {
        let command = try #require(
            try target(
                #"stdio: { cmd: sh, args: [-y, 3, true, "a b", "$(id)", ";", "*"], env: { API_KEY: s3cret, PORT: 8080, _x: "" }, clearEnv: true }"#
            )
            .stdioCommand)
        #expect(command.args == ["-y", "3", "true", "a b", "$(id)", ";", "*"])
        #expect(command.env == ["API_KEY": "s3cret", "PORT": "8080", "_x": ""])
        #expect(command.clearEnv)
        #expect(try target("stdio: { cmd: sh }").stdioCommand?.clearEnv == false)
    }

    @Test(
        "stdio refuses bad args, env names and values, and clearEnv that is not a boolean",
        arguments: [
            (
                "stdio: { cmd: sh, args: [x, ~] }",
                "config.yaml:5:78: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.args[1]: expected an argument, got nothing (null)"
            ),
            (
                "stdio: { cmd: sh, args: [[x]] }",
                "config.yaml:5:75: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.args[0]: expected an argument, got a list"
            ),
            (
                #"stdio: { cmd: sh, args: ["a\0b"] }"#,
                #"config.yaml:5:75: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.args[0]: expected an argument without NUL bytes, got "a\u0000b""#
            ),
            (
                "stdio: { cmd: sh, args: x }",
                "config.yaml:5:74: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.args: expected a list of arguments (each taken as text), got \"x\""
            ),
            (
                "stdio: { cmd: sh, env: { 1X: a } }",
                "config.yaml:5:75: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.env.1X: expected an environment variable name (letters, digits and _, not starting with a digit), got \"1X\""
            ),
            (
                "stdio: { cmd: sh, env: { A-B: a } }",
                "config.yaml:5:75: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.env.A-B: expected an environment variable name (letters, digits and _, not starting with a digit), got \"A-B\""
            ),
            (
                "stdio: { cmd: sh, env: { A: } }",
                "config.yaml:5:78: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.env.A: expected text (quote it: \"\" for an empty value), got nothing (null)"
            ),
            (
                #"stdio: { cmd: sh, env: { KEY: "top\0secret" } }"#,
                "config.yaml:5:80: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.env.KEY: expected a value without NUL bytes; the value is not shown"
            ),
            (
                "stdio: { cmd: sh, env: [A] }",
                "config.yaml:5:73: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.env: expected a mapping of environment variables (NAME: value), got a list"
            ),
            (
                "stdio: { cmd: sh, clearEnv: yes }",
                "config.yaml:5:78: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.clearEnv: expected true or false, got \"yes\""
            ),
            (
                "stdio: { cmd: sh, cwd: /tmp }",
                "config.yaml:5:68: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio: expected one of the keys cmd, args, env, clearEnv, got \"cwd\": a working directory is not supported by mcpgate; the process starts in the gateway's"
            ),
        ])
    func stdioValuesAreChecked(body: String, message: String) {
        #expect(failure(withTarget(body)) == message)
    }

    @Test func forwardAuthorizationOnAStdioTargetIsRefused() {
        #expect(
            failure(withTarget("stdio: { cmd: sh }, forwardAuthorization: false"))
                == "config.yaml:5:70: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].forwardAuthorization: expected no forwardAuthorization on a stdio target: it has no meaning for a stdio process (no HTTP request carries the client's Authorization); give the process its credentials in stdio.env"
        )
    }

    // MARK: Transports

    @Test func exactlyOneTransportIsRequired() {
        #expect(
            failure(withTarget("mcp: { host: http://a:1/ }, sse: { host: http://a:1/sse }"))
                == "config.yaml:5:78: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse: expected exactly one transport (mcp, sse or stdio), got mcp and sse"
        )
        #expect(
            failure(withTarget("mcp: { host: http://a:1/ }, sse: { host: http://a:1/sse }, stdio: { cmd: sh }"))
                == "config.yaml:5:78: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].sse: expected exactly one transport (mcp, sse or stdio), got mcp, sse and stdio"
        )
        #expect(
            failure(withTarget("forwardAuthorization: true"))
                == "\(place): expected a key \"mcp\" (a Streamable HTTP server), \"sse\" (an HTTP+SSE server) or \"stdio\" (a local process), got a mapping without one"
        )
    }

    @Test func openapiAndPerTargetPoliciesAreStillRefused() {
        #expect(
            failure(withTarget("openapi: { schema: { file: x.json } }"))
                == "config.yaml:5:50: binds[0].listeners[0].routes[0].backends[0].mcp.targets[0]: expected one of the keys name, mcp, sse, stdio, forwardAuthorization, got \"openapi\": the openapi transport is not supported by mcpgate yet; targets speak mcp (Streamable HTTP), sse or stdio"
        )
        #expect(
            failure(withTarget("stdio: { cmd: sh }, policies: {}")).contains(
                "per-target policies (backendTLS, backendAuth, ...) are not supported"))
    }

    @Test func theRuntimeServesSseAndStdioTargetsOverChannels() throws {
        for (body, kind, url) in [
            ("sse: { host: http://a:1/sse }", TargetPool.Transport.sse, "sse:t"), ("stdio: { cmd: sh }", .stdio, "stdio:t"),
        ] {
            let (config, _) = try parse(withTarget(body))
            // Checked only (`mcpgate check`): no channel machinery, but the target is known and pins its session endpoint.
            let checked = try GatewayRuntime(config: config, keyring: .generated(), pluginServices: HostServices())
            let target = try #require(checked.routeTables.values.first?.entries.first?.route.targets.first)
            #expect(target.transport == kind)
            #expect(target.channelPool == nil)
            #expect(target.sessionEndpoint.endpoint.url == url)
            #expect(target.endpoint(pinned: url) != nil)
            // Served: the target gets a pool, which a rebuilt runtime with the same target shares.
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            defer { try? group.syncShutdownGracefully() }
            let client = UpstreamClient(eventLoopGroup: group, settings: config.upstream)
            let channels = UpstreamChannels(client: client, group: group, bounds: UpstreamChannels.Bounds(config), metrics: nil)
            let served = try GatewayRuntime(config: config, keyring: .generated(), pluginServices: HostServices(), channels: channels)
            let again = try GatewayRuntime(config: config, keyring: .generated(), pluginServices: HostServices(), channels: channels)
            #expect(served.channelPools.count == 1)
            #expect(served.channelPools.first === again.channelPools.first)
        }
    }

    // MARK: config.stdio and config.upstream.sse*

    @Test func stdioAndSseSettingsHaveTheirDefaults() throws {
        let (config, _) = try parse(withTarget("mcp: { host: http://a:1/ }"))
        #expect(
            config.stdio
                == StdioSettings(
                    maxProcesses: 64, maxProcessesPerTarget: 16, poolSize: 2, maxPendingRequests: 64, idleTimeout: .seconds(600),
                    maxLineBytes: 16 << 20, stopGracePeriod: .seconds(2)))
        #expect(config.upstream.sseEndpointTimeout == .seconds(10))
        #expect(config.upstream.sseIdleTimeout == .seconds(600))
        #expect(config.upstream.sseMaxPendingRequests == 64)
        #expect(config.upstream.ssePoolSize == 2)
    }

    @Test func stdioAndSseSettingsAreRead() throws {
        let (config, _) = try parse(
            withTarget(
                "mcp: { host: http://a:1/ }",
                config: """
                    config:
                      stdio: { maxProcesses: 8, maxProcessesPerTarget: 3, poolSize: 1, maxPendingRequests: 5, idleTimeout: 2s,
                               maxLineBytes: 64KiB, stopGracePeriod: 500ms }
                      upstream: { sseEndpointTimeout: 1s, sseIdleTimeout: 3m, sseMaxPendingRequests: 2, ssePoolSize: 4 }

                    """))
        #expect(
            config.stdio
                == StdioSettings(
                    maxProcesses: 8, maxProcessesPerTarget: 3, poolSize: 1, maxPendingRequests: 5, idleTimeout: .seconds(2),
                    maxLineBytes: 64 << 10, stopGracePeriod: .milliseconds(500)))
        #expect(
            config.upstream
                == UpstreamSettings(
                    sseEndpointTimeout: .seconds(1), sseIdleTimeout: .seconds(180), sseMaxPendingRequests: 2, ssePoolSize: 4))
    }

    @Test func stdioSettingsAreChecked() {
        #expect(
            failure(withTarget("mcp: { host: http://a:1/ }", config: "config: { stdio: { poolSize: 0 } }\n"))
                == "config.yaml:1:30: config.stdio.poolSize: expected a whole number of at least 1, got 0")
        #expect(
            failure(withTarget("mcp: { host: http://a:1/ }", config: "config: { stdio: { maxProcess: 3 } }\n"))
                == "config.yaml:1:20: config.stdio: expected one of the keys maxProcesses, maxProcessesPerTarget, poolSize, maxPendingRequests, idleTimeout, maxLineBytes, stopGracePeriod, got \"maxProcess\" (did you mean \"maxProcesses\"?)"
        )
        #expect(
            failure(withTarget("mcp: { host: http://a:1/ }", config: "config: { upstream: { sseEndpointTimeout: 0s } }\n"))
                == "config.yaml:1:43: config.upstream.sseEndpointTimeout: expected a positive duration (500ms, 1.5s, 15m, 1h30m, or whole seconds), got \"0s\""
        )
    }

    // MARK: Descriptor budget

    @Test func maxConnectionsLeavesDescriptorsForStdioProcesses() throws {
        let configured = FileDescriptorLimit.defaultMaxConnections
        let budget = FileDescriptorLimit.maxConnections(stdioProcesses: 64)
        try #require(budget < configured)
        let limits = "config: { limits: { maxConnections: \(configured) } }\n"

        let (withStdio, warnings) = try parse(withTarget("stdio: { cmd: sh }", config: limits))
        #expect(withStdio.limits.maxConnections == budget)
        #expect(
            warnings == [
                "config.yaml:1:37: config.limits.maxConnections: maxConnections \(configured) with config.stdio.maxProcesses 64 (3 descriptors each) "
                    + "is more than the descriptor limit allows (RLIMIT_NOFILE \(FileDescriptorLimit.current)): lowered to \(budget); "
                    + "raise `ulimit -n` or lower config.stdio.maxProcesses"
            ])

        let (withoutStdio, quiet) = try parse(withTarget("mcp: { host: http://a:1/ }", config: limits))
        #expect(withoutStdio.limits.maxConnections == configured)
        #expect(quiet.isEmpty)

        let (byDefault, silent) = try parse(withTarget("stdio: { cmd: sh }"))
        #expect(byDefault.limits.maxConnections == budget)
        #expect(silent.isEmpty)

        let (fewer, _) = try parse(withTarget("stdio: { cmd: sh }", config: "config: { stdio: { maxProcesses: 4 } }\n"))
        #expect(fewer.limits.maxConnections == FileDescriptorLimit.maxConnections(stdioProcesses: 4))
    }

    // MARK: StdioLaunch

    @Test func aLaunchHasCmdAsArgvZeroAndTheEnvironmentLessMcpgatesSecrets() {
        let command = StdioCommand(
            cmd: "npx", executable: "/usr/bin/npx", args: ["-y", "server"], env: ["API_KEY": "k", "HOME": "/srv"])
        let environment = [
            "PATH": "/usr/bin", "HOME": "/root", "SESSION_KEY": "a", "SESSION_KEYS": "b", "MCPGATE_ADMIN_TOKEN": "c",
            "MCPGATE_PLUGIN_DIR": "/p", "SESSION_KEY_NOTE": "kept", "XMCPGATE_Y": "kept",
        ]
        let launch = command.launch(targetName: "t", environment: environment)
        #expect(launch.targetName == "t")
        #expect(launch.executable == "/usr/bin/npx")
        #expect(launch.argv == ["npx", "-y", "server"])
        #expect(launch.environment == ["API_KEY=k", "HOME=/srv", "PATH=/usr/bin", "SESSION_KEY_NOTE=kept", "XMCPGATE_Y=kept"])

        var cleared = command
        cleared.clearEnv = true
        #expect(cleared.launch(targetName: "t", environment: environment).environment == ["API_KEY=k", "HOME=/srv"])

        // The operator may hand a child a variable of the same name on purpose.
        var explicit = command
        explicit.env = ["SESSION_KEY": "for-the-child"]
        #expect(explicit.launch(targetName: "t", environment: environment).environment.contains("SESSION_KEY=for-the-child"))
        // Equal commands give equal launches whatever order the dictionaries hold.
        #expect(command.launch(targetName: "t", environment: environment) == command.launch(targetName: "t", environment: environment))
    }
}

/// A directory under the system's temporary directory, removed when the value goes away.
private final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("mcpgate-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    func write(_ name: String, _ text: String, mode: Int) throws {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
