import Benchmark
import MCPGate

/// Seal and open of the client-facing session id (DESIGN.md §4), for a session pinned to one
/// target and to three. Each benchmark iteration runs the operation 1,000 times (`.kilo`), and the
/// figures are reported per operation.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )

    let now: UInt64 = 1_750_000_000
    let route = "route-main"
    let oneTarget = SessionState(
        protocolVersion: "2025-06-18",
        principal: PrincipalDigest(principal: "alice@example.com"),
        issuedAt: now,
        expiresAt: now + 3600,
        entries: [
            .init(target: "alpha", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "3f2b8c1e-9d4a-4c5e-8f70-1a2b3c4d5e6f")
        ]
    )
    let threeTargets = SessionState(
        protocolVersion: "2025-06-18",
        principal: PrincipalDigest(principal: "alice@example.com"),
        issuedAt: now,
        expiresAt: now + 3600,
        entries: [
            .init(target: "alpha", endpoint: "http://127.0.0.1:3005/mcp", upstreamSessionID: "3f2b8c1e-9d4a-4c5e-8f70-1a2b3c4d5e6f"),
            .init(target: "beta", endpoint: "http://10.0.0.2:3005/mcp", upstreamSessionID: "b7e1c9a0-2f3d-4e5f-9a8b-7c6d5e4f3a2b"),
            .init(target: "gamma", endpoint: "https://mcp.example.com/v1/mcp"),
        ]
    )
    // Key derivation happens here, once, outside the measurement; the cost per token is the same for any key.
    let codec = SessionCodec(keyring: .generated())

    for (name, state) in [("1 target", oneTarget), ("3 targets", threeTargets)] {
        Benchmark("SessionCodec.seal, \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(codec.seal(state, route: route))
            }
        }

        let token = codec.seal(state, route: route)
        Benchmark("SessionCodec.open, \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try codec.open(token, route: route, now: now))
            }
        }
    }
}
