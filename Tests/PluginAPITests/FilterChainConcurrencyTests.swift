import Dispatch
import Testing

@testable import PluginAPI

/// One chain serves every event loop at once: instances, KV and metrics are shared, request state is not.
@Suite struct FilterChainConcurrencyTests {
    @Test func requestsOnManyThreadsShareInstancesAndCounters() throws {
        let harness = try ChainHarness([
            #"{"tag":"A","count_key":"hits"}"#,
            #"{"tag":"B","rate_limit":{"capacity":1500,"refill":1,"interval_ms":3600000}}"#,
        ])
        let chain = harness.chain
        let rejected = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            var mine = 0
            for _ in 0..<500 {
                let request = chain.makeRequest(FilterHTTPRequest(method: "POST", path: "/mcp"))
                _ = request.onHTTPRequestHeaders()
                if case .reject = request.rpc(toolsCall) { mine += 1 }
                _ = request.onResponseHeaders(FilterHTTPResponse(status: 200, origin: .upstream))
                request.finish(FilterCompletion(httpStatus: 200))
            }
            rejected.add(mine)
        }
        #expect(rejected.value == 500)
        #expect(harness.counter("test_requests_created") == 4_000)
        #expect(harness.counter("test_requests_destroyed") == 4_000)
        #expect(harness.counter("test_completed") == 4_000)
        #expect(try harness.services.kvStore.get(Array("test_behavior:hits".utf8))?.bytes == Array("2000".utf8))
    }
}
