// swift-tools-version:6.1
// Micro-benchmarks of hot paths in the MCPGate library, kept out of the main package so that its
// build never pulls in the benchmark harness. Run from the repository root:
//   swift package --package-path bench/micro benchmark
import PackageDescription

let package = Package(
    name: "mcpgate-micro-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "mcpgate", path: "../.."),
        // Only the MallocInterposer trait (malloc counts; no jemalloc needed). Naming the traits turns
        // off the default RuntimeInterposer trait, so SwiftPM never fetches swift-runtime-interposer
        // (ARC counters are not measured here).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SessionCodecBenchmarks",
            dependencies: [
                .product(name: "MCPGate", package: "mcpgate"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SessionCodec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // jansson for RPCParseBenchmarks (the gateway's CJansson target is not a product of its package).
        .systemLibrary(name: "CJanssonMicro", path: "Sources/CJanssonMicro", pkgConfig: "jansson"),
        // JSON-RPC parse + envelope classification, a copy of the internal RPCMessage.parse (see the file).
        .executableTarget(
            name: "RPCParseBenchmarks",
            dependencies: [
                "CJanssonMicro",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RPCParse",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
