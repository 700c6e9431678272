// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// `scripts/fuzz` sets MCPGATE_FUZZ=1 (Tests/fuzz/README.md).
let fuzzing = Context.environment["MCPGATE_FUZZ"] == "1"
/// Under MCPGATE_FUZZ=1, the gateway's own modules (and the fuzz targets) get libFuzzer's coverage and
/// AddressSanitizer; dependencies (NIO, swift-crypto, …) are compiled exactly as in a debug build, so a fuzz build
/// in the debug scratch path (`FUZZ_SCRATCH=.build scripts/fuzz`, as CI does) rebuilds only our modules.
let instrumented: [SwiftSetting] = swiftSettings + (fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : [])

let package = Package(
    name: "mcpgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcpgate", targets: ["mcpgate"]),
        .library(name: "MCPGate", targets: ["MCPGate"]),
        .library(name: "PluginAPI", targets: ["PluginAPI"]),
        // Test plugins (Tests/plugins/): `swift build` and `swift test` build them next to the test binary.
        .library(name: "mcpgate_test_filter", type: .dynamic, targets: ["MCPGateTestFilter"]),
        .library(name: "mcpgate_test_noop", type: .dynamic, targets: ["MCPGateTestNoop"]),
        // Bundled policy plugins (Plugins/): the gateway loads them from next to its executable.
        .library(name: "mcpgate_ratelimit", type: .dynamic, targets: ["RateLimitPlugin"]),
        .library(name: "mcpgate_cache", type: .dynamic, targets: ["CachePlugin"]),
        .library(name: "mcpgate_cors", type: .dynamic, targets: ["CORSPlugin"]),
        .library(name: "mcpgate_jwt", type: .dynamic, targets: ["JWTPlugin"]),
        // bench/PluginChainBench: what a chain of no-op plugins adds per request (`swift run -c release`).
        .executable(name: "PluginChainBench", targets: ["PluginChainBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
    ],
    targets: [
        // The public C ABI (include/mcpgate/filter.h). The top-level include/ folder is this header-only target.
        .target(name: "CMCPGate", path: "include", publicHeadersPath: "."),
        // jansson, the JSON library the host parses MCP messages with and lends to plugins.
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        // The Swift side of the filter ABI: loader, chain, host services. Knows nothing of HTTP.
        .target(
            name: "PluginAPI",
            dependencies: ["CMCPGate", "CJansson"],
            swiftSettings: instrumented
        ),
        // Test plugins for PluginAPITests and the benchmark (C, against include/ only).
        .target(
            name: "MCPGateTestFilter",
            dependencies: ["CMCPGate"],
            path: "Tests/plugins/behavior",
            publicHeadersPath: ".",
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        .target(
            name: "MCPGateTestNoop",
            dependencies: ["CMCPGate"],
            path: "Tests/plugins/noop",
            publicHeadersPath: ".",
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        // policies.localRateLimit (Plugins/ratelimit/README.md).
        .target(
            name: "RateLimitPlugin",
            dependencies: ["CMCPGate"],
            path: "Plugins/ratelimit",
            exclude: ["README.md", "Makefile", "tests"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        // policies.cache (Plugins/cache/README.md).
        .target(
            name: "CachePlugin",
            dependencies: ["CMCPGate"],
            path: "Plugins/cache",
            exclude: ["README.md", "Makefile", "tests"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        // policies.cors (Plugins/cors/README.md).
        .target(
            name: "CORSPlugin",
            dependencies: ["CMCPGate"],
            path: "Plugins/cors",
            exclude: ["README.md", "Makefile", "tests"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        // policies.jwtAuth (Plugins/jwt/README.md): OpenSSL 3 (libssl-dev) for signatures and the JWKS fetcher.
        .target(
            name: "JWTPlugin",
            dependencies: ["CMCPGate"],
            path: "Plugins/jwt",
            exclude: ["README.md", "Makefile", "tests", "fuzz"],
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("jansson"), .linkedLibrary("ssl"), .linkedLibrary("crypto"),
                             .linkedLibrary("pthread")]
        ),
        .executableTarget(
            name: "PluginChainBench",
            dependencies: ["PluginAPI", "CJansson"],
            path: "bench/PluginChainBench",
            swiftSettings: swiftSettings
        ),
        // The session codec (Sources/Host/Session): keyring, sealer, session and requestState formats. A leaf:
        // it depends on swift-crypto only.
        .target(
            name: "MCPGateSession",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/Host/Session",
            swiftSettings: instrumented
        ),
        // Starts a stdio target's process (Sources/CSpawn/include/mcpgate_spawn.h): posix_spawn with pipes, every
        // fd >= 3 closed in the child, default signal dispositions, a new session.
        .target(
            name: "CMCPGateSpawn",
            path: "Sources/CSpawn",
            publicHeadersPath: "include",
            cSettings: [.unsafeFlags(["-std=c11", "-Wall", "-Wextra", "-Werror"])]
        ),
        // The upstream transport (Sources/Host/Upstream): HTTP/1.1 client and pools, SSE framing, the answer
        // reader and fan-out. It knows nothing of the gateway above it: an import that points up cannot compile.
        .target(
            name: "MCPGateUpstream",
            dependencies: [
                "CMCPGateSpawn",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Host/Upstream",
            swiftSettings: instrumented
        ),
        // Compiles the admin UI (ui/) into the gateway: a build-tool plugin running EmbedAssets at build time.
        .executableTarget(name: "EmbedAssets", path: "Tools/EmbedAssets"),
        .plugin(name: "EmbedUIAssets", capability: .buildTool(), dependencies: ["EmbedAssets"], path: "Tools/EmbedUIAssets"),
        // The gateway: config, HTTP server, MCP protocol, session codec, router, admin.
        .target(
            name: "MCPGate",
            dependencies: [
                "PluginAPI", "CMCPGate", "CJansson", "MCPGateSession", "MCPGateUpstream",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Host",
            exclude: ["Session", "Upstream"],
            // The fuzz build (below) compiles every tool with libFuzzer's flags too, which a build-time executable
            // cannot link with: it goes without the UI.
            swiftSettings: instrumented + (fuzzing ? [.define("MCPGATE_NO_EMBEDDED_UI")] : []),
            plugins: fuzzing ? [] : ["EmbedUIAssets"]
        ),
        .executableTarget(
            name: "mcpgate",
            dependencies: [
                "MCPGate", "PluginAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MCPGateTests",
            dependencies: [
                "MCPGate", "MCPGateSession", "MCPGateUpstream", "PluginAPI", "CJansson", "CMCPGateSpawn",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PluginAPITests",
            dependencies: ["PluginAPI", "CMCPGate", "CJansson"],
            swiftSettings: swiftSettings
        ),
    ]
)

// The libFuzzer targets (Tests/fuzz/README.md), built and run by `scripts/fuzz` in their own scratch path
// with `-sanitize=fuzzer`. Only declared when MCPGATE_FUZZ=1, so that ordinary builds never see them.
if fuzzing {
    package.targets += [
        .executableTarget(
            name: "FuzzRequestEntry",
            dependencies: [
                "MCPGate", "MCPGateSession", "MCPGateUpstream", "PluginAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/fuzz/RequestEntry",
            swiftSettings: instrumented + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzUpstreamAnswer",
            dependencies: ["MCPGate", "MCPGateUpstream", "PluginAPI", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/fuzz/UpstreamAnswer",
            swiftSettings: instrumented + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
        .executableTarget(
            name: "FuzzEnvelopeScanner",
            dependencies: ["MCPGateUpstream", "CJansson", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/fuzz/EnvelopeScanner",
            swiftSettings: instrumented + [.unsafeFlags(["-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]
        ),
    ]
}
